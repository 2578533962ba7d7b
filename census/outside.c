/* outside.c: GC-tracked objects that live outside pymalloc's arenas (every class object, big
 * lists, dicts and tuples, ...; docs/cpython.md pitfall 1). They are found by following the GC lists
 * from the points where they leave the arenas: the generation heads and the in-arena objects
 * whose successor lies outside. Runs are followed in rounds, one batched read per round. */
#include "common/compat.h"
#include "census/walk.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "attach/prefetch.h"
#include "objects/sizes.h"

/* More GC objects outside the arenas than this means the lists are corrupt. */
#define MAX_OUTSIDE (1u << 26)
/* Object bytes copied per outside object: enough for every fixed part sizes and owners read
 * (the largest is PyHeapTypeObject, 936 bytes in 3.14). */
#define OBJ_COPY_MAX 1024

struct node {
	uint64_t gc;      /* the GC head; the object follows it */
	uint8_t hdr[32];  /* _gc_next, _gc_prev, ob_refcnt, ob_type */
};

struct outside {
	struct node *v;
	size_t n, cap;
	struct ptrmap seen;  /* nodes kept */
	uint64_t *frontier;  /* pairs: a node to read, and the node whose _gc_next led there */
	size_t nfront, capfront;
	uint64_t unlinked;   /* nodes whose _gc_prev did not lead back: not on a GC list */
};

static bool is_head(const struct walk *w, uint64_t a)
{
	for (unsigned i = 0; i < w->ngc_heads; i++)
		if (w->gc_heads[i] == a)
			return true;
	return false;
}

static void push_front(struct walk *w, struct outside *o, uint64_t gc, uint64_t from)
{
	gc &= ~(uint64_t)3;
	if (!gc || (gc & 7) || is_head(w, gc) || mem_covered(&w->p->mem, gc, 16) || ptrmap_get(&o->seen, gc, NULL))
		return;
	xgrow((void **)&o->frontier, &o->capfront, o->nfront + 2, sizeof *o->frontier);
	o->frontier[o->nfront++] = gc;
	o->frontier[o->nfront++] = from;
}

/* Whether the node read in hdr, reached through from's _gc_next, links back to it. A list read as
 * the target runs may change between the two reads, and a collection reuses _gc_prev for its
 * counts: then the link is taken as it is. Stopped and outside a collection, a node that does not
 * link back was reached through words that only looked like a tracked object's (Debian's 3.11 on
 * a Sphinx build: one, whose "object" was a string's bytes, made every census partial). */
static bool links_back(const struct walk *w, const uint8_t *hdr, uint64_t from)
{
	uint64_t prev;

	if (w->live || w->resumed || w->p->gc_collecting)
		return true;
	memcpy(&prev, hdr + 8, 8);
	return (prev & ~PY_GC_PREV_FLAGS) == (from & ~PY_GC_PREV_FLAGS);
}

/* One round: read the heads of every frontier node, keep those that link back, queue their
 * successors. A node is marked seen once kept: a false link to it first does not hide it from
 * its true predecessor. */
static void round_once(struct walk *w, struct outside *o)
{
	size_t n = o->nfront / 2, base = o->n;
	struct mem_req *reqs = xcalloc(n, sizeof *reqs);
	uint64_t *front = o->frontier;

	xgrow((void **)&o->v, &o->cap, o->n + n, sizeof *o->v);
	for (size_t i = 0; i < n; i++) {
		o->v[base + i].gc = front[2 * i];
		reqs[i] = (struct mem_req){ front[2 * i], o->v[base + i].hdr, 32, false };
	}
	mem_readv(&w->p->mem, reqs, n);
	o->frontier = NULL;
	o->nfront = o->capfront = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t next, gc = front[2 * i];
		if (!reqs[i].ok || ptrmap_get(&o->seen, gc, NULL))
			continue;
		if (!links_back(w, o->v[base + i].hdr, front[2 * i + 1])) {
			o->unlinked++;
			continue;
		}
		ptrmap_put(&o->seen, gc, 1);
		o->v[o->n++] = o->v[base + i];
		memcpy(&next, o->v[o->n - 1].hdr, 8);
		push_front(w, o, next, gc);
	}
	free(reqs);
	free(front);
}

static void discover(struct walk *w, struct outside *o)
{
	for (unsigned g = 0; g < w->ngc_heads; g++) {
		uint64_t next;
		if (mem_read_u64(&w->p->mem, w->gc_heads[g], &next, NULL) == 0)
			push_front(w, o, next, w->gc_heads[g]);
	}
	for (size_t i = 0; i + 1 < w->nstarts; i += 2)
		push_front(w, o, w->starts[i], w->starts[i + 1]);
	while (o->nfront && o->n < MAX_OUTSIDE)
		round_once(w, o);
	if (o->nfront)
		census_warn(w->c, "GC lists hold over %u objects outside the arenas; the rest were skipped", MAX_OUTSIDE);
	if (o->unlinked)
		census_warn(w->c, "%llu nodes reached through a GC link do not link back to where it came from (not on a GC list); ignored",
			    (unsigned long long)o->unlinked);
}

/* Counts the outside object whose GC head is at gc, copied by r, of type slot. */
static void count_one(struct walk *w, uint64_t gc, const struct mem_req *r, int64_t slot)
{
	unsigned pre;

	/* slot < 0 left the request empty, and a zero-length read "succeeds" */
	if (slot < 0)
		return;
	if (!r->ok) {
		w->bad_outside++;
		walk_drop(w, slot, 1);
		return;
	}
	pre = w->types.v[slot].pre;
	if (!walk_same_object(w, slot, gc + 16, (const uint8_t *)r->buf + pre, r->len - pre)) {
		w->changed++;
		walk_drop(w, slot, 1);
		return;
	}
	walk_count(w, slot, gc + 16, (const uint8_t *)r->buf + pre, r->len - pre);
	w->c->objects_outside++;
	w->c->gc_tracked++;
}

/* The keys headers that sizing objects [from, to) will read (a class's shared keys: 60,000
 * classes, 60,000 reads of a few bytes each otherwise), read ahead in one batch. */
static void prefetch_keys(struct walk *w, const struct mem_req *reqs, const int64_t *slots, size_t from, size_t to)
{
	uint64_t *a = xmalloc((to - from + 1) * sizeof *a);
	uint32_t *l = xmalloc((to - from + 1) * sizeof *l);
	size_t n = 0;

	for (size_t i = from; i < to; i++) {
		const struct pytype *ty;
		if (slots[i] < 0 || !reqs[i].ok)
			continue;
		ty = &w->types.v[slots[i]];
		if (sizes_keys_read(w->p, ty, (const uint8_t *)reqs[i].buf + ty->pre, reqs[i].len - ty->pre, &a[n], &l[n]) &&
		    !mem_covered(&w->p->mem, a[n], l[n]))
			n++;
	}
	mem_prefetch(&w->p->mem, a, l, n);
	free(a);
	free(l);
}

/* Copies each recognised object (pre-header words included) in one batch, then counts it. */
static void count_all(struct walk *w, struct outside *o, const int64_t *slots)
{
	struct mem_req *reqs = xcalloc(o->n, sizeof *reqs);
	uint8_t **bufs = xcalloc(o->n, sizeof *bufs);

	struct mem_req *rest = xcalloc(o->n + 1, sizeof *rest);
	size_t *at = xcalloc(o->n + 1, sizeof *at), nrest = 0;
	bool stopped = !w->live && !w->resumed;

	for (size_t i = 0; i < o->n; i++) {
		const struct pytype *ty;
		const uint8_t *held;
		uint64_t len, addr;
		if (slots[i] < 0)
			continue;
		ty = &w->types.v[slots[i]];
		len = (uint64_t)ty->basicsize < OBJ_COPY_MAX ? (uint64_t)ty->basicsize : OBJ_COPY_MAX;
		addr = o->v[i].gc + 16 - ty->pre;
		/* a class read ahead of its instances (census/blocks.c), kept: its copy already */
		if (stopped && (held = mem_prefetched(&w->p->mem, addr, ty->pre + len))) {
			reqs[i] = (struct mem_req){ addr, (void *)(uintptr_t)held, ty->pre + len, true };
			continue;
		}
		bufs[i] = xmalloc(ty->pre + len);
		reqs[i] = (struct mem_req){ addr, bufs[i], ty->pre + len, false };
		at[nrest] = i;
		rest[nrest++] = reqs[i];
	}
	mem_readv(&w->p->mem, rest, nrest);
	for (size_t k = 0; k < nrest; k++)
		reqs[at[k]].ok = rest[k].ok;
	free(rest);
	free(at);
	/* the copies made here are handed over after the census only when they are kept (inspect) */
	if (w->fo.keep)
		w->outside_regs = xcalloc(o->n + 1, sizeof *w->outside_regs);
	for (size_t i = 0; i < o->n; i++)
		if (reqs[i].ok) {
			mem_add_region_unsorted(&w->p->mem, reqs[i].addr, reqs[i].buf, reqs[i].len);
			if (bufs[i] && w->outside_regs)
				w->outside_regs[w->noutside_regs++] = (struct mem_region){ reqs[i].addr, reqs[i].len, bufs[i] };
		}
	mem_sort_regions(&w->p->mem);
	for (size_t from = 0, to; from < o->n; from = to) {
		to = o->n - from > PREFETCH_MAX_RANGES ? from + PREFETCH_MAX_RANGES : o->n;
		prefetch_keys(w, reqs, slots, from, to);
		for (size_t i = from; i < to; i++)
			count_one(w, o->v[i].gc, &reqs[i], slots[i]);
	}
	mem_prefetch_drop(&w->p->mem);
	/* the buffers stay registered with the reader until the census ends */
	w->outside_bufs = bufs;
	w->noutside_bufs = o->n;
	free(reqs);
}

/* A GC list node whose type word cannot be a pointer (measured on Debian's static 3.11: a list
 * led once to a static small int's words, type "4"): no object was there to drop, so the census
 * is not partial for it. */
static bool not_an_object(const struct walk *w, const uint8_t *obj)
{
	uint64_t tp;

	memcpy(&tp, obj + w->p->L.off.ob_type, 8);
	return tp < 4096 || (tp & 7) != 0;
}

void walk_outside(struct walk *w)
{
	struct outside o = { 0 };
	int64_t *slots;
	uint64_t bad = 0, junk = 0;

	ptrmap_init(&o.seen);
	discover(w, &o);
	slots = xcalloc(o.n + 1, sizeof *slots);
	for (size_t i = 0; i < o.n; i++) {
		slots[i] = walk_type_of(w, o.v[i].hdr + 16);
		if (slots[i] >= 0)
			continue;
		if (not_an_object(w, o.v[i].hdr + 16))
			junk++;
		else
			bad++;
	}
	w->bad_outside += bad;
	walk_drop(w, -1, bad);
	if (bad)
		census_warn(w->c, "%llu objects on the GC lists outside the arenas have no valid type; skipped",
			    (unsigned long long)bad);
	if (junk)
		census_warn(w->c, "%llu nodes the GC lists led to are not objects (no type pointer where an object has one); ignored",
			    (unsigned long long)junk);
	count_all(w, &o, slots);
	free(slots);
	free(o.v);
	free(o.frontier);
	ptrmap_release(&o.seen);
}
