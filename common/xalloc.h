/* xalloc.h: allocation for pycensus's own bookkeeping. Out of memory is fatal here (message and
 * exit 1): our own small allocations have no useful fallback. Sizes read from the target must be
 * bounded by the caller before they reach these. */
#ifndef PC_XALLOC_H
#define PC_XALLOC_H

#include "common/compat.h"

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Grows *p (of *cap elements of size `size`) to hold at least `need` elements. Inline: the
 * census calls it per object, and the call cost more than the test (1 % of its instructions). */
void xgrow_to(void **p, size_t *cap, size_t need, size_t size);
static inline void xgrow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need > *cap)
		xgrow_to(p, cap, need, size);
}

#endif
