/* stacks.h (report): a `struct stacks` as text (one block per thread, innermost frame first, like
 * a traceback read upwards) or as JSON. Strings from the target are written with control
 * characters escaped. Both end with output_check(): 0, or -1 with PC_EOUTPUT. */
#ifndef PC_REPORT_STACKS_H
#define PC_REPORT_STACKS_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "frames/stacks.h"

int report_stacks_text(FILE *out, const struct stacks *s, struct pc_err *e);
int report_stacks_json(FILE *out, const struct stacks *s, struct pc_err *e);

#endif
