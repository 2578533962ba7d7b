/* stats.h: the `pycensus stats` report: pymalloc (laid out as sys._debugmallocstats() prints it,
 * plus fragmentation), the GC, and process memory, as text, CSV (metric,value rows) or JSON.
 * Reads the stats/stats.h model only. A figure the build cannot give is written as "unavailable"
 * with the reason (text), an empty value (CSV) or null (JSON). */
#ifndef PC_REPORT_STATS_H
#define PC_REPORT_STATS_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "stats/stats.h"

/* Each ends by flushing `out`; returns 0, or -1 with PC_EOUTPUT when a write failed. */
int report_stats_text(FILE *out, const struct stats *st, struct pc_err *e);
int report_stats_csv(FILE *out, const struct stats *st, struct pc_err *e);
int report_stats_json(FILE *out, const struct stats *st, struct pc_err *e);

/* "1,234,567" as _debugmallocstats writes numbers; buf needs 28 bytes. */
const char *stats_commas(uint64_t v, char *buf, size_t len);

#endif
