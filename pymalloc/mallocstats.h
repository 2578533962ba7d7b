/* mallocstats.h: pymalloc's own accounting, read from outside: every figure
 * sys._debugmallocstats() prints (per size class and for the arenas), computed the way
 * Objects/obmalloc.c _PyObject_DebugMallocStats computes it (3.8-3.15), plus fragmentation:
 * arenas that a few live blocks keep from being returned to the OS.
 *
 * Two steps: mallocstats_read_counters() reads the arena counters from the stopped target;
 * mallocstats_tally() walks the local copy of the arenas (pymalloc/arenas.h) and needs no target.
 * mallocstats_collect() does both, for callers that hold the target stopped anyway (snap).
 * `ms` starts zeroed ({0}) and each step fills its own figures.
 * A figure that cannot be had in this build has its `have_*` flag false and a `*_why` saying why. */
#ifndef PC_MALLOCSTATS_H
#define PC_MALLOCSTATS_H

#include "common/compat.h"
#include "common/error.h"
#include "pymalloc/arenas.h"
#include "source/pyproc.h"

/* An arena is pinned when it holds at least one live block but its live blocks fill at most
 * this share of it (bytes in allocated blocks <= 5% of ARENA_SIZE): pymalloc returns an arena to
 * the OS only when all its pools are empty, so those few blocks keep the whole arena mapped. */
#define MALLOCSTATS_PINNED_PERCENT 5

struct mallocstats_class {
	unsigned block_size;
	uint64_t pools;   /* "num pools": pools of this class holding at least one block */
	uint64_t blocks;  /* "blocks in use" */
	uint64_t avail;   /* "avail blocks": free blocks of those pools */
};

struct mallocstats {
	uint64_t pool_size, arena_size, pool_overhead;
	unsigned nclasses;
	struct mallocstats_class cls[64];

	uint64_t narenas;           /* "# arenas allocated current" */
	bool have_counters;         /* ntimes_arena_allocated, narenas_highwater */
	uint64_t ntimes_allocated;  /* "# arenas allocated total"; reclaimed = this - narenas */
	uint64_t highwater;         /* "# arenas highwater mark" */
	const char *counters_why;

	uint64_t allocated_bytes, available_bytes, pool_header_bytes, quantization;
	bool have_table;            /* unused pools and alignment need each arena's base (the table) */
	uint64_t unused_pools, alignment_bytes;
	const char *table_why;
	uint64_t unused_and_alignment; /* unused_pools * pool_size + alignment_bytes, always known */
	uint64_t empty_pools;       /* carved pools with no live block (part of the unused pools) */

	/* fragmentation */
	uint64_t empty_arenas;      /* arenas without a live block (3.9+ keeps one for reuse) */
	uint64_t pinned_arenas, pinned_bytes, pinned_blocks, pinned_block_bytes;

	uint64_t bad_pools;         /* pools that failed validation, left out of every figure */
	const char *first_bad_pool;
};

/* Arena counters from the target (statics in .symtab up to 3.11, the interpreter's obmalloc state
 * from 3.12). Their absence (stripped build) is not an error; an unreadable address is
 * PC_ETARGETMEM. Call with the target stopped. */
int mallocstats_read_counters(struct pyproc *p, struct mallocstats *ms, struct pc_err *e);
/* Every figure from the copied pools and the table summary; cannot fail. */
void mallocstats_tally(const struct pylayout *L, const struct heapcopy *hc, struct mallocstats *ms);
/* Both, on a stopped target. */
/* The same over a streamed heapcopy (pymalloc/arenawin.h: arenawin_begin done): each window of
 * arenas read, tallied and let go in turn, the target stopped throughout. */
void mallocstats_tally_windows(struct pyproc *p, struct heapcopy *hc, struct mallocstats *ms, struct census *c);
int mallocstats_collect(struct pyproc *p, const struct heapcopy *hc, struct mallocstats *ms, struct pc_err *e);

/* Derived figures. */
static inline uint64_t mallocstats_arena_bytes(const struct mallocstats *ms)
{
	return ms->narenas * ms->arena_size;
}

#endif
