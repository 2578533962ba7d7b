/* graphtake.c: one census with its object graph, dominators and retained sizes (cli/graphtake.h). */
#include "common/compat.h"
#include "cli/graphtake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/progress.h"
#include "common/xalloc.h"

int graph_take_census(const char *target, struct snapshot_opts *opts, bool quiet, struct graph_take *gt,
		      struct pc_err *e)
{
	struct progress *pr = &gt->pr; /* not on this stack: the open source keeps calling it */
	struct graph *g = &gt->og.g;

	memset(gt, 0, sizeof *gt);
	census_init(&gt->c);
	opts->graph = &gt->og;
	opts->progress = progress_phase;
	opts->progress_arg = pr;
	if (target_open(&gt->t, target, 0, e) < 0)
		return -1;
	progress_init(pr, quiet, gt->t.src.pid);
	if (snapshot_take(&gt->t.src, opts, &gt->c, e) < 0)
		return -1;
	gt->t.src.progress = NULL; /* locating again for labels later shows no phase */
	target_note(&gt->t, &gt->c);
	if (g->dropped)
		census_warn(&gt->c, "the object graph left out %llu objects and references past its caps (2^30 objects, 2^31 references)",
			    (unsigned long long)g->dropped);
	return 0;
}

void graph_take_dominators(struct graph_take *gt)
{
	struct graph *g = &gt->og.g;

	graph_drop_parents(g); /* paths_parents then searches again: the dominators' peak stays */
	gt->idom = graph_idom(g);
	gt->ret_bytes = xmalloc((size_t)g->n * sizeof *gt->ret_bytes);
	gt->ret_count = xmalloc((size_t)g->n * sizeof *gt->ret_count);
	graph_retained(g, gt->idom, gt->ret_bytes, gt->ret_count);
}

static int take(const char *target, struct snapshot_opts *opts, bool quiet, bool dominators, struct graph_take *gt,
		struct pc_err *e)
{
	if (graph_take_census(target, opts, quiet, gt, e) < 0)
		return -1;
	if (!dominators)
		return 0;
	progress_phase(&gt->pr, "computing dominators");
	graph_take_dominators(gt);
	progress_phase(&gt->pr, NULL);
	return 0;
}

int graph_take(const char *target, struct snapshot_opts *opts, bool quiet, struct graph_take *gt, struct pc_err *e)
{
	return take(target, opts, quiet, true, gt, e);
}

int graph_take_pid(pid_t pid, struct snapshot_opts *opts, bool quiet, bool dominators, struct graph_take *gt,
		   struct pc_err *e)
{
	char arg[24];

	snprintf(arg, sizeof arg, "%d", (int)pid);
	return take(arg, opts, quiet, dominators, gt, e);
}

struct pyproc *graph_take_reader(struct graph_take *gt)
{
	struct pc_err e = { 0 };

	return gt->t.open ? source_locate(&gt->t.src, &e) : NULL;
}

void graph_take_release(struct graph_take *gt)
{
	target_close(&gt->t);
	census_release(&gt->c);
	objgraph_release(&gt->og);
	free(gt->idom);
	free(gt->ret_bytes);
	free(gt->ret_count);
	memset(gt, 0, sizeof *gt);
}
