/* runtree.h: `run --subprocesses`: the processes the program starts (multiprocessing pools,
 * prefork workers, subprocesses running Python), found by reading the tree under it at every
 * sample (no ptrace-following of forks, which would slow the program) and censused one at a time
 * after the program's own census. Each child keeps a time series of its own: with -f csv or json
 * written to a file of its own beside the report (series.csv -> series.PID.csv); with text, a
 * line per child and the kinds summed over the program and its children at their last samples.
 *
 * A Python child is traced from its discovery to its end (cli/runseize.h): its last census is
 * taken as it ends (at the entry of its finalisation, or at its exit stop), marked at exit in its
 * series, and it is let go at once; its signals are delivered unchanged and its group-stops kept.
 * A child that cannot be traced (another tracer, another user) is named with the reason and only
 * sampled; it, and one that ends between two samples before it was traced, is marked gone at the
 * first sample that misses it, its last census the one before. Every child still traced when the
 * run ends is detached and left running.
 *
 * The pauses of the children's censuses count in the program's pace (cli/pace.h): each sample's
 * pause is the sum over the tree (the program's, its children's in that sample, and the censuses
 * at exit since the sample before), so --max-overhead bounds the tree's summed pauses over wall
 * time, and the program's series reports that share. */
#ifndef PC_RUNTREE_H
#define PC_RUNTREE_H

#include "common/compat.h"
#include <stdio.h>
#include <sys/types.h>
#include "attach/launch.h"
#include "census/snapshot.h"
#include "cli/sampling.h"

struct runseize;

struct runchild {
	pid_t pid;
	struct runseize *z;   /* traced (cli/runseize.h); NULL: polled only, or not yet, or no longer */
	char untraced[240];   /* why it could not be traced ("" when it was or was not tried) */
	bool exit_census;     /* its last census was taken as it ended */
	bool finalised;       /* it had finalised by its exit (no breakpoint fired): no census then */
	bool was_ready;       /* its interpreter was seen initialised (Py_IsInitialized() 1) */
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
	struct launch *group; /* the program's launch: children are traced on its event loop */
	struct runchild *v;
	size_t n, cap;
	double t0;            /* the run's first sample (monotonic): the times reported count from it */
	double exit_pauses;   /* pauses of the censuses at exit not yet counted in a sample */
};

/* Fails with USAGE when -f csv or json has no -o FILE to name the children's files after. */
int runtree_check(const char *format, const char *output, struct pc_err *e);
/* Censuses every child of the tree under root now (monotonic seconds; the first call's is the
 * run's t0), tracing the new ones. A child's own series starts at its first sample. Failures are
 * kept per child (why), not returned. Returns the pauses to count in the program's sample: the
 * children's now and those of the censuses at exit since the last call. */
double runtree_sample(struct runtree *rt, pid_t root, const struct snapshot_opts *o, double now);
/* An event of a traced child (ev->who is not the program's launch): its census as it ends
 * (LE_HWBREAK, LE_EXIT of the whole process), then it is resumed; LE_GONE releases it. Every stop
 * handed over is resumed before this returns. */
void runtree_event(struct runtree *rt, const struct levent *ev, const struct snapshot_opts *o);
/* The text section (a line per child, the summed partition with `main`'s last census), or the
 * children's JSON files; CSV files are complete already. */
int runtree_end(struct runtree *rt, FILE *out, const struct census *main, size_t limit, struct pc_err *e);
/* Lets every child still traced go (detached, running, its signals delivered); frees the rest. */
void runtree_release(struct runtree *rt);

#endif
