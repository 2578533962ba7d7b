/* test_pool.c: pool_header_ok, pool_inspect and pool_block_offset on synthetic pymalloc pools
 * built in a local buffer with the real 3.12 (16 KiB pools) and 3.8 (4 KiB pools) layouts.
 * Free-list links are absolute addresses of a pretend pool address, as in a live target
 * (docs/cpython.md 1.2, 1.4, 2.2). */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "pymalloc/pool.h"
#include "python/layout.h"

#define POOL_ADDR 0x7f0000004000ULL /* 16 KiB-aligned, hence 4 KiB-aligned too */
#define MAX_POOL 16384

static struct pylayout layout(int minor)
{
	struct pylayout L;
	struct pc_err e = { 0 };

	cr_assert_eq(layout_lookup(3, minor, &L, &e), 0, "%s", e.detail);
	return L;
}

static void put32(uint8_t *p, int32_t off, uint32_t v) { memcpy(p + off, &v, 4); }
static void put64(uint8_t *p, int32_t off, uint64_t v) { memcpy(p + off, &v, 8); }
static uint32_t get32(const uint8_t *p, int32_t off)
{
	uint32_t v;
	memcpy(&v, p + off, 4);
	return v;
}

static unsigned block_size(const struct pylayout *L, unsigned szidx) { return (szidx + 1) * L->size_class_step; }
static unsigned hdr(const struct pylayout *L) { return (unsigned)L->off.pool_header_size; }
static unsigned capacity(const struct pylayout *L, unsigned szidx)
{
	return (unsigned)((L->pool_size - hdr(L)) / block_size(L, szidx));
}
static uint64_t block_addr(const struct pylayout *L, uint64_t addr, unsigned szidx, unsigned i)
{
	return addr + hdr(L) + (uint64_t)i * block_size(L, szidx);
}

/* A pool as pymalloc leaves it: `carved` blocks below nextoffset, `count` allocated, the free list
 * threading blocks free[0] -> free[1] -> ... -> NULL through their first 8 bytes. Allocated and
 * freed blocks hold stale bytes (0xab), the virgin part is zero. */
static void build(const struct pylayout *L, uint8_t *pool, uint64_t addr, unsigned szidx, unsigned carved,
		  unsigned count, const unsigned *free_idx, size_t nfree)
{
	const struct pyoffsets *o = &L->off;
	unsigned size = block_size(L, szidx);

	memset(pool, 0, L->pool_size);
	memset(pool + hdr(L), 0xab, (size_t)carved * size);
	put64(pool, o->ph_count, count); /* the whole ref union: upper half 0 */
	put64(pool, o->ph_freeblock, nfree ? block_addr(L, addr, szidx, free_idx[0]) : 0);
	put64(pool, 16, 0x7f00deadbee0ULL); /* nextpool, prevpool (docs/cpython.md 1.2): never checked */
	put64(pool, 24, 0x7f00deadbef0ULL);
	put32(pool, o->ph_arenaindex, 7);
	put32(pool, o->ph_szidx, szidx);
	put32(pool, o->ph_nextoffset, hdr(L) + carved * size);
	put32(pool, o->ph_maxnextoffset, (uint32_t)(L->pool_size - size));
	for (size_t k = 0; k < nfree; k++) {
		uint64_t next = k + 1 < nfree ? block_addr(L, addr, szidx, free_idx[k + 1]) : 0;
		put64(pool, (int32_t)(hdr(L) + free_idx[k] * size), next);
	}
}

/* Sets link k of an existing free list (k = 0: the header's freeblock). */
static void set_link(const struct pylayout *L, uint8_t *pool, unsigned szidx, int from_block, uint64_t to)
{
	if (from_block < 0)
		put64(pool, L->off.ph_freeblock, to);
	else
		put64(pool, (int32_t)(hdr(L) + (unsigned)from_block * block_size(L, szidx)), to);
}

static bool in_list(unsigned i, const unsigned *v, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (v[k] == i)
			return true;
	return false;
}

/* pool_inspect must accept the pool, report the header numbers, and split the carved blocks into
 * exactly the `free_idx` blocks (free) and the rest (allocated, at their block offsets). */
static void expect_valid(const struct pylayout *L, const uint8_t *pool, uint64_t addr, unsigned szidx,
			 unsigned carved, unsigned count, const unsigned *free_idx, size_t nfree)
{
	struct pool_info pi;
	const char *why = NULL;
	unsigned size = block_size(L, szidx), allocated = 0;

	cr_assert(pool_header_ok(L, pool, addr, &why), "3.%d szidx %u: header rejected: %s", L->minor, szidx,
		  why ? why : "?");
	why = NULL;
	cr_assert(pool_inspect(L, pool, addr, &pi, &why), "3.%d szidx %u: rejected: %s", L->minor, szidx,
		  why ? why : "?");
	cr_assert_eq(pi.szidx, szidx);
	cr_assert_eq(pi.block_size, size);
	cr_assert_eq(pi.count, count);
	cr_assert_eq(pi.arenaindex, 7);
	cr_assert_eq(pi.nextoffset, hdr(L) + carved * size);
	cr_assert_eq(pi.carved, carved);
	cr_assert_eq(pi.capacity, capacity(L, szidx));
	if (count == 0) {
		cr_assert_eq(pi.nfree, carved, "empty pool: every carved block is free");
	} else {
		cr_assert_eq(pi.nfree, nfree);
		cr_assert_eq(pi.count + pi.nfree, pi.carved);
	}
	for (unsigned i = 0; i < pi.capacity + 3; i++) {
		unsigned off = pool_block_offset(L, &pi, i);
		bool live = count > 0 && i < carved && !in_list(i, free_idx, nfree);
		if (live) {
			cr_assert_eq(off, hdr(L) + i * size, "3.%d szidx %u block %u", L->minor, szidx, i);
			allocated++;
		} else {
			cr_assert_eq(off, 0, "3.%d szidx %u block %u should not be allocated", L->minor, szidx, i);
		}
	}
	cr_assert_eq(allocated, count);
}

/* The reference pool of the corruption tests: 16 KiB, 64-byte class (szidx 3), 10 blocks carved,
 * blocks 7, 2, 5 freed (in that list order), 7 allocated. */
enum { REF_SZIDX = 3, REF_CARVED = 10, REF_COUNT = 7 };
static const unsigned ref_free[] = { 7, 2, 5 };

static _Alignas(16) uint8_t pool[MAX_POOL];

static struct pylayout ref_pool(void)
{
	struct pylayout L = layout(12);

	build(&L, pool, POOL_ADDR, REF_SZIDX, REF_CARVED, REF_COUNT, ref_free, PC_ARRAY_LEN(ref_free));
	return L;
}

Test(heap_pool, layouts_have_expected_pool_geometry)
{
	struct pylayout L8 = layout(8), L12 = layout(12);

	cr_assert_eq(L8.pool_size, 4096);
	cr_assert_eq(L12.pool_size, 16384);
	cr_assert_eq(L12.off.pool_header_size, 48);
	cr_assert_eq(L12.off.ph_count, 0);
	cr_assert_eq(L12.off.ph_freeblock, 8);
	cr_assert_eq(L12.off.ph_arenaindex, 32);
	cr_assert_eq(L12.off.ph_szidx, 36);
	cr_assert_eq(L12.off.ph_nextoffset, 40);
	cr_assert_eq(L12.off.ph_maxnextoffset, 44);
	cr_assert_eq(capacity(&L12, 0), 1021);
	cr_assert_eq(capacity(&L12, 31), 31);
	cr_assert_eq(capacity(&L8, 0), 253);
	cr_assert_eq(capacity(&L8, 31), 7);
}

Test(heap_pool, valid_pool_splits_allocated_and_free_blocks)
{
	struct pylayout L = ref_pool();
	struct pool_info pi;
	const char *why = NULL;

	expect_valid(&L, pool, POOL_ADDR, REF_SZIDX, REF_CARVED, REF_COUNT, ref_free, PC_ARRAY_LEN(ref_free));
	cr_assert(pool_inspect(&L, pool, POOL_ADDR, &pi, &why));
	/* allocated: 0 1 3 4 6 8 9 */
	static const unsigned live[] = { 0, 1, 3, 4, 6, 8, 9 };
	for (size_t k = 0; k < PC_ARRAY_LEN(live); k++)
		cr_assert_eq(pool_block_offset(&L, &pi, live[k]), 48 + live[k] * 64);
	cr_assert_eq(pool_block_offset(&L, &pi, 2), 0);
	cr_assert_eq(pool_block_offset(&L, &pi, 5), 0);
	cr_assert_eq(pool_block_offset(&L, &pi, 7), 0);
	cr_assert_eq(pool_block_offset(&L, &pi, 10), 0, "first virgin block");
	cr_assert_eq(pool_block_offset(&L, &pi, 254), 0, "last block of the pool, never carved");
	cr_assert_eq(pi.freemap[0], (1u << 2) | (1u << 5) | (1u << 7));
	cr_assert_eq(pi.count + pi.nfree, pi.carved);
	cr_assert_eq(pi.carved, 10);
}

Test(heap_pool, valid_pool_without_why_pointer)
{
	struct pylayout L = ref_pool();
	struct pool_info pi;

	cr_assert(pool_header_ok(&L, pool, POOL_ADDR, NULL));
	cr_assert(pool_inspect(&L, pool, POOL_ADDR, &pi, NULL));
	put32(pool, L.off.ph_szidx, 40);
	cr_assert_not(pool_header_ok(&L, pool, POOL_ADDR, NULL));
	cr_assert_not(pool_inspect(&L, pool, POOL_ADDR, &pi, NULL));
}

/* First carve: one block handed out, the second on the free list, nextoffset past both. */
Test(heap_pool, fresh_pool)
{
	static const int minors[] = { 8, 12 };
	static const unsigned free1[] = { 1 };

	for (size_t m = 0; m < PC_ARRAY_LEN(minors); m++) {
		struct pylayout L = layout(minors[m]);
		for (unsigned szidx = 0; szidx < 32; szidx += 5) {
			build(&L, pool, POOL_ADDR, szidx, 2, 1, free1, 1);
			cr_assert_eq(get32(pool, 40), 48 + 2 * block_size(&L, szidx));
			expect_valid(&L, pool, POOL_ADDR, szidx, 2, 1, free1, 1);
		}
	}
}

/* nextoffset = 48 + N*size: the largest value pymalloc_pool_extend leaves. */
Test(heap_pool, fully_carved_pool)
{
	struct pylayout L = layout(12);
	unsigned n = capacity(&L, 0); /* 1021 blocks of 16 bytes: nextoffset == POOL_SIZE */
	unsigned freed[] = { 1020, 0, 512 };
	struct pool_info pi;

	build(&L, pool, POOL_ADDR, 0, n, n - 3, freed, 3);
	cr_assert_eq(get32(pool, 40), 16384);
	expect_valid(&L, pool, POOL_ADDR, 0, n, n - 3, freed, 3);
	cr_assert(pool_inspect(&L, pool, POOL_ADDR, &pi, NULL));
	cr_assert_eq(pi.carved, 1021);
	cr_assert_eq(pool_block_offset(&L, &pi, 1019), 48 + 1019 * 16);
	cr_assert_eq(pool_block_offset(&L, &pi, 1020), 0);

	/* all allocated, no free list: a full pool */
	build(&L, pool, POOL_ADDR, 0, n, n, NULL, 0);
	expect_valid(&L, pool, POOL_ADDR, 0, n, n, NULL, 0);
}

/* count 0: an empty pool cached on its arena's freepools; its stale free list need not cover the
 * carved blocks, and none of them is live. */
Test(heap_pool, empty_pool_has_no_allocated_block)
{
	static const unsigned stale[] = { 3, 1 };
	struct pylayout L = layout(12);
	struct pool_info pi;

	build(&L, pool, POOL_ADDR, 4, 5, 0, stale, 2);
	expect_valid(&L, pool, POOL_ADDR, 4, 5, 0, stale, 2);
	cr_assert(pool_inspect(&L, pool, POOL_ADDR, &pi, NULL));
	cr_assert_eq(pi.count, 0);
	cr_assert_eq(pi.nfree, 5);
	for (unsigned i = 0; i < 1024; i++)
		cr_assert_eq(pool_block_offset(&L, &pi, i), 0);

	/* the same with an empty free list */
	build(&L, pool, POOL_ADDR, 4, 5, 0, NULL, 0);
	expect_valid(&L, pool, POOL_ADDR, 4, 5, 0, NULL, 0);
}

/* Every size class, both pool sizes: fresh, half used with every third block freed, and full. */
Test(heap_pool, every_size_class_valid_for_both_pool_sizes)
{
	static const int minors[] = { 8, 9, 10, 11, 12, 13 };
	static unsigned freed[POOL_MAX_BLOCKS];

	for (size_t m = 0; m < PC_ARRAY_LEN(minors); m++) {
		struct pylayout L = layout(minors[m]);
		for (unsigned szidx = 0; szidx < 32; szidx++) {
			unsigned n = capacity(&L, szidx), nf = 0;
			static const unsigned fresh_free[] = { 1 };

			cr_assert_eq(L.pool_size, minors[m] <= 9 ? 4096u : 16384u);
			cr_assert_leq(n, POOL_MAX_BLOCKS);
			build(&L, pool, POOL_ADDR, szidx, 2, 1, fresh_free, 1);
			expect_valid(&L, pool, POOL_ADDR, szidx, 2, 1, fresh_free, 1);

			/* free every third block, listed from the top down (LIFO order of frees) */
			for (unsigned i = n; i-- > 0;)
				if (i % 3 == 1)
					freed[nf++] = i;
			build(&L, pool, POOL_ADDR, szidx, n, n - nf, freed, nf);
			expect_valid(&L, pool, POOL_ADDR, szidx, n, n - nf, freed, nf);

			/* 4 KiB pools also sit at addresses that are not 16 KiB-aligned */
			if (L.pool_size == 4096) {
				build(&L, pool, POOL_ADDR + 0x1000, szidx, n, n - nf, freed, nf);
				expect_valid(&L, pool, POOL_ADDR + 0x1000, szidx, n, n - nf, freed, nf);
			}
		}
	}
}

/* A corruption of the reference pool and the words its rejection reason must contain. */
struct corrupt {
	const char *name;
	void (*apply)(const struct pylayout *L, uint8_t *p, uint64_t *addr);
	const char *why;
	bool header; /* pool_header_ok alone catches it */
};

static void c_misaligned(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)L, (void)p;
	*addr += 0x1000; /* page-aligned, not 16 KiB-aligned */
}
static void c_misaligned16(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)L, (void)p;
	*addr += 16;
}
static void c_ref_upper(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)addr;
	put32(p, L->off.ph_count + 4, 1);
}
static void c_ref_pointer(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)addr;
	put64(p, L->off.ph_count, 0x00007f0012345670ULL); /* a pointer in the ref union */
}
static void c_szidx32(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)addr;
	put32(p, L->off.ph_szidx, 32);
}
static void c_szidx_dummy(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)addr;
	put32(p, L->off.ph_szidx, 0xffff); /* DUMMY_SIZE_IDX */
}
static void c_maxnext_other_class(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)addr;
	put32(p, L->off.ph_maxnextoffset, (uint32_t)(L->pool_size - 80));
}
static void c_maxnext_zero(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)addr;
	put32(p, L->off.ph_maxnextoffset, 0);
}
static void c_next_one_block(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)addr;
	put32(p, L->off.ph_nextoffset, 48 + 64); /* below the first carve's 48 + 2*size */
}
static void c_next_zero(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)addr;
	put32(p, L->off.ph_nextoffset, 0);
}
static void c_next_too_large(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)addr;
	put32(p, L->off.ph_nextoffset, 48 + 256 * 64); /* N = 255 */
}
static void c_next_pool_size(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)addr;
	put32(p, L->off.ph_nextoffset, (uint32_t)L->pool_size); /* 16384 - 48 is not a multiple of 64 */
}
static void c_next_unaligned(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)addr;
	put32(p, L->off.ph_nextoffset, 48 + 10 * 64 + 16);
}
static void c_count_over_capacity(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)addr;
	put32(p, L->off.ph_count, 256);
}
static void c_cycle(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	set_link(L, p, REF_SZIDX, 2, block_addr(L, *addr, REF_SZIDX, 7)); /* 7 -> 2 -> 7 */
}
static void c_self_loop(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	set_link(L, p, REF_SZIDX, 5, block_addr(L, *addr, REF_SZIDX, 5));
}
static void c_link_after_pool(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	set_link(L, p, REF_SZIDX, 2, *addr + L->pool_size + 48);
}
static void c_link_before_pool(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	set_link(L, p, REF_SZIDX, -1, *addr - 64);
}
static void c_link_in_header(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	set_link(L, p, REF_SZIDX, 2, *addr + 16);
}
static void c_link_to_pool_start(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	set_link(L, p, REF_SZIDX, -1, *addr);
}
static void c_link_unaligned(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	set_link(L, p, REF_SZIDX, 2, block_addr(L, *addr, REF_SZIDX, 4) + 8);
}
static void c_link_beyond_next(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	set_link(L, p, REF_SZIDX, 5, block_addr(L, *addr, REF_SZIDX, 12)); /* carved: 0..9 */
}
static void c_link_at_next(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	set_link(L, p, REF_SZIDX, 5, block_addr(L, *addr, REF_SZIDX, 10)); /* the first virgin block */
}
/* All 10 carved blocks on the list, then an 11th link back to the head: longer than carved.
 * Every link is a distinct carved block until the repeat, so the cycle check fires first. */
static void c_longer_than_carved(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	static const unsigned all[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };

	build(L, p, *addr, REF_SZIDX, REF_CARVED, 0, all, 10);
	put32(p, L->off.ph_count, 1);
	set_link(L, p, REF_SZIDX, 9, block_addr(L, *addr, REF_SZIDX, 0));
}
static void c_count_low(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)addr;
	put32(p, L->off.ph_count, REF_COUNT - 1);
}
static void c_count_high(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	(void)addr;
	put32(p, L->off.ph_count, REF_COUNT + 2);
}
static void c_list_cut_short(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	set_link(L, p, REF_SZIDX, 2, 0); /* 7 -> 2 -> NULL: block 5 neither free nor counted */
	(void)addr;
}
static void c_no_free_list(const struct pylayout *L, uint8_t *p, uint64_t *addr)
{
	set_link(L, p, REF_SZIDX, -1, 0);
	(void)addr;
}

static const struct corrupt corruptions[] = {
	{ "address 4 KiB- but not 16 KiB-aligned", c_misaligned, "aligned", true },
	{ "address 16-byte aligned only", c_misaligned16, "aligned", true },
	{ "ref.count upper half nonzero", c_ref_upper, "upper half", true },
	{ "ref holds a pointer", c_ref_pointer, "upper half", true },
	{ "szidx 32", c_szidx32, "size class", true },
	{ "szidx DUMMY_SIZE_IDX", c_szidx_dummy, "size class", true },
	{ "maxnextoffset of another class", c_maxnext_other_class, "maxnextoffset", true },
	{ "maxnextoffset 0", c_maxnext_zero, "maxnextoffset", true },
	{ "nextoffset below the first carve", c_next_one_block, "nextoffset", true },
	{ "nextoffset 0", c_next_zero, "nextoffset", true },
	{ "nextoffset past N blocks", c_next_too_large, "nextoffset", true },
	{ "nextoffset POOL_SIZE off the block grid", c_next_pool_size, "nextoffset", true },
	{ "nextoffset not on a block boundary", c_next_unaligned, "nextoffset", true },
	{ "count above capacity", c_count_over_capacity, "capacity", true },
	{ "free list cycle 7 -> 2 -> 7", c_cycle, "cycle", false },
	{ "free block linking to itself", c_self_loop, "cycle", false },
	{ "link after the pool", c_link_after_pool, "outside", false },
	{ "freeblock before the pool", c_link_before_pool, "outside", false },
	{ "link into the pool header", c_link_in_header, "outside", false },
	{ "freeblock at the pool start", c_link_to_pool_start, "outside", false },
	{ "link not on a block boundary", c_link_unaligned, "boundary", false },
	{ "link beyond nextoffset", c_link_beyond_next, "outside", false },
	{ "link to the first virgin block", c_link_at_next, "outside", false },
	{ "list longer than the carved blocks", c_longer_than_carved, "cycle", false },
	{ "count + free < carved", c_count_low, "!= carved", false },
	{ "count + free > carved + 1", c_count_high, "!= carved", false },
	{ "free list cut short", c_list_cut_short, "!= carved", false },
	{ "free list missing", c_no_free_list, "!= carved", false },
};

Test(heap_pool, reference_pool_is_valid_before_each_corruption)
{
	struct pylayout L = ref_pool();
	struct pool_info pi;

	cr_assert(pool_inspect(&L, pool, POOL_ADDR, &pi, NULL));
	cr_assert_eq(pi.count, REF_COUNT);
	cr_assert_eq(pi.nfree, 3);
	cr_assert_eq(pi.carved, REF_CARVED);
}

Test(heap_pool, corruptions_rejected_with_reason)
{
	for (size_t k = 0; k < PC_ARRAY_LEN(corruptions); k++) {
		const struct corrupt *c = &corruptions[k];
		struct pylayout L = ref_pool();
		uint64_t addr = POOL_ADDR;
		struct pool_info pi;
		const char *why = NULL;
		bool hdr_ok;

		c->apply(&L, pool, &addr);
		hdr_ok = pool_header_ok(&L, pool, addr, &why);
		cr_assert_eq(hdr_ok, !c->header, "%s: pool_header_ok returned %d (%s)", c->name, hdr_ok,
			     why ? why : "no reason");
		if (c->header) {
			cr_assert_not_null(why, "%s", c->name);
			cr_assert(strstr(why, c->why), "%s: header reason '%s' lacks '%s'", c->name, why, c->why);
		}
		why = NULL;
		memset(&pi, 0x5a, sizeof pi);
		cr_assert_not(pool_inspect(&L, pool, addr, &pi, &why), "%s: accepted", c->name);
		cr_assert_not_null(why, "%s: no reason", c->name);
		cr_assert(strstr(why, c->why), "%s: reason '%s' lacks '%s'", c->name, why, c->why);
	}
}

/* A 4 KiB pool is valid at a 4 KiB-aligned address that a 16 KiB layout rejects. */
Test(heap_pool, alignment_follows_pool_size)
{
	struct pylayout L8 = layout(8), L12 = layout(12);
	static const unsigned f[] = { 4 };
	const char *why = NULL;

	build(&L8, pool, POOL_ADDR + 0x3000, 1, 6, 5, f, 1);
	expect_valid(&L8, pool, POOL_ADDR + 0x3000, 1, 6, 5, f, 1);
	build(&L12, pool, POOL_ADDR + 0x3000, 1, 6, 5, f, 1);
	cr_assert_not(pool_header_ok(&L12, pool, POOL_ADDR + 0x3000, &why));
	cr_assert(strstr(why, "aligned"));
}

/* The 4 KiB layout's own limits: nextoffset max 48 + N*size, count max N. */
Test(heap_pool, small_pool_limits)
{
	struct pylayout L = layout(8);
	unsigned n = capacity(&L, 31); /* 7 blocks of 512 */
	const char *why = NULL;
	struct pool_info pi;

	build(&L, pool, POOL_ADDR, 31, n, n, NULL, 0);
	expect_valid(&L, pool, POOL_ADDR, 31, n, n, NULL, 0);
	cr_assert_eq(get32(pool, 40), 48 + 7 * 512);
	cr_assert_eq(get32(pool, 44), 4096 - 512);

	put32(pool, L.off.ph_nextoffset, 48 + 8 * 512);
	cr_assert_not(pool_inspect(&L, pool, POOL_ADDR, &pi, &why));
	cr_assert(strstr(why, "nextoffset"));

	build(&L, pool, POOL_ADDR, 31, n, n, NULL, 0);
	put32(pool, L.off.ph_count, n + 1);
	cr_assert_not(pool_header_ok(&L, pool, POOL_ADDR, &why));
	cr_assert(strstr(why, "capacity"));

	/* a 16 KiB maxnextoffset in a 4 KiB layout */
	build(&L, pool, POOL_ADDR, 31, n, n, NULL, 0);
	put32(pool, L.off.ph_maxnextoffset, 16384 - 512);
	cr_assert_not(pool_header_ok(&L, pool, POOL_ADDR, &why));
	cr_assert(strstr(why, "maxnextoffset"));
}

/* A zeroed (uncarved) pool fails invariant 5: the scanner's main filter. */
Test(heap_pool, zero_pool_rejected)
{
	struct pylayout L = layout(12);
	const char *why = NULL;

	memset(pool, 0, sizeof pool);
	cr_assert_not(pool_header_ok(&L, pool, POOL_ADDR, &why));
	cr_assert_not_null(why);
	cr_assert(strstr(why, "maxnextoffset"), "%s", why);
}

/* A thread stopped between pymalloc_alloc's ++ref.count and its freeblock update (or in
 * pymalloc_free between the list and --ref.count): count one above; the pool is whole otherwise. */
Test(heap_pool, one_block_in_flux_is_accepted)
{
	struct pylayout L = ref_pool();
	struct pool_info pi;

	put32(pool, L.off.ph_count, REF_COUNT + 1);
	cr_assert(pool_inspect(&L, pool, POOL_ADDR, &pi, NULL));
	cr_expect(pi.in_flux);
	cr_expect_eq(pi.nfree, 3, "the free list is read as it is");
	put32(pool, L.off.ph_count, REF_COUNT);
	cr_assert(pool_inspect(&L, pool, POOL_ADDR, &pi, NULL));
	cr_expect(!pi.in_flux);
}
