/* stats.c: one stats sample, from a stopped and located target (source/source.h) to the tallied
 * figures. */
#include "common/compat.h"
#include "stats/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "python/rules.h"
#include "pymalloc/arenawin.h"
#include "census/snapshot.h"

void stats_init(struct stats *st)
{
	memset(st, 0, sizeof *st);
	census_init(&st->meta);
}

void stats_release(struct stats *st)
{
	census_release(&st->meta);
	free(st->mi);
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
	snapshot_process_warnings(c, p);
	snprintf(c->arena_source, sizeof c->arena_source, "%s", st->mi ? "mimalloc" : hc->source ? hc->source : "none");
	c->narenas = hc->n;
	c->bytes_read = p->mem.stats.remote_bytes;
	c->syscalls = p->mem.stats.syscalls;
	if (!st->mi && hc->n == 0)
		census_warn(c, "no pymalloc arenas found (PYTHONMALLOC=malloc?)");
	if (st->ms.bad_pools)
		census_warn(c, "%llu pools failed validation and were left out (first: %s)",
			    (unsigned long long)st->ms.bad_pools, st->ms.first_bad_pool);
	if (!st->gc.frozen_complete && st->gc.frozen_why)
		census_warn(c, "frozen objects: %s", st->gc.frozen_why);
}

/* A free-threaded build: every page of its mimalloc heaps, walked in place (the target stopped),
 * tallied per heap and block size. */
static int mimalloc_classes(struct pyproc *p, struct stats *st, struct pc_err *e)
{
	uint64_t *ts = NULL;
	size_t n;
	int rc;

	if (!py_is_free_threaded(&p->L))
		return 0;
	n = miheap_thread_states(p, &ts);
	st->mi = xcalloc(1, sizeof *st->mi);
	rc = miheap_walk(&p->mem, py_mimalloc(p->L.major, p->L.minor), p->interp, ts, n, NULL, NULL, st->mi, e);
	free(ts);
	if (st->mi->skipped_pages || st->mi->skipped_segments)
		census_warn(&st->meta, "%llu mimalloc pages and %llu segments failed validation and were left out (first: %s)",
			    (unsigned long long)st->mi->skipped_pages, (unsigned long long)st->mi->skipped_segments,
			    st->mi->first_skip);
	return rc;
}

struct stats_job {
	const struct stats_opts *o;
	struct stats *st;
	struct copybuf *buf; /* faulted in before the stop, or NULL */
	uint64_t budget;     /* snapshot_budget() of --max-memory */
	bool from_room;      /* the room left lowered it */
};

/* The arenas copied at once, or over the budget tallied a window at a time while the target
 * stands stopped (the tally reads nothing outside a pool, so no window needs another). */
static int copy_or_tally(struct pyproc *p, const struct stats_job *j, struct heapcopy *hc, struct pc_err *e)
{
	struct stats *st = j->st;

	if (arenas_locate(p, j->o->arenas, hc, &st->meta, e) < 0)
		return -1;
	if (j->budget == SNAPSHOT_UNBOUNDED || heapcopy_planned(hc) + heapcopy_planned(hc) / 8 <= j->budget)
		return heapcopy_fill(p, hc, &st->meta);
	arenawin_begin(p, hc, snapshot_window(j->budget));
	mallocstats_tally_windows(p, hc, &st->ms, &st->meta);
	census_warn(&st->meta, "the arenas (%.1f MiB) are over %s (%.1f MiB): tallied in %u windows of %.1f MiB, the target stopped until the last",
		    (double)hc->planned / 1048576.0, j->from_room ? "half the memory left to pycensus" : "--max-memory",
		    (double)j->budget / 1048576.0, hc->nwindows, (double)hc->window / 1048576.0);
	return 0;
}

/* The copy is as large as the arenas, and the kernel zeroing fresh pages for it was most of the
 * pause (a 1.1 GiB heap: 7.5 s under perf where snap, which faults its buffer in first, paused
 * 0.26 s): the buffer is sized from the arena table read while the target runs and faulted in
 * before the stop, as census/snapshot.c does. Small heaps are not worth the second opening. */
#define PREFAULT_MIN (8u << 20)

static struct copybuf *prefault(struct source *src, const struct stats_opts *o, uint64_t budget, struct copybuf *buf)
{
	struct pc_err ignored = { 0 };
	struct pyproc *p;
	uint64_t total;

	if (!source_stops(src))
		return NULL;
	p = source_locate(src, &ignored); /* read running; stats_read locates anew under its stop */
	if (!p || (total = arenas_estimate(p, o->arenas)) < PREFAULT_MIN)
		return NULL;
	/* over the budget: the window and the one read ahead (pymalloc/arenawin.c) */
	copybuf_reserve(buf, budget != SNAPSHOT_UNBOUNDED && total + total / 8 > budget ? 2 * snapshot_window(budget)
										  : total + total / 8);
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
	if (copy_or_tally(p, j, &hc, e) < 0 || mallocstats_read_counters(p, &st->ms, e) < 0 ||
	    mimalloc_classes(p, st, e) < 0)
		rc = -1;
	source_resume(src);
	/* The rest after the resume, as snap reads them: the GC state walks the frozen generation
	 * (968,000 objects after gc.freeze(), many outside the arenas: 0.2-0.5 s of stats's pause
	 * where snap's was 0.06-0.13 s), and the kernel walks the page tables for smaps_rollup and
	 * pagemap (40 ms on a 1.1 GiB heap); they describe a moment either way. */
	if (rc == 0 && gcstats_collect(p, &st->gc, e) < 0)
		rc = -1;
	else if (rc == 0 && src->img) /* a dump or core: its PID is not the process any more */
		census_warn(&st->meta, "process memory (RSS, resident arenas): unknown for a file (dump or core), which "
			    "holds memory but not which of it was resident");
	else if (rc == 0 && procmem_read(p->pid, &st->mem, e) < 0)
		rc = -1;
	else if (rc == 0)
		arena_residency(p, &hc, st);
	if (rc == 0) {
		if (!hc.streamed)
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
	j.budget = snapshot_budget(o->max_memory, &j.from_room);
	j.buf = prefault(src, o, j.budget, &buf);
	paused = source_paused(src);
	rc = source_with_stopped(src, stats_read, &j, e);
	copybuf_release(&buf);
	st->meta.pause_s = source_paused(src) - paused;
	st->meta.wall_s = mono_now() - t0;
	if (rc < 0)
		source_blame_exit(src, "during the sample", e);
	return rc;
}
