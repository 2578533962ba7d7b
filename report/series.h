/* series.h: censuses taken over time (`run`, `snap -i`, `top`): the long-form CSV written as
 * samples arrive, and at the end the text report (the final partition and the kinds that grew
 * most since the first sample) or JSON.
 *
 * CSV: header time_s,sample,kind,count,size; per sample one row per kind (largest first), then
 * `[rss]` (count 0, size = resident set size from /proc) and `[pymalloc]` (count = allocated
 * pymalloc blocks, size = their bytes). Each sample is flushed whole, so a file cut short by a
 * signal ends on a complete sample.
 *
 * Memory stays bounded however long the run: per sample only its totals are kept, and the rows of
 * the first and the latest sample. */
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
};

struct series {
	struct series_point *v;
	size_t n, cap;
	struct census first, last; /* rows (and header data) of the first and latest sample */
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
/* JSON: every sample's totals, the final kinds and the growth table. */
int series_json(FILE *out, const struct series *s, struct pc_err *e);

#endif
