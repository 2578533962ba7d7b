/* runtree.h: `run --subprocesses`: the processes the program starts (multiprocessing pools,
 * prefork workers, subprocesses running Python), found by reading the tree under it at every
 * sample (no ptrace-following of forks, which would slow the program) and censused one at a time
 * after the program's own census. Each child keeps a time series of its own: with -f csv or json
 * written to a file of its own beside the report (series.csv -> series.PID.csv); with text, a
 * line per child and the kinds summed over the program and its children at their last samples.
 * A child that leaves the tree is marked gone at the first sample that misses it; its last
 * census is the one before. */
#ifndef PC_RUNTREE_H
#define PC_RUNTREE_H

#include "common/compat.h"
#include <stdio.h>
#include <sys/types.h>
#include "census/snapshot.h"
#include "cli/sampling.h"

struct runchild {
	pid_t pid;
	char role[48];
	char cmdline[256];
	char path[512];       /* its series file (csv, json), "" with text */
	struct sampling sm;   /* its samples, on the run's clock */
	bool gone;            /* left the tree */
	double gone_s;        /* when the first sample that missed it was taken (the run's clock) */
	bool skipped;         /* not Python, or cannot be traced: not tried again */
	char why[320];        /* its latest census failure */
};

struct runtree {
	const char *format;   /* the run's -f */
	const char *output;   /* the run's -o: children's files are named after it */
	struct runchild *v;
	size_t n, cap;
};

/* Fails with USAGE when -f csv or json has no -o FILE to name the children's files after. */
int runtree_check(const char *format, const char *output, struct pc_err *e);
/* Censuses every child of the tree under root now (monotonic seconds; t0: the run's first sample,
 * for the times reported). A child's own series starts at its first sample. Failures are kept per
 * child (why), not returned. */
void runtree_sample(struct runtree *rt, pid_t root, const struct snapshot_opts *o, double now, double t0);
/* The text section (a line per child, the summed partition with `main`'s last census), or the
 * children's JSON files; CSV files are complete already. */
int runtree_end(struct runtree *rt, FILE *out, const struct census *main, size_t limit, double t0, struct pc_err *e);
void runtree_release(struct runtree *rt);

#endif
