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
};

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
	st->nthreads = p->nthreads;
	if (arenas_copy(p, j->o->arenas, &hc, &st->meta, e) < 0 || mallocstats_read_counters(p, &st->ms, e) < 0 ||
	    mimalloc_classes(p, st, e) < 0 || gcstats_collect(p, &st->gc, e) < 0)
		rc = -1;
	else if (src->img) /* a dump or core: its PID is not the process any more */
		census_warn(&st->meta, "process memory (RSS, resident arenas): unknown for a file (dump or core), which "
			    "holds memory but not which of it was resident");
	else if (procmem_read(p->pid, &st->mem, e) < 0)
		rc = -1;
	else
		arena_residency(p, &hc, st);
	source_resume(src);
	if (rc == 0) {
		mallocstats_tally(&p->L, &hc, &st->ms);
		fill_meta(st, p, &hc);
	}
	heapcopy_release(&hc);
	return rc;
}

int stats_take(struct source *src, const struct stats_opts *o, struct stats *st, struct pc_err *e)
{
	struct stats_job j = { .o = o, .st = st };
	double t0 = mono_now(), paused = source_paused(src);
	int rc;

	st->meta.pid = src->pid;
	rc = source_with_stopped(src, stats_read, &j, e);
	st->meta.pause_s = source_paused(src) - paused;
	st->meta.wall_s = mono_now() - t0;
	if (rc < 0)
		source_blame_exit(src, "during the sample", e);
	return rc;
}
