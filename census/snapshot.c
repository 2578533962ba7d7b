/* snapshot.c: one census, from a stopped and located target (source/source.h) to the rows. */
#include "common/compat.h"
#include "census/snapshot.h"
#include "attach/memroom.h"
#include "census/framerefs.h"
#include "pymalloc/arenawin.h"
#include "pymalloc/micopy.h"

#include <stdio.h>
#include <string.h>
#include "attach/procmem.h"
#include "objects/gcstats.h"
#include "census/nonblock.h"
#include "census/walk.h"

/* --nonblocking: say so, and count what was skipped as inconsistent. */
static void nonblocking_meta(struct census *c, struct pyproc *p, const struct walk *w)
{
	c->nonblocking = true;
	c->skipped_pools = w->bad_pools;
	c->skipped_outside = w->bad_outside;
	c->changed_pools = w->hc.streamed ? w->changed_pools : nonblock_changed_pools(p, &w->hc, 0, w->hc.n);
	census_warn(c, "read while the target ran (--nonblocking): skipped %llu pools that failed validation and %llu GC objects outside the arenas that were unreadable or had no valid type; %llu of %llu pool headers changed during the census",
		    (unsigned long long)c->skipped_pools, (unsigned long long)c->skipped_outside,
		    (unsigned long long)c->changed_pools, (unsigned long long)(c->npools + c->nempty_pools + c->skipped_pools));
}

void snapshot_process_warnings(struct census *c, const struct pyproc *p)
{
	char newer[320];

	if (pyproc_newer_warning(p, newer, sizeof newer))
		census_warn(c, "%s", newer);
	for (unsigned i = 0; pyproc_note(p, i); i++)
		census_warn(c, "%s", pyproc_note(p, i));
}

static void fill_meta(struct census *c, const struct pyproc *p, const struct walk *w)
{
	snprintf(c->version, sizeof c->version, "%s", p->elf.version);
	pyproc_describe(p, c->build, sizeof c->build);
	snapshot_process_warnings(c, p);
	snprintf(c->arena_source, sizeof c->arena_source, "%s", w->hc.source ? w->hc.source : "none");
	c->bytes_read = p->mem.stats.remote_bytes;
	c->syscalls = p->mem.stats.syscalls;
	if (c->debug_blocks)
		census_warn(c, "debug allocator hooks are on (PYTHONMALLOC=debug or -X dev): %llu blocks carry a debug header; objects were read 16 bytes into them",
			    (unsigned long long)c->debug_blocks);
	if (p->gc_collecting)
		census_warn(c, "the target was stopped during a garbage collection: tracked objects outside the arenas that it was examining may be missing");
	if (w->hc.n == 0 && !py_is_free_threaded(&p->L))
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
	for (unsigned g = 0; g < gs.ngenerations; g++) {
		c->gc_count[g] = gs.gen[g].count;
		c->gc_collections[g] = gs.gen[g].collections;
	}
	c->gc_enabled = gs.enabled;
}

static void progress(const struct snapshot_opts *o, const char *phase)
{
	if (o->progress)
		o->progress(o->progress_arg, phase);
}

static bool may_stream(const struct snapshot_opts *o)
{
	return !o->capture && o->max_memory != SNAPSHOT_UNBOUNDED;
}

static uint64_t budget_of(const struct snapshot_opts *o)
{
	return o->max_memory ? o->max_memory : SNAPSHOT_MAX_MEMORY;
}

/* Whether a copy of `arenas` bytes goes over the budget (with the eighth the buffer adds). */
static bool over_budget(const struct snapshot_opts *o, uint64_t arenas)
{
	return may_stream(o) && arenas + arenas / 8 > budget_of(o);
}

static uint64_t window_of(const struct snapshot_opts *o)
{
	return snapshot_window(budget_of(o));
}

/* One copy of every arena, or over the budget a stream of windows (walked in census_walk). */
static int copy_arenas(struct pyproc *p, struct walk *w, const struct snapshot_opts *o, struct census *c,
		       struct pc_err *e)
{
	if (arenas_locate(p, o->arenas, &w->hc, c, e) < 0)
		return -1;
	if (!over_budget(o, heapcopy_planned(&w->hc)))
		return heapcopy_fill(p, &w->hc, c);
	/* a dump streams too: each window goes into the file before it is let go */
	if (o->dump && !(w->ds = dump_stream_open(o->dump->path, o->dump->level, e)))
		return -1;
	arenawin_begin(p, &w->hc, window_of(o));
	return 0;
}

/* A free-threaded build: the heaps' segments gathered and their in-use pages copied, as the
 * arenas are, unless the copy would go over the budget: the walk then reads the pages in place,
 * with the target stopped, and --pause copy of a stopped target says so. */
static void copy_miheap(struct pyproc *p, struct walk *w, const struct snapshot_opts *o, bool stops, struct census *c)
{
	uint64_t planned = walk_miheap_gather(w, true);
	struct copybuf *keep = w->mc.keep;

	if (!over_budget(o, planned)) {
		heapcopy_fill(p, &w->mc, c);
		w->mi_copied = true;
		return;
	}
	heapcopy_release(&w->mc);
	w->mc.keep = keep;
	if (o->pause == PAUSE_COPY && stops)
		census_warn(c, "free-threaded build: the mimalloc pages in use (%.1f MiB) are over %s (%.1f MiB): the census ran "
			    "with the target stopped (as --pause=census), reading them in place (a larger --max-memory copies them, for a shorter pause)",
			    (double)planned / 1048576.0, o->budget_from_room ? "half the memory left to pycensus" : "--max-memory",
			    (double)budget_of(o) / 1048576.0);
}

/* What must see the target as one instant: the arenas (or mimalloc's pages) copied and, for
 * --stacks, the frames of the stopped threads (st, when known; stops: the source stopped the
 * target). Local copies only from here on. */
static int census_copy(struct pyproc *p, struct walk *w, const struct snapshot_opts *o, const struct stopped *st,
		       bool stops, struct census *c, struct pc_err *e)
{
	walk_init(w, p, c);
	walk_room_init(w);
	if (may_stream(o))
		w->fo.round_bytes = snapshot_window(budget_of(o));
	w->fo.keep = o->hold_copy != NULL;
	w->dump_values = o->dump != NULL;
	walk_graph_init(w, o->graph, o->graph_limit);
	if (o->graph && o->inspect) {
		w->is = o->inspect;
		inspect_scan_clear(w->is);
	}
	w->alloc = c->size_alloc = o->size_alloc;
	w->hc.keep = w->mc.keep = o->keep_copy;
	if (o->size_alloc && py_is_free_threaded(&p->L))
		return pc_fail(e, PC_EUNSUPPORTED, "--size=alloc on a free-threaded build of CPython %s: footprints are "
			       "pymalloc's and malloc's, not mimalloc's; use --size=getsizeof (the default)", p->elf.version);
	progress(o, "copying arenas");
	if (py_is_free_threaded(&p->L))
		copy_miheap(p, w, o, stops, c);
	else if (copy_arenas(p, w, o, c, e) < 0)
		return -1;
	framerefs_collect(w);
	if (o->stacks && st && stacks_collect(p, st, false, o->stacks, e) < 0)
		return -1;
	return 0;
}

/* The walk of the copies, and what lies outside them: GC objects malloc'd outside pymalloc,
 * objects only references lead to, types, keys tables. With --pause=copy the target runs again by
 * now, and these few reads meet it live: what fails validation is skipped and counted. */
static void census_arenas(struct pyproc *p, struct walk *w, const struct snapshot_opts *o)
{
	progress(o, w->hc.streamed ? "walking objects, a window of arenas at a time" : "walking objects");
	if (py_is_free_threaded(&p->L))
		walk_miheap(w);
	else
		walk_blocks(w);
}

static void census_rest(struct pyproc *p, struct walk *w, const struct snapshot_opts *o, struct census *c)
{
	/* the arenas' objects are most of the graph's nodes and references: resolved on another core
	 * while the rest is walked, where the copy of the heap stays until the graph is built anyway */
	w->gahead = o->hold_copy != NULL;
	walk_graph_ahead(w);
	progress(o, "walking the GC lists");
	walk_outside(w);
	walk_graph_ahead(w);
	progress(o, "following references");
	walk_follow(w);
	progress(o, "deciding dict owners");
	walk_discount_buffer_holders(w);
	walk_owners(w);
	walk_graph_finish(w);
	if (w->alloc)
		walk_footprint_rows(w);
	else
		walk_buffer_warnings(w);
	if (w->changed)
		census_warn(c, "%llu objects changed between the read of their type and the read of their fields (freed or reused while the target ran%s) and were skipped",
			    (unsigned long long)w->changed, o->pause == PAUSE_COPY ? "; --pause census reads them stopped" : "");
	summarise(p, w, c);
}

/* --pause=copy: say what was read after the target resumed, and what of it was skipped. Streamed
 * arenas were among it: their pools are validated and re-read as --nonblocking does. */
static void resumed_meta(struct census *c, const struct walk *w)
{
	c->resumed_after_copy = true;
	c->skipped_outside = w->bad_outside;
	if (w->bad_outside)
		census_warn(c, "%llu GC objects outside the arenas were unreadable or had no valid type when read after the target resumed, and were skipped (--pause=census reads them stopped)",
			    (unsigned long long)w->bad_outside);
	if (!w->live)
		return;
	c->skipped_pools = w->bad_pools;
	c->changed_pools = w->changed_pools;
	census_warn(c, "the arenas were streamed after the target resumed: %llu of %llu pool headers changed meanwhile (their blocks were read as they were; %llu pools failed validation and were skipped; --pause=census keeps the target stopped for a census of one instant)",
		    (unsigned long long)c->changed_pools, (unsigned long long)(c->npools + c->nempty_pools + c->skipped_pools),
		    (unsigned long long)c->skipped_pools);
}

static double mib(uint64_t n)
{
	return (double)n / 1048576.0;
}

/* A streamed census says so, and when its arenas were read. */
static void stream_note(struct census *c, const struct walk *w, const struct snapshot_opts *o)
{
	const struct heapcopy *hc = &w->hc;

	c->stream_windows = hc->nwindows;
	census_warn(c, "the arenas (%.1f MiB) are over %s (%.1f MiB): read in %u windows of %.1f MiB%s%s",
		    mib(hc->planned), o->budget_from_room ? "half the memory left to pycensus" : "--max-memory",
		    mib(budget_of(o)), hc->nwindows, mib(hc->window),
		    w->live ? " as the target ran" : ", the target stopped until the last was walked",
		    w->live ? "" : w->ds ? " (a dump holds one instant)" : o->pause == PAUSE_CENSUS ? " (--pause census)" : "");
}

/* Over the budget, --pause copy lets the target run while the windows are read and walked: the
 * pause is the interpreter's state and the arena table, not the heap. A dump streams its windows
 * stopped, as a file analysed later must hold one instant. */
static bool streams_live(const struct source *src, const struct walk *w, const struct snapshot_opts *o)
{
	return w->hc.streamed && (w->live || (o->pause == PAUSE_COPY && !w->ds && source_stops(src)));
}

/* The walk, with the target stopped as long as the pause mode asks. A streamed census stopped
 * walks the arenas before the target resumes: what lies outside the held window is read from the
 * target. */
static void census_walk(struct source *src, struct pyproc *p, struct walk *w, const struct snapshot_opts *o,
			struct census *c)
{
	bool live = streams_live(src, w, o), early = w->hc.streamed && !live;

	if (early)
		census_arenas(p, w, o);
	mem_held_expire(&p->mem); /* until the target resumes: in both branches, before it does */
	if (o->pause == PAUSE_COPY && (!py_is_free_threaded(&p->L) || w->mi_copied) && source_resume(src)) {
		w->live = live;
		w->resumed = true;
		if (!early)
			census_arenas(p, w, o);
		census_rest(p, w, o, c);
		resumed_meta(c, w);
	} else {
		if (!early)
			census_arenas(p, w, o);
		census_rest(p, w, o, c);
		source_resume(src);
	}
	if (w->hc.streamed)
		stream_note(c, w, o);
}

struct census_job {
	const struct snapshot_opts *o;
	struct census *c;
	unsigned calls;
};

/* A failed attempt's census (its warnings, its stacks) is not this one's. */
static void census_restart(struct census_job *j, const struct source *src)
{
	census_release(j->c);
	census_init(j->c);
	j->c->pid = src->pid;
	j->c->replayed = src->img != NULL;
	if (j->o->stacks) {
		stacks_release(j->o->stacks);
		stacks_init(j->o->stacks);
	}
}

/* The census stopped counting when its own memory passed the room it had (census/room.c). */
static int out_of_room(const struct walk *w, pid_t pid, struct pc_err *e)
{
	return pc_fail(e, PC_ENOMEMORY, "the census of %d stopped after %llu objects: pycensus had taken %.1f MiB, all that %s "
		       "left it (what it keeps per object grows with the heap; --max-memory bounds only the copy of the arenas)",
		       (int)pid, (unsigned long long)w->room.objects, mib(w->room.rss), w->room.where);
}

/* source_fn: one attempt, with the target stopped and located. The copy (and, for --stacks, the
 * frames) while it stands stopped; the walk of the copies after it resumes with --pause=copy,
 * before with --pause=census; a held, never-stopped or replayed target reads on as it is. */
static int census_attempt(struct source *src, struct pyproc *p, void *arg, struct pc_err *e)
{
	struct census_job *j = arg;
	const struct snapshot_opts *o = j->o;
	struct walk w;
	int rc;

	if (j->calls++)
		census_restart(j, src);
	if ((src->flags & SOURCE_NONBLOCKING) && py_is_free_threaded(&p->L))
		return pc_fail(e, PC_EUNSUPPORTED, "--nonblocking on a free-threaded build of CPython %s: its mimalloc "
			       "heaps are walked in place, which needs the target stopped; leave --nonblocking out", p->elf.version);
	memset(&w, 0, sizeof w);
	rc = census_copy(p, &w, o, source_threads(src), source_stops(src), j->c, e);
	if (rc == 0) {
		w.live = (src->flags & SOURCE_NONBLOCKING) != 0;
		census_walk(src, p, &w, o, j->c);
		if (w.room.out)
			rc = out_of_room(&w, src->pid, e);
	}
	if (rc == 0) {
		if (src->flags & SOURCE_NONBLOCKING)
			nonblocking_meta(j->c, p, &w);
		fill_meta(j->c, p, &w);
		census_warn_dropped(j->c);
		if (o->capture)
			rc = source_save_image(src, o->capture, e);
		if (o->dump && rc == 0) {
			progress(o, "writing the dump");
			rc = census_save_dump(src, &w, o->dump, e);
		}
	}
	if (w.p && rc == 0 && o->hold_copy && o->keep_copy) {
		copybuf_adopt(o->keep_copy, w.outside_regs, w.noutside_regs, w.outside_bufs, w.noutside_bufs);
		copybuf_adopt(o->keep_copy, w.fo.kept, w.fo.nkept, w.fo.kept_bufs, w.fo.nkept_bufs);
		w.noutside_bufs = w.fo.nkept_bufs = 0;
	}
	if (w.p)
		walk_release(&w);
	return rc;
}

/* A census without a kept buffer copies into fresh memory, and the kernel zeroing it would be
 * most of the pause: the buffer is sized from the arena table read while the target runs, and
 * faulted in before the stop. Small heaps are not worth the second opening. */
#define FRESH_COPY_MIN (8u << 20)

/* The copy must fit in the memory pycensus may still take: otherwise the OOM killer ends it (or
 * the target) mid-census with no word said. Checked while the target runs, before any stop. */
static int copy_fits(uint64_t need, pid_t pid, struct pc_err *e)
{
	struct memroom m;
	char have[24], want[24];

	memroom_read("", &m);
	if (need <= m.bytes)
		return 0;
	snprintf(want, sizeof want, "%.1f MiB", (double)need / 1048576.0);
	snprintf(have, sizeof have, "%.1f MiB", (double)m.bytes / 1048576.0);
	if (m.cgroup_room < m.available)
		return pc_fail(e, PC_ENOMEMORY, "the census of %d copies about %s of arenas, and the memory cgroup %s pycensus runs in "
			       "has %s left under its limit", (int)pid, want, m.cgroup, have);
	return pc_fail(e, PC_ENOMEMORY, "the census of %d copies about %s of arenas, and this machine has %s available (MemAvailable)",
		       (int)pid, want, have);
}

/* The object graph cannot stream: it must fit whole (graph_peak_bytes) under --max-memory when
 * that is given, and in any case in the memory pycensus may still take. */
static void set_graph_limit(struct snapshot_opts *o)
{
	struct memroom m;
	bool given;

	memroom_read("", &m);
	given = o->max_memory && o->max_memory != SNAPSHOT_UNBOUNDED && o->max_memory < m.bytes;
	o->graph_limit = given ? o->max_memory : m.bytes == UINT64_MAX ? 0 : m.bytes; /* 0: neither known, no limit */
	o->graph_limit_name = given ? "--max-memory" : "the memory pycensus may still take (MemAvailable, or the room under its memory cgroup's limit)";
	/* what is held already is out of MemAvailable, but not out of --max-memory */
	if (given && o->graph_held) {
		o->graph_limit = o->graph_held < o->graph_limit ? o->graph_limit - o->graph_held : 1;
		o->graph_limit_name = "--max-memory less what the first census holds (8 bytes per object)";
	}
}

#define GRAPH_FIX "raise --max-memory (it bounds the copy of the arenas and, apart, the object graph) or free memory"

/* Before any stop: a heap whose arenas hold more objects than the limit can take as graph nodes
 * (at least one per 512 bytes, pymalloc's largest block) is refused at once. */
static int graph_fits(const struct snapshot_opts *o, uint64_t arenas, pid_t pid, struct pc_err *e)
{
	uint64_t least = arenas / 512, need = graph_peak_bytes(least, 0, 0);

	if (!o->graph || !o->graph_limit || need <= o->graph_limit)
		return 0;
	return pc_fail(e, PC_ENOMEMORY, "the object graph of %d needs at least %.1f MiB (its %.1f MiB of arenas hold at least "
		       "%llu objects, %u bytes each at the graph's peak), over %s (%.1f MiB): " GRAPH_FIX, (int)pid, mib(need),
		       mib(arenas), (unsigned long long)least, GRAPH_PEAK_NODE, o->graph_limit_name, mib(o->graph_limit));
}

/* After the census (the target runs again): a graph that reached the limit while the walk recorded
 * it is not built. */
static int graph_recorded(const struct snapshot_opts *o, pid_t pid, struct pc_err *e)
{
	const struct graph_builder *b = o->graph->pending;

	if (!b || !b->over)
		return 0;
	return pc_fail(e, PC_ENOMEMORY, "the object graph of %d needs more than %s (%.1f MiB): the census had found %llu objects "
		       "and %llu references when it got there (the graph takes %u bytes per object and %u per reference at its peak): " GRAPH_FIX,
		       (int)pid, o->graph_limit_name, mib(o->graph_limit), (unsigned long long)b->n,
		       (unsigned long long)(b->nrefs + b->nedges), GRAPH_PEAK_NODE, GRAPH_PEAK_REF);
}

static void fit_budget(struct snapshot_opts *o)
{
	o->max_memory = snapshot_budget(o->max_memory, &o->budget_from_room);
}

static int prepare_fresh_copy(struct source *src, const struct snapshot_opts *o, struct copybuf *k, struct pc_err *e)
{
	struct pc_err ignored = { 0 };
	struct pyproc *p;
	uint64_t total;

	progress(o, "preparing the copy");
	p = source_locate(src, &ignored); /* read running; the census locates anew under its stop */
	if (!p)
		return 0;
	total = py_is_free_threaded(&p->L) ? micopy_estimate(p) : arenas_estimate(p, o->arenas);
	if (graph_fits(o, total, src->pid, e) < 0)
		return -1;
	if (total < FRESH_COPY_MIN)
		return 0;
	if (over_budget(o, total)) {
		/* the window and the one read ahead (arenawin.c); mimalloc's pages are then read in place */
		if (!py_is_free_threaded(&p->L))
			copybuf_reserve(k, 2 * window_of(o));
		return 0;
	}
	if (copy_fits(total + total / 8, src->pid, e) < 0)
		return -1;
	copybuf_reserve(k, total + total / 8);
	return 0;
}

/* A quarter of the budget: the rest is for the chunks read around the window (32 MiB at most)
 * and what the census keeps per object. Past 64 MiB a larger window saves few reads. */
uint64_t snapshot_window(uint64_t budget)
{
	uint64_t w = budget / 4;

	return w < ARENAWIN_MIN ? ARENAWIN_MIN : w > (64u << 20) ? (64u << 20) : w;
}

/* Lowered to half the memory pycensus may still take (MemAvailable, the memory cgroup's limit
 * less its usage): the other half is for what the census keeps per object. A container with
 * little room gets a streamed census rather than the OOM killer. */
uint64_t snapshot_budget(uint64_t max_memory, bool *from_room)
{
	struct memroom m;
	uint64_t b = max_memory ? max_memory : SNAPSHOT_MAX_MEMORY;

	*from_room = false;
	if (b == SNAPSHOT_UNBOUNDED)
		return b;
	memroom_read("", &m);
	if (m.bytes / 2 < b) {
		b = m.bytes / 2 > (4u << 20) ? m.bytes / 2 : (4u << 20);
		*from_room = true;
	}
	return b;
}

int snapshot_take(struct source *src, const struct snapshot_opts *o, struct census *c, struct pc_err *e)
{
	struct census_job j = { .o = o, .c = c };
	struct snapshot_opts with_fresh = *o;
	struct copybuf fresh = { 0 };
	double t0 = mono_now(), paused = source_paused(src);
	int rc;

	c->pid = src->pid;
	c->replayed = src->img != NULL;
	if (o->graph)
		set_graph_limit(&with_fresh);
	if (may_stream(o) && source_stops(src))
		fit_budget(&with_fresh);
	j.o = &with_fresh;
	if (o->keep_copy && source_stops(src))
		copybuf_prepare(o->keep_copy, src->pid);
	if (!o->keep_copy && source_stops(src)) {
		if (prepare_fresh_copy(src, &with_fresh, &fresh, e) < 0) {
			progress(o, NULL);
			return -1;
		}
		with_fresh.keep_copy = &fresh;
	}
	if (o->capture)
		source_record(src);
	if (o->dump)
		source_record_dump(src);
	src->progress = o->progress;
	src->progress_arg = o->progress_arg;
	rc = source_with_stopped(src, census_attempt, &j, e);
	c->pause_s = source_paused(src) - paused;
	c->wall_s = mono_now() - t0;
	if (o->hold_copy && rc == 0 && !o->keep_copy)
		*o->hold_copy = fresh;
	else
		copybuf_release(&fresh);
	if (rc == 0 && o->graph)
		rc = graph_recorded(&with_fresh, src->pid, e);
	if (rc == 0 && o->graph) {
		progress(o, "building the object graph");
		objgraph_build(o->graph);
	}
	progress(o, NULL);
	if (rc < 0)
		source_blame_exit(src, "during the census", e);
	return rc;
}

int snapshot_replay(const struct pyimage *img, const struct snapshot_opts *o, struct census *c, struct pc_err *e)
{
	struct source src;
	int rc;

	source_open_image(&src, img);
	rc = snapshot_take(&src, o, c, e);
	source_close(&src);
	return rc;
}
