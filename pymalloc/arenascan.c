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
	uint64_t freeblock;
	uint32_t arenaindex;
	uint32_t block_size;
	uint32_t nextoffset;
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

static uint32_t rd32(const uint8_t *b, int32_t off)
{
	uint32_t v;
	memcpy(&v, b + off, 4);
	return v;
}

static struct cand candidate(const struct pylayout *L, const uint8_t *hdr, uint64_t addr, uint32_t idx)
{
	struct cand c = { .addr = addr, .arenaindex = idx };

	memcpy(&c.freeblock, hdr + L->off.ph_freeblock, 8);
	c.block_size = (rd32(hdr, L->off.ph_szidx) + 1) * L->size_class_step;
	c.nextoffset = rd32(hdr, L->off.ph_nextoffset);
	return c;
}

/* A pool's free list starts inside the pool (a pool with free blocks, or an empty one, always has
 * one; only a full pool's is NULL). A copy of a pool page held in a buffer keeps the original's
 * pointer, which points into the original: such a page is no pool (docs/cpython.md 2.2). */
static bool self_consistent(const struct pylayout *L, const struct cand *c)
{
	return c->freeblock == 0 ||
	       (c->freeblock >= c->addr + (uint64_t)L->off.pool_header_size && c->freeblock < c->addr + L->pool_size);
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
			out->v[out->n++] = candidate(L, reqs[i].buf, reqs[i].addr, idx);
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

/* Pools of one arena index within one arena-sized span: candidates [i, j) of the sorted list. */
struct window {
	size_t i, j;
	unsigned evidence; /* pools that only a real arena has: free list inside, GC links back */
};

/* Blocks of a window checked for GC links: enough to prove a real arena, bounded per window. */
#define GC_PROBES 64

/* The first block of a pool, if it is a GC object, is linked both ways with its neighbour on a GC
 * list: its _gc_next's _gc_prev points back at it. A copy's _gc_next points to the original's
 * neighbour, which points back at the original. One try at the block and one after a 16-byte
 * pre-header (3.11+ managed dicts). */
static bool gc_linked(struct pyproc *p, uint64_t block)
{
	const struct pyoffsets *o = &p->L.off;

	for (unsigned k = 0; k < (p->L.preheader_dict ? 2u : 1u); k++) {
		uint64_t head = block + 16u * k, next, back;
		if (mem_read_u64(&p->mem, head + (uint64_t)o->gch_next, &next, NULL) < 0)
			continue;
		next &= ~(uint64_t)7;
		if (next && next != head && pyproc_readable(p, next, 16) &&
		    mem_read_u64(&p->mem, next + (uint64_t)o->gch_prev, &back, NULL) == 0 &&
		    (back & ~(uint64_t)7) == head)
			return true;
	}
	return false;
}

static unsigned evidence(struct pyproc *p, const struct cand *v, const struct window *w)
{
	unsigned n = 0, probes = 0;

	for (size_t k = w->i; k < w->j; k++) {
		if (v[k].freeblock) /* self-consistent (checked before): a used or empty pool */
			n++;
		else if (probes++ < GC_PROBES && gc_linked(p, v[k].addr + (uint64_t)p->L.off.pool_header_size))
			n++;
	}
	return n;
}

/* The candidates of one arena index, [from, to), split into arena-sized windows. */
static size_t windows(const struct pylayout *L, const struct cand *v, size_t from, size_t to, struct window *out,
		      size_t max)
{
	size_t n = 0;

	for (size_t i = from; i < to && n < max;) {
		size_t j = i + 1;
		while (j < to && v[j].addr + L->pool_size - v[i].addr <= L->arena_size)
			j++;
		out[n++] = (struct window){ i, j, 0 };
		i = j;
	}
	return n;
}

/* One arena per arenaindex: its pools fit one ARENA_SIZE window (arena bases are only
 * page-aligned, so group by index, not by address mask; docs/cpython.md 2.2 invariant 9). Pool
 * pages of the same index elsewhere are copies held in buffers (the pages, header and all, of a
 * bytes or bytearray): the window with evidence of a live arena wins, then the one with more
 * pools; the others are counted and named. */
static void group(struct pyproc *p, struct cands *cs, struct heapcopy *hc, struct census *c)
{
	const struct pylayout *L = &p->L;
	struct window w[16];
	uint64_t copies = 0, unsure = 0;

	if (cs->n > 1) /* qsort(NULL, 0) is undefined */
		qsort(cs->v, cs->n, sizeof *cs->v, cmp_cand);
	for (size_t i = 0; i < cs->n;) {
		size_t j = i + 1, nw, best = 0;
		while (j < cs->n && cs->v[j].arenaindex == cs->v[i].arenaindex)
			j++;
		nw = windows(L, cs->v, i, j, w, PC_ARRAY_LEN(w));
		for (size_t k = 0; nw > 1 && k < nw; k++) {
			w[k].evidence = evidence(p, cs->v, &w[k]);
			if (w[k].evidence > w[best].evidence ||
			    (w[k].evidence == w[best].evidence && w[k].j - w[k].i > w[best].j - w[best].i))
				best = k;
		}
		for (size_t k = 0; k < nw; k++) {
			if (k == best)
				continue;
			copies += w[k].j - w[k].i;
			unsure += w[k].evidence == w[best].evidence;
		}
		xgrow((void **)&hc->v, &hc->cap, hc->n + 1, sizeof *hc->v);
		hc->v[hc->n++] = (struct arena_copy){ cs->v[w[best].i].addr,
						      cs->v[w[best].j - 1].addr + L->pool_size - cs->v[w[best].i].addr, NULL };
		i = j;
	}
	if (copies)
		census_warn(c, "scan: %llu pool-like pages lie outside the arena their header names (copies of pool "
			    "pages held in buffers): not taken as pools%s", (unsigned long long)copies,
			    unsure ? "; for some no live pool told the arena from its copy, and the larger was kept" : "");
}

/* Drops candidates whose free list points outside them (copies of pools with free blocks). */
static uint64_t drop_copies(const struct pylayout *L, struct cands *cs)
{
	size_t kept = 0;

	for (size_t i = 0; i < cs->n; i++)
		if (self_consistent(L, &cs->v[i]))
			cs->v[kept++] = cs->v[i];
	kept = cs->n - kept;
	cs->n -= kept;
	return kept;
}

int arenas_scan(struct pyproc *p, struct heapcopy *hc, struct census *c, struct pc_err *e)
{
	struct cands cs = { 0 };
	uint64_t dropped;

	(void)e;
	for (size_t i = 0; i < p->maps.n; i++)
		if (scannable(&p->maps.v[i]))
			scan_range(p, p->maps.v[i].start, p->maps.v[i].end, &cs, &hc->scan_rejected);
	dropped = drop_copies(&p->L, &cs);
	if (dropped)
		census_warn(c, "scan: %llu pool-like pages whose free list points outside them (copies of pool "
			    "pages held in buffers) were not taken as pools", (unsigned long long)dropped);
	group(p, &cs, hc, c);
	free(cs.v);
	hc->source = "scan";
	return 0;
}
