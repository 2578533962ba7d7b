/* test_mipage.c: one mimalloc page (pymalloc/mipage.h) on synthetic descriptors and blocks laid
 * out as CPython 3.13t's mimalloc lays them (python/mimalloc.h): live blocks counted from the
 * free, local_free and xthread_free lists, every bad link refused with its reason. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <string.h>
#include "pymalloc/mipage.h"
#include "python/mimalloc.h"
#include "python/rules.h"

#define SEG 0x7f0002000000ull /* 32 MiB aligned */

static const struct pymi *M;
static uint8_t desc[96];
static uint8_t data[64 << 10];

static void setup(void)
{
	M = py_mimalloc(3, 13);
	cr_assert_not_null(M);
	cr_assert_eq(M->page_size, sizeof desc);
	memset(desc, 0, sizeof desc);
	memset(data, 0xab, sizeof data);
}

static void put64(uint8_t *p, uint16_t off, uint64_t v) { memcpy(p + off, &v, 8); }
static void put32(uint8_t *p, uint16_t off, uint32_t v) { memcpy(p + off, &v, 4); }
static void put16(uint8_t *p, uint16_t off, uint16_t v) { memcpy(p + off, &v, 2); }

/* The descriptor of slices[idx]: one slice, blocks of bsize, cap of reserved blocks set up,
 * `used` by mimalloc's count, heap tag. */
static uint64_t page(uint32_t idx, uint32_t bsize, uint16_t cap, uint16_t reserved, uint32_t used, unsigned tag)
{
	memset(desc, 0, sizeof desc);
	put32(desc, M->pg_slice_count, 1);
	put32(desc, M->pg_xblock_size, bsize);
	put16(desc, M->pg_capacity, cap);
	put16(desc, M->pg_reserved, reserved);
	put32(desc, M->pg_used, used);
	desc[M->pg_bits] = (uint8_t)(1 | tag << M->pg_tag_shift); /* is_committed, tag */
	return SEG + M->seg_slices + (uint64_t)idx * M->page_size;
}

/* Links block i (of bsize bytes) to `next` (an address, 0 for the end). */
static void link_block(uint32_t bsize, uint32_t i, uint64_t next)
{
	memcpy(data + (uint64_t)i * bsize, &next, 8);
}

static uint64_t blk(uint64_t start, uint32_t bsize, uint32_t i) { return start + (uint64_t)i * bsize; }

TestSuite(mipage, .init = setup);

Test(mipage, three_free_lists_leave_the_live_blocks)
{
	struct mipage pg;
	char why[160] = "";
	uint64_t addr = page(2, 48, 10, 40, 6, PYMI_HEAP_GC), st;

	cr_assert_eq(mipage_parse(M, addr, desc, &pg, why, sizeof why), 0, "%s", why);
	st = SEG + 2 * (64 << 10) + 3 * 48; /* 3 blocks in for blocks up to 64 bytes */
	cr_expect_eq(pg.start, st);
	cr_expect_eq(pg.segment, SEG);
	cr_expect_eq(pg.block_size, 48);
	cr_expect_eq(pg.area, 480);
	cr_expect_eq(pg.tag, PYMI_HEAP_GC);
	/* free: 9 -> 3 -> 7; local_free: 0; xthread_free: 5 -> 1 (flag bits 01 set on the head) */
	put64(desc, M->pg_free, blk(st, 48, 9));
	link_block(48, 9, blk(st, 48, 3));
	link_block(48, 3, blk(st, 48, 7));
	link_block(48, 7, 0);
	put64(desc, M->pg_local_free, blk(st, 48, 0));
	link_block(48, 0, 0);
	put64(desc, M->pg_xthread_free, blk(st, 48, 5) | 1);
	link_block(48, 5, blk(st, 48, 1));
	link_block(48, 1, 0);
	cr_assert_eq(mipage_split(M, desc, data, &pg, why, sizeof why), 0, "%s", why);
	cr_expect_eq(pg.nfree, 3);
	cr_expect_eq(pg.nlocal, 1);
	cr_expect_eq(pg.nthread, 2);
	cr_expect_eq(pg.nlive, 4);
	for (uint32_t i = 0; i < 10; i++)
		cr_expect_eq(mipage_live(&pg, i), i == 2 || i == 4 || i == 6 || i == 8, "block %u", i);
	cr_expect_not(mipage_live(&pg, 10), "past the capacity");
	/* a heap's delayed-free block: one live block less; twice or a free one: no */
	cr_expect(mipage_mark_free(&pg, blk(st, 48, 6)));
	cr_expect_not(mipage_mark_free(&pg, blk(st, 48, 6)));
	cr_expect_not(mipage_mark_free(&pg, blk(st, 48, 3)));
	cr_expect_not(mipage_mark_free(&pg, blk(st, 48, 6) + 8), "between blocks");
	cr_expect_not(mipage_mark_free(&pg, blk(st, 48, 10)), "past the capacity");
	cr_expect_eq(pg.nlive, 3);
	cr_expect_eq(pg.ndelayed, 1);
}

Test(mipage, start_offset_by_block_size)
{
	struct mipage pg;
	char why[160];
	static const struct { uint32_t bsize; uint64_t off; } cases[] = {
		{ 8, 24 }, { 64, 192 }, { 80, 80 }, { 512, 512 }, { 528, 0 }, { 16384, 0 },
	};

	for (size_t i = 0; i < PC_ARRAY_LEN(cases); i++) {
		uint64_t addr = page(5, cases[i].bsize, 1, 1, 1, PYMI_HEAP_OBJECT);
		cr_assert_eq(mipage_parse(M, addr, desc, &pg, why, sizeof why), 0, "%s", why);
		cr_expect_eq(pg.start, SEG + 5 * (64 << 10) + cases[i].off, "block size %u", cases[i].bsize);
	}
}

/* A huge page: xblock_size at MI_HUGE_BLOCK_SIZE or above, its one block the whole span. */
Test(mipage, huge_block_is_the_page)
{
	struct mipage pg;
	char why[160];
	uint64_t addr = page(1, (uint32_t)M->huge_block, 1, 1, 1, PYMI_HEAP_MEM);

	put32(desc, M->pg_slice_count, 300);
	cr_assert_eq(mipage_parse(M, addr, desc, &pg, why, sizeof why), 0, "%s", why);
	cr_expect_eq(pg.block_size, 300ull * (64 << 10));
	cr_assert_eq(mipage_split(M, desc, data, &pg, why, sizeof why), 0, "%s", why);
	cr_expect_eq(pg.nlive, 1);
}

static void expect_refused_desc(uint64_t addr, const char *must)
{
	struct mipage pg;
	char why[160] = "";

	cr_expect_eq(mipage_parse(M, addr, desc, &pg, why, sizeof why), -1, "accepted, wanted '%s'", must);
	cr_expect(strstr(why, must) != NULL, "'%s' does not say '%s'", why, must);
}

Test(mipage, bad_descriptors_refused)
{
	uint64_t addr = page(2, 48, 10, 40, 6, PYMI_HEAP_GC);

	expect_refused_desc(addr + 8, "not a slice");
	expect_refused_desc(SEG + 100, "not a slice");
	expect_refused_desc(SEG + M->seg_slices + (uint64_t)M->slices_max * M->page_size, "spans");
	put32(desc, M->pg_slice_count, 0);
	expect_refused_desc(addr, "spans");
	put32(desc, M->pg_slice_count, M->slices_max);
	expect_refused_desc(addr, "spans");
	page(2, 48, 10, 40, 6, PYMI_HEAP_GC);
	put32(desc, M->pg_slice_offset, 1);
	expect_refused_desc(addr, "not the first slice");
	page(2, 0, 10, 40, 6, PYMI_HEAP_GC);
	expect_refused_desc(addr, "not in use");
	page(2, 48, 41, 40, 6, PYMI_HEAP_GC);
	expect_refused_desc(addr, "do not fit");
	page(2, 48, 2000, 4000, 6, PYMI_HEAP_GC); /* 96000 bytes in a 64 KiB page */
	expect_refused_desc(addr, "do not fit");
	page(2, 48, 10, 40, 11, PYMI_HEAP_GC);
	expect_refused_desc(addr, "11 used of 10");
	page(2, 48, 10, 40, 6, 4);
	expect_refused_desc(addr, "heap tag 4");
	page(2, 4, 10, 40, 6, PYMI_HEAP_GC);
	expect_refused_desc(addr, "block size 4");
}

static void expect_refused_split(uint64_t addr, const char *must)
{
	struct mipage pg;
	char why[160] = "";

	cr_assert_eq(mipage_parse(M, addr, desc, &pg, why, sizeof why), 0, "%s", why);
	cr_expect_eq(mipage_split(M, desc, data, &pg, why, sizeof why), -1, "accepted, wanted '%s'", must);
	cr_expect(strstr(why, must) != NULL, "'%s' does not say '%s'", why, must);
}

Test(mipage, bad_free_lists_refused)
{
	uint64_t addr = page(2, 48, 10, 40, 8, PYMI_HEAP_GC);
	uint64_t st = SEG + 2 * (64 << 10) + 3 * 48;

	put64(desc, M->pg_free, st - 48);
	expect_refused_split(addr, "free link");
	put64(desc, M->pg_free, st + 10 * 48);
	expect_refused_split(addr, "free link");
	put64(desc, M->pg_free, st + 8);
	expect_refused_split(addr, "free link");
	/* a cycle: 1 -> 2 -> 1 */
	put64(desc, M->pg_free, blk(st, 48, 1));
	link_block(48, 1, blk(st, 48, 2));
	link_block(48, 2, blk(st, 48, 1));
	expect_refused_split(addr, "twice");
	/* the same block on two lists */
	link_block(48, 2, 0);
	put64(desc, M->pg_local_free, blk(st, 48, 2));
	expect_refused_split(addr, "twice");
	/* 8 used + 2 free (1 -> 2) + 0 local = 10 splits; 7 used: the count does not add up */
	page(2, 48, 10, 40, 8, PYMI_HEAP_GC);
	put64(desc, M->pg_free, blk(st, 48, 1));
	{
		struct mipage pg;
		char why[160] = "";
		cr_assert_eq(mipage_parse(M, addr, desc, &pg, why, sizeof why), 0, "%s", why);
		cr_expect_eq(mipage_split(M, desc, data, &pg, why, sizeof why), 0, "%s", why);
		cr_expect_eq(pg.nlive, 8);
	}
	page(2, 48, 10, 40, 7, PYMI_HEAP_GC);
	put64(desc, M->pg_free, blk(st, 48, 1));
	expect_refused_split(addr, "7 used + 2 free + 0 local_free != 10");
	/* a thread-free list that runs off the page */
	page(2, 48, 3, 40, 3, PYMI_HEAP_GC);
	put64(desc, M->pg_xthread_free, blk(st, 48, 0) | 2);
	link_block(48, 0, blk(st, 48, 1));
	link_block(48, 1, blk(st, 48, 2));
	link_block(48, 2, blk(st, 48, 3));
	expect_refused_split(addr, "xthread_free link");
}

/* The table's figures are those of the build: a page descriptor is a slice, 96 bytes, and a
 * segment's slices fit in front of its first data slice. */
Test(mipage, table_is_consistent)
{
	cr_expect_eq(M->seg_slices + (uint64_t)M->slices_max * M->page_size, 49512);
	cr_expect_eq(M->segment_size / M->slice_size, M->slices_max - 1);
	cr_expect_lt(M->heap_pages + (uint64_t)M->heap_nqueues * M->queue_size, M->heap_delayed_free + 1);
	cr_expect_lt(M->heap_tag, M->heap_size);
	cr_expect_null(py_mimalloc(3, 12));
}

/* ---- pymalloc/miheap.h: the walk over a synthetic target ---- */

#include "attach/mem.h"
#include "pymalloc/miheap.h"

#define SEG_A 0x7f0002000000ull /* a live thread's */
#define SEG_B 0x7f0004000000ull /* abandoned */
#define TS 0x10000000ull
#define INTERP 0x20000000ull

static uint8_t seg_a[49512], seg_b[49512], blocks_a[4 * 64], blocks_b[2 * 128];
static uint8_t ts_mem[360 + 4 * 3064], interp_mem[10816 + 320];

static uint8_t *slice(uint8_t *seg, uint32_t i) { return seg + M->seg_slices + (size_t)i * M->page_size; }

/* slices[0] the header span, slices[1] one page, the rest one free span. */
static void segment(uint8_t *seg, uint32_t bsize, uint16_t cap, uint32_t used, unsigned tag)
{
	memset(seg, 0, sizeof seg_a);
	put64(seg, M->seg_slice_entries, 10);
	put32(slice(seg, 0), M->pg_slice_count, 1);
	put32(slice(seg, 0), M->pg_xblock_size, 1);
	memset(desc, 0, sizeof desc);
	page(1, bsize, cap, cap, used, tag);
	memcpy(slice(seg, 1), desc, sizeof desc);
	put32(slice(seg, 2), M->pg_slice_count, 8);
}

struct seen {
	uint64_t blocks[16];
	unsigned tags[16];
	size_t n;
};

static void seen_block(void *arg, const struct mipage *pg, uint64_t block, const uint8_t *bytes, size_t len)
{
	struct seen *s = arg;

	cr_expect_eq(len, pg->block_size);
	cr_expect_eq(bytes[0], 0xab, "the block's own bytes");
	if (s->n < 16) {
		s->tags[s->n] = pg->tag;
		s->blocks[s->n++] = block;
	}
}

static void synthetic_target(struct mem *mem)
{
	uint64_t a = SEG_A + 1 * (64 << 10) + 3 * 64, b = SEG_B + 1 * (64 << 10) + 128;

	/* A: 4 blocks of 64 in the GC heap, 3 used (block 3 free), block 1 on the heap's delayed list */
	segment(seg_a, 64, 4, 3, PYMI_HEAP_GC);
	put64(slice(seg_a, 1), M->pg_free, a + 3 * 64);
	memset(blocks_a, 0xab, sizeof blocks_a);
	put64(blocks_a, 3 * 64, 0);
	put64(blocks_a, 1 * 64, 0);
	/* B: 2 blocks of 128 in the GC_PRE heap, both used, block 0 freed by another thread */
	segment(seg_b, 128, 2, 2, PYMI_HEAP_GC_PRE);
	put64(slice(seg_b, 1), M->pg_xthread_free, b | 1);
	memset(blocks_b, 0xab, sizeof blocks_b);
	put64(blocks_b, 0, 0);
	/* the thread's GC heap: queue 5 holds page A; its delayed list block A1 */
	memset(ts_mem, 0, sizeof ts_mem);
	put64(ts_mem, (uint16_t)(M->ts_heaps + 2 * M->heap_size + M->heap_pages + 5 * M->queue_size),
	      SEG_A + M->seg_slices + M->page_size);
	put64(ts_mem, (uint16_t)(M->ts_heaps + 2 * M->heap_size + M->heap_delayed_free), a + 64);
	/* the pool: B, tagged with a count in the low bits */
	memset(interp_mem, 0, sizeof interp_mem);
	put64(interp_mem, (uint16_t)(M->is_abandoned_pool + M->pool_abandoned), SEG_B | 3);
	mem_init_buffer(mem);
	mem_add_region(mem, SEG_A, seg_a, sizeof seg_a);
	mem_add_region(mem, a, blocks_a, sizeof blocks_a);
	mem_add_region(mem, SEG_B, seg_b, sizeof seg_b);
	mem_add_region(mem, b, blocks_b, sizeof blocks_b);
	mem_add_region(mem, TS, ts_mem, sizeof ts_mem);
	mem_add_region(mem, INTERP, interp_mem, sizeof interp_mem);
}

Test(mipage, heap_walk_over_owned_and_abandoned_segments)
{
	struct mem mem;
	struct miheap_totals t;
	struct pc_err e = { 0 };
	struct seen s = { .n = 0 };
	uint64_t ts = TS;

	synthetic_target(&mem);
	cr_assert_eq(miheap_walk(&mem, M, INTERP, &ts, 1, seen_block, &s, &t, &e), 0, "%s", e.detail);
	cr_expect_eq(t.segments, 2);
	cr_expect_eq(t.abandoned_segments, 1);
	cr_expect_eq(t.abandoned_pages, 1);
	cr_expect_eq(t.pages[PYMI_HEAP_GC], 1);
	cr_expect_eq(t.pages[PYMI_HEAP_GC_PRE], 1);
	cr_expect_eq(t.live[PYMI_HEAP_GC], 2, "4 blocks - 1 free - 1 delayed");
	cr_expect_eq(t.live[PYMI_HEAP_GC_PRE], 1, "2 blocks - 1 thread-freed");
	cr_expect_eq(t.live_bytes[PYMI_HEAP_GC], 128);
	cr_expect_eq(t.delayed, 1);
	cr_expect_eq(t.skipped_pages + t.skipped_segments, 0, "%s", t.first_skip);
	cr_assert_eq(s.n, 3);
	cr_expect_eq(s.blocks[0], SEG_A + (64 << 10) + 3 * 64 + 0 * 64);
	cr_expect_eq(s.blocks[1], SEG_A + (64 << 10) + 3 * 64 + 2 * 64);
	cr_expect_eq(s.blocks[2], SEG_B + (64 << 10) + 128 + 128);
	cr_expect_eq(s.tags[2], PYMI_HEAP_GC_PRE);
	mem_release(&mem);
}

/* What cannot be read or does not check out is skipped, counted and named; the rest is walked. */
Test(mipage, heap_walk_skips_and_names_bad_parts)
{
	struct mem mem;
	struct miheap_totals t;
	struct pc_err e = { 0 };
	uint64_t ts = TS;

	synthetic_target(&mem);
	put32(slice(seg_b, 1), M->pg_used, 1); /* B: 1 used + 0 free != 2 blocks */
	cr_assert_eq(miheap_walk(&mem, M, INTERP, &ts, 1, NULL, NULL, &t, &e), 0, "%s", e.detail);
	cr_expect_eq(t.skipped_pages, 1);
	cr_expect(strstr(t.first_skip, "1 used + 0 free + 0 local_free != 2") != NULL, "%s", t.first_skip);
	cr_expect_eq(t.live[PYMI_HEAP_GC], 2);
	mem_release(&mem);

	synthetic_target(&mem);
	put64(seg_a, M->seg_slice_entries, 0);
	put32(slice(seg_b, 2), M->pg_slice_count, 0);
	cr_assert_eq(miheap_walk(&mem, M, INTERP, &ts, 1, NULL, NULL, &t, &e), 0, "%s", e.detail);
	cr_expect_eq(t.skipped_segments, 2);
	cr_expect(strstr(t.first_skip, "0 slice entries") != NULL, "%s", t.first_skip);
	cr_expect_eq(t.live[PYMI_HEAP_GC_PRE], 1, "B's page before the bad span still counted");
	mem_release(&mem);

	/* a queue whose page links into unmapped memory; an abandoned list that loops on itself */
	synthetic_target(&mem);
	put64(slice(seg_a, 1), M->pg_next, 0x5000);
	put64(seg_b, M->seg_abandoned_next, SEG_B);
	cr_assert_eq(miheap_walk(&mem, M, INTERP, &ts, 1, NULL, NULL, &t, &e), 0, "%s", e.detail);
	cr_expect_eq(t.segments, 2, "the loop adds B once");
	cr_expect_eq(t.skipped_pages, 1);
	cr_expect(strstr(t.first_skip, "unreadable") != NULL, "%s", t.first_skip);
	mem_release(&mem);

	/* nothing readable at all */
	mem_init_buffer(&mem);
	cr_expect_eq(miheap_walk(&mem, M, INTERP, &ts, 1, NULL, NULL, &t, &e), -1);
	cr_expect_eq(e.code, PC_ETARGETMEM);
	mem_release(&mem);
}

/* ---- pymalloc/micopy.h: the pages copied while stopped, walked after the target changed ---- */

#include <stdlib.h>
#include "model/census.h"
#include "pymalloc/micopy.h"

/* The synthetic target as a process image (reads that miss the copies reach it, as a live
 * target's would), under a pyproc for heapcopy_fill. */
static void synthetic_image(struct pyproc *p, struct mem_region *img)
{
	uint64_t a = SEG_A + (64 << 10) + 3 * 64, b = SEG_B + (64 << 10) + 128;
	struct mem scratch;

	synthetic_target(&scratch); /* fills the arrays */
	mem_release(&scratch);
	img[0] = (struct mem_region){ TS, sizeof ts_mem, ts_mem };
	img[1] = (struct mem_region){ INTERP, sizeof interp_mem, interp_mem };
	img[2] = (struct mem_region){ SEG_A, sizeof seg_a, seg_a };
	img[3] = (struct mem_region){ a, sizeof blocks_a, blocks_a };
	img[4] = (struct mem_region){ SEG_B, sizeof seg_b, seg_b };
	img[5] = (struct mem_region){ b, sizeof blocks_b, blocks_b };
	memset(p, 0, sizeof *p);
	mem_init_buffer(&p->mem);
	mem_set_image(&p->mem, img, 6);
}

/* The copy lists each segment's header and each in-use page's blocks, nothing else; once read,
 * a walk of the set gathered at the stop sees the heaps of the stop though the target went on
 * (a block allocated, a page's descriptor rewritten, the delayed list emptied). */
Test(mipage, copy_is_walked_as_it_was_at_the_stop)
{
	static struct pyproc p;
	struct mem_region img[6];
	struct miheap_set set;
	struct heapcopy hc = { 0 };
	struct miheap_totals t;
	struct census c;
	struct pc_err e = { 0 };
	uint64_t ts = TS, a = SEG_A + (64 << 10) + 3 * 64, b = SEG_B + (64 << 10) + 128;
	size_t hdr = miheap_segment_header(M);

	synthetic_image(&p, img);
	census_init(&c);
	miheap_collect(&p.mem, M, INTERP, &ts, 1, &set);
	cr_assert_eq(set.nsegs, 2);
	cr_expect_eq(set.ndelayed, 1);
	cr_assert_eq(micopy_plan(&p.mem, M, &set, &hc), 2 * hdr + 4 * 64 + 2 * 128);
	cr_assert_eq(hc.n, 4);
	cr_expect(hc.v[0].addr == SEG_A && hc.v[0].len == hdr && hc.v[1].addr == a && hc.v[1].len == 4 * 64);
	cr_expect(hc.v[2].addr == SEG_B && hc.v[2].len == hdr && hc.v[3].addr == b && hc.v[3].len == 2 * 128);
	cr_assert_eq(heapcopy_fill(&p, &hc, &c), 0);
	cr_expect_eq(hc.bytes, 2 * hdr + 4 * 64 + 2 * 128);
	/* the target runs on: block 3 of A allocated, B's page rewritten as empty, the delayed list
	 * and the pool cleared */
	put32(slice(seg_a, 1), M->pg_used, 4);
	put64(slice(seg_a, 1), M->pg_free, 0);
	put32(slice(seg_b, 1), M->pg_xblock_size, 0);
	memset(ts_mem, 0, sizeof ts_mem);
	memset(interp_mem, 0, sizeof interp_mem);
	cr_assert_eq(miheap_walk_set(&p.mem, M, &set, NULL, NULL, &t, &e), 0, "%s", e.detail);
	cr_expect_eq(t.segments, 2);
	cr_expect_eq(t.live[PYMI_HEAP_GC], 2, "the stop's: 4 blocks - 1 free - 1 delayed");
	cr_expect_eq(t.live[PYMI_HEAP_GC_PRE], 1);
	cr_expect_eq(t.skipped_pages + t.skipped_segments, 0, "%s", t.first_skip);
	/* the same walk of the target as it is now sees the changes: the copy was what was read */
	mem_release(&p.mem);
	mem_init_buffer(&p.mem);
	mem_set_image(&p.mem, img, 6);
	cr_assert_eq(miheap_walk_set(&p.mem, M, &set, NULL, NULL, &t, &e), 0, "%s", e.detail);
	cr_expect_eq(t.live[PYMI_HEAP_GC], 3);
	cr_expect_eq(t.live[PYMI_HEAP_GC_PRE], 0);
	heapcopy_release(&hc);
	miheap_set_release(&set);
	census_release(&c);
	mem_release(&p.mem);
}

/* Segments that cannot be read or pages that do not parse add no region; regions that overlap
 * (a corrupt descriptor pointing into another page) are dropped, never registered twice. */
Test(mipage, copy_leaves_out_what_does_not_check_out)
{
	static struct pyproc p;
	struct mem_region img[6];
	struct miheap_set set;
	struct heapcopy hc = { 0 };
	uint64_t ts = TS;
	size_t hdr = miheap_segment_header(M);

	synthetic_image(&p, img);
	put32(slice(seg_b, 1), M->pg_used, 9); /* more used than blocks: mipage_parse refuses it */
	miheap_collect(&p.mem, M, INTERP, &ts, 1, &set);
	set.segs = realloc(set.segs, 3 * sizeof *set.segs);
	set.segs[set.nsegs++] = 0x7f0006000000ull; /* not mapped */
	cr_expect_eq(micopy_plan(&p.mem, M, &set, &hc), 2 * hdr + 4 * 64);
	cr_expect_eq(hc.n, 3);
	/* A's last slice made a page: its blocks start 32 MiB on, inside B's header (segments are
	 * 32 MiB apart, a span may reach one slice past its segment): dropped, not registered twice */
	put32(slice(seg_b, 1), M->pg_used, 2);
	put64(seg_a, M->seg_slice_entries, M->slices_max);
	put32(slice(seg_a, 2), M->pg_slice_count, M->slices_max - 3);
	memcpy(slice(seg_a, M->slices_max - 1), slice(seg_a, 1), M->page_size);
	cr_expect_eq(micopy_plan(&p.mem, M, &set, &hc), 2 * hdr + 4 * 64 + 2 * 128);
	cr_expect_eq(hc.n, 4);
	for (size_t i = 1; i < hc.n; i++)
		cr_expect_geq(hc.v[i].addr, hc.v[i - 1].addr + hc.v[i - 1].len, "regions %zu and %zu overlap", i - 1, i);
	heapcopy_release(&hc);
	miheap_set_release(&set);
	mem_release(&p.mem);
}

/* ---- the free-threaded object header (python/mimalloc.h) ---- */

static void header(uint8_t *h, uint32_t local, int64_t shared, uint8_t gc_bits)
{
	memset(h, 0, PYFT_HEADER);
	put64(h, 0, 0x7f0011223344ull); /* ob_tid */
	h[11] = gc_bits;
	put32(h, 12, local);
	put64(h, 16, (uint64_t)shared);
	put64(h, PYFT_OB_TYPE, 0x55aa00ull);
}

Test(mipage, object_header_refcounts)
{
	uint8_t h[PYFT_HEADER];
	struct pyft_object o;

	header(h, 2, 0, 1);
	pyft_object_read(h, &o);
	cr_expect_eq(o.type, 0x55aa00ull);
	cr_expect_eq(o.tid, 0x7f0011223344ull);
	cr_expect_eq(o.gc_bits, 1);
	cr_expect_not(pyft_dead(&o));
	cr_expect_not(pyft_immortal(&o));
	header(h, 0, 0, 0); /* a list on its thread's freelist */
	pyft_object_read(h, &o);
	cr_expect(pyft_dead(&o));
	header(h, 0, 3, 0); /* merged, no count left */
	pyft_object_read(h, &o);
	cr_expect(pyft_dead(&o));
	header(h, 0, -(2 << 2), 0); /* more decrefs from other threads than refs: gone */
	pyft_object_read(h, &o);
	cr_expect(pyft_dead(&o));
	header(h, 0, (1 << 2) | 3, PYFT_GC_DEFERRED); /* owned by another thread, or deferred */
	pyft_object_read(h, &o);
	cr_expect_not(pyft_dead(&o));
	header(h, UINT32_MAX, 0, 0);
	pyft_object_read(h, &o);
	cr_expect(pyft_immortal(&o));
	cr_expect_not(pyft_dead(&o));
}

/* The census asks python/rules.h for the refcount (py_ob_refcnt) through the 3.13t table's
 * offsets: it agrees with the header read above, dead objects give 0 (not plausible: left out),
 * immortal ones UINT32_MAX (plausible), and a GIL table still reads ob_refcnt. */
Test(mipage, census_refcount_from_the_table)
{
	static const struct { uint32_t local; int64_t shared; uint64_t want; } rows[] = {
		{ 2, 0, 2 }, { 0, 0, 0 }, { 0, 3, 0 }, { 0, -(2 << 2), 0 }, { 0, (1 << 2) | 3, 1 },
		{ 1, 5 << 2, 6 }, { 3, -(1 << 2), 2 }, { UINT32_MAX, 0, UINT32_MAX },
	};
	struct pylayout ft, gil;
	struct pc_err e = { 0 };
	uint8_t h[PYFT_HEADER];
	bool found = false;

	for (size_t i = 0; i < pylayout_ntables; i++)
		if (layout_table_free_threaded(pylayout_tables[i])) {
			layout_from_table(pylayout_tables[i], &ft);
			found = true;
		}
	cr_assert(found, "no free-threaded table");
	for (size_t i = 0; i < PC_ARRAY_LEN(rows); i++) {
		struct pyft_object o;
		uint64_t r;

		header(h, rows[i].local, rows[i].shared, 0);
		pyft_object_read(h, &o);
		r = py_ob_refcnt(&ft, h);
		cr_expect_eq(r, rows[i].want, "local %u shared %lld", rows[i].local, (long long)rows[i].shared);
		cr_expect_eq(py_refcnt_plausible(&ft, r), !pyft_dead(&o), "row %zu", i);
	}
	cr_assert_eq(layout_lookup(3, 13, &gil, &e), 0, "%s", e.detail);
	memset(h, 0, sizeof h);
	h[0] = 7;
	cr_expect_eq(py_ob_refcnt(&gil, h), 7);
}
