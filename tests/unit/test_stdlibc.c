/* test_stdlibc.c: the standard library's C types read from outside (objects/stdlibc.h) with the
 * real layouts: deque.__sizeof__ against sys.getsizeof printed by 3.8.18 and 3.12.1
 *   python3 -c "import sys, collections as c; print(sys.getsizeof(c.deque()),
 *               sys.getsizeof(c.deque(range(64))), sys.getsizeof(c.deque(range(1000))))"
 * (624 1152 8544 and 760 1288 8680: a GC pre-header of 16, leftindex 31 when made empty, 1 once
 * extended from empty), the walk of a deque's blocks over a chain built here, and what garbage
 * in those fields gives: nothing read past a block, no loop, a broken chain said as such. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <string.h>

#include "common/error.h"
#include "objects/stdlibc.h"
#include "python/layout.h"
#include "python/rules.h"

static struct pylayout layout(int minor)
{
	struct pylayout L;
	struct pc_err e = { 0 };

	cr_assert_eq(layout_lookup(3, minor, &L, &e), 0, "%s", e.detail);
	return L;
}

static void put64(uint8_t *b, int32_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

Test(stdlibc, deque_sizeof_as_measured)
{
	static const struct { int minor; int64_t basicsize; uint64_t empty, b64, b1000; } m[] = {
		{ 8, 80, 624, 1152, 8544 },
		{ 12, 216, 760, 1288, 8680 },
	};

	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		struct pylayout L = layout(m[i].minor);
		cr_assert_eq(L.off.deque_size, m[i].basicsize, "3.%d: dequeobject is %d bytes", m[i].minor, L.off.deque_size);
		cr_expect_eq(py_deque_sizeof(&L, m[i].basicsize, 31, 0) + 16, m[i].empty);
		cr_expect_eq(py_deque_sizeof(&L, m[i].basicsize, 1, 64) + 16, m[i].b64);
		cr_expect_eq(py_deque_sizeof(&L, m[i].basicsize, 1, 1000) + 16, m[i].b1000);
		/* garbage: basicsize alone */
		cr_expect_eq(py_deque_sizeof(&L, m[i].basicsize, 64, 10), (uint64_t)m[i].basicsize);
		cr_expect_eq(py_deque_sizeof(&L, m[i].basicsize, -1, 10), (uint64_t)m[i].basicsize);
		cr_expect_eq(py_deque_sizeof(&L, m[i].basicsize, 0, -5), (uint64_t)m[i].basicsize);
	}
}

/* Four blocks at made-up addresses, a deque of 150 items from slot 60 of the first: 4 + 64 + 64 +
 * 18 items, each item the value (block << 8 | slot) so where it came from shows. */
#define NBLOCKS 4
static uint8_t blocks[NBLOCKS][STDLIBC_BLOCK_MAX];
static const uint64_t addr[NBLOCKS] = { 0x10000, 0x20000, 0x30000, 0x40000 };

static void chain(const struct pylayout *L)
{
	for (int k = 0; k < NBLOCKS; k++) {
		for (int s = 0; s < 64; s++)
			put64(blocks[k], L->off.deque_block_data + 8 * s, (uint64_t)(k + 1) << 8 | (uint64_t)s);
		put64(blocks[k], L->off.deque_block_right, k + 1 < NBLOCKS ? addr[k + 1] : 0);
	}
}

static const uint8_t *block_at(uint64_t a)
{
	for (int k = 0; k < NBLOCKS; k++)
		if (addr[k] == a)
			return blocks[k];
	return NULL;
}

static void deque_object(const struct pylayout *L, uint8_t *ob, int64_t n, int64_t left, uint64_t first)
{
	memset(ob, 0, (size_t)L->off.deque_size);
	put64(ob, L->off.ob_size, (uint64_t)n);
	put64(ob, L->off.deque_leftindex, (uint64_t)left);
	put64(ob, L->off.deque_leftblock, first);
}

Test(stdlibc, deque_items_block_by_block)
{
	struct pylayout L = layout(12);
	uint8_t ob[512];
	struct deque_cursor c;
	uint64_t seen = 0, per[NBLOCKS] = { 0 }, v;

	chain(&L);
	deque_object(&L, ob, 150, 60, addr[0]);
	cr_assert(stdlibc_deque_first(&L, ob, (size_t)L.off.deque_size, &c));
	for (int k = 0; c.left && k < NBLOCKS; k++) {
		uint64_t n;
		const uint8_t *b = block_at(c.block), *items;
		cr_assert_not_null(b, "block %#llx is none of the chain's", (unsigned long long)c.block);
		items = stdlibc_deque_items(&L, b, &c, &n);
		per[k] = n;
		memcpy(&v, items, 8);
		cr_expect_eq(v, (uint64_t)(k + 1) << 8 | (k == 0 ? 60 : 0), "block %d starts at item %#llx", k, (unsigned long long)v);
		seen += n;
	}
	cr_expect_eq(seen, 150);
	cr_expect(per[0] == 4 && per[1] == 64 && per[2] == 64 && per[3] == 18, "%llu %llu %llu %llu",
		  (unsigned long long)per[0], (unsigned long long)per[1], (unsigned long long)per[2],
		  (unsigned long long)per[3]);
	cr_expect_eq(c.left, 0);
}

Test(stdlibc, deque_chain_broken_or_garbage)
{
	struct pylayout L = layout(12);
	uint8_t ob[512];
	struct deque_cursor c;
	uint64_t n;

	chain(&L);
	/* the second block's rightlink cleared (the deque shrank as it was read): items left, no block */
	put64(blocks[1], L.off.deque_block_right, 0);
	deque_object(&L, ob, 150, 60, addr[0]);
	cr_assert(stdlibc_deque_first(&L, ob, (size_t)L.off.deque_size, &c));
	stdlibc_deque_items(&L, block_at(c.block), &c, &n);
	stdlibc_deque_items(&L, block_at(c.block), &c, &n);
	cr_expect(c.left == 150 - 68 && c.block == 0, "left %llu, block %#llx", (unsigned long long)c.left,
		  (unsigned long long)c.block);
	/* a misaligned link: the same */
	chain(&L);
	put64(blocks[0], L.off.deque_block_right, addr[1] + 3);
	cr_assert(stdlibc_deque_first(&L, ob, (size_t)L.off.deque_size, &c));
	stdlibc_deque_items(&L, block_at(c.block), &c, &n);
	cr_expect(c.left == 146 && c.block == 0);
	/* fields no deque has: refused before any block is read */
	deque_object(&L, ob, 150, 64, addr[0]);
	cr_expect_not(stdlibc_deque_first(&L, ob, (size_t)L.off.deque_size, &c), "leftindex past a block");
	deque_object(&L, ob, -1, 0, addr[0]);
	cr_expect_not(stdlibc_deque_first(&L, ob, (size_t)L.off.deque_size, &c), "a negative length");
	deque_object(&L, ob, INT64_C(1) << 40, 0, addr[0]);
	cr_expect_not(stdlibc_deque_first(&L, ob, (size_t)L.off.deque_size, &c), "a length no deque has");
	deque_object(&L, ob, 10, 0, addr[0] + 4);
	cr_expect_not(stdlibc_deque_first(&L, ob, (size_t)L.off.deque_size, &c), "a misaligned first block");
	deque_object(&L, ob, 0, 31, addr[0]);
	cr_expect_not(stdlibc_deque_first(&L, ob, (size_t)L.off.deque_size, &c), "an empty deque has no items");
	deque_object(&L, ob, 10, 0, addr[0]);
	cr_expect_not(stdlibc_deque_first(&L, ob, (size_t)L.off.deque_leftindex, &c), "fields beyond the bytes read");
}

Test(stdlibc, known_by_name_and_size)
{
	struct pylayout L = layout(12);

	cr_expect_eq(stdlibc_rule_by_name(&L, "collections.deque", L.off.deque_size, 0), RULE_DEQUE);
	cr_expect_eq(stdlibc_rule_by_name(&L, "collections.deque", L.off.deque_size + 8, 0), RULE_DEFAULT);
	cr_expect_eq(stdlibc_rule_by_name(&L, "_io.BufferedReader", L.off.buffered_size, 0), RULE_BUFFERED);
	cr_expect_eq(stdlibc_rule_by_name(&L, "_io.BufferedRWPair", L.off.buffered_size, 0), RULE_DEFAULT);
	cr_expect_eq(stdlibc_rule_by_name(&L, "array.array", 64, 0), RULE_ARRAY);
	cr_expect(stdlibc_is_bytesio(&L, "_io.BytesIO", L.off.bytesio_size));
	cr_expect_not(stdlibc_is_bytesio(&L, "_io.BytesIO", L.off.bytesio_size - 8));
	cr_expect_null(stdlibc_unreadable(&L, "collections.deque"));
	/* a table from the headers alone has no dequeobject or bytesio: named, never guessed */
	for (size_t t = 0; t < pylayout_ntables; t++) {
		struct pylayout H;
		if (!layout_table_from_headers(pylayout_tables[t]))
			continue;
		layout_from_table(pylayout_tables[t], &H);
		cr_expect_eq(stdlibc_rule_by_name(&H, "collections.deque", 232, 0), RULE_DEFAULT, "%s", H.source);
		cr_expect_str_eq(stdlibc_unreadable(&H, "collections.deque"), "collections.deque");
		cr_expect_str_eq(stdlibc_unreadable(&H, "_io.BytesIO"), "_io.BytesIO");
	}
}

Test(stdlibc, odict_and_buffered_extra)
{
	struct pylayout L = layout(12);

	/* OrderedDict of 10 items made from a generator (3.12.1: getsizeof 784, its dict's 336: 16
	 * fast-node slots and 10 nodes) */
	cr_expect_eq(py_odict_sizeof_extra(&L, 16, 0x1000, 10), 448);
	cr_expect_eq(py_odict_sizeof_extra(&L, 8, 0, 0), 64, "an emptied OrderedDict keeps its fast-nodes array");
	cr_expect_eq(py_buffered_sizeof_extra(&L, 0x1000, 8192), 8192);
	cr_expect_eq(py_buffered_sizeof_extra(&L, 0, 8192), 0, "a closed file's buffer is freed");
	cr_expect_eq(py_buffered_sizeof_extra(&L, 0x1000, -1), 0);
}
