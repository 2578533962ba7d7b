/* strindex.c: a string hash index over the caller's array. */
#include "common/compat.h"
#include "common/strindex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

/* Eight bytes at a time, each mixed in by a multiply and a rotation, the tail likewise, then
 * murmur3's finaliser so that the low bits the index takes depend on every byte: a kind name
 * ("__main__.K000123") hashes in a third of the instructions FNV-1a took byte by byte, which was
 * half the cost of adding a row a kind of 60,000 (60,000 such names fill a 2^17-slot index as
 * evenly as random keys would). */
static uint64_t hash(const char *s)
{
	const uint64_t k = 0x9e3779b97f4a7c15ULL;
	size_t n = strlen(s), i = 0;
	uint64_t h = k ^ n, w;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * k;
		h = h << 31 | h >> 33;
	}
	if (i < n) {
		w = 0;
		memcpy(&w, s + i, n - i);
		h = (h ^ w) * k;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ h >> 33;
}

size_t strindex_find(const struct strindex *x, const char *key, strindex_key_fn key_of, const void *base)
{
	if (!x->cap)
		return STRINDEX_NONE;
	for (size_t i = hash(key) & (x->cap - 1);; i = (i + 1) & (x->cap - 1)) {
		size_t pos = x->slots[i];
		if (!pos)
			return STRINDEX_NONE;
		if (strcmp(key_of(base, pos - 1), key) == 0)
			return pos - 1;
	}
}

static void put(struct strindex *x, const char *key, size_t pos)
{
	size_t i = hash(key) & (x->cap - 1);

	while (x->slots[i])
		i = (i + 1) & (x->cap - 1);
	x->slots[i] = pos + 1;
}

static void grow_to(struct strindex *x, size_t cap, strindex_key_fn key_of, const void *base)
{
	size_t *old = x->slots, oldcap = x->cap;

	x->cap = cap;
	x->slots = xcalloc(x->cap, sizeof *x->slots);
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			put(x, key_of(base, old[i] - 1), old[i] - 1);
	free(old);
}

void strindex_reserve(struct strindex *x, size_t n, strindex_key_fn key_of, const void *base)
{
	size_t cap = x->cap ? x->cap : 64;

	while (cap / 2 < n + 1) /* load at most 1/2 */
		cap *= 2;
	if (cap > x->cap)
		grow_to(x, cap, key_of, base);
}

void strindex_add(struct strindex *x, const char *key, size_t pos, strindex_key_fn key_of, const void *base)
{
	if (2 * (x->n + 1) > x->cap)
		grow_to(x, x->cap ? x->cap * 2 : 64, key_of, base);
	put(x, key, pos);
	x->n++;
}

size_t strindex_find_or_add(struct strindex *x, const char *key, size_t pos, strindex_key_fn key_of, const void *base)
{
	size_t i;

	if (2 * (x->n + 1) > x->cap)
		grow_to(x, x->cap ? x->cap * 2 : 64, key_of, base);
	for (i = hash(key) & (x->cap - 1); x->slots[i]; i = (i + 1) & (x->cap - 1))
		if (strcmp(key_of(base, x->slots[i] - 1), key) == 0)
			return x->slots[i] - 1;
	x->slots[i] = pos + 1;
	x->n++;
	return pos;
}

void strindex_release(struct strindex *x)
{
	free(x->slots);
	memset(x, 0, sizeof *x);
}
