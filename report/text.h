/* text.h: the text report: an optional pycensus header (target, cost, warnings) and then
 * guppy3's partition table, line for line as guppy3 prints it. */
#ifndef PC_TEXT_H
#define PC_TEXT_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "model/census.h"
#include "report/partition.h"

/* Writes at most `limit` rows of `p` (0 = all; guppy3's rule: never "1 more rows", that row is
 * printed instead), preceded by the header when `header` (c is read only then; it may be NULL
 * otherwise). Control characters in strings from the target are written as \xNN so a hostile
 * type name cannot forge lines or drive the terminal. Ends by flushing `out`; returns 0, or -1
 * with PC_EOUTPUT when a write failed. */
int report_text(FILE *out, const struct census *c, const struct partition *p, size_t limit,
		bool header, struct pc_err *e);

#endif
