/* stats.h: one `pycensus stats` sample of a live process, end to end over a source
 * (source/source.h): with it stopped and located, copy pymalloc's arenas (into a buffer faulted in
 * before the stop) and read the arena counters; resume it, then read the GC state and the kernel's
 * memory figures (as snap does: its pause is no longer than snap's) and tally the pools from the
 * copy. The model report/stats.c prints. */
#ifndef PC_STATS_H
#define PC_STATS_H

#include "common/compat.h"
#include <sys/types.h>
#include "attach/procmem.h"
#include "common/error.h"
#include "pymalloc/arenas.h"
#include "model/census.h"
#include "objects/gcstats.h"
#include "pymalloc/mallocstats.h"
#include "pymalloc/miheap.h"
#include "source/source.h"

struct stats_opts {
	enum arena_mode arenas;
	/* the most memory the copy of the arenas may take (--max-memory; census/snapshot.h): over it
	 * the pools are tallied a window of arenas at a time, the target stopped throughout */
	uint64_t max_memory;
};

struct stats {
	/* target, build, arena source, pause, cost and warnings; its rows stay empty */
	struct census meta;
	unsigned nthreads;           /* Python thread states of the main interpreter */
	struct mallocstats ms;
	struct gcstats gc;
	struct procmem mem;
	bool have_arena_resident;    /* pagemap readable */
	uint64_t arena_resident;     /* bytes of the arenas resident in RAM */
	uint64_t arena_swapped;
	/* a free-threaded build: its mimalloc heaps' size classes (malloc'd; NULL on a GIL build) */
	struct miheap_totals *mi;
};

void stats_init(struct stats *st);
void stats_release(struct stats *st);

/* Fills st (stats_init'ed) from a live source (opened by the caller, closed by it after). The
 * target is resumed before this returns, on every path. Errors: NOPROC, PERM, NOTPYTHON,
 * UNSUPPORTED, LAYOUT, EXITED, TARGETMEM. */
int stats_take(struct source *src, const struct stats_opts *o, struct stats *st, struct pc_err *e);

/* Breakdown of the resident set: pymalloc arenas, other anonymous memory (malloc heap, mmaps,
 * stacks), file-backed (+ shared memory). Other anonymous is RssAnon minus the arenas' resident
 * bytes, 0 when the kernel figures are missing. */
static inline uint64_t stats_other_anon(const struct stats *st)
{
	return st->mem.rss_anon > st->arena_resident ? st->mem.rss_anon - st->arena_resident : 0;
}

#endif
