/* inspect.h: the report of `pycensus inspect` (census/inspect.h): a summary of the findings ranked
 * by bytes to save, then each inspection with its findings, their fix and the path that holds
 * most of their objects; as text, as CSV (one row per finding), or as JSON (report/json_inspect.c). */
#ifndef PC_REPORT_INSPECT_H
#define PC_REPORT_INSPECT_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "census/inspect.h"
#include "census/objgraph.h"
#include "model/census.h"

/* The short name of an inspection in reports and CSV ("duplicate", "slots", ...). */
const char *report_inspect_name(enum ins_kind k);
/* Errors: OUTPUT. */
int report_inspect_text(FILE *out, const struct census *c, const struct objgraph *og, const struct inspection *r,
			const struct inspect_opts *o, struct pc_err *e);
int report_inspect_csv(FILE *out, const struct census *c, const struct inspection *r, struct pc_err *e);
/* The "inspect" document of docs/schema/pycensus.json. */
int report_inspect_json(FILE *out, const struct census *c, const struct objgraph *og, const struct inspection *r,
			const struct inspect_opts *o, struct pc_err *e);

#endif
