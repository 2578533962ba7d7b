/* graphtake.h: what `why` and `retained` share: one census of a PID that builds the object graph,
 * then its dominator tree and every object's retained size, computed while the target runs. The
 * source stays open so a report can read labels from the target afterwards. */
#ifndef PC_GRAPHTAKE_H
#define PC_GRAPHTAKE_H

#include "common/compat.h"
#include "common/error.h"
#include "cli/progress.h"
#include "census/objgraph.h"
#include "census/snapshot.h"
#include "model/census.h"
#include "cli/target.h"

struct graph_take {
	struct target t;         /* open from graph_take to graph_take_release */
	struct census c;
	struct objgraph og;
	uint32_t *idom;
	uint64_t *ret_bytes, *ret_count; /* per node */
	struct progress pr;      /* the source reports phases to it until released (graph_take_reader) */
};

/* The census and graph of target (a PID or a dump: cli/target.h) with opts (its graph field is
 * set here). Errors: those of target_open and snapshot_take. On failure gt is still
 * graph_take_release-able. */
int graph_take(const char *target, struct snapshot_opts *opts, bool quiet, struct graph_take *gt, struct pc_err *e);
/* graph_take in two halves: the census and its graph, then the dominator tree and retained sizes
 * (inspect takes them only when a few sampled objects' retained sizes would cost more). */
int graph_take_census(const char *target, struct snapshot_opts *opts, bool quiet, struct graph_take *gt,
		      struct pc_err *e);
void graph_take_dominators(struct graph_take *gt);
/* graph_take for a live process; without dominators, idom and the retained sizes stay NULL (a
 * baseline that needs only the objects' addresses skips their time and memory). */
int graph_take_pid(pid_t pid, struct snapshot_opts *opts, bool quiet, bool dominators, struct graph_take *gt,
		   struct pc_err *e);
/* The interpreter located again, while the target runs, to read labels and values; NULL if it
 * cannot be (the process exited: reports then go without labels). */
struct pyproc *graph_take_reader(struct graph_take *gt);
void graph_take_release(struct graph_take *gt);

#endif
