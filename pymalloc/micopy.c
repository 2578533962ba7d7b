/* micopy.c: the regions of a mimalloc copy (pymalloc/micopy.h). */
#include "common/compat.h"
#include "pymalloc/micopy.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "pymalloc/arenascan.h"

/* Segment headers read per batch: 64 of 48 KiB, 3 MiB of buffer at most. */
#define HEADERS_PER_BATCH 64

struct plan {
	const struct pymi *M;
	struct heapcopy *hc;
	struct mipage pg; /* scratch: only its parsed fields are used */
};

static void add(struct heapcopy *hc, uint64_t addr, uint64_t len)
{
	xgrow((void **)&hc->v, &hc->cap, hc->n + 1, sizeof *hc->v);
	hc->v[hc->n++] = (struct arena_copy){ addr, len, NULL };
}

static void plan_page(void *arg, uint64_t addr, const uint8_t *desc)
{
	struct plan *pl = arg;
	char why[8];
	uint64_t len;

	if (mipage_parse(pl->M, addr, desc, &pl->pg, why, sizeof why) < 0 || pl->pg.capacity == 0)
		return;
	if ((len = miheap_page_bytes(&pl->pg)))
		add(pl->hc, pl->pg.start, len);
}

/* The segments [from, to) of the set: their headers read in one batch, then listed with their
 * pages. */
static void plan_batch(struct mem *mem, struct plan *pl, const struct miheap_set *s, size_t from, size_t to,
		       uint8_t *buf)
{
	size_t hdr = miheap_segment_header(pl->M);
	struct mem_req reqs[HEADERS_PER_BATCH];
	char why[8];

	for (size_t i = from; i < to; i++)
		reqs[i - from] = (struct mem_req){ s->segs[i], buf + (i - from) * hdr, hdr, false };
	mem_readv(mem, reqs, to - from);
	for (size_t i = from; i < to; i++) {
		if (!reqs[i - from].ok)
			continue;
		add(pl->hc, s->segs[i], hdr);
		miheap_segment_each(pl->M, s->segs[i], reqs[i - from].buf, plan_page, pl, why, sizeof why);
	}
}

/* Sorted by address; a region that overlaps the one before it (a corrupt descriptor) dropped. */
static void sort_and_clip(struct heapcopy *hc)
{
	size_t kept = 0;

	heapcopy_sort(hc);
	for (size_t i = 0; i < hc->n; i++) {
		if (kept && hc->v[i].addr < hc->v[kept - 1].addr + hc->v[kept - 1].len)
			continue;
		hc->v[kept++] = hc->v[i];
	}
	hc->n = kept;
}

uint64_t micopy_plan(struct mem *mem, const struct pymi *M, const struct miheap_set *s, struct heapcopy *hc)
{
	struct copybuf *keep = hc->keep;
	struct plan *pl;
	uint8_t *buf;

	heapcopy_release(hc);
	hc->keep = keep;
	hc->source = "mimalloc";
	if (!M || !s->nsegs)
		return 0;
	pl = xcalloc(1, sizeof *pl);
	pl->M = M;
	pl->hc = hc;
	buf = xmalloc(HEADERS_PER_BATCH * miheap_segment_header(M));
	for (size_t from = 0; from < s->nsegs; from += HEADERS_PER_BATCH)
		plan_batch(mem, pl, s, from, s->nsegs - from < HEADERS_PER_BATCH ? s->nsegs : from + HEADERS_PER_BATCH, buf);
	free(buf);
	free(pl);
	sort_and_clip(hc);
	return heapcopy_planned(hc);
}

uint64_t micopy_estimate(struct pyproc *p)
{
	const struct pymi *M = py_mimalloc(p->L.major, p->L.minor);
	struct heapcopy hc = { 0 };
	struct miheap_set s;
	uint64_t *ts = NULL, total;
	size_t n = miheap_thread_states(p, &ts);

	miheap_collect(&p->mem, M, p->interp, ts, n, &s);
	total = micopy_plan(&p->mem, M, &s, &hc);
	heapcopy_release(&hc);
	miheap_set_release(&s);
	free(ts);
	return total;
}
