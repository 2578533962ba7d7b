/* ptrmap.c: linear-probing hash map with a 50 % load ceiling. */
#include "common/compat.h"
#include "common/ptrmap.h"

#include <stdlib.h>
#include "common/error.h"
#include "common/xalloc.h"

static inline size_t slot(uint64_t k, size_t mask)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & mask;
}

void ptrmap_init(struct ptrmap *m)
{
	m->cap = 64;
	m->len = 0;
	m->kv = xcalloc(2 * m->cap, sizeof *m->kv);
}

void ptrmap_release(struct ptrmap *m)
{
	free(m->kv);
	m->kv = NULL;
	m->cap = m->len = 0;
}

bool ptrmap_get(const struct ptrmap *m, uint64_t key, uint64_t *val)
{
	size_t mask = m->cap - 1;

	if (key == 0)
		return false;
	for (size_t i = slot(key, mask);; i = (i + 1) & mask) {
		if (m->kv[2 * i] == key) {
			if (val)
				*val = m->kv[2 * i + 1];
			return true;
		}
		if (m->kv[2 * i] == 0)
			return false;
	}
}

static void rehash_to(struct ptrmap *m, size_t cap)
{
	struct ptrmap n = { xcalloc(2 * cap, 8), cap, 0 };

	for (size_t i = 0; i < m->cap; i++)
		if (m->kv[2 * i])
			ptrmap_put(&n, m->kv[2 * i], m->kv[2 * i + 1]);
	ptrmap_release(m);
	*m = n;
}

static void rehash(struct ptrmap *m)
{
	rehash_to(m, m->cap * 2);
}

void ptrmap_reserve(struct ptrmap *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 64;

	while (cap / 2 < n + 1) /* the 50 % ceiling */
		cap *= 2;
	if (cap > m->cap)
		rehash_to(m, cap);
}

bool ptrmap_put(struct ptrmap *m, uint64_t key, uint64_t val)
{
	size_t mask;

	if (key == 0)
		PC_BUG("ptrmap key 0");
	if ((m->len + 1) * 2 > m->cap)
		rehash(m);
	mask = m->cap - 1;
	for (size_t i = slot(key, mask);; i = (i + 1) & mask) {
		if (m->kv[2 * i] == key) {
			m->kv[2 * i + 1] = val;
			return false;
		}
		if (m->kv[2 * i] == 0) {
			m->kv[2 * i] = key;
			m->kv[2 * i + 1] = val;
			m->len++;
			return true;
		}
	}
}
