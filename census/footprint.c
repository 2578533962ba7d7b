/* footprint.c: `--size=alloc`: what an object really holds in the allocator. Its own block
 * (rounded to the size class) or, outside pymalloc, its malloc request; plus the buffers it owns:
 * a list's item array, a dict's keys unless shared and its split values, 3.11/3.12 values arrays,
 * a set's external table, a str's UTF-8 and wchar_t copies, a bytearray's buffer, a class's
 * cached keys, an array.array's items, a deque's blocks, a buffered file's buffer, a numpy
 * array's dimensions and, when it owns them, its data (numpy's allocations, which numpy reports to tracemalloc too). Static objects of the
 * interpreter hold nothing. What the census attributes inside
 * the arenas is totalled, so the report can show the allocated blocks nobody claimed. */
#include "common/compat.h"
#include "census/walk.h"

#include <string.h>
#include "objects/arraymod.h"
#include "objects/numpy.h"
#include "objects/pyobj.h"
#include "objects/sizes.h"
#include "objects/stdlibc.h"
#include "python/rules.h"

static uint64_t rd64(const uint8_t *b, int64_t off)
{
	uint64_t v;
	memcpy(&v, b + off, 8);
	return v;
}

/* The size of the pymalloc block holding addr (from its pool's header), 0 outside the arenas. */
static uint64_t block_of(const struct walk *w, uint64_t addr)
{
	const struct pylayout *L = &w->p->L;
	const struct arena_copy *a = heapcopy_find(&w->hc, addr);
	uint64_t pool = addr & ~(L->pool_size - 1);
	uint32_t szidx;

	if (!a || pool < a->addr || pool + (uint64_t)L->off.pool_header_size > a->addr + a->len)
		return 0;
	if (a->data)
		memcpy(&szidx, a->data + (pool - a->addr) + L->off.ph_szidx, 4);
	else if (mem_read_u32(&w->p->mem, pool + (uint64_t)L->off.ph_szidx, &szidx, NULL) < 0)
		return 0; /* a streamed census: its window is not held now */
	return szidx < L->nsize_classes ? (uint64_t)(szidx + 1) * L->size_class_step : 0;
}

/* One allocation: its block when it lies in the arenas, else what was asked of malloc. */
static uint64_t charge(struct walk *w, uint64_t addr, uint64_t request)
{
	uint64_t bs;

	if (!addr)
		return 0;
	if ((bs = block_of(w, addr))) {
		w->fp.in_arenas += bs;
		w->fp.blocks++;
		return bs;
	}
	w->fp.outside += request;
	return request;
}

static bool keys_of(struct walk *w, uint64_t keys, struct pydictkeys *k)
{
	const uint8_t *h = mem_local(&w->p->mem, keys, (uint64_t)w->p->L.off.dk_header_size);

	if (!keys)
		return false;
	return (h ? pydictkeys_parse(&w->p->L, keys, h, k) : pydictkeys_read(w->p, keys, k)) == 0;
}

static uint64_t keys_size(const struct pylayout *L, const struct pydictkeys *k)
{
	return size_dict_keys(L, k->size, k->index_bytes, k->entry_size);
}

/* 3.13+: a dict materialised from an instance's inline values keeps them where they are, inside
 * the instance's block (PyDictValues.embedded): the instance already holds those bytes. */
static bool embedded_values(struct walk *w, uint64_t values)
{
	uint8_t hdr[4];

	if (!py_dict_values_may_be_embedded(&w->p->L))
		return false;
	return mem_read(&w->p->mem, values, hdr, sizeof hdr, NULL) == 0 && hdr[PY_DICTVALUES_EMBEDDED];
}

static uint64_t dict_owned(struct walk *w, const uint8_t *ob)
{
	const struct pylayout *L = &w->p->L;
	uint64_t keys = rd64(ob, L->off.dict_keys), values = rd64(ob, L->off.dict_values), n = 0;
	struct pydictkeys k;

	if (!keys_of(w, keys, &k))
		return 0;
	if (k.refcnt == 1)
		n += charge(w, keys, keys_size(L, &k));
	if (values && !embedded_values(w, values))
		n += charge(w, values, 8 * py_split_values_slots(L, k.size, k.nentries, k.usable));
	return n;
}

static uint64_t str_owned(struct walk *w, uint64_t addr, const uint8_t *ob)
{
	const struct pyoffsets *o = &w->p->L.off;
	uint32_t state;
	uint64_t len = rd64(ob, o->str_length), data, n = 0, u;
	struct py_str_form f;
	bool compact, ascii;

	memcpy(&state, ob + o->str_state, 4);
	f = py_str_form(&w->p->L, state);
	compact = f.compact;
	ascii = f.ascii;
	data = compact ? addr + f.header : rd64(ob, o->str_data);
	if (!compact)
		n += charge(w, data, (len + 1) * f.kind);
	if (!(compact && ascii) && (u = rd64(ob, o->str_utf8)) && u != data)
		n += charge(w, u, rd64(ob, o->str_utf8_length) + 1);
	if (o->str_wstr >= 0 && (u = rd64(ob, o->str_wstr)) && u != data)
		n += charge(w, u, ((compact && ascii) ? len : rd64(ob, o->str_wstr_length)) * 4 + 4);
	return n;
}

/* 3.11/3.12 attribute values outside a dict, found from the pre-header words (python/rules.h). */
static uint64_t values_owned(struct walk *w, const struct pytype *ty, const uint8_t *ob)
{
	const struct pylayout *L = &w->p->L;
	uint64_t v, pre[2];
	struct pydictkeys k;

	if (!py_has_managed_dict(L, ty->flags) || ty->pre < -py_managed_words_offset(L))
		return 0;
	pre[0] = rd64(ob, py_managed_words_offset(L));
	pre[1] = rd64(ob, py_managed_dict_offset(L));
	v = py_managed_values(L, pre);
	if (!v || !keys_of(w, ty->cached_keys, &k))
		return 0;
	return charge(w, v, 8 * (k.nentries + k.usable));
}

/* A bytearray's buffer: malloc'd up to 3.14; from 3.15 a bytes object (ob_bytes_object) whose
 * block, when it lies in the arenas, the pool walk counts as that bytes object already. */
static uint64_t bytearray_owned(struct walk *w, const uint8_t *ob)
{
	const struct pyoffsets *o = &w->p->L.off;
	uint64_t alloc = rd64(ob, o->bytearray_alloc), holder;

	if (o->bytearray_object < 0)
		return charge(w, rd64(ob, o->bytearray_bytes), alloc);
	holder = alloc ? rd64(ob, o->bytearray_object) : 0;
	if (!holder || block_of(w, holder))
		return 0;
	return charge(w, holder, py_bytearray_buffer_bytes(&w->p->L, alloc));
}

/* A numpy array: its dimensions and strides (one allocation) and the data it owns; a view owns
 * none (the array it was made from holds the data). */
static uint64_t ndarray_owned(struct walk *w, const struct pytype *ty, const uint8_t *ob, size_t have)
{
	struct numpy_array a;

	if (!ty->numpy || !numpy_array_read(w->p, ty->numpy, ob, have, &a))
		return 0;
	return charge(w, a.dims, numpy_dims_request(&a)) + charge(w, a.owns ? a.data : 0, numpy_data_request(&a));
}

static uint64_t array_owned(struct walk *w, const uint8_t *ob, size_t have)
{
	uint64_t items, bytes;

	return arraymod_buffer(w->p, ob, have, &items, &bytes) && bytes ? charge(w, items, bytes) : 0;
}

static uint64_t owned(struct walk *w, const struct pytype *ty, uint64_t addr, const uint8_t *ob, size_t have)
{
	const struct pyoffsets *o = &w->p->L.off;
	struct pydictkeys k;
	uint64_t t;

	switch (ty->rule) {
	case RULE_LIST:
		return charge(w, rd64(ob, o->list_item), 8 * rd64(ob, o->list_allocated));
	case RULE_DICT:
		return dict_owned(w, ob);
	case RULE_SET:
		t = rd64(ob, o->set_table);
		return t == addr + (uint64_t)o->set_smalltable ? 0 : charge(w, t, 16 * (rd64(ob, o->set_mask) + 1));
	case RULE_STR:
		return str_owned(w, addr, ob);
	case RULE_BYTEARRAY:
		return bytearray_owned(w, ob);
	case RULE_NDARRAY:
		return ndarray_owned(w, ty, ob, have);
	case RULE_ARRAY:
		return array_owned(w, ob, have);
	case RULE_DEQUE: /* its blocks (528 bytes: malloc'd), as many as deque_sizeof counts */
		return charge(w, rd64(ob, o->deque_leftblock),
			      stdlibc_deque_sizeof(&w->p->L, ty->basicsize, ob, have) - (uint64_t)ty->basicsize);
	case RULE_BUFFERED:
		return charge(w, rd64(ob, o->buffered_buffer),
			      stdlibc_buffered_sizeof(&w->p->L, ty->basicsize, ob, have) - (uint64_t)ty->basicsize);
	case RULE_TYPE:
		if (!(rd64(ob, o->tp_flags) & PC_TPFLAGS_HEAPTYPE) || have < (size_t)o->heaptype_size ||
		    !keys_of(w, rd64(ob, o->ht_cached_keys), &k))
			return 0;
		return charge(w, rd64(ob, o->ht_cached_keys), keys_size(&w->p->L, &k));
	default:
		return values_owned(w, ty, ob);
	}
}

uint64_t walk_footprint(struct walk *w, const struct pytype *ty, uint64_t addr, const uint8_t *ob, size_t have)
{
	if (follow_is_static(w, addr))
		return 0;
	return charge(w, addr - ty->pre, ty->pre + sizes_alloc_request(&w->p->L, ty, ob)) + owned(w, ty, addr, ob, have);
}

void walk_buffer_warnings(struct walk *w)
{
	struct numpy_types *n = w->types.numpy;

	if (!n || !n->unreadable)
		return;
	census_warn(w->c, "%llu numpy arrays whose descriptor or dimensions could not be read are counted without their data",
		    (unsigned long long)n->unreadable);
	n->unreadable = 0; /* said once, whoever asks */
}

void walk_footprint_rows(struct walk *w)
{
	struct census *c = w->c;
	uint64_t allocated = 0, unclaimed_blocks;

	for (unsigned i = 0; i < c->nclasses && i < PC_ARRAY_LEN(c->classes); i++)
		allocated += c->classes[i].blocks * c->classes[i].block_size;
	c->alloc.pymalloc_allocated = allocated;
	c->alloc.attributed_in_arenas = w->fp.in_arenas;
	c->alloc.outside_arenas = w->fp.outside;
	walk_buffer_warnings(w);
	if (w->fp.in_arenas > allocated || w->fp.blocks > c->nblocks) {
		census_warn(c, "objects claim %llu bytes of pymalloc blocks, more than the %llu allocated: some block is counted twice",
			    (unsigned long long)w->fp.in_arenas, (unsigned long long)allocated);
		return;
	}
	unclaimed_blocks = c->nblocks - w->fp.blocks;
	if (unclaimed_blocks)
		census_add_unattributed(c, unclaimed_blocks, allocated - w->fp.in_arenas);
}

void walk_discount_buffer_holders(struct walk *w)
{
	for (size_t i = 0; i < w->nbuffer_holders; i++) {
		uint64_t addr = w->buffer_holders[i], bs = block_of(w, addr), size;
		const struct arena_copy *a = heapcopy_find(&w->hc, addr);
		uint8_t held[512]; /* pymalloc's largest block (3.8-3.15) */
		struct pytype *ty;
		const uint8_t *ob;
		int64_t t;

		/* in the arenas (where the pool walk met it) and still a bytes object there */
		if (!bs || !a || addr + bs > a->addr + a->len || bs > sizeof held)
			continue;
		ob = a->data ? a->data + (addr - a->addr) : held;
		if (!a->data && mem_read(&w->p->mem, addr, held, (size_t)bs, NULL) < 0)
			continue;
		if ((t = walk_type_of(w, ob)) < 0 || w->types.v[t].rule != RULE_BYTES || !w->types.v[t].count)
			continue;
		ty = &w->types.v[t];
		size = w->alloc ? bs : sizes_object(w->p, ty, addr, ob, (size_t)bs);
		ty = &w->types.v[t]; /* sizes_object may have grown the table */
		ty->count--;
		ty->size -= size < ty->size ? size : ty->size;
		if (w->alloc) {
			w->fp.in_arenas -= bs < w->fp.in_arenas ? bs : w->fp.in_arenas;
			w->fp.blocks -= w->fp.blocks ? 1 : 0;
		}
	}
}
