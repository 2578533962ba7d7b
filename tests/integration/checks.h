/* checks.h: assertions shared by the integration tests (Criterion expectations). */
#ifndef PC_CHECKS_H
#define PC_CHECKS_H

#include "common/compat.h"
#include "tests/integration/harness.h"

/* Kinds objects referenced only from C can inflate beyond the closure (str, tuple, bytes). */
bool h_c_only_refs(const char *kind);
/* Every kind with >= 1000 objects in the closure: pycensus within 99 %..101 % (above only for
 * h_c_only_refs kinds). Prints the comparison. */
void h_check_whole_heap(const struct table *census, const struct table *truth, const struct python *py);
/* Two censuses with the same rows, counts and sizes. */
void h_assert_same_table(const struct table *x, const struct table *y, const char *what, const struct python *py);

#endif
