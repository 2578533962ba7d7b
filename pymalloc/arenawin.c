/* arenawin.c: the arenas a window at a time (pymalloc/arenawin.h). */
#include "common/compat.h"
#include "pymalloc/arenawin.h"

#include <stdlib.h>
#include "common/xalloc.h"

void arenawin_begin(struct pyproc *p, struct heapcopy *hc, uint64_t window)
{
	uint64_t largest = 0;

	for (size_t i = 0; i < hc->n; i++) {
		hc->v[i].data = NULL;
		largest = hc->v[i].len > largest ? hc->v[i].len : largest;
		mem_add_region_unsorted(&p->mem, hc->v[i].addr, NULL, hc->v[i].len);
	}
	mem_sort_regions(&p->mem);
	hc->streamed = true;
	hc->planned = heapcopy_planned(hc);
	hc->window = window > largest ? window : largest;
	if (hc->window > hc->planned)
		hc->window = hc->planned;
	hc->buf = heapcopy_buffer(hc, p->mem.pid, hc->window);
}

size_t arenawin_hold(struct pyproc *p, struct heapcopy *hc, size_t from, struct census *c)
{
	struct mem_req reqs[256];
	uint64_t off = 0;
	size_t to = from, n;

	while (to < hc->n && to - from < PC_ARRAY_LEN(reqs) && off + hc->v[to].len <= hc->window) {
		reqs[to - from] = (struct mem_req){ hc->v[to].addr, hc->buf + off, hc->v[to].len, false };
		off += hc->v[to++].len;
	}
	n = to - from;
	if (n == 0)
		return from;
	heapcopy_read(p, reqs, n);
	for (size_t i = 0; i < n; i++) {
		struct arena_copy *a = &hc->v[from + i];
		if (!reqs[i].ok) {
			census_warn(c, "arena at %#llx could not be read; its objects are missing", (unsigned long long)a->addr);
			continue;
		}
		a->data = reqs[i].buf;
		mem_region_hold(&p->mem, a->addr, a->data);
		hc->bytes += a->len;
	}
	hc->nwindows++;
	return to;
}

void arenawin_release(struct pyproc *p, struct heapcopy *hc, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		if (hc->v[i].data)
			mem_region_hold(&p->mem, hc->v[i].addr, NULL);
		hc->v[i].data = NULL;
	}
}
