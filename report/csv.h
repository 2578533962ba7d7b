/* csv.h: the partition as CSV (RFC 4180 quoting, LF line ends), every row, for spreadsheets and
 * for `pycensus diff`, followed by comment lines that say what the census is not: its warnings,
 * the objects it dropped per kind, and an end line that lets a reader tell a file cut short. */
#ifndef PC_CSV_H
#define PC_CSV_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "model/census.h"
#include "report/partition.h"

/* Header index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind, then one line
 * per row; percentages with two decimals. Kinds are written verbatim (quoted when they hold a
 * comma, quote, CR or LF) so the file reads back exactly. Then the comment lines of census c
 * (report_csv_notes, no prefix; c may be NULL: only the end line). Ends by flushing `out`;
 * returns 0, or -1 with PC_EOUTPUT when a write failed. */
int report_csv(FILE *out, const struct census *c, const struct partition *p, struct pc_err *e);

/* The comment lines after a census's rows, each "# " + prefix + one of (in this order):
 *   warning: <text>             every warning, control characters as \xNN
 *   dropped,<count>,<kind>      per dropped kind, largest first (kind quoted as a CSV field)
 *   dropped_pools,<pools>       pools skipped as invalid, when there were any
 *   end,<rows>,<objects>,<bytes>  the data lines written and the sums of their count and size
 * prefix is "" for `snap -f csv`, "sample <k> " in a time series. Cannot fail (the caller checks
 * the stream). */
void report_csv_notes(FILE *out, const char *prefix, const struct census *c, size_t rows, uint64_t objects,
		      uint64_t size);

#endif
