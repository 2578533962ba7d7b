/* test_strindex.c: the string hash index finds every key it was given, and none it was not,
 * across its growth; and a census adds to the right row with many kinds. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include "common/strindex.h"
#include "model/census.h"

#define N 100000

static const char *key_at(const void *base, size_t i)
{
	return ((char (*)[16])base)[i];
}

/* x by find and add, y by find_or_add: the same answers */
Test(strindex, finds_what_it_holds)
{
	char (*keys)[16] = malloc(N * sizeof *keys);
	struct strindex x = { 0 }, y = { 0 };

	cr_assert(keys);
	for (size_t i = 0; i < N; i++) {
		snprintf(keys[i], sizeof keys[i], "C%zu", i);
		cr_expect_eq(strindex_find(&x, keys[i], key_at, keys), STRINDEX_NONE);
		strindex_add(&x, keys[i], i, key_at, keys);
		cr_expect_eq(strindex_find_or_add(&y, keys[i], i, key_at, keys), i);
	}
	for (size_t i = 0; i < N; i++)
		if (strindex_find(&x, keys[i], key_at, keys) != i || strindex_find_or_add(&y, keys[i], N, key_at, keys) != i)
			cr_assert_fail("key %s not found at %zu", keys[i], i);
	cr_expect_eq(y.n, N, "found again, not added");
	strindex_reserve(&y, 4 * N, key_at, keys);
	cr_expect(y.cap >= 8 * N);
	for (size_t i = 0; i < N; i += 997)
		cr_expect_eq(strindex_find(&y, keys[i], key_at, keys), i, "after reserve");
	strindex_release(&y);
	cr_expect_eq(strindex_find(&x, "C100000", key_at, keys), STRINDEX_NONE);
	cr_expect_eq(strindex_find(&x, "", key_at, keys), STRINDEX_NONE);
	cr_expect_eq(x.n, N);
	cr_expect(x.cap >= 2 * N);
	strindex_release(&x);
	free(keys);
}

Test(strindex, census_rows_by_kind)
{
	struct census c;
	char kind[32];

	census_init(&c);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 60000; i++) {
			snprintf(kind, sizeof kind, "__main__.C%d", i);
			census_add(&c, kind, 1, 16);
		}
	cr_expect_eq(c.nrows, 60000);
	cr_expect_eq(c.nobjects, 120000);
	for (size_t i = 0; i < c.nrows; i++)
		if (c.rows[i].count != 2 || c.rows[i].size != 32)
			cr_assert_fail("row %s: %llu objects", c.rows[i].kind, (unsigned long long)c.rows[i].count);
	census_release(&c);
}
