/* strpool.h: strings kept until the pool is released, copied into large blocks that never move:
 * one allocation per 64 KiB of names, not one per name. The type table's kind names and modules
 * and the census rows' strings live here: 60,000 classes made 240,000 mallocs and as many frees
 * (with their consolidation, 7 % of such a census's instructions). */
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
void strpool_release(struct strpool *sp);

#endif
