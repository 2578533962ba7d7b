/* inspectslots.c: the __slots__ advisor (census/inspect.h). For each class with many instances
 * that keep their attributes in a __dict__ (or, 3.11+, in values laid out by the class's shared
 * keys), every instance's attribute set is read from the target; when all instances share one,
 * the class is advised with its bytes now (the instance, its dict, its values array or inline
 * values: what the allocator was asked for) and with __slots__ (from the layout: the object
 * header, one pointer per attribute, the GC header; no dict or weakref pointer). Classes whose
 * instances differ are left out, with the reason. */
#include "common/compat.h"
#include "census/inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/hugepages.h"
#include "common/xalloc.h"
#include "objects/pyobj.h"
#include "objects/types.h"
#include "python/rules.h"

#define MAX_ATTRS 64   /* attribute sets larger than this are not advised */
#define MAX_SIGS 8     /* distinct attribute sets told apart per class */

static const char fix_slots[] = "declare __slots__ with these names in the class (its instances then have no "
				"__dict__; add '__weakref__' to the names if weak references to them are needed)";

struct keyset {              /* the entries of a keys object, read once */
	uint64_t addr, nentries, usable;
	uint64_t key[MAX_ATTRS], val[MAX_ATTRS];
	bool ok;
};

struct attrs {               /* one instance's attributes */
	uint64_t sig;            /* sum of the mixed addresses of its attribute names (interned) */
	uint32_t n;
	uint64_t extra;          /* bytes outside its census size and its dict's: values arrays */
	uint64_t dict;
	uint64_t names[MAX_ATTRS];
};

struct sigcount {
	uint64_t sig, count;
	uint32_t n, node;
};

struct cls {
	const struct pytype *ty;
	uint32_t row;
	struct keyset shared;    /* the class's cached keys */
	struct keyset other;     /* the last combined or split table read */
	struct sigcount sigs[MAX_SIGS];
	unsigned nsigs;
	uint64_t unread, others, now, count;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ULL;
	return x ^ (x >> 27);
}

static bool read_keys(struct pyproc *p, uint64_t keys, struct keyset *ks)
{
	struct pydictkeys k;
	uint8_t buf[MAX_ATTRS * 24];
	unsigned keyoff;

	if (ks->ok && ks->addr == keys)
		return true;
	ks->ok = false;
	if (!keys || pydictkeys_read(p, keys, &k) < 0 || k.nentries > MAX_ATTRS ||
	    (k.nentries && mem_read(&p->mem, k.entries, buf, k.nentries * k.entry_size, NULL) < 0))
		return false;
	keyoff = k.entry_size == 24 ? 8 : 0; /* {hash, key, value} or {key, value} */
	for (uint64_t i = 0; i < k.nentries; i++) {
		memcpy(&ks->key[i], buf + i * k.entry_size + keyoff, 8);
		memcpy(&ks->val[i], buf + i * k.entry_size + keyoff + 8, 8);
	}
	ks->addr = keys;
	ks->nentries = k.nentries;
	ks->usable = k.usable;
	return ks->ok = true;
}

static void add_attr(struct attrs *a, uint64_t key)
{
	if (a->n < MAX_ATTRS)
		a->names[a->n] = key;
	a->n++;
	a->sig += mix(key);
}

/* Values laid out by split keys ks: the attributes are the names whose value is set. */
static bool split_attrs(struct pyproc *p, const struct keyset *ks, uint64_t values, struct attrs *a)
{
	uint64_t v[MAX_ATTRS];

	values += (uint64_t)(p->L.off.dv_values > 0 ? p->L.off.dv_values : 0);
	if (ks->nentries && mem_read(&p->mem, values, v, 8 * ks->nentries, NULL) < 0)
		return false;
	for (uint64_t i = 0; i < ks->nentries; i++)
		if (v[i] && ks->key[i])
			add_attr(a, ks->key[i]);
	return true;
}

static bool dict_attrs(struct pyproc *p, struct cls *k, uint64_t dict, struct attrs *a)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t keys, values;

	if (mem_read_u64(&p->mem, dict + (uint64_t)o->dict_keys, &keys, NULL) < 0 ||
	    mem_read_u64(&p->mem, dict + (uint64_t)o->dict_values, &values, NULL) < 0 || !read_keys(p, keys, &k->other))
		return false;
	if (values)
		return split_attrs(p, &k->other, values, a);
	for (uint64_t i = 0; i < k->other.nentries; i++)
		if (k->other.key[i] && k->other.val[i])
			add_attr(a, k->other.key[i]);
	return true;
}

/* 3.11+: the pre-header words hold the dict or the values (python/rules.h); 3.13+ keeps the
 * values inline after the object, valid until a dict takes them over. Their allocation: 3.11/3.12
 * a prefix (its size in the byte before the values) and a pointer per slot of the shared keys;
 * 3.13+ (Objects/dictobject.c _PyInlineValuesSize) the capacity rounded up to 8 for the order
 * bytes, the 8-byte header and a pointer per slot, inside the object's block. */
static bool managed_attrs(struct pyproc *p, struct cls *k, uint64_t addr, struct attrs *a)
{
	const struct pylayout *L = &p->L;
	uint64_t pre[2], values, word;
	uint8_t hdr[8];

	if (mem_read(&p->mem, addr + (uint64_t)py_managed_words_offset(L), pre, sizeof pre, NULL) < 0)
		return false;
	values = py_managed_values(L, pre);
	a->dict = pre[1] && py_managed_word_is_dict(L, pre[1]) ? pre[1] : 0;
	if (py_inline_values(L, k->ty->flags)) {
		if (L->off.dv_valid < 0 || mem_read(&p->mem, addr + (uint64_t)k->ty->basicsize, hdr, sizeof hdr, NULL) < 0)
			return false;
		a->extra = ((hdr[0] + 7u) & ~7u) + 8 * ((uint64_t)hdr[0] + 1);
		if (!a->dict && hdr[L->off.dv_valid])
			values = addr + (uint64_t)k->ty->basicsize;
	} else if (values && mem_read_u64(&p->mem, values - 8, &word, NULL) == 0) {
		a->extra = (word >> 56) + 8 * (k->shared.nentries + k->shared.usable);
	}
	if (a->dict)
		return dict_attrs(p, k, a->dict, a);
	return values ? split_attrs(p, &k->shared, values, a) : true;
}

static bool instance_attrs(struct pyproc *p, struct cls *k, uint64_t addr, struct attrs *a)
{
	memset(a, 0, offsetof(struct attrs, names));
	if (py_has_managed_dict(&p->L, k->ty->flags))
		return managed_attrs(p, k, addr, a);
	if (mem_read_u64(&p->mem, addr + (uint64_t)k->ty->dictoffset, &a->dict, NULL) < 0)
		return false;
	return !a->dict || dict_attrs(p, k, a->dict, a);
}

/* The size of node v's reference to addr (its dict), 0 when the graph has none. */
static uint64_t referenced_size(const struct graph *g, uint32_t v, uint64_t addr)
{
	for (uint64_t e = g->first[v]; e < g->first[v + 1]; e++)
		if (g->addr[g->dst[e]] == addr)
			return graph_size(g, g->dst[e]);
	return 0;
}

static void tally(struct cls *k, const struct attrs *a, uint32_t node)
{
	for (unsigned i = 0; i < k->nsigs; i++)
		if (k->sigs[i].sig == a->sig && k->sigs[i].n == a->n) {
			k->sigs[i].count++;
			return;
		}
	if (k->nsigs == MAX_SIGS) {
		k->others++;
		return;
	}
	k->sigs[k->nsigs++] = (struct sigcount){ a->sig, 1, a->n, node };
}

/* The object nodes of each census row, in id order: row r's are node[first[r] .. first[r + 1]). */
struct by_row {
	uint32_t *first, *node;
};

static void nodes_by_row(const struct graph *g, uint32_t nrows, struct by_row *b)
{
	b->first = xcalloc((size_t)nrows + 2, sizeof *b->first);
	/* in 2 MiB pages (common/hugepages.h): in 4 KiB ones its first writes were 500 faults on Sphinx */
	b->node = huge_alloc((size_t)g->n * sizeof *b->node);
	if (!b->node)
		b->node = xmalloc((g->n ? g->n : 1) * sizeof *b->node);
	for (uint32_t v = OG_FIRST; v < g->n; v++)
		if (g->kind[v] < nrows)
			b->first[g->kind[v] + 2]++;
	for (uint32_t r = 0; r < nrows; r++)
		b->first[r + 2] += b->first[r + 1];
	for (uint32_t v = OG_FIRST; v < g->n; v++) /* first[r + 1] is row r's next free slot */
		if (g->kind[v] < nrows)
			b->node[b->first[g->kind[v] + 1]++] = v;
}

static void skip(struct ins_ctx *x, const struct cls *k, const uint32_t *nodes, uint32_t n, const char *why)
{
	struct inspection *r = x->r;
	struct ins_skip *s;

	for (uint32_t i = 0; i < n; i++)
		x->sel[nodes[i]] = 0;
	xgrow((void **)&r->skip, &r->capskip, r->nskip + 1, sizeof *r->skip);
	s = &r->skip[r->nskip++];
	snprintf(s->what, sizeof s->what, "%s", k->ty->name);
	snprintf(s->why, sizeof s->why, "%s", why);
	s->objects = k->count;
}

/* "__slots__ = ('name', 'weight')" from the attribute names of one instance. */
static void slots_line(struct pyproc *p, const struct attrs *a, char *out, size_t len)
{
	size_t at = (size_t)snprintf(out, len, "__slots__ = (");
	char name[96];

	for (uint32_t i = 0; i < a->n && i < MAX_ATTRS && at + 8 < len; i++) {
		if (pystr_read(p, a->names[i], name, sizeof name) < 0)
			snprintf(name, sizeof name, "?");
		at += (size_t)snprintf(out + at, len - at, "%s'%s'", i ? ", " : "", name);
	}
	if (at + 3 < len)
		snprintf(out + at, len - at, a->n == 1 ? ",)" : ")");
}

/* The instances of one class: their attribute sets and bytes; a finding or a skip. */
static void advise(struct ins_ctx *x, struct cls *k, const uint32_t *nodes, uint32_t n, uint64_t header, uint64_t gc_pre)
{
	const struct graph *g = &x->og->g;
	struct attrs a;
	struct ins_finding *f;
	uint64_t after;
	char why[200];

	read_keys(x->p, k->ty->cached_keys, &k->shared);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = nodes[i];
		k->count++;
		if (!instance_attrs(x->p, k, g->addr[v], &a)) {
			k->unread++;
			continue;
		}
		k->now += graph_size(g, v) + a.extra + (a.dict ? referenced_size(g, v, a.dict) : 0);
		tally(k, &a, v);
		ins_mark(x, v);
	}
	if (k->nsigs != 1 || k->others) {
		snprintf(why, sizeof why, "its instances have %s%u different attribute sets (the most common in %.0f %% of "
			 "them): __slots__ fixes one set", k->others ? "more than " : "", k->nsigs,
			 k->nsigs ? 100.0 * (double)k->sigs[0].count / (double)k->count : 0);
		skip(x, k, nodes, n, why);
		return;
	}
	after = (k->count - k->unread) * (header + 8 * k->sigs[0].n + gc_pre);
	if (k->sigs[0].n == 0 || after >= k->now) {
		skip(x, k, nodes, n, k->sigs[0].n ? "__slots__ would save nothing" : "its instances have no attributes");
		return;
	}
	f = ins_add(x->r, INS_SLOTS, k->row);
	f->objects = k->count - k->unread;
	f->bytes = k->now;
	f->after = after;
	f->save = k->now - after;
	snprintf(f->what, sizeof f->what, "%s", k->ty->name);
	instance_attrs(x->p, k, g->addr[k->sigs[0].node], &a);
	slots_line(x->p, &a, f->detail, sizeof f->detail);
	f->fix = fix_slots;
	x->r->unconfirmed += k->unread;
	ins_paths(x, f);
}

/* A class the advisor can size: a heap type with a __dict__ whose instances hold nothing but the
 * object header and the dict and weakref pointers (no fields of a builtin or slotted base). */
static bool plain_class(const struct pylayout *L, const struct pytype *ty, uint64_t header)
{
	bool managed = py_has_managed_dict(L, ty->flags);
	int64_t own = ty->basicsize - (int64_t)header - (ty->dictoffset > 0 ? 8 : 0);

	return ty->heap && ty->itemsize == 0 && (managed || ty->dictoffset > 0) && (own == 0 || own == 8);
}

void inspect_slots(struct ins_ctx *x)
{
	const struct graph *g = &x->og->g;
	const struct pylayout *L = &x->p->L;
	struct by_row rows;
	uint64_t header = (uint64_t)L->off.ob_type + 8, gc_pre = 0, tp; /* sizeof(PyObject): ob_type is its last field */
	struct typetab types;
	struct pytype *ty;

	typetab_init(&types, x->p);
	if ((ty = typetab_get(&types, x->p, types.builtin[RULE_TUPLE]))) /* a GC type without managed words */
		gc_pre = ty->pre;
	nodes_by_row(g, (uint32_t)x->c->nrows, &rows);
	for (size_t i = 0; i < x->c->nrows; i++) {
		struct cls k = { .row = (uint32_t)i };
		const uint32_t *nodes = rows.node + rows.first[i];
		uint32_t n = rows.first[i + 1] - rows.first[i];
		if (x->c->rows[i].count < x->o->min_instances || !n || strncmp(x->c->rows[i].kind, "dict", 4) == 0 ||
		    mem_read_u64(&x->p->mem, g->addr[nodes[0]] + (uint64_t)L->off.ob_type, &tp, NULL) < 0 ||
		    !(ty = typetab_get(&types, x->p, tp)) || strcmp(ty->name, x->c->rows[i].kind) != 0 ||
		    !plain_class(L, ty, header))
			continue;
		k.ty = ty;
		x->r->slots_classes++;
		advise(x, &k, nodes, n, header, gc_pre);
	}
	typetab_release(&types);
	free(rows.first);
	free(rows.node);
}
