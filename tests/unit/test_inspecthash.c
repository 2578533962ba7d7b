/* test_inspecthash.c: the value hash `inspect` groups duplicates by (census/inspect.h): a value hashed
 * in pieces (as a long str read from the target is) hashes as it does whole; values of at most 8
 * bytes hash one-to-one, so two of them share a hash only when equal; forms and lengths are part of
 * a long value's hash. And the scan for the selected nodes of a finding (census/paths.h), which skips
 * zero words, finds what a byte-by-byte scan finds. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "census/inspect.h"
#include "census/paths.h"

static uint64_t whole(unsigned form, const uint8_t *b, size_t n)
{
	return ins_hash_end(ins_hash_add(ins_hash_start(form, n), b, n));
}

Test(inspect_hash, pieces_equal_whole)
{
	uint8_t b[1000];

	for (size_t i = 0; i < sizeof b; i++)
		b[i] = (uint8_t)(i * 131 + 7);
	for (size_t piece = 8; piece <= 512; piece *= 2) {
		uint64_t h = ins_hash_start(IV_ASCII, sizeof b);
		for (size_t at = 0; at < sizeof b; at += piece)
			h = ins_hash_add(h, b + at, sizeof b - at < piece ? sizeof b - at : piece);
		cr_expect_eq(ins_hash_end(h), whole(IV_ASCII, b, sizeof b), "pieces of %zu", piece);
	}
}

Test(inspect_hash, small_values_one_to_one)
{
	/* every 2-byte value: 65536 distinct hashes */
	uint64_t *seen = calloc(65536, sizeof *seen);

	for (unsigned v = 0; v < 65536; v++) {
		uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
		seen[v] = ins_hash_small(b, 2);
		for (unsigned k = v > 64 ? v - 64 : 0; k < v; k++)
			cr_assert_neq(seen[k], seen[v], "%u and %u share a hash", k, v);
	}
	free(seen);
}

Test(inspect_hash, form_and_length_count)
{
	const uint8_t t[] = "destination_port";

	cr_expect_neq(whole(IV_ASCII, t, 16), whole(IV_BYTES, t, 16), "str and bytes of the same bytes");
	cr_expect_neq(whole(IV_ASCII, t, 16), whole(IV_ASCII, t, 15), "a prefix");
	cr_expect_eq(whole(IV_ASCII, t, 16), whole(IV_ASCII, (const uint8_t *)"destination_port", 16), "equal text");
}

/* Every selected node in order, for every length and placement around the 8-byte words. */
Test(inspect_hash, next_selected_as_bytewise)
{
	uint8_t sel[200];

	srand(17);
	for (int round = 0; round < 400; round++) {
		uint32_t n = (uint32_t)(rand() % 200), from = n ? (uint32_t)(rand() % n) : 0, v, want;
		for (uint32_t i = 0; i < n; i++)
			sel[i] = rand() % (round % 3 == 0 ? 40 : 4) == 0;
		for (v = paths_next_selected(sel, from, n), want = from;; v = paths_next_selected(sel, v + 1, n), want++) {
			while (want < n && !sel[want])
				want++;
			cr_assert_eq(v, want, "n %u from %u: found %u, a byte scan finds %u", n, from, v, want);
			if (v >= n)
				break;
			want = v;
		}
	}
}
