/* series.h: censuses taken over time (`run`, `snap -i`, `top`): the long-form CSV written as
 * samples arrive, and at the end the text report (the final partition and the kinds that grew
 * most since the first sample) or JSON.
 *
 * CSV: header time_s,sample,kind,count,size; per sample one row per kind (largest first), then
 * `[rss]` (count 0, size = resident set size from /proc) and `[pymalloc]` (count = allocated
 * pymalloc blocks, size = their bytes), then the sample's comment lines (report/csv.h
 * report_csv_notes with the prefix "sample <k> ": warnings, dropped kinds, its end line). Each
 * sample is flushed whole, so a file cut short by a signal ends on a complete sample.
 *
 * Memory grows with the samples only by their totals and, for a sample with warnings or dropped
 * objects, those notes; the rows are kept for the first and the latest sample only. */
#ifndef PC_SERIES_H
#define PC_SERIES_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "model/census.h"

struct series_point {       /* one sample's totals */
	double time_s;          /* since the series began */
	unsigned sample;        /* 0, 1, ... */
	bool at_exit;           /* the census taken as the process ended */
	uint64_t rss, pymalloc_blocks, pymalloc_bytes, objects, size;
	double pause_s;
	double interval_s;      /* planned from this sample's start to the next's; 0: none (report/overhead.h) */
	struct census *notes;   /* owned, NULL when none: the sample's warnings and dropped counts only */
};

struct series {
	struct series_point *v;
	size_t n, cap;
	size_t npartial;        /* samples whose census was partial (census_partial) */
	struct census first, last; /* rows (and header data) of the first and latest sample */
	bool paced;             /* sampled on a clock (run, top, snap -i): the reports give the pause share */
	bool pauses;            /* unpaced, each sample's pause stated (a child of run --subprocesses: the
				 * program's pace counts it) */
	double interval, budget; /* -i and --max-overhead (a fraction, 0 = off), when paced */
};

void series_init(struct series *s);
void series_release(struct series *s);
/* Allocated pymalloc blocks and their bytes, from the census's size classes. */
void series_pymalloc(const struct census *c, uint64_t *blocks, uint64_t *bytes);
/* Records census c as the next sample (copies what it needs). Returns the new point. */
const struct series_point *series_add(struct series *s, const struct census *c, double time_s, uint64_t rss,
				      bool at_exit);

/* CSV: the header; then one sample (the latest added) with its rows. Flushed; 0 or -1 (OUTPUT). */
int series_csv_header(FILE *out, struct pc_err *e);
int series_csv_sample(FILE *out, const struct series *s, struct pc_err *e);
/* Text: the latest sample's header and partition (at most limit rows, 0 = all), then the kinds
 * that grew most between the first and latest sample with their rates per minute. */
int series_text(FILE *out, const struct series *s, size_t limit, struct pc_err *e);
/* JSON: every sample's totals (with "partial", "dropped" {kind: count}, "dropped_pools" and
 * "warnings"), the final kinds and the growth table. */
int series_json(FILE *out, const struct series *s, struct pc_err *e);
/* The same document's members inside an open object (the HTML report embeds it). */
struct json;
void series_json_body(struct json *j, const struct series *s);

#endif
