/* overhead.h: the share of the target's time a time series kept it stopped (run, top, snap -i
 * with --max-overhead, cli/pace.h), as the reports say it: a text line, a JSON member, a CSV
 * comment per sample.
 *
 * The share is counted over whole periods: the pauses of every sample but the last, over the time
 * from the first sample's start to the last sample's start (for `run`, the census at exit). Each
 * figure is one the report also gives per sample (time_s, pause_s), so a reader can recompute it. */
#ifndef PC_OVERHEAD_H
#define PC_OVERHEAD_H

#include "common/compat.h"
#include <stdio.h>

struct series;
struct json;

struct overhead {
	double pause_s;    /* the pauses counted */
	double span_s;     /* the time they are counted over */
	double share;      /* pause_s / span_s; NaN with fewer than two samples */
	double longest_s;  /* the longest interval planned after a sample */
	size_t stretched;  /* samples followed by an interval longer than -i */
	size_t planned;    /* samples followed by a planned interval */
};

void overhead_of(const struct series *s, struct overhead *o);
/* How a report words the share and the budget: printf formats taking the share in per cent and the
 * budget in per cent, and what stands instead of each when there is none. */
struct overhead_words {
	const char *no_share, *share, *budget, *off;
};
/* The share of o and the budget of s, in those words. */
void overhead_put_share(FILE *out, const struct series *s, const struct overhead *o, const struct overhead_words *w);
/* "pause 0.8 % of the target's time (budget 1 %), interval stretched to 6.3 s in 12 of 40
 * samples" and a newline; nothing for a series that was not paced. */
void overhead_text(FILE *out, const struct series *s);
/* "overhead": {...} (null when not paced). */
void overhead_json(struct json *j, const struct series *s);
/* "# sample K pace,pause_s,P,interval_s,I,share_pct,S,budget_pct,B" for the latest sample. */
void overhead_csv(FILE *out, const struct series *s);

#endif
