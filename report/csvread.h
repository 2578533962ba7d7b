/* csvread.h: reading pycensus CSV back into the census model, for `pycensus diff`. Two layouts:
 *  - a census (`snap -f csv`): index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind
 *  - a time series (`run -f csv`, `snap -i`): time_s,sample,kind,count,size, with per-sample
 *    `[rss]` and `[pymalloc]` rows that are process figures, not kinds.
 * RFC 4180: quoted fields may hold commas, quotes ("") and line breaks; lines end in LF or CRLF.
 * Lines starting with '#' are comments (report/csv.h report_csv_notes): warnings, dropped counts
 * and end lines are read back, other comments skipped. The census, and each sample of a series,
 * must end with its end line, whose row count and sums must match the rows: a file cut at a line
 * boundary fails (so does a file written before pycensus wrote end lines: take it again), and so
 * does one whose last line has no line end (cut mid-line).
 * Anything else is PC_EUSAGE naming the file and line. */
#ifndef PC_CSVREAD_H
#define PC_CSVREAD_H

#include "common/compat.h"
#include "common/error.h"
#include "model/census.h"

struct csvcensus {
	bool series;         /* a time series (else one census: first and last are the same rows) */
	unsigned nsamples;
	unsigned npartial;       /* samples (or the one census) whose comments say objects were dropped */
	double t_first, t_last;  /* series: time_s of the first and last sample */
	struct census first, last; /* rows (kind, count, size), warnings and dropped counts */
};

/* Reads path ("-" is standard input). */
int csvread_file(const char *path, struct csvcensus *out, struct pc_err *e);
/* Parses text[0..len) ("name" appears in errors). */
int csvread_text(const char *name, const char *text, size_t len, struct csvcensus *out, struct pc_err *e);
void csvcensus_release(struct csvcensus *c);

#endif
