/* miblocks.c: the object pass of a census on a free-threaded CPython (python/rules.h
 * py_is_free_threaded): every live block of the mimalloc heaps (pymalloc/miheap.h: every thread
 * state's heaps and the abandoned segments of threads that exited) recognised as an object, as
 * census/blocks.c does for pymalloc's pools. There are no GC lists to walk on such a build
 * (tracked objects are found by walking these same heaps, Python/gc_free_threading.c). The
 * heaps' segments are gathered while the target is stopped (walk_miheap_gather) and, when their
 * pages were copied (pymalloc/micopy.h), walked from the copy after it resumed. */
#include "common/compat.h"
#include "census/walk.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "pymalloc/micopy.h"
#include "pymalloc/miheap.h"
#include "objects/sizes.h"
#include "python/mimalloc.h"

struct mipass {
	struct walk *w;
	bool marking;          /* the first walk: every object's address into fo.seen, nothing counted */
	uint64_t dead;         /* freed objects kept in used blocks (per-thread freelists) */
	uint64_t recognised, unrecognised;
};

/* The object a live block holds: after the dict and weakref words in the GC_PRE heap, at the
 * block's start in the object and GC heaps; its type's pre-header and GC flag must say the same,
 * and the object must fit the block. */
static int64_t recognise(struct mipass *m, const struct mipage *pg, const uint8_t *data, size_t len)
{
	struct walk *w = m->w;
	const struct pytype *ty;
	unsigned pre = pg->tag == PYMI_HEAP_GC_PRE ? PYFT_PREHEADER : 0;
	const uint8_t *ob = data + pre;
	uint64_t need;
	int64_t t;

	if (len < pre + PYFT_HEADER || !walk_plausible_object(w, ob) || (t = walk_type_of(w, ob)) < 0)
		return -1;
	ty = &w->types.v[t];
	if (ty->pre != pre || !(ty->flags & PC_TPFLAGS_HAVE_GC) != (pg->tag == PYMI_HEAP_OBJECT))
		return -1;
	need = sizes_alloc_request(&w->p->L, ty, ob);
	return need && need + pre <= pg->block_size ? t : -1;
}

static void on_block(void *arg, const struct mipage *pg, uint64_t block, const uint8_t *data, size_t len)
{
	struct mipass *m = arg;
	struct walk *w = m->w;
	unsigned pre = pg->tag == PYMI_HEAP_GC_PRE ? PYFT_PREHEADER : 0;
	uint64_t addr = block + pre;
	int64_t t;

	if (pg->tag == PYMI_HEAP_MEM) /* PyMem_Malloc's heap: buffers, never objects */
		return;
	if (m->marking) {
		if ((t = recognise(m, pg, data, len)) >= 0)
			ptrmap_put(&w->fo.seen, addr, 1);
		return;
	}
	w->c->nblocks++;
	if (len >= pre + PYFT_HEADER && py_ob_refcnt(&w->p->L, data + pre) == 0) {
		m->dead++;
		return;
	}
	if ((t = recognise(m, pg, data, len)) < 0) {
		m->unrecognised++;
		w->unrecognised++;
		return;
	}
	m->recognised++;
	w->c->objects_in_arenas++;
	walk_count(w, t, addr, data + pre, len - pre);
}

static const struct pymi *layout_of(const struct walk *w)
{
	return py_mimalloc(w->p->L.major, w->p->L.minor);
}

uint64_t walk_miheap_gather(struct walk *w, bool copy)
{
	uint64_t *ts = NULL;
	size_t n = miheap_thread_states(w->p, &ts);

	if (!w->ms)
		w->ms = xcalloc(1, sizeof *w->ms);
	else
		miheap_set_release(w->ms);
	miheap_collect(&w->p->mem, layout_of(w), w->p->interp, ts, n, w->ms);
	free(ts);
	return copy ? micopy_plan(&w->p->mem, layout_of(w), w->ms, &w->mc) : 0;
}

void walk_miheap(struct walk *w)
{
	const struct pymi *M = layout_of(w);
	struct mipass m = { .w = w };
	struct miheap_totals tot;
	struct pc_err e = { 0 };
	uint64_t pages = 0;

	w->hc.source = "mimalloc";
	if (!w->ms)
		walk_miheap_gather(w, false);
	/* Two walks: the first marks every object in the heaps as met, so that following the
	 * references of the objects counted by the second never queues one of them again (on the
	 * GIL build the copied arenas play that part: follow.c skips references into them; the
	 * copied pages would too, but a page whose copy failed is read where it is). */
	m.marking = true;
	if (miheap_walk_set(&w->p->mem, M, w->ms, on_block, &m, &tot, &e) == 0) {
		m.marking = false;
		miheap_walk_set(&w->p->mem, M, w->ms, on_block, &m, &tot, &e);
	}
	if (e.detail[0]) {
		census_warn(w->c, "the mimalloc heaps could not be walked: %s; only objects references lead to were counted",
			    e.detail);
		return;
	}
	for (unsigned h = 0; h < PYMI_NHEAPS; h++)
		pages += tot.pages[h];
	w->c->npools = pages; /* no arenas: narenas stays 0 */
	if (tot.skipped_pages || tot.skipped_segments) {
		w->bad_pools += tot.skipped_pages;
		census_warn(w->c, "%llu mimalloc pages and %llu segments failed validation and were skipped (first: %s)",
			    (unsigned long long)tot.skipped_pages, (unsigned long long)tot.skipped_segments,
			    tot.first_skip);
	}
	census_warn(w->c, "free-threaded build: objects read from the mimalloc heaps of %zu thread states, %llu pages in %llu segments (%llu abandoned by threads that exited); %llu freed objects kept on freelists left out, %llu blocks not objects",
		    w->ms->nthreads, (unsigned long long)pages, (unsigned long long)tot.segments,
		    (unsigned long long)tot.abandoned_segments,
		    (unsigned long long)m.dead, (unsigned long long)m.unrecognised);
}
