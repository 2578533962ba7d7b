/* nonblock.c: consistency of a census read while the target ran. */
#include "common/compat.h"
#include "census/nonblock.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

uint64_t nonblock_changed_pools(struct pyproc *p, const struct heapcopy *hc, size_t from, size_t to)
{
	const struct pylayout *L = &p->L;
	size_t hsz = (size_t)L->off.pool_header_size, n = 0, cap = 0;
	struct mem_req *reqs = NULL;
	const uint8_t **copies = NULL;
	uint8_t *bufs;
	uint64_t changed = 0;

	for (size_t a = from; a < to && a < hc->n; a++) {
		const struct arena_copy *ac = &hc->v[a];
		uint64_t first = (ac->addr + L->pool_size - 1) & ~(L->pool_size - 1);
		if (!ac->data)
			continue; /* not read: its pools were never walked */
		for (uint64_t pa = first; pa + L->pool_size <= ac->addr + ac->len; pa += L->pool_size) {
			xgrow((void **)&reqs, &cap, n + 1, sizeof *reqs);
			reqs[n++] = (struct mem_req){ pa, NULL, hsz, false };
		}
	}
	bufs = xmalloc(n * hsz + 1);
	copies = xcalloc(n + 1, sizeof *copies);
	for (size_t i = 0; i < n; i++) {
		reqs[i].buf = bufs + i * hsz;
		copies[i] = mem_local(&p->mem, reqs[i].addr, hsz);
	}
	mem_readv_fresh(&p->mem, reqs, n);
	for (size_t i = 0; i < n; i++)
		changed += !reqs[i].ok || !copies[i] || memcmp(reqs[i].buf, copies[i], hsz) != 0;
	free(copies);
	free(bufs);
	free(reqs);
	return changed;
}
