/* gcstats.h: the cyclic GC's state, read from outside: what gc.get_count(), gc.get_threshold(),
 * gc.get_stats(), gc.isenabled() and gc.get_freeze_count() return in the target, and whether a
 * collection is running (struct _gc_runtime_state, 3.8-3.15; 3.15 keeps the statistics in rings). */
#ifndef PC_GCSTATS_H
#define PC_GCSTATS_H

#include "common/compat.h"
#include "common/error.h"
#include "source/pyproc.h"

/* The permanent generation is walked node by node; beyond this many it is reported as partial. */
#define GCSTATS_MAX_FROZEN (1u << 26)

struct gcstats_gen {
	int64_t count, threshold;                  /* gc.get_count()[g], gc.get_threshold()[g] */
	int64_t collections, collected, uncollectable; /* gc.get_stats()[g] */
};

struct gcstats {
	unsigned ngenerations;
	struct gcstats_gen gen[4];
	bool enabled;          /* gc.isenabled() */
	bool collecting;       /* a collection is running right now */
	uint64_t frozen;       /* gc.get_freeze_count(): objects on the permanent generation's list */
	bool frozen_complete;  /* false when the walk stopped early; frozen_why says why */
	const char *frozen_why;
};

/* Reads the main interpreter's GC state (one read of the struct) and walks the permanent
 * generation's list (bounded; reads inside copied arenas stay local). Call with the target stopped.
 * Fails with PC_ETARGETMEM when the state cannot be read; a broken frozen list is not a failure. */
int gcstats_collect(struct pyproc *p, struct gcstats *gs, struct pc_err *e);

#endif
