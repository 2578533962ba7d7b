/* sampling.h: what `run` and `snap -i` share: a time series of censuses, written as CSV while
 * samples arrive (each flushed whole) or as text/JSON at the end, and a status line per sample. */
#ifndef PC_SAMPLING_H
#define PC_SAMPLING_H

#include "common/compat.h"
#include <stdio.h>
#include "cli/pace.h"
#include "cli/progress.h"
#include "common/error.h"
#include "model/census.h"
#include "report/html.h"
#include "report/series.h"

struct sampling {
	const char *format;  /* "text", "csv", "json" or "html" */
	const char *output;  /* NULL or "-": stdout */
	size_t limit;        /* text rows */
	FILE *csv;           /* the open CSV stream while sampling */
	struct series s;
	struct html_series hs; /* -f html: each sample's largest kinds, for the chart */
	struct progress prog;
	double t0;           /* monotonic time of the first sample */
	struct pace *pace;   /* the sampling clock (run, snap -i): each sample's interval, the reports'
			      * pause share; NULL for a series sampled on another's clock (a child's) */
	bool partial_fails;  /* sampling_end fails with PC_EPARTIAL when a sample was partial (snap -i) */
	/* when set, writes more after a text or JSON report, to the same output (run --subprocesses) */
	int (*after)(FILE *out, void *arg, struct pc_err *e);
	void *after_arg;
};

/* Opens the CSV output at once (so a bad path fails before the target is touched). */
int sampling_begin(struct sampling *sm, struct pc_err *e);
/* Adds census c taken at monotonic time `now` (rss read with it); with a pace and not at exit,
 * plans the next sample from its pause (pace->next). */
int sampling_add(struct sampling *sm, const struct census *c, double now, uint64_t rss, bool at_exit,
		 struct pc_err *e);
/* Writes the text, JSON or HTML report (when there is a sample) and closes the output. With
 * partial_fails, then returns -1 with PC_EPARTIAL when any sample dropped objects. */
int sampling_end(struct sampling *sm, struct pc_err *e);
void sampling_release(struct sampling *sm);

#endif
