/* stats.c: one stats sample, from a stopped and located target (source/source.h) to the tallied
 * figures. */
#include "common/compat.h"
#include "stats/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "python/rules.h"

void stats_init(struct stats *st)
{
	memset(st, 0, sizeof *st);
	census_init(&st->meta);
}

void stats_release(struct stats *st)
{
	census_release(&st->meta);
	memset(st, 0, sizeof *st);
}

/* Resident bytes of the copied arenas: the copies span every carved pool, and pymalloc never
 * touches an arena beyond its carved pools, so nothing resident is left out. */
static void arena_residency(struct pyproc *p, const struct heapcopy *hc, struct stats *st)
{
	struct procmem_range *r = xcalloc(hc->n + 1, sizeof *r);
	struct pc_err e = { 0 };

	for (size_t i = 0; i < hc->n; i++)
		r[i] = (struct procmem_range){ hc->v[i].addr, hc->v[i].addr + hc->v[i].len };
	st->have_arena_resident = procmem_resident(p->pid, r, hc->n, &st->arena_resident, &st->arena_swapped, &e) == 0;
	if (!st->have_arena_resident)
		census_warn(&st->meta, "arenas' resident bytes unknown: %s", e.detail);
	free(r);
}

static void fill_meta(struct stats *st, const struct pyproc *p, const struct heapcopy *hc)
{
	struct census *c = &st->meta;

	snprintf(c->version, sizeof c->version, "%s", p->elf.version);
	pyproc_describe(p, c->build, sizeof c->build);
	snprintf(c->arena_source, sizeof c->arena_source, "%s", hc->source ? hc->source : "none");
	c->narenas = hc->n;
	c->bytes_read = p->mem.stats.remote_bytes;
	c->syscalls = p->mem.stats.syscalls;
	if (py_is_free_threaded(&p->L))
		census_warn(c, "pymalloc figures: not applicable on a free-threaded build (its objects live in per-thread mimalloc heaps; `pycensus snap` counts them)");
	else if (hc->n == 0)
		census_warn(c, "no pymalloc arenas found (PYTHONMALLOC=malloc?)");
	if (st->ms.bad_pools)
		census_warn(c, "%llu pools failed validation and were left out (first: %s)",
			    (unsigned long long)st->ms.bad_pools, st->ms.first_bad_pool);
	if (!st->gc.frozen_complete && st->gc.frozen_why)
		census_warn(c, "frozen objects: %s", st->gc.frozen_why);
}

struct stats_job {
	const struct stats_opts *o;
	struct stats *st;
	struct copybuf *buf; /* faulted in before the stop, or NULL */
};

/* The copy is as large as the arenas, and the kernel zeroing fresh pages for it was most of the
 * pause (a 1.1 GiB heap: 7.5 s under perf where snap, which faults its buffer in first, paused
 * 0.26 s): the buffer is sized from the arena table read while the target runs and faulted in
 * before the stop, as census/snapshot.c does. Small heaps are not worth the second opening. */
#define PREFAULT_MIN (8u << 20)

static struct copybuf *prefault(struct source *src, const struct stats_opts *o, struct copybuf *buf)
{
	struct pc_err ignored = { 0 };
	struct pyproc *p;
	uint64_t total;

	if (!source_stops(src))
		return NULL;
	p = source_locate(src, &ignored); /* read running; stats_read locates anew under its stop */
	if (!p || (total = arenas_estimate(p, o->arenas)) < PREFAULT_MIN)
		return NULL;
	copybuf_reserve(buf, total + total / 8);
	return buf;
}

/* source_fn: everything that reads the target while it stands stopped; then, resumed, the tally
 * of the copy. A failed attempt's figures and warnings are dropped first. */
static int stats_read(struct source *src, struct pyproc *p, void *arg, struct pc_err *e)
{
	struct stats_job *j = arg;
	struct stats *st = j->st;
	struct heapcopy hc;
	int rc = 0;

	stats_release(st);
	stats_init(st);
	st->meta.pid = src->pid;
	memset(&hc, 0, sizeof hc);
	hc.keep = j->buf;
	st->nthreads = p->nthreads;
	if (arenas_copy(p, j->o->arenas, &hc, &st->meta, e) < 0 || mallocstats_read_counters(p, &st->ms, e) < 0)
		rc = -1;
	source_resume(src);
	/* The rest after the resume, as snap reads them: the GC state walks the frozen generation
	 * (968,000 objects after gc.freeze(), many outside the arenas: 0.2-0.5 s of stats's pause
	 * where snap's was 0.06-0.13 s), and the kernel walks the page tables for smaps_rollup and
	 * pagemap (40 ms on a 1.1 GiB heap); they describe a moment either way. */
	if (rc == 0 && gcstats_collect(p, &st->gc, e) < 0)
		rc = -1;
	else if (rc == 0 && src->img) /* a dump: its PID is not the process any more */
		census_warn(&st->meta, "process memory (RSS, resident arenas): not in the dump, which holds the heap only");
	else if (rc == 0 && procmem_read(p->pid, &st->mem, e) < 0)
		rc = -1;
	else if (rc == 0)
		arena_residency(p, &hc, st);
	if (rc == 0) {
		mallocstats_tally(&p->L, &hc, &st->ms);
		fill_meta(st, p, &hc);
	}
	heapcopy_release(&hc);
	return rc;
}

int stats_take(struct source *src, const struct stats_opts *o, struct stats *st, struct pc_err *e)
{
	struct copybuf buf = { 0 };
	struct stats_job j = { .o = o, .st = st };
	double t0 = mono_now(), paused;
	int rc;

	st->meta.pid = src->pid;
	j.buf = prefault(src, o, &buf);
	paused = source_paused(src);
	rc = source_with_stopped(src, stats_read, &j, e);
	copybuf_release(&buf);
	st->meta.pause_s = source_paused(src) - paused;
	st->meta.wall_s = mono_now() - t0;
	if (rc < 0)
		source_blame_exit(src, "during the sample", e);
	return rc;
}
