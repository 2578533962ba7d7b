/* arenascan.c: finding pools without symbols, by their header invariants. */
#include "common/compat.h"
#include "pymalloc/arenascan.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "pymalloc/pool.h"

/* Header reads per batch: one process_vm_readv carries up to IOV_MAX (1024) of them. */
#define HDR_BATCH 4096

struct cand {
	uint64_t addr;
	uint32_t arenaindex;
};

struct cands {
	struct cand *v;
	size_t n, cap;
};

static bool scannable(const struct map *m)
{
	return m->r && m->w && m->priv && m->inode == 0 &&
	       (m->path[0] == '\0' || strncmp(m->path, "[anon", 5) == 0 || strcmp(m->path, "[heap]") == 0);
}

/* Reads the headers of every pool-aligned address in [start, end) and keeps plausible ones. */
static void scan_range(struct pyproc *p, uint64_t start, uint64_t end, struct cands *out, uint64_t *rejected)
{
	const struct pylayout *L = &p->L;
	size_t hsz = (size_t)L->off.pool_header_size;
	uint8_t *bufs = xmalloc(HDR_BATCH * hsz);
	struct mem_req *reqs = xmalloc(HDR_BATCH * sizeof *reqs);
	uint64_t a = (start + L->pool_size - 1) & ~(L->pool_size - 1);

	while (a + L->pool_size <= end) {
		size_t n = 0;
		for (; n < HDR_BATCH && a + L->pool_size <= end; n++, a += L->pool_size)
			reqs[n] = (struct mem_req){ a, bufs + n * hsz, hsz, false };
		mem_readv(&p->mem, reqs, n);
		for (size_t i = 0; i < n; i++) {
			uint32_t idx;
			if (!reqs[i].ok || !pool_header_ok(L, reqs[i].buf, reqs[i].addr, NULL)) {
				*rejected += reqs[i].ok && memcmp(reqs[i].buf, "\0\0\0\0\0\0\0\0", 8) != 0;
				continue;
			}
			memcpy(&idx, (uint8_t *)reqs[i].buf + L->off.ph_arenaindex, 4);
			xgrow((void **)&out->v, &out->cap, out->n + 1, sizeof *out->v);
			out->v[out->n++] = (struct cand){ reqs[i].addr, idx };
		}
	}
	free(reqs);
	free(bufs);
}

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->arenaindex != y->arenaindex)
		return x->arenaindex < y->arenaindex ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* One arena per arenaindex: its pools must fit one ARENA_SIZE window (arena bases are only
 * page-aligned, so group by index, not by address mask; docs/cpython.md 2.2 invariant 9). */
static void group(struct pyproc *p, struct cands *cs, struct heapcopy *hc, struct census *c)
{
	const struct pylayout *L = &p->L;

	if (cs->n > 1) /* qsort(NULL, 0) is undefined */
		qsort(cs->v, cs->n, sizeof *cs->v, cmp_cand);
	for (size_t i = 0; i < cs->n;) {
		size_t j = i + 1;
		uint64_t first = cs->v[i].addr, last = first;
		while (j < cs->n && cs->v[j].arenaindex == cs->v[i].arenaindex) {
			if (cs->v[j].addr + L->pool_size - first <= L->arena_size)
				last = cs->v[j].addr;
			else
				census_warn(c, "scan: pools of arena index %u lie farther apart than one arena; kept the first window",
					    cs->v[i].arenaindex);
			j++;
		}
		xgrow((void **)&hc->v, &hc->cap, hc->n + 1, sizeof *hc->v);
		hc->v[hc->n++] = (struct arena_copy){ first, last + L->pool_size - first, NULL };
		i = j;
	}
}

int arenas_scan(struct pyproc *p, struct heapcopy *hc, struct census *c, struct pc_err *e)
{
	struct cands cs = { 0 };

	(void)e;
	for (size_t i = 0; i < p->maps.n; i++)
		if (scannable(&p->maps.v[i]))
			scan_range(p, p->maps.v[i].start, p->maps.v[i].end, &cs, &hc->scan_rejected);
	group(p, &cs, hc, c);
	free(cs.v);
	hc->source = "scan";
	return 0;
}
