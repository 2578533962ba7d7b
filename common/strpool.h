/* strpool.h: strings (and small arrays) kept until the pool is released, copied into large blocks
 * that never move: one allocation per 64 KiB, not one per name. The type table's kind names,
 * modules and member offsets and the census rows' strings live here: 60,000 classes made 360,000
 * mallocs and reallocs and as many frees (with their consolidation, 9 % of such a census's
 * instructions). */
#ifndef PC_STRPOOL_H
#define PC_STRPOOL_H

#include "common/compat.h"
#include <stddef.h>

struct strpool_block;

struct strpool {
	struct strpool_block *head; /* the block being filled; the older ones chained behind it */
};

/* A copy of s (n bytes, a NUL added) valid until strpool_release. */
const char *strpool_addn(struct strpool *sp, const char *s, size_t n);
const char *strpool_add(struct strpool *sp, const char *s);
/* *prev when it equals s, else a copy of s that becomes *prev: runs of one string (the module
 * "__main__" of every class of a script) are kept once. */
const char *strpool_add_again(struct strpool *sp, const char *s, const char **prev);
/* A copy of the n bytes at v, aligned for any object, valid until strpool_release. */
const void *strpool_copy(struct strpool *sp, const void *v, size_t n);
void strpool_release(struct strpool *sp);

#endif
