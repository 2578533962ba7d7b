/* output.h: where reports go: opening the output path, and confirming that every byte written
 * reached it (a report cut short by a full disk must fail, not look like success).
 *
 * Failures are PC_EOUTPUT with the path or stream and strerror() in the detail. */
#ifndef PC_OUTPUT_H
#define PC_OUTPUT_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"

/* "-" or NULL means stdout; any other path is created or truncated. Returns NULL on failure. */
FILE *output_open(const char *path, struct pc_err *e);
/* Whether path could be written, checked without creating or truncating it: commands call it
 * before they stop a target, so a bad -o fails first (PC_EOUTPUT; "-"/NULL always pass). */
int output_check_path(const char *path, struct pc_err *e);
/* Flushes, checks the stream's error flag and closes it (stdout is flushed and checked but left
 * open). Returns 0 or -1. Accepts NULL. The stream is closed even on failure; pass e = NULL to
 * ignore the outcome, e.g. when closing after a write already failed. */
int output_close(FILE *f, struct pc_err *e);
/* Flushes and checks the stream's error flag; `what` names the stream in the detail ("csv
 * report"). Returns 0 or -1. The report writers end with this. */
int output_check(FILE *f, const char *what, struct pc_err *e);

#endif
