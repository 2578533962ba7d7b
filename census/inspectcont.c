/* inspectcont.c: containers and objects held from C (census/inspect.h). Lists, dicts and sets
 * whose storage is far above what their items need (CPython never shrinks a dict's or a set's
 * table when items are removed), empty ones and one-item ones, grouped by kind and by the kind of
 * the object that holds them; and the objects whose refcount exceeds the references the census
 * found to them, by kind. */
#include "common/compat.h"
#include "census/inspect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/ptrmap.h"
#include "common/xalloc.h"

#define SLACK_MIN 64   /* bytes of spare storage below which a container is not called over-allocated */

static const char *const ctype[] = { "list", "dict", "set" };

static const char fix_over[] = "rebuild it once it has shrunk (d = {k: v for k, v in d.items()}, s = set(s)): CPython "
			       "keeps a dict's or a set's table at its largest size when items are removed";
static const char fix_empty[] = "create them when first needed (None until then), or share one empty tuple or frozenset";
static const char fix_single[] = "hold the item itself (or in a tuple) instead of a one-item container";
static const char fix_held[] = "a C extension or the interpreter's C code holds these (a cache, a registry, a C local): "
			       "release them through its API; 'pycensus why --addr' shows what else holds one";

struct cgroup {
	enum ins_kind kind;
	uint8_t what;
	uint32_t holder;    /* the census row of the holder, GRAPH_NONE for a root */
	uint32_t index;     /* the group's number before sorting (group_rows' row) */
	uint64_t objects, bytes, save;
};

/* The table a set built anew from n items gets (Objects/setobject.c set_merge: the 8-slot table
 * inside the object until (fill + n) * 5 >= mask * 3, then the smallest power of two above 2 n). */
static uint64_t minimal_set(uint64_t n)
{
	uint64_t size = 8;

	if (n * 5 < 7 * 3)
		return 0;
	while (size <= 2 * n)
		size <<= 1;
	return 16 * size;
}

static enum ins_kind classify(const struct ins_container_rec *r, uint64_t len, uint64_t minimal)
{
	if (len == 0)
		return INS_EMPTY;
	if (r->storage >= 4 * minimal && r->storage - minimal >= SLACK_MIN && (r->what != IC_LIST || r->storage >= 4 * 8 * len + 64))
		return INS_OVERALLOCATED;
	return len == 1 ? INS_SINGLE : INS_NKINDS;
}

static uint64_t saving(enum ins_kind k, const struct ins_container_rec *r, uint64_t size, uint64_t minimal)
{
	if (k == INS_OVERALLOCATED)
		return r->storage - minimal;
	return k == INS_EMPTY ? size : size > 8 ? size - 8 : 0;
}

static int by_save(const void *a, const void *b)
{
	const struct cgroup *x = a, *y = b;

	if (x->save != y->save)
		return x->save < y->save ? 1 : -1;
	return (x->holder > y->holder) - (x->holder < y->holder);
}

static uint32_t holder_of(const struct ins_ctx *x, uint32_t v)
{
	uint32_t h = x->parents[v];

	return h != GRAPH_NONE && h >= OG_FIRST ? x->og->g.kind[h] : GRAPH_NONE;
}

/* Each container in its group (kind, container type, holder row); in_group[i] is container i's
 * group, UINT32_MAX for none. */
static struct cgroup *group(struct ins_ctx *x, const struct inspect_scan *s, uint32_t *in_group, size_t *ng)
{
	const struct graph *g = &x->og->g;
	struct ptrmap index;
	struct cgroup *gr = NULL;
	size_t cap = 0, n = 0;
	uint64_t at;

	ptrmap_init(&index);
	for (size_t i = 0; i < s->nct; i++) {
		const struct ins_container_rec *r = &s->ct[i];
		uint32_t v = r->node;
		uint64_t len = r->len, minimal = r->minimal, key;
		enum ins_kind k;
		in_group[i] = UINT32_MAX;
		if (v >= g->n)
			continue;
		if (r->what == IC_SET) {
			len = g->first[v + 1] - g->first[v]; /* a set references its items only */
			minimal = minimal_set(len);
		}
		if ((k = classify(r, len, minimal)) == INS_NKINDS)
			continue;
		key = ((uint64_t)k << 40 | (uint64_t)r->what << 36 | holder_of(x, v)) + 1;
		if (!ptrmap_get(&index, key, &at)) {
			xgrow((void **)&gr, &cap, n + 1, sizeof *gr);
			gr[n] = (struct cgroup){ k, r->what, holder_of(x, v), 0, 0, 0, 0 };
			ptrmap_put(&index, key, at = n++);
		}
		in_group[i] = (uint32_t)at;
		gr[at].objects++;
		gr[at].bytes += graph_size(g, v);
		gr[at].save += saving(k, r, graph_size(g, v), minimal);
	}
	ptrmap_release(&index);
	*ng = n;
	return gr;
}

/* The containers of each group, as rows like the graph's edges: group k's are
 * node[first[k] .. first[k + 1]), in scan order. */
static void group_rows(const struct inspect_scan *s, const uint32_t *in_group, size_t ng, uint32_t **first, uint32_t **node)
{
	uint32_t *f = xcalloc(ng + 2, sizeof *f), *nd;

	for (size_t i = 0; i < s->nct; i++)
		if (in_group[i] != UINT32_MAX)
			f[in_group[i] + 2]++;
	for (size_t k = 0; k < ng; k++)
		f[k + 2] += f[k + 1];
	nd = xmalloc((f[ng + 1] ? f[ng + 1] : 1) * sizeof *nd);
	for (size_t i = 0; i < s->nct; i++) /* f[k + 1] is group k's next free slot */
		if (in_group[i] != UINT32_MAX)
			nd[f[in_group[i] + 1]++] = s->ct[i].node;
	*first = f;
	*node = nd;
}

void inspect_containers(struct ins_ctx *x, struct inspect_scan *s)
{
	size_t ng, shown[INS_NKINDS] = { 0 };
	uint32_t *in_group = xmalloc((s->nct ? s->nct : 1) * sizeof *in_group), *first, *node;
	struct cgroup *gr = group(x, s, in_group, &ng);

	group_rows(s, in_group, ng, &first, &node);
	free(in_group);
	for (size_t i = 0; i < ng; i++)
		gr[i].index = (uint32_t)i;
	qsort(gr, ng, sizeof *gr, by_save);
	for (size_t i = 0; i < ng; i++) {
		const struct cgroup *cg = &gr[i];
		struct ins_finding *f;
		if (shown[cg->kind]++ >= x->o->top || cg->save == 0)
			continue;
		f = ins_add(x->r, cg->kind, ins_row(x->c, ctype[cg->what]));
		f->objects = cg->objects;
		f->bytes = cg->bytes;
		f->save = cg->save;
		snprintf(f->what, sizeof f->what, "%s%s held by %s", cg->kind == INS_EMPTY ? "empty " : cg->kind == INS_SINGLE ? "one-item " : "",
			 ctype[cg->what], cg->holder < x->c->nrows ? x->c->rows[cg->holder].kind : "a root");
		f->fix = cg->kind == INS_OVERALLOCATED ? fix_over : cg->kind == INS_EMPTY ? fix_empty : fix_single;
		for (uint32_t k = first[cg->index]; k < first[cg->index + 1]; k++)
			ins_mark(x, node[k]);
		ins_paths(x, f);
	}
	free(gr);
	free(first);
	free(node);
}

static int by_bytes(const void *a, const void *b)
{
	const struct ins_finding *x = a, *y = b;

	return (x->bytes < y->bytes) - (x->bytes > y->bytes);
}

void inspect_held(struct ins_ctx *x)
{
	const struct graph *g = &x->og->g;
	struct ins_finding *per = xcalloc(x->c->nrows + 1, sizeof *per);
	size_t n = 0;

	for (uint32_t v = OG_FIRST; v < g->n; v++) {
		struct ins_finding *f;
		if (!g->surplus[v] || x->parents[v] != OG_HELD || g->kind[v] >= x->c->nrows)
			continue;
		f = &per[g->kind[v]];
		f->row = g->kind[v];
		f->objects++;
		f->bytes += graph_size(g, v);
		f->after += g->surplus[v]; /* references unaccounted, summed */
	}
	qsort(per, x->c->nrows, sizeof *per, by_bytes);
	for (size_t i = 0; i < x->c->nrows && per[i].objects && n < x->o->top; i++, n++) {
		struct ins_finding *f = ins_add(x->r, INS_HELD, per[i].row);
		f->objects = per[i].objects;
		f->bytes = per[i].bytes;
		snprintf(f->what, sizeof f->what, "%s", x->c->rows[per[i].row].kind);
		snprintf(f->detail, sizeof f->detail, "%llu references unaccounted", (unsigned long long)per[i].after);
		f->fix = fix_held;
	}
	free(per);
}
