/* testpath.h: paths for the unit tests: formatting one that fails the test rather than
 * truncate, and the interpreters tools/provision-pythons installs. */
#ifndef PC_TESTPATH_H
#define PC_TESTPATH_H

#include "common/compat.h"
#include <stddef.h>

/* snprintf into out that fails the running test when the path does not fit. */
void tp_fmt(char *out, size_t len, const char *f, ...) PC_PRINTF(3, 4);

#endif
