/* test_strpool.c: strings and arrays kept in blocks that never move (common/strpool.h): every
 * one reads back as it was added, across many blocks and strings longer than a block; a run of
 * one string is kept once; copies are aligned. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "common/strpool.h"

#define N 50000

Test(strpool, strings_stay_where_they_were_put)
{
	static char big[200000];
	static const char *got[N];
	struct strpool sp = { 0 };
	const char *long_one = NULL, *prev = NULL;
	char want[32];

	memset(big, 'x', sizeof big - 1);
	for (size_t i = 0; i < N; i++) {
		snprintf(want, sizeof want, "module%zu.Class%zu", i % 7, i);
		got[i] = strpool_add(&sp, want);
		if (i == N / 2)
			long_one = strpool_add(&sp, big); /* longer than a block: one of its own */
	}
	for (size_t i = 0; i < N; i++) {
		snprintf(want, sizeof want, "module%zu.Class%zu", i % 7, i);
		if (strcmp(got[i], want) != 0)
			cr_assert_fail("string %zu reads %s", i, got[i]);
	}
	cr_assert_eq(strlen(long_one), sizeof big - 1);
	cr_assert_str_eq(strpool_addn(&sp, "__main__.K", 8), "__main__");
	cr_assert_eq(strpool_add_again(&sp, "__main__", &prev), prev);
	cr_assert_eq(strpool_add_again(&sp, "__main__", &prev), prev, "the same string: kept once");
	cr_assert_str_eq(strpool_add_again(&sp, "json.decoder", &prev), "json.decoder");
	strpool_release(&sp);
	cr_assert_null(sp.head);
}

Test(strpool, copies_are_aligned_and_whole)
{
	struct strpool sp = { 0 };
	const int32_t offs[] = { 16, 24, 48 };

	for (int i = 0; i < 10000; i++) {
		const int32_t *c;
		strpool_add(&sp, i % 2 ? "a" : "abc"); /* odd lengths between the copies */
		c = strpool_copy(&sp, offs, sizeof offs);
		cr_assert_eq((uintptr_t)c % alignof(max_align_t), 0);
		cr_assert_eq(memcmp(c, offs, sizeof offs), 0);
	}
	strpool_release(&sp);
}
