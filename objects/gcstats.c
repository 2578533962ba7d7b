/* gcstats.c: GC counts, thresholds, per-generation statistics and the frozen generation. */
#include "common/compat.h"
#include "objects/gcstats.h"

#include <string.h>
#include "python/rules.h"

/* The copy of struct _gc_runtime_state: 240 bytes in 3.8-3.13, 264 in 3.14.10, 176 in 3.15.2. */
#define GC_STATE_MAX 4096

struct gccopy {
	uint8_t b[GC_STATE_MAX];
	size_t len;
};

/* A field of the copied state, 4 or 8 bytes wide; false when the layout lacks it or it lies
 * outside the copy (the copy is read once, every field access is bounded here). */
static bool field(const struct gccopy *g, int64_t off, unsigned width, int64_t *v)
{
	int32_t v32;

	if (off < 0 || (uint64_t)off + width > g->len)
		return false;
	if (width == 4) {
		memcpy(&v32, g->b + off, 4);
		*v = v32;
	} else {
		memcpy(v, g->b + off, 8);
	}
	return true;
}

/* A generation's statistics at off in buf (len bytes), 8-byte fields per the layout. */
static bool read_stats(const struct pyoffsets *o, const uint8_t *buf, size_t len, int64_t off,
		       struct gcstats_gen *x)
{
	int64_t f[3] = { off + o->gcst_collections, off + o->gcst_collected, off + o->gcst_uncollectable };
	int64_t *dst[3] = { &x->collections, &x->collected, &x->uncollectable };

	for (int i = 0; i < 3; i++) {
		if (f[i] < 0 || (uint64_t)f[i] + 8 > len)
			return false;
		memcpy(dst[i], buf + f[i], 8);
	}
	return true;
}

/* 3.15: the statistics live in rings behind a pointer (python/rules.h). */
static bool read_ring_stats(struct pyproc *p, const struct gccopy *g, struct gcstats *gs)
{
	const struct pyoffsets *o = &p->L.off;
	uint8_t ring[PY_GC_STATS_RING_BYTES];
	struct py_gc_ring r;
	int64_t ptr;

	if (!field(g, o->gc_stats, 8, &ptr) || !ptr ||
	    mem_read(&p->mem, (uint64_t)ptr, ring, sizeof ring, NULL) < 0)
		return false;
	for (unsigned i = 0; i < gs->ngenerations; i++) {
		int8_t idx;
		if (!py_gc_ring(&p->L, i, &r))
			return false;
		idx = (int8_t)ring[r.index_at];
		if (idx < 0 || (uint32_t)idx >= r.nitems ||
		    !read_stats(o, ring, sizeof ring, (int64_t)r.at + (int64_t)idx * o->gc_stats_size, &gs->gen[i]))
			return false;
	}
	return true;
}

static bool read_generations(struct pyproc *p, const struct gccopy *g, struct gcstats *gs)
{
	const struct pylayout *L = &p->L;
	const struct pyoffsets *o = &L->off;

	gs->ngenerations = L->ngenerations < 4 ? L->ngenerations : 4;
	for (unsigned i = 0; i < gs->ngenerations; i++) {
		struct gcstats_gen *x = &gs->gen[i];
		int64_t gen = (int64_t)o->gc_generations + (int64_t)i * o->gc_gen_size;
		int64_t st = (int64_t)o->gc_stats + (int64_t)i * o->gc_stats_size;
		if (o->gc_generations < 0 || o->gc_stats < 0 || !field(g, gen + o->gcgen_count, 4, &x->count) ||
		    !field(g, gen + o->gcgen_threshold, 4, &x->threshold))
			return false;
		if (py_gc_stats_inline(L) && !read_stats(o, g->b, g->len, st, x))
			return false;
	}
	return py_gc_stats_inline(L) || read_ring_stats(p, g, gs);
}

/* gc_list_size(&permanent_generation.head): follow _gc_next until the head comes back, checking
 * that each node's _gc_prev (flag bits masked, docs/cpython.md 3.4) points at the node before it. */
static void count_frozen(struct pyproc *p, uint64_t head, struct gcstats *gs)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t prev = head, node, link[2];

	gs->frozen = 0;
	gs->frozen_complete = false;
	if (mem_read_u64(&p->mem, head + (uint64_t)o->gch_next, &node, NULL) < 0) {
		gs->frozen_why = "the permanent generation's head cannot be read";
		return;
	}
	while (node != head) {
		if (gs->frozen >= GCSTATS_MAX_FROZEN) {
			gs->frozen_why = "more objects than pycensus walks; the count is a lower bound";
			return;
		}
		if (!pyproc_readable(p, node, 16) || mem_read(&p->mem, node, link, 16, NULL) < 0 ||
		    (link[o->gch_prev / 8] & ~(uint64_t)3) != prev) {
			gs->frozen_why = "the permanent generation's list is inconsistent (is a collection running?)";
			return;
		}
		gs->frozen++;
		prev = node;
		node = link[o->gch_next / 8];
	}
	gs->frozen_complete = true;
}

int gcstats_collect(struct pyproc *p, struct gcstats *gs, struct pc_err *e)
{
	const struct pyoffsets *o = &p->L.off;
	struct gccopy g;
	int64_t v;

	memset(gs, 0, sizeof *gs);
	g.len = o->gc_state_size > 0 && o->gc_state_size <= GC_STATE_MAX ? (size_t)o->gc_state_size : 0;
	if (!g.len || mem_read(&p->mem, p->gc_state, g.b, g.len, e) < 0)
		return pc_fail(e, PC_ETARGETMEM, "cannot read the GC state at %#llx", (unsigned long long)p->gc_state);
	if (!read_generations(p, &g, gs))
		return pc_fail(e, PC_ELAYOUT, "the %s layout does not describe the GC generations", p->elf.version);
	gs->enabled = field(&g, o->gc_enabled, 4, &v) && v != 0;
	gs->collecting = field(&g, o->gc_collecting, 4, &v) && v != 0;
	/* PyGC_Head is two words, _gc_next and _gc_prev, in either order per the layout. */
	if (py_is_free_threaded(&p->L))
		gs->frozen_why = "a free-threaded build links no objects on GC lists, so frozen objects are not counted";
	else if (o->gc_permanent < 0 || o->gc_head_size != 16 || (o->gch_next != 0 && o->gch_next != 8) ||
	    o->gch_prev + o->gch_next != 8)
		gs->frozen_why = "this layout has no permanent generation";
	else
		count_frozen(p, p->gc_state + (uint64_t)o->gc_permanent, gs);
	return 0;
}
