/* csv.h: the partition as CSV (RFC 4180 quoting, LF line ends), every row, for spreadsheets and
 * for `pycensus diff`. */
#ifndef PC_CSV_H
#define PC_CSV_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "report/partition.h"

/* Header index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind, then one line
 * per row; percentages with two decimals. Kinds are written verbatim (quoted when they hold a
 * comma, quote, CR or LF) so the file reads back exactly. Ends by flushing `out`; returns 0, or
 * -1 with PC_EOUTPUT when a write failed. */
int report_csv(FILE *out, const struct partition *p, struct pc_err *e);

#endif
