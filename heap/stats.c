/* stats.c: one stats sample, from stopping the target to the tallied figures. */
#include "common/compat.h"
#include "heap/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attach/stop.h"
#include "common/xalloc.h"
#include "heap/pyproc.h"
#include "heap/snapshot.h"

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

/* While stopped: everything that reads the target. */
static int stats_stopped(struct pyproc *p, struct heapcopy *hc, const struct stats_opts *o, struct stats *st,
			 struct pc_err *e)
{
	if (pyproc_open(p, st->meta.pid, e) < 0)
		return -1;
	st->nthreads = p->nthreads;
	if (arenas_copy(p, o->arenas, hc, &st->meta, e) < 0 || mallocstats_read_counters(p, &st->ms, e) < 0 ||
	    gcstats_collect(p, &st->gc, e) < 0 || procmem_read(p->pid, &st->mem, e) < 0)
		return -1;
	arena_residency(p, hc, st);
	return 0;
}

static void fill_meta(struct stats *st, const struct pyproc *p, const struct heapcopy *hc)
{
	struct census *c = &st->meta;

	snprintf(c->version, sizeof c->version, "%s", p->elf.version);
	snprintf(c->build, sizeof c->build, "%s", p->elf.build);
	snprintf(c->arena_source, sizeof c->arena_source, "%s", hc->source ? hc->source : "none");
	c->narenas = hc->n;
	c->bytes_read = p->mem.stats.remote_bytes;
	c->syscalls = p->mem.stats.syscalls;
	if (hc->n == 0)
		census_warn(c, "no pymalloc arenas found (PYTHONMALLOC=malloc?)");
	if (st->ms.bad_pools)
		census_warn(c, "%llu pools failed validation and were left out (first: %s)",
			    (unsigned long long)st->ms.bad_pools, st->ms.first_bad_pool);
	if (!st->gc.frozen_complete && st->gc.frozen_why)
		census_warn(c, "frozen objects: %s", st->gc.frozen_why);
}

int stats_take(pid_t pid, const struct stats_opts *o, struct stats *st, struct pc_err *e)
{
	struct stopped sd;
	struct pyproc p;
	struct heapcopy hc;
	double t0 = mono_now();
	int rc;

	memset(&p, 0, sizeof p);
	memset(&hc, 0, sizeof hc);
	st->meta.pid = pid;
	if (snapshot_check_process(pid, e) < 0 || stop_all(&sd, pid, e) < 0)
		return -1;
	rc = stats_stopped(&p, &hc, o, st, e);
	stop_release(&sd);
	st->meta.pause_s = sd.pause_s;
	if (rc == 0) {
		mallocstats_tally(&p.L, &hc, &st->ms);
		fill_meta(st, &p, &hc);
	}
	heapcopy_release(&hc);
	pyproc_close(&p);
	st->meta.wall_s = mono_now() - t0;
	if (rc < 0 && snapshot_target_gone(pid)) {
		pc_err_clear(e);
		pc_fail(e, PC_EEXITED, "process %d exited during the sample", (int)pid);
	}
	return rc;
}
