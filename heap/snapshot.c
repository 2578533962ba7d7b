/* snapshot.c: one census, from stopping the target to the rows. */
#include "common/compat.h"
#include "heap/snapshot.h"
#include "heap/framerefs.h"

#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include "attach/procfs.h"
#include "attach/procmem.h"
#include "attach/stop.h"
#include "heap/capture.h"
#include "heap/gcstats.h"
#include "heap/nonblock.h"
#include "heap/walk.h"

struct capture_rec {
	struct mem_recorder rec;
	struct pyelf_symcache syms;
};

/* PYCENSUS_TEST_STALL_MS keeps the target stopped that much longer, so tests can make it die
 * in the middle of a census (the kill -9 and exit-during-census tests). */
static void test_stall(void)
{
	const char *s = getenv("PYCENSUS_TEST_STALL_MS");

	if (s)
		usleep((useconds_t)atoi(s) * 1000);
}

bool snapshot_target_gone(pid_t pid)
{
	char st = 0, path[64], buf[256], *p;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return true;
	if (fgets(buf, sizeof buf, f) && (p = strrchr(buf, ')')) && p[1])
		st = p[2];
	fclose(f);
	return st == 'Z' || st == 'X';
}

int snapshot_check_process(pid_t pid, struct pc_err *e)
{
	struct proc_status st;

	if (proc_status_read(pid, &st, e) < 0)
		return -1;
	if (st.state == 'Z' || st.state == 'X')
		return pc_fail(e, PC_ENOPROC, "process %d (%s) is a zombie: it has exited and waits for its parent", (int)pid, st.name);
	if (st.kernel_thread)
		return pc_fail(e, PC_ENOTPYTHON, "process %d (%s) is a kernel thread", (int)pid, st.name);
	return 0;
}

/* --nonblocking: say so, and count what was skipped as inconsistent. */
static void nonblocking_meta(struct census *c, struct pyproc *p, const struct walk *w)
{
	c->nonblocking = true;
	c->skipped_pools = w->bad_pools;
	c->skipped_outside = w->bad_outside;
	c->changed_pools = nonblock_changed_pools(p, &w->hc);
	census_warn(c, "read while the target ran (--nonblocking): skipped %llu pools that failed validation and %llu GC objects outside the arenas that were unreadable or had no valid type; %llu of %llu pool headers changed during the census",
		    (unsigned long long)c->skipped_pools, (unsigned long long)c->skipped_outside,
		    (unsigned long long)c->changed_pools, (unsigned long long)(c->npools + c->nempty_pools + c->skipped_pools));
}

static void fill_meta(struct census *c, const struct pyproc *p, const struct walk *w)
{
	snprintf(c->version, sizeof c->version, "%s", p->elf.version);
	snprintf(c->build, sizeof c->build, "%s", p->elf.build);
	snprintf(c->arena_source, sizeof c->arena_source, "%s", w->hc.source ? w->hc.source : "none");
	c->bytes_read = p->mem.stats.remote_bytes;
	c->syscalls = p->mem.stats.syscalls;
	if (c->debug_blocks)
		census_warn(c, "debug allocator hooks are on (PYTHONMALLOC=debug or -X dev): %llu blocks carry a debug header; objects were read 16 bytes into them",
			    (unsigned long long)c->debug_blocks);
	if (p->gc_collecting)
		census_warn(c, "the target was stopped during a garbage collection: tracked objects outside the arenas that it was examining may be missing");
	if (w->hc.n == 0)
		census_warn(c, "no pymalloc arenas found (PYTHONMALLOC=malloc?): objects were found from the GC lists and "
			    "by following references; objects only C code references are missed");
}

/* The header summary: what the process holds and what its GC is doing at the census. */
static void summarise(struct pyproc *p, const struct walk *w, struct census *c)
{
	struct procmem pm;
	struct gcstats gs;
	struct pc_err e = { 0 };

	c->have_summary = true;
	c->nthreads = p->nthreads;
	c->arena_bytes = (w->hc.table.known ? w->hc.table.narenas : w->hc.n) * p->L.arena_size;
	for (unsigned i = 0; i < c->nclasses && i < PC_ARRAY_LEN(c->classes); i++)
		c->arena_used += c->classes[i].blocks * c->classes[i].block_size;
	if (!c->replayed && procmem_read(p->pid, &pm, &e) == 0) /* a replay's pid is not the target's any more */
		c->rss = pm.vm_rss;
	if (gcstats_collect(p, &gs, &e) < 0) {
		census_warn(c, "GC state unreadable: %s", e.detail);
		return;
	}
	c->gc_ngen = gs.ngenerations;
	for (unsigned g = 0; g < gs.ngenerations; g++)
		c->gc_count[g] = gs.gen[g].count;
	c->gc_enabled = gs.enabled;
}

static void progress(const struct snapshot_opts *o, const char *phase)
{
	if (o->progress)
		o->progress(o->progress_arg, phase);
}

/* What must see the target as one instant: the arenas copied and, for --stacks, the frames of
 * the stopped threads (st, when known). Local copies only from here on. */
static int census_copy(struct pyproc *p, struct walk *w, const struct snapshot_opts *o, const struct stopped *st,
		       struct census *c, struct pc_err *e)
{
	walk_init(w, p, c);
	w->alloc = c->size_alloc = o->size_alloc;
	w->hc.keep = o->keep_copy;
	progress(o, "copying arenas");
	if (arenas_copy(p, o->arenas, &w->hc, c, e) < 0)
		return -1;
	framerefs_collect(w);
	if (o->stacks && st && stacks_collect(p, st, false, o->stacks, e) < 0)
		return -1;
	return 0;
}

/* The walk of the copies, and what lies outside them: GC objects malloc'd outside pymalloc,
 * objects only references lead to, types, keys tables. With --pause=copy the target runs again by
 * now, and these few reads meet it live: what fails validation is skipped and counted. */
static void census_rest(struct pyproc *p, struct walk *w, const struct snapshot_opts *o, struct census *c)
{
	progress(o, "walking objects");
	walk_blocks(w);
	progress(o, "walking the GC lists");
	walk_outside(w);
	progress(o, "following references");
	walk_follow(w);
	progress(o, "deciding dict owners");
	walk_owners(w);
	if (w->alloc)
		walk_footprint_rows(w);
	summarise(p, w, c);
}

/* While stopped: what reads the target as one instant (through thread `tid`); with a capture,
 * recording it. */
static int census_stopped(struct pyproc *p, struct walk *w, const struct snapshot_opts *o, pid_t tid,
			  const struct stopped *st, struct census *c, struct capture_rec *cap, struct pc_err *e)
{
	progress(o, "opening the interpreter");
	if (pyproc_open_recorded(p, tid, cap ? &cap->rec : NULL, cap ? &cap->syms : NULL, e) < 0)
		return -1;
	return census_copy(p, w, o, st, c, e);
}

/* --pause=copy: say what was read after the target resumed, and what of it was skipped. */
static void resumed_meta(struct census *c, const struct walk *w)
{
	c->resumed_after_copy = true;
	c->skipped_outside = w->bad_outside;
	if (w->bad_outside)
		census_warn(c, "%llu GC objects outside the arenas were unreadable or had no valid type when read after the target resumed, and were skipped (--pause=census reads them stopped)",
			    (unsigned long long)w->bad_outside);
}

/* Opening validates structures the target's threads rewrite all the time: the thread list
 * (threads start and exit), the GC lists (a collection reuses _gc_prev for reference counts).
 * A stop that lands in the middle of such an update looks like a layout mismatch; the target is
 * resumed for a moment and stopped again before pycensus believes it (measured: the soak test's
 * stripped 3.11 target failed 1 census in 30 this way without the retry). */
#define OPEN_ATTEMPTS 4

static int census_attempt(pid_t pid, const struct snapshot_opts *o, struct census *c, struct pyproc *p,
			  struct walk *w, struct capture_rec *cap, struct pc_err *e)
{
	struct stopped st;
	int rc;

	if (o->nonblocking) {
		rc = census_stopped(p, w, o, pid, NULL, c, cap, e);
		if (rc == 0) {
			census_rest(p, w, o, c);
			nonblocking_meta(c, p, w);
		}
		return rc;
	}
	progress(o, "stopping the process");
	if (stop_all(&st, pid, e) < 0)
		return -1;
	test_stall();
	rc = census_stopped(p, w, o, pid, &st, c, cap, e);
	if (rc == 0 && o->pause == PAUSE_CENSUS)
		census_rest(p, w, o, c);
	stop_release(&st);
	c->pause_s += st.pause_s;
	if (rc == 0 && o->pause == PAUSE_COPY) {
		census_rest(p, w, o, c);
		resumed_meta(c, w);
	}
	return rc;
}

/* After the census: metadata, the image when capturing, and what the walk holds released. */
static int census_finish(struct pyproc *p, struct walk *w, struct census *c, struct capture_rec *cap,
			 const char *capture, int rc, struct pc_err *e)
{
	if (rc == 0)
		fill_meta(c, p, w);
	if (rc == 0 && capture)
		rc = image_save(capture, p, &cap->rec, &cap->syms, e);
	if (w->p)
		walk_release(w);
	pyproc_close(p);
	if (cap) {
		record_release(&cap->rec);
		pyelf_symcache_release(&cap->syms);
	}
	return rc;
}

int snapshot_take_stopped(pid_t pid, const struct snapshot_opts *o, struct census *c, struct pc_err *e)
{
	struct pyproc p;
	struct walk w;
	double t0 = mono_now();
	int rc;

	memset(&p, 0, sizeof p);
	memset(&w, 0, sizeof w);
	if (!c->pid)
		c->pid = pid;
	rc = census_stopped(&p, &w, o, pid, NULL, c, NULL, e);
	if (rc == 0 && o->pause == PAUSE_COPY && o->resume) {
		o->resume(o->resume_arg);
		census_rest(&p, &w, o, c);
		resumed_meta(c, &w);
	} else if (rc == 0) {
		census_rest(&p, &w, o, c);
	}
	rc = census_finish(&p, &w, c, NULL, NULL, rc, e);
	c->wall_s = mono_now() - t0;
	progress(o, NULL);
	return rc;
}

/* Throws away a failed attempt so the next one starts clean. */
static void attempt_reset(pid_t pid, struct census *c, struct pyproc *p, struct walk *w, struct capture_rec *cap,
			  struct pc_err *e)
{
	if (w->p)
		walk_release(w);
	memset(w, 0, sizeof *w);
	pyproc_close(p);
	record_release(&cap->rec);
	pyelf_symcache_release(&cap->syms);
	record_init(&cap->rec);
	census_release(c);
	census_init(c);
	c->pid = pid;
	pc_err_clear(e);
}

/* A census without a kept buffer copies into fresh memory, and the kernel zeroing it would be
 * most of the pause: the buffer is sized from the arena table read while the target runs, and
 * faulted in before the stop. Small heaps are not worth the second opening. */
#define FRESH_COPY_MIN (8u << 20)

static void prepare_fresh_copy(pid_t pid, const struct snapshot_opts *o, struct copybuf *k)
{
	struct pyproc p;
	struct pc_err e = { 0 };
	uint64_t total;

	if (snapshot_check_process(pid, &e) < 0)
		return; /* refused again, with its message, by the census itself */
	progress(o, "preparing the copy");
	memset(&p, 0, sizeof p);
	if (pyproc_open(&p, pid, &e) == 0 && (total = arenas_estimate(&p, o->arenas)) >= FRESH_COPY_MIN)
		copybuf_reserve(k, total + total / 8);
	pyproc_close(&p);
}

/* snapshot_take, the copy going to o->keep_copy when set. */
static int snapshot_take_kept(pid_t pid, const struct snapshot_opts *o, struct census *c, struct pc_err *e)
{
	struct pyproc p;
	struct walk w;
	struct capture_rec cap;
	double t0 = mono_now();
	int rc;

	memset(&p, 0, sizeof p);
	memset(&w, 0, sizeof w);
	record_init(&cap.rec);
	memset(&cap.syms, 0, sizeof cap.syms);
	c->pid = pid;
	if (snapshot_check_process(pid, e) < 0)
		return -1;
	if (o->keep_copy && !o->nonblocking)
		copybuf_prepare(o->keep_copy, pid);
	for (int attempt = 1;; attempt++) {
		rc = census_attempt(pid, o, c, &p, &w, o->capture ? &cap : NULL, e);
		if (rc == 0 || e->code != PC_ELAYOUT || attempt == OPEN_ATTEMPTS || snapshot_target_gone(pid))
			break;
		attempt_reset(pid, c, &p, &w, &cap, e);
		usleep(5000u * (unsigned)attempt); /* let the thread that was mid-update finish it */
	}
	rc = census_finish(&p, &w, c, &cap, o->capture, rc, e);
	c->wall_s = mono_now() - t0;
	progress(o, NULL);
	/* Whatever failed, a target that died under us is the cause to report. */
	if (rc < 0 && e->code != PC_EOUTPUT && snapshot_target_gone(pid)) {
		pc_err_clear(e);
		pc_fail(e, PC_EEXITED, "process %d exited during the census", (int)pid);
	}
	return rc;
}

int snapshot_take(pid_t pid, const struct snapshot_opts *o, struct census *c, struct pc_err *e)
{
	struct copybuf fresh = { 0 };
	struct snapshot_opts with_fresh;
	double t0 = mono_now();
	int rc;

	if (o->keep_copy || o->nonblocking)
		return snapshot_take_kept(pid, o, c, e);
	prepare_fresh_copy(pid, o, &fresh);
	with_fresh = *o;
	with_fresh.keep_copy = &fresh;
	rc = snapshot_take_kept(pid, &with_fresh, c, e);
	c->wall_s = mono_now() - t0; /* the preparation included */
	copybuf_release(&fresh);
	return rc;
}

int snapshot_replay(const struct pyimage *img, const struct snapshot_opts *o, struct census *c, struct pc_err *e)
{
	struct pyproc p;
	struct walk w;
	double t0 = mono_now();
	int rc;

	memset(&w, 0, sizeof w);
	c->pid = (pid_t)img->pid;
	c->replayed = true;
	rc = pyproc_open_image(&p, img, e);
	if (rc == 0) {
		rc = census_copy(&p, &w, o, NULL, c, e);
		if (rc == 0)
			census_rest(&p, &w, o, c);
		rc = census_finish(&p, &w, c, NULL, NULL, rc, e);
	}
	c->wall_s = mono_now() - t0;
	return rc;
}
