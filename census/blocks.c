/* blocks.c: the pool walk: every allocated block of every copied arena, recognised as an object
 * or left as a buffer (list item arrays, dict keys, ... are blocks too). */
#include "common/compat.h"
#include "census/walk.h"

#include <string.h>
#include "common/xalloc.h"
#include "pymalloc/arenawin.h"
#include "pymalloc/debugblock.h"
#include "census/nonblock.h"
#include "pymalloc/pool.h"
#include "objects/sizes.h"

static uint64_t rd64(const uint8_t *b, size_t off)
{
	uint64_t v;
	memcpy(&v, b + off, 8);
	return v;
}

/* The allocation the object needs, against the block that holds it: it must fit, and the block
 * may be larger only by rounding or by an in-place shrink (pymalloc keeps a block when the new
 * size is over 3/4 of it; ints normalise without reallocating). */
static bool fits_block(const struct walk *w, const struct pytype *ty, const uint8_t *ob, unsigned pre, unsigned bs)
{
	uint64_t need = sizes_alloc_request(&w->p->L, ty, ob);

	if (need == 0)
		return false;
	need += pre;
	if (ty->alloc_short && need > bs && need - ty->alloc_short <= bs) /* a naive datetime */
		need = bs;
	if ((ty->flags & PC_TPFLAGS_INLINE_VALUES) || ty->rule == RULE_GEN ||
	    (ty->rule == RULE_FRAME && w->p->L.off.fo_frame >= 0))
		return need <= bs; /* 3.13 inline values, 3.11+ frame slots: sized at allocation */
	return need <= bs && bs - need < (bs / 4 > 32 ? bs / 4 : 32);
}

static bool is_gc_head(const struct walk *w, uint64_t a)
{
	for (unsigned i = 0; i < w->ngc_heads; i++)
		if (w->gc_heads[i] == a)
			return true;
	return false;
}

/* _gc_next of a tracked object: 0, another object's GC head (8-aligned, in blocks or malloc'd), or
 * a generation head, which Debian's 3.13 (gchead-alignment.diff) aligns to 4 bytes only. */
/* An untracked object's _gc_prev keeps at most its flag bits (gc_alloc clears both words;
 * _PyObject_GC_UNTRACK keeps only _PyGC_PREV_MASK_FINALIZED, 3.8-3.15). A freed object's fields
 * read at the wrong offset fail this (3.14's freelisted builtin methods, whose m_self looks like
 * an instance's type, were counted as instances of that class). */
static bool gc_prev_ok(uint64_t next, uint64_t prev)
{
	return next != 0 || prev <= 3;
}

/* Read as the target runs (or stopped mid-collection), an object may be on the collector's
 * tentatively unreachable list: its _gc_next carries a flag bit (a 9 MB list went uncounted). */
static bool gc_word_ok(const struct walk *w, uint64_t next)
{
	if (w->live || w->p->gc_collecting)
		next &= ~PY_GC_NEXT_COLLECTING_FLAGS;
	return next == 0 || (next & 7) == 0 || is_gc_head(w, next);
}

/* A refcount that is also the address of readable memory, 8-aligned: a pointer, not a count.
 * Where the process is not position-independent (Debian's python3.X binaries), its static objects
 * and its malloc heap (where classes live) lie below 2^31, so a pointer passes for a refcount, and
 * a list's item array reads as an object whenever the next item is a type: [int, float, str]
 * counted as a float, a list of classes as an instance (2,000 fake floats, 80 fake instances in
 * test_classlists.c). Such a process's addresses start at 0x400000, its load address, so only
 * counts that high are checked: few live objects hold as many references. */
#define SUSPECT_REFCNT (UINT64_C(1) << 22)

static bool refcnt_is_pointer(const struct walk *w, uint64_t r)
{
	return r >= SUSPECT_REFCNT && (r & 7) == 0 && !py_refcnt_immortal(&w->p->L, r) &&
	       pyproc_readable(w->p, r, 8);
}

/* A tracked in-arena object whose successor on its GC list lies outside every arena: the start
 * of a run of outside objects (class objects, big containers) for walk_outside(). */
static void note_gc_next(struct walk *w, uint64_t next, uint64_t from)
{
	next &= ~(uint64_t)3;
	if (!next || mem_covered(&w->p->mem, next, 16) || is_gc_head(w, next))
		return;
	xgrow((void **)&w->starts, &w->capstarts, w->nstarts + 2, sizeof *w->starts);
	w->starts[w->nstarts++] = next;
	w->starts[w->nstarts++] = from;
}

static bool recognise(struct walk *w, const uint8_t *b, uint64_t addr, unsigned bs)
{
	static const unsigned pres[] = { 0, 16, 32 };

	for (size_t k = 0; k < PC_ARRAY_LEN(pres) && pres[k] + 16 <= bs; k++) {
		unsigned pre = pres[k];
		const uint8_t *ob = b + pre;
		const struct pytype *ty;
		int64_t t;
		if (!walk_plausible_refcnt(w, rd64(ob, 0)) || refcnt_is_pointer(w, rd64(ob, 0)) ||
		    (t = walk_type_of(w, ob)) < 0)
			continue;
		ty = &w->types.v[t];
		if (ty->pre != pre || !fits_block(w, ty, ob, pre, bs))
			continue;
		if (ty->flags & PC_TPFLAGS_HAVE_GC) {
			/* the GC head sits right before the object, after any managed-dict words */
			uint64_t next = rd64(b, pre - 16), prev = rd64(b, pre - 8);
			if (!gc_word_ok(w, next) || !gc_prev_ok(next, prev))
				continue;
			if (next) {
				w->c->gc_tracked++;
				note_gc_next(w, next, addr + pre - 16);
			}
		}
		walk_count(w, t, addr + pre, ob, bs - pre);
		return true;
	}
	return false;
}

/* Read while the target runs, a pool whose header fails validation was most likely caught
 * mid-update by the allocator (another thread allocating in it): it is read again, fresh, a few
 * times before its blocks are dropped. A dropped pool can take a stable object with megabytes
 * behind it (a list's items: 9 MB gone from a churn census on 3.12.1). */
#define POOL_REREADS 8

static const uint8_t *reread_pool(struct walk *w, uint64_t addr, struct pool_info *pi, const char **why)
{
	const struct pylayout *L = &w->p->L;

	if (!w->pool_buf)
		w->pool_buf = xmalloc(L->pool_size);
	for (int k = 0; k < POOL_REREADS; k++) {
		struct mem_req r = { addr, w->pool_buf, L->pool_size, false };
		if (mem_readv_fresh(&w->p->mem, &r, 1) != 1)
			return NULL;
		if (pool_inspect(L, w->pool_buf, addr, pi, why)) {
			w->reread_pools++;
			return w->pool_buf;
		}
	}
	return NULL;
}

struct pool_seen {
	struct pool_info pi;
	const char *why; /* NULL when the pool validated */
};

static void walk_pool(struct walk *w, const uint8_t *pool, uint64_t addr, struct pool_seen *ps)
{
	const struct pylayout *L = &w->p->L;
	const struct pool_info *pi = &ps->pi;
	struct census_sizeclass *cl;

	if (ps->why && w->live && (pool = reread_pool(w, addr, &ps->pi, &ps->why)))
		ps->why = NULL;
	if (ps->why) {
		if (w->bad_pools++ == 0)
			w->first_bad_pool = ps->why;
		/* the header's count when it validated (bounded by the pool's capacity), else 0 */
		walk_drop(w, -1, pi->count);
		w->c->dropped_pools++;
		return;
	}
	if (pi->count == 0) {
		w->c->nempty_pools++;
		return;
	}
	cl = &w->c->classes[pi->szidx];
	cl->pools++;
	cl->blocks += pi->count;
	cl->avail += pi->capacity - pi->count;
	w->c->npools++;
	w->c->nblocks += pi->count;
	for (unsigned i = 0; i < pi->carved; i++) {
		unsigned off = pool_block_offset(L, pi, i), req = 0, skip;
		if (!off)
			continue;
		/* debug hooks: the object starts after the debug header; size by the request */
		skip = debugblock_skip(pool + off, pi->block_size, &req);
		w->c->debug_blocks += skip != 0;
		if (recognise(w, pool + off + skip, addr + off + skip, skip ? req : pi->block_size)) {
			cl->objects++;
			w->c->objects_in_arenas++;
		} else {
			w->unrecognised++;
		}
	}
}

/* The type words recognise() will try in the block at b (bs bytes), when none of them is a type
 * met lately: candidates for typetab_prefetch. Called for every block of an arena that brings
 * new classes: kept to a few tests a block. */
static void note_type_words(struct walk *w, const uint8_t *b, unsigned bs, size_t ob_type)
{
	uint64_t last = w->ncands ? w->type_cands[w->ncands - 1] : 0;

	for (unsigned pre = 0; pre <= 32 && pre + 16 <= bs; pre += 16) { /* recognise()'s pres */
		uint64_t tp;
		if (!walk_plausible_refcnt(w, rd64(b + pre, 0)))
			continue;
		tp = rd64(b + pre, ob_type);
		/* the block is most likely that type's: nothing more to read ahead. A class's instances
		 * are neighbours: its type is noted once for all of them (asked first: the cheaper
		 * question, and the one a run of new instances answers yes) */
		if (tp == last || walk_type_cached(w, tp))
			return;
		xgrow((void **)&w->type_cands, &w->capcands, w->ncands + 1, sizeof *w->type_cands);
		w->type_cands[w->ncands++] = last = tp;
	}
}

/* The classes an arena's blocks belong to that no block met before, read ahead in one batch: on
 * a heap of 60,000 classes each arena meets hundreds of new ones, each one read of its own
 * otherwise (a syscall per class, most of such a census's time). */
static void prefetch_types(struct walk *w, const struct arena_copy *ac, uint64_t first, size_t npools)
{
	const struct pylayout *L = &w->p->L;
	size_t ob_type = (size_t)L->off.ob_type;

	w->ncands = 0;
	for (size_t k = 0; k < npools; k++) {
		const struct pool_info *pi = &w->pools[k].pi;
		const uint8_t *pool = ac->data + (first - ac->addr) + k * L->pool_size;
		for (unsigned i = 0; !w->pools[k].why && i < pi->carved; i++) {
			unsigned off = pool_block_offset(L, pi, i), req = 0, skip;
			if (!off)
				continue;
			skip = debugblock_skip(pool + off, pi->block_size, &req);
			note_type_words(w, pool + off + skip, skip ? req : pi->block_size, ob_type);
		}
	}
	typetab_prefetch(&w->types, w->p, w->type_cands, w->ncands);
}

/* New types an arena must bring for the next one to be read ahead: below it, the few met are read
 * one by one, a syscall each. */
#define TYPES_WORTH_PREFETCH 8

static void walk_arena(struct walk *w, const struct arena_copy *ac)
{
	const struct pylayout *L = &w->p->L;
	uint64_t first = (ac->addr + L->pool_size - 1) & ~(L->pool_size - 1);
	size_t npools = first + L->pool_size <= ac->addr + ac->len ? (ac->addr + ac->len - first) / L->pool_size : 0;

	xgrow((void **)&w->pools, &w->cappools, npools + 1, sizeof *w->pools);
	for (size_t k = 0; k < npools; k++) {
		struct pool_seen *ps = &w->pools[k];
		ps->why = NULL; /* pool_inspect names the failure when there is one */
		pool_inspect(L, ac->data + (first - ac->addr) + k * L->pool_size, first + k * L->pool_size, &ps->pi, &ps->why);
	}
	/* Reading ahead is a pass over every block: it pays while arenas bring classes not met before
	 * (60,000 classes), not over 1e6 dicts of a few known types (8 % of such a census's
	 * instructions). One arena with new types turns it back on for the next. */
	size_t types_before = w->types.n;
	bool fetched = !w->types_known;
	if (fetched)
		prefetch_types(w, ac, first, npools);
	for (size_t k = 0; k < npools; k++)
		walk_pool(w, ac->data + (first - ac->addr) + k * L->pool_size, first + k * L->pool_size, &w->pools[k]);
	/* stopped, the classes read ahead are kept for their copy as GC objects (census/outside.c):
	 * not read a second time (57 MiB of 60,000 classes) */
	if (fetched && !w->live && !w->resumed)
		mem_prefetch_hold(&w->p->mem);
	else
		mem_prefetch_drop(&w->p->mem);
	w->types_known = w->types.n - types_before < TYPES_WORTH_PREFETCH;
}

/* A streamed census: one window of arenas held at a time (pymalloc/arenawin.h). Read while the
 * target runs, each window's pool headers are compared with the target's before it is let go. */
static void walk_windows(struct walk *w)
{
	for (size_t from = 0, to; from < w->hc.n; from = to) {
		to = arenawin_hold(w->p, &w->hc, from, w->c);
		for (size_t a = from; a < to; a++)
			if (w->hc.v[a].data)
				walk_arena(w, &w->hc.v[a]);
		if (w->live)
			w->changed_pools += nonblock_changed_pools(w->p, &w->hc, from, to);
		if (w->ds)
			walk_dump_window(w, from, to);
		arenawin_release(w->p, &w->hc, from, to);
	}
	arenawin_end(&w->hc);
}

void walk_blocks(struct walk *w)
{
	const struct pylayout *L = &w->p->L;

	w->c->nclasses = L->nsize_classes;
	for (unsigned i = 0; i < L->nsize_classes; i++)
		w->c->classes[i].block_size = (i + 1) * L->size_class_step;
	if (w->hc.streamed)
		walk_windows(w);
	else
		for (size_t a = 0; a < w->hc.n; a++)
			walk_arena(w, &w->hc.v[a]);
	w->c->narenas = w->hc.n;
	if (w->bad_pools)
		census_warn(w->c, "%llu pools failed validation and were skipped (first: %s)",
			    (unsigned long long)w->bad_pools, w->first_bad_pool);
	if (w->reread_pools)
		census_warn(w->c, "%llu pools whose header was caught mid-update as the target ran were read again and walked",
			    (unsigned long long)w->reread_pools);
}
