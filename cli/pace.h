/* pace.h: sampling within a pause budget (`run`, `top`, `snap -i` --max-overhead): when the next
 * sample is due so that the target stands stopped at most a given share b of its time.
 *
 * After sample k (start t_k, pause p_k; t_0 the first sample's start, P the pauses so far, these
 * included) the next starts at the latest of:
 *   t_k + interval                     -i is the shortest period;
 *   t_k + level / b                    each pause at most b of its own period: no burst of samples
 *                                      on the credit of a quiet past;
 *   t_0 + (P + level) / b - level      the share stays within b even counting the next pause, so a
 *                                      program that ends in the middle of a wait has spent at most
 *                                      b of its time stopped;
 * where level follows the pauses: it rises at once to a longer pause (level = p_k when p_k >
 * level) and halves its excess over a shorter one (level = (level + p_k) / 2), so one short pause
 * after long ones does not bring the interval down at once (the heap that gave them is usually
 * still there). When the sample comes due and the target's resident memory has grown since the
 * last one, the pause to expect is the level scaled by that growth, and the two budget terms are
 * checked again with it: a growing heap defers the sample rather than overrunning the budget.
 * Since level >= p_k, the share counted from the first sample to the start of any later one is
 * within b whatever the pauses do; the share up to an arbitrary moment is within b unless a pause
 * exceeded that expectation, which the next wait repays.
 * A budget of 0 (`off`) keeps the fixed cadence of -i. */
#ifndef PC_PACE_H
#define PC_PACE_H

#include "common/compat.h"
#include "common/error.h"

#define PACE_DEFAULT_BUDGET 0.01 /* 1 %: the acceptance figure for `run -i 1` */

struct pace {
	double interval;  /* -i: the shortest period, seconds */
	double budget;    /* share of the target's time, 0..1; 0 = fixed interval */
	double level;     /* the pauses followed as above */
	double t0;        /* the first sample's start (monotonic) */
	double last;      /* the latest sample's start */
	uint64_t rss;     /* the target's resident memory at the latest sample; 0: not known */
	double paused;    /* the pauses so far */
	unsigned samples; /* taken so far */
	double next;      /* monotonic time the next sample is due */
};

/* The --max-overhead help text of run, top and snap. */
extern const char pace_help[];
/* --max-overhead PCT: a percentage from 0 to 100, or `off` (= 0); budget as a fraction. */
int pace_parse(const char *s, double *budget, struct pc_err *e);
/* After a sample that began at `start` (monotonic), paused the target `pause` seconds and found
 * it `rss` bytes resident (0: not known), at monotonic time `now`: sets p->next and returns the
 * period the rule above gives (-i without a budget). With a budget the period counts from the
 * sample's start; without one the samples keep the cadence of -i. Either way a census that took
 * longer than its period is followed by a whole interval, not by a burst of samples to catch up
 * (the next sample is then later than planned). */
double pace_sampled(struct pace *p, double start, double pause, double now, uint64_t rss);
/* At p->next, with the target now `rss` bytes resident (0: not known): true when the sample is
 * due; false when the memory grew so much since the last one that the pause to expect needs a
 * longer wait, p->next then moved to its end. */
bool pace_due(struct pace *p, double now, uint64_t rss);

#endif
