/* ptrmap.h: open-addressing hash map from a nonzero 64-bit address to a 64-bit value. Used as a
 * set of seen objects and as the type table's index. Key 0 is reserved (never a valid object). */
#ifndef PC_PTRMAP_H
#define PC_PTRMAP_H

#include "common/compat.h"

struct ptrmap {
	/* kv[2i] a key (0: empty slot), kv[2i+1] its value: side by side, a lookup touches one cache
	 * line where two arrays cost two misses (the graph's 1.7 million reference lookups on a
	 * Sphinx heap) */
	uint64_t *kv;
	size_t cap, len; /* cap is a power of two; len live entries */
};

void ptrmap_init(struct ptrmap *m);
void ptrmap_release(struct ptrmap *m);
/* Returns true and sets *val when key is present. */
bool ptrmap_get(const struct ptrmap *m, uint64_t key, uint64_t *val);
/* Makes room for n entries in all (a map about to be filled with a known count grows once, not
 * by doubling: no rehash, and the kernel zeroes each page once). */
void ptrmap_reserve(struct ptrmap *m, size_t n);
/* Inserts or overwrites; returns true if the key was new. */
bool ptrmap_put(struct ptrmap *m, uint64_t key, uint64_t val);

#endif
