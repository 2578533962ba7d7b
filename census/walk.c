/* walk.c: per-census walk state, type lookup through a small cache, and counting one object. */
#include "common/compat.h"
#include "census/walk.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "objects/sizes.h"
#include "pymalloc/miheap.h"
#include "python/rules.h"

/* The generation heads (and the permanent generation's) of one GC state: list heads, not objects,
 * wherever a list walk meets them. */
static void add_gc_heads(struct walk *w, uint64_t gc_state)
{
	const struct pylayout *L = &w->p->L;

	for (unsigned g = 0; g < L->ngenerations + 1 && w->ngc_heads < PC_ARRAY_LEN(w->gc_heads); g++) {
		uint64_t off = g < L->ngenerations
			? (uint64_t)L->off.gc_generations + (uint64_t)g * (uint64_t)L->off.gc_gen_size
			: (uint64_t)L->off.gc_permanent;
		w->gc_heads[w->ngc_heads++] = gc_state + off;
	}
}

void walk_init(struct walk *w, struct pyproc *p, struct census *c)
{
	memset(w, 0, sizeof *w);
	w->p = p;
	w->c = c;
	typetab_init(&w->types, p);
	ptrmap_init(&w->owner);
	follow_init(w);
	for (size_t i = 0; i < PC_ARRAY_LEN(w->tcache_addr); i++)
		w->tcache_slot[i] = -1;
	/* a free-threaded build links no objects on GC lists, the permanent one included */
	if (py_is_free_threaded(&p->L))
		return;
	add_gc_heads(w, p->gc_state);
	for (unsigned i = 0; i < p->nsub_gc_states; i++)
		add_gc_heads(w, p->sub_gc_states[i]);
}

void walk_release(struct walk *w)
{
	typetab_release(&w->types);
	heapcopy_release(&w->hc);
	heapcopy_release(&w->mc);
	if (w->ms) {
		miheap_set_release(w->ms);
		free(w->ms);
	}
	dump_stream_abort(w->ds); /* a census that failed before its dump was finished */
	w->ds = NULL;
	ptrmap_release(&w->owner);
	follow_release(w);
	cfields_release(&w->cf);
	if (w->gb) {
		graph_builder_release(w->gb);
		free(w->gb);
	}
	free(w->starts);
	free(w->pools);
	free(w->type_cands);
	free(w->frame_roots);
	free(w->buffer_holders);
	free(w->dicts);
	free(w->dicts_big);
	free(w->pool_buf);
	for (size_t i = 0; i < w->noutside_bufs; i++)
		free(w->outside_bufs[i]);
	free(w->outside_bufs);
	free(w->outside_regs);
}

static size_t tcache_index(uint64_t tp)
{
	return (size_t)((tp >> 4) ^ (tp >> 16)) & (WALK_TCACHE - 1);
}

bool walk_type_cached(const struct walk *w, uint64_t tp)
{
	return w->tcache_addr[tcache_index(tp)] == tp;
}

int64_t walk_type_of(struct walk *w, const uint8_t *obj)
{
	uint64_t tp;
	size_t h;
	struct pytype *ty;

	memcpy(&tp, obj + w->p->L.off.ob_type, 8);
	h = tcache_index(tp);
	if (w->tcache_addr[h] == tp)
		return w->tcache_slot[h];
	ty = typetab_get(&w->types, w->p, tp);
	w->tcache_addr[h] = tp;
	w->tcache_slot[h] = ty ? ty - w->types.v : -1;
	return w->tcache_slot[h];
}

static uint64_t rd64(const uint8_t *b, int64_t off)
{
	uint64_t v;
	memcpy(&v, b + off, 8);
	return v;
}

/* The object's own __dict__, if it has one (docs/cpython.md 4.2, 4.3): tp_dictoffset > 0; the
 * var-object negative offset (up to 3.11); the managed pre-header word (3.11 plain pointer,
 * 3.12 tagged dict-or-values, 3.13 pointer). */
static uint64_t instance_dict(struct walk *w, const struct pytype *ty, uint64_t addr, const uint8_t *ob, size_t have)
{
	const struct pylayout *L = &w->p->L;
	uint64_t d = 0;
	int64_t off = ty->dictoffset;

	if (py_has_managed_dict(L, ty->flags)) {
		if (mem_read_u64(&w->p->mem, addr + (uint64_t)py_managed_dict_offset(L), &d, NULL) < 0)
			return 0;
		return py_managed_word_is_dict(L, d) ? d : 0;
	}
	if (off < 0 && ty->itemsize > 0 && have >= 24) {
		int64_t n = (int64_t)rd64(ob, L->off.ob_size);
		if (n < -(1LL << 40) || n > (1LL << 40)) /* garbage (and INT64_MIN has no negation) */
			return 0;
		off += (int64_t)((size_var(ty->basicsize, ty->itemsize, n < 0 ? -n : n) + 7) & ~(uint64_t)7);
	}
	if (off <= 0)
		return 0;
	if ((uint64_t)off + 8 <= have)
		return rd64(ob, off);
	return mem_read_u64(&w->p->mem, addr + (uint64_t)off, &d, NULL) < 0 ? 0 : d;
}

static void note_dict(struct walk *w, uint64_t addr, uint64_t size)
{
	if ((addr & 7) == 0 && addr >> (DICT_ADDR_BITS + 3) == 0 && size <= DICT_SIZE_MAX) {
		xgrow((void **)&w->dicts, &w->capdicts, w->ndicts + 1, sizeof *w->dicts);
		w->dicts[w->ndicts++] = addr >> 3 | size << DICT_ADDR_BITS;
		return;
	}
	xgrow((void **)&w->dicts_big, &w->capdicts_big, w->ndicts_big + 1, sizeof *w->dicts_big);
	w->dicts_big[w->ndicts_big++] = (struct dict_seen){ addr, size };
}

void walk_count(struct walk *w, int64_t t, uint64_t addr, const uint8_t *ob, size_t have)
{
	struct pytype *ty;
	uint64_t size, d;

	if (w->room.out)
		return;
	if ((++w->room.objects & (ROOM_EVERY - 1)) == 0)
		walk_room_check(w);
	ty = &w->types.v[t];
	size = w->alloc ? walk_footprint(w, ty, addr, ob, have) : sizes_object(w->p, ty, addr, ob, have);

	ty = &w->types.v[t]; /* sizes_object may have grown the table */
	if (w->gb) /* tested here: a call per object costs a census without a graph 2 % */
		walk_graph_node(w, ty, addr, size, ob);
	if (w->is)
		walk_inspect(w, ty, addr, ob, have);
	else if (w->dump_values)
		walk_dump_value(w, ty, addr, ob, have);
	if (ty->exact_dict) {
		note_dict(w, addr, size);
	} else {
		ty->count++;
		ty->size += size;
	}
	if (ty->rule == RULE_BYTEARRAY && (d = py_bytearray_buffer_object(&w->p->L, ob, have))) {
		xgrow((void **)&w->buffer_holders, &w->capbuffer_holders, w->nbuffer_holders + 1,
		      sizeof *w->buffer_holders);
		w->buffer_holders[w->nbuffer_holders++] = d;
	}
	d = instance_dict(w, ty, addr, ob, have);
	if (d && (d & 7) == 0) {
		ptrmap_put(&w->owner, d, (uint64_t)t + 1);
		follow_ptr(w, d);
	}
	walk_refs(w, t, addr, ob, have);
}

bool walk_same_object(const struct walk *w, int64_t t, uint64_t addr, const uint8_t *ob, size_t have)
{
	const struct pytype *ty = &w->types.v[t];
	const struct pyoffsets *o = &w->p->L.off;
	uint64_t need, tp;

	if (have < (size_t)o->ob_type + 8)
		return false;
	memcpy(&tp, ob + o->ob_type, 8);
	if (tp != ty->addr || !walk_plausible_object(w, ob))
		return false;
	need = sizes_alloc_request(&w->p->L, ty, ob);
	if (need == 0 || !maps_readable(&w->p->maps, addr - ty->pre, need + ty->pre))
		return false;
	if (ty->rule == RULE_LIST && have >= (size_t)o->list_allocated + 8) {
		uint64_t items = rd64(ob, o->list_item), allocated = rd64(ob, o->list_allocated);
		if (allocated > (1ULL << 40) || (allocated && !maps_readable(&w->p->maps, items, 8 * allocated)))
			return false;
	}
	return true;
}

void walk_drop(struct walk *w, int64_t t, uint64_t n)
{
	census_drop(w->c, t >= 0 && (size_t)t < w->types.n ? w->types.v[t].name : NULL, n);
}

size_t walk_side_table_dicts(struct walk *w, uint64_t *out, size_t max)
{
	const struct pyoffsets *o = &w->p->L.off;
	/* 200 entries: _Py_MAX_MANAGED_STATIC_BUILTIN_TYPES / _Py_MAX_STATIC_BUILTIN_TYPES (3.12, 3.13) */
	size_t n = 200, sz = (size_t)o->static_type_state_size, found = 0;
	uint8_t *tab;

	if (o->is_static_types < 0 || o->static_type_state_size <= 0 || o->sts_tp_dict < 0)
		return 0;
	tab = xmalloc(n * sz);
	if (mem_read(&w->p->mem, w->p->interp + (uint64_t)o->is_static_types, tab, n * sz, NULL) == 0) {
		for (size_t i = 0; i < n && found < max; i++) {
			uint64_t d;
			memcpy(&d, tab + i * sz + o->sts_tp_dict, 8);
			if (d)
				out[found++] = d;
		}
	}
	free(tab);
	return found;
}
