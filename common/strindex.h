/* strindex.h: a hash index from strings to positions in an array the caller owns (census rows by
 * kind, partition rows by type or module, diff rows by kind), so that finding a kind costs the
 * same with 60,000 kinds as with 60. The index stores positions only; the keys stay in the
 * caller's array and are read back through key_of. Open addressing, FNV-1a, load at most 1/2. */
#ifndef PC_STRINDEX_H
#define PC_STRINDEX_H

#include "common/compat.h"
#include <stddef.h>

/* The key of element i of the caller's array at base. */
typedef const char *(*strindex_key_fn)(const void *base, size_t i);

struct strindex {
	size_t *slots;  /* position + 1; 0 = empty */
	size_t cap;     /* a power of two, or 0 */
	size_t n;
};

#define STRINDEX_NONE ((size_t)-1)

/* The position whose key equals key, or STRINDEX_NONE. */
size_t strindex_find(const struct strindex *x, const char *key, strindex_key_fn key_of, const void *base);
/* Records position pos (whose key is key; not in the index yet). */
void strindex_add(struct strindex *x, const char *key, size_t pos, strindex_key_fn key_of, const void *base);
/* The position whose key equals key; when there is none, records pos (whose key is key) and
 * returns it: find and add in one hashing and one probe. */
size_t strindex_find_or_add(struct strindex *x, const char *key, size_t pos, strindex_key_fn key_of, const void *base);
/* Makes room for n positions in all: an index about to be filled with a known count is laid out
 * once, not rehashed at every doubling (60,000 kinds: twelve times). */
void strindex_reserve(struct strindex *x, size_t n, strindex_key_fn key_of, const void *base);
void strindex_release(struct strindex *x);

#endif
