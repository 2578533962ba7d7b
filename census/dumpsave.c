/* dumpsave.c: a census's reads written as a heap dump (census/dumpsave.h). */
#include "common/compat.h"
#include "census/dumpsave.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include "common/xalloc.h"
#include "pymalloc/pool.h"
#include "census/walk.h"

struct mask_job {
	const struct pylayout *L;
	const struct heapcopy *hc;
	uint64_t zeroed;
};

/* heapcopy_pool_fn: a pool that validates keeps its header, its allocated blocks and the link
 * word of each free block (pool_inspect follows the free list, so a replay must find it); the
 * rest of its free blocks and its uncarved tail hold stale bytes no census reads, and become
 * zeros. A pool that fails validation, or one caught mid-allocation, is kept as it is. */
static void mask_pool(void *ctx, size_t arena, const uint8_t *pool, uint64_t addr)
{
	struct mask_job *j = ctx;
	const struct pylayout *L = j->L;
	/* the census's own copy (hc->buf): writable, it was read into it */
	uint8_t *w = j->hc->v[arena].data + (pool - j->hc->v[arena].data);
	uint64_t hdr = L->off.pool_header_size, end;
	struct pool_info pi;
	const char *why;

	(void)addr;
	if (!pool_inspect(L, pool, addr, &pi, &why) || pi.in_flux || pi.block_size < 8)
		return;
	for (unsigned i = 0; i < pi.carved; i++) {
		uint64_t off = hdr + (uint64_t)i * pi.block_size;
		if ((pi.freemap[i / 64] >> (i % 64)) & 1) {
			memset(w + off + 8, 0, pi.block_size - 8);
			j->zeroed += pi.block_size - 8;
		}
	}
	end = hdr + (uint64_t)pi.carved * pi.block_size;
	if (end < L->pool_size) {
		memset(w + end, 0, L->pool_size - end);
		j->zeroed += L->pool_size - end;
	}
}

static void fill_meta(struct dump_meta *m, struct source *src, const struct walk *w, const char *writer)
{
	const struct pyproc *p = w->p;
	const struct census *c = w->c;
	struct utsname u;
	const char *bid = p->elf.elf ? elf_build_id(p->elf.elf) : "";

	memset(m, 0, sizeof *m);
	m->pid = (uint32_t)src->pid;
	/* the wall clock when the (last) stop began */
	m->taken = (int64_t)time(NULL) - (int64_t)(mono_now() - src->stopped_at);
	m->pause_s = source_paused(src);
	m->rss = c->rss;
	if (uname(&u) == 0) {
		snprintf(m->host, sizeof m->host, "%s", u.nodename);
		snprintf(m->arch, sizeof m->arch, "%.15s", u.machine);
	}
	snprintf(m->writer, sizeof m->writer, "%s", writer ? writer : "pycensus");
	snprintf(m->build_id, sizeof m->build_id, "%s", bid ? bid : "");
	snprintf(m->python, sizeof m->python, "%.255s", p->elf.maps_path);
	snprintf(m->pause, sizeof m->pause, "%s", c->resumed_after_copy ? "copy" : "census");
	if (w->fo.image_lo < w->fo.image_hi) {
		m->span_lo = w->fo.image_lo;
		m->span_hi = w->fo.image_hi;
	}
}

void walk_dump_window(struct walk *w, size_t from, size_t to)
{
	const struct pylayout *L = &w->p->L;
	struct mask_job j = { L, &w->hc, 0 };

	for (size_t a = from; a < to; a++) {
		const struct arena_copy *ac = &w->hc.v[a];
		uint64_t first = (ac->addr + L->pool_size - 1) & ~(L->pool_size - 1);
		if (!ac->data)
			continue;
		for (uint64_t pa = first; pa + L->pool_size <= ac->addr + ac->len; pa += L->pool_size)
			mask_pool(&j, a, ac->data + (pa - ac->addr), pa);
		dump_stream_arena(w->ds, ac->addr, ac->data, ac->len);
	}
}

int census_save_dump(struct source *src, struct walk *w, struct census_dump *d, struct pc_err *e)
{
	struct mask_job j = { &w->p->L, &w->hc, 0 };
	size_t n = w->hc.n + w->mc.n;
	struct mem_region *copies = xcalloc(n + 1, sizeof *copies);
	int rc;

	for (size_t s = 0; s < w->types.n; s++)
		typetab_read_member_names(&w->types, w->p, s);
	if (!w->hc.streamed)
		heapcopy_each_pool(&w->p->L, &w->hc, mask_pool, &j);
	for (size_t i = 0; i < w->hc.n; i++)
		copies[i] = (struct mem_region){ w->hc.v[i].addr, w->hc.v[i].len, w->hc.v[i].data };
	/* a free-threaded build's copied mimalloc pages: the reads that made them were not recorded */
	for (size_t i = 0; i < w->mc.n; i++)
		copies[w->hc.n + i] = (struct mem_region){ w->mc.v[i].addr, w->mc.v[i].len, w->mc.v[i].data };
	fill_meta(&d->meta, src, w, d->writer);
	if (w->ds) {
		rc = source_close_dump_stream(src, w->ds, &d->meta, copies, n, d->progress, d->progress_arg,
					      &d->out, e);
		w->ds = NULL;
	} else {
		rc = source_save_dump(src, d->path, &d->meta, copies, n, d->level, d->progress, d->progress_arg,
				      &d->out, e);
	}
	free(copies);
	return rc;
}
