/* error.h: the one error table (errors.def) and the error record passed down every call chain.
 *
 * Functions that can fail return 0 on success and -1 on failure after filling a `struct pc_err`
 * with pc_fail(); callers that add context call pc_fail() again, which keeps the first (root)
 * cause's code and chains the new text after it. Nothing above attach/ reads errno. */
#ifndef PC_ERROR_H
#define PC_ERROR_H

#include "common/compat.h"
#include <stdio.h>

enum pc_code {
#define X(name, code, msg, fix) PC_E##name,
#include "common/errors.def"
#undef X
	PC_E_COUNT
};

struct pc_err {
	enum pc_code code; /* PC_EOK while nothing failed */
	char detail[512];  /* root cause first, then "; " and each caller's context */
};

/* Records code (unless a root cause is already recorded) and the formatted detail; returns -1. */
int pc_fail(struct pc_err *e, enum pc_code code, const char *fmt, ...) PC_PRINTF(3, 4);
void pc_err_clear(struct pc_err *e);

int pc_exit_code(enum pc_code c);
const char *pc_code_message(enum pc_code c);
const char *pc_code_fix(enum pc_code c);
const char *pc_code_name(enum pc_code c);

/* Prints "pycensus: <message>: <detail> (fix: ...)" on one line. */
void pc_err_print(FILE *out, const struct pc_err *e);

/* Prints the exit-code table for --help. */
void pc_exit_codes_print(FILE *out);

/* A broken invariant of pycensus itself (never of the target): message and abort. */
PC_NORETURN void pc_bug(const char *file, int line, const char *what);
#define PC_BUG(what) pc_bug(__FILE__, __LINE__, what)

#endif
