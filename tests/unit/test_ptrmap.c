/* test_ptrmap.c: the address -> value map: put, get, overwrite, growth past many rehashes, absent
 * keys, and the reserved key 0. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>

#include "common/ptrmap.h"

/* splitmix64's finaliser: a bijection on 64-bit words, so distinct inputs give distinct keys. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

Test(ptrmap, put_get_overwrite)
{
	struct ptrmap m;
	uint64_t v = 0;

	ptrmap_init(&m);
	cr_assert_eq(m.len, 0);
	cr_assert_not(ptrmap_get(&m, 0x7f0000001000ULL, &v));
	cr_assert(ptrmap_put(&m, 0x7f0000001000ULL, 11), "new key");
	cr_assert(ptrmap_put(&m, 0x7f0000001010ULL, 22));
	cr_assert(ptrmap_put(&m, UINT64_MAX, 33));
	cr_assert(ptrmap_put(&m, 1, 0), "value 0 is a value like any other");
	cr_assert_eq(m.len, 4);
	cr_assert(ptrmap_get(&m, 0x7f0000001000ULL, &v));
	cr_assert_eq(v, 11);
	cr_assert(ptrmap_get(&m, 0x7f0000001010ULL, &v));
	cr_assert_eq(v, 22);
	cr_assert(ptrmap_get(&m, UINT64_MAX, &v));
	cr_assert_eq(v, 33);
	v = 99;
	cr_assert(ptrmap_get(&m, 1, &v));
	cr_assert_eq(v, 0);
	cr_assert(ptrmap_get(&m, 0x7f0000001000ULL, NULL), "val may be NULL");

	cr_assert_not(ptrmap_put(&m, 0x7f0000001000ULL, 111), "overwrite is not new");
	cr_assert_eq(m.len, 4);
	cr_assert(ptrmap_get(&m, 0x7f0000001000ULL, &v));
	cr_assert_eq(v, 111);
	cr_assert(ptrmap_get(&m, 0x7f0000001010ULL, &v));
	cr_assert_eq(v, 22, "the neighbour is untouched");
	ptrmap_release(&m);
	cr_assert_null(m.kv);
	cr_assert_eq(m.len, 0);
}

Test(ptrmap, absent_keys_leave_val_alone)
{
	static const uint64_t absent[] = { 2, 0x7f0000001008ULL, 0x7f0000002000ULL, UINT64_MAX - 1, 1ULL << 63 };
	struct ptrmap m;

	ptrmap_init(&m);
	for (uint64_t k = 0x7f0000001000ULL; k < 0x7f0000001000ULL + 16 * 20; k += 16)
		ptrmap_put(&m, k, k >> 4);
	for (size_t i = 0; i < PC_ARRAY_LEN(absent); i++) {
		uint64_t v = 0xdeadbeef;
		cr_assert_not(ptrmap_get(&m, absent[i], &v), "%#llx", (unsigned long long)absent[i]);
		cr_assert_eq(v, 0xdeadbeef);
	}
	ptrmap_release(&m);
}

/* 100000 random keys: many rehashes from the initial 64 slots; every key round-trips, the load
 * stays at or below one half, and keys never inserted are absent. */
Test(ptrmap, many_random_keys_round_trip)
{
	enum { N = 100000 };
	struct ptrmap m;
	uint64_t v;

	ptrmap_init(&m);
	cr_assert_eq(m.cap, 64);
	for (uint64_t i = 0; i < N; i++) {
		uint64_t k = mix(i);
		cr_assert_neq(k, 0);
		cr_assert(ptrmap_put(&m, k, i * 3 + 1), "key %llu new", (unsigned long long)i);
	}
	cr_assert_eq(m.len, N);
	cr_assert_eq(m.cap & (m.cap - 1), 0, "cap %zu is a power of two", m.cap);
	cr_assert_geq(m.cap, 2 * m.len);
	cr_assert_eq(m.cap, 262144, "64 doubled until 100000 fit at half load");
	for (uint64_t i = 0; i < N; i++) {
		cr_assert(ptrmap_get(&m, mix(i), &v), "key %llu lost", (unsigned long long)i);
		cr_assert_eq(v, i * 3 + 1);
	}
	for (uint64_t i = N; i < 2 * N; i++)
		cr_assert_not(ptrmap_get(&m, mix(i), NULL), "key %llu never put", (unsigned long long)i);

	/* overwrite every other key: no growth, new values seen */
	for (uint64_t i = 0; i < N; i += 2)
		cr_assert_not(ptrmap_put(&m, mix(i), ~i));
	cr_assert_eq(m.len, N);
	for (uint64_t i = 0; i < N; i++) {
		cr_assert(ptrmap_get(&m, mix(i), &v));
		cr_assert_eq(v, i % 2 ? i * 3 + 1 : ~i);
	}
	ptrmap_release(&m);
}

/* Object addresses: 16-byte aligned, dense; the hash must spread them. */
Test(ptrmap, dense_aligned_addresses)
{
	enum { N = 50000 };
	const uint64_t base = 0x7f3a12340000ULL;
	struct ptrmap m;
	uint64_t v;

	ptrmap_init(&m);
	for (uint64_t i = 0; i < N; i++)
		cr_assert(ptrmap_put(&m, base + 16 * i, i));
	cr_assert_eq(m.len, N);
	for (uint64_t i = 0; i < N; i++) {
		cr_assert(ptrmap_get(&m, base + 16 * i, &v));
		cr_assert_eq(v, i);
		cr_assert_not(ptrmap_get(&m, base + 16 * i + 8, NULL));
	}
	ptrmap_release(&m);

	ptrmap_init(&m);
	cr_assert_not(ptrmap_get(&m, base, NULL), "a re-initialised map is empty");
	ptrmap_release(&m);
}

Test(ptrmap, key_zero_is_a_bug, .signal = SIGABRT)
{
	struct ptrmap m;

	cr_assert_not_null(freopen("/dev/null", "w", stderr)); /* keep the expected message quiet */
	ptrmap_init(&m);
	ptrmap_put(&m, 0, 1);
}
