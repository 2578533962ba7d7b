/* gcstats.c: GC counts, thresholds, per-generation statistics and the frozen generation. */
#include "common/compat.h"
#include "heap/gcstats.h"

#include <string.h>

/* The copy of struct _gc_runtime_state is 240 bytes in 3.8-3.13. */
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

static bool read_generations(const struct pylayout *L, const struct gccopy *g, struct gcstats *gs)
{
	const struct pyoffsets *o = &L->off;

	gs->ngenerations = L->ngenerations < 4 ? L->ngenerations : 4;
	for (unsigned i = 0; i < gs->ngenerations; i++) {
		struct gcstats_gen *x = &gs->gen[i];
		int64_t gen = (int64_t)o->gc_generations + (int64_t)i * o->gc_gen_size;
		int64_t st = (int64_t)o->gc_stats + (int64_t)i * o->gc_stats_size;
		if (o->gc_generations < 0 || o->gc_stats < 0 || !field(g, gen + o->gcgen_count, 4, &x->count) ||
		    !field(g, gen + o->gcgen_threshold, 4, &x->threshold) ||
		    !field(g, st + o->gcst_collections, 8, &x->collections) ||
		    !field(g, st + o->gcst_collected, 8, &x->collected) ||
		    !field(g, st + o->gcst_uncollectable, 8, &x->uncollectable))
			return false;
	}
	return true;
}

/* gc_list_size(&permanent_generation.head): follow _gc_next until the head comes back, checking
 * that each node's _gc_prev (flag bits masked, CPYTHON.md 3.4) points at the node before it. */
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
	if (!read_generations(&p->L, &g, gs))
		return pc_fail(e, PC_ELAYOUT, "the %s layout does not describe the GC generations", p->elf.version);
	gs->enabled = field(&g, o->gc_enabled, 4, &v) && v != 0;
	gs->collecting = field(&g, o->gc_collecting, 4, &v) && v != 0;
	/* PyGC_Head is two words, _gc_next and _gc_prev, in either order per the layout. */
	if (o->gc_permanent < 0 || o->gc_head_size != 16 || (o->gch_next != 0 && o->gch_next != 8) ||
	    o->gch_prev + o->gch_next != 8)
		gs->frozen_why = "this layout has no permanent generation";
	else
		count_frozen(p, p->gc_state + (uint64_t)o->gc_permanent, gs);
	return 0;
}
