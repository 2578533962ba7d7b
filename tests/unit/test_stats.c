/* test_stats.c: the pieces of `pycensus stats` that need no target: the /proc parsers
 * (attach/procmem), the pymalloc tally over a synthetic heap copy (heap/mallocstats, with the
 * real 3.12 layout) and the number format of the report. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/procmem.h"
#include "pymalloc/mallocstats.h"
#include "report/stats.h"
#include "python/layout.h"

static const char status_text[] =
	"Name:\tpython3\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t42\n"
	"VmPeak:\t   40000 kB\nVmHWM:\t   33184 kB\nVmRSS:\t   31000 kB\nRssAnon:\t   26644 kB\n"
	"RssFile:\t    4356 kB\nRssShmem:\t       0 kB\nVmData:\t   30000 kB\nVmSwap:\t      12 kB\n"
	"Threads:\t2\n";

static const char rollup_text[] =
	"5605e6973000-7ffc05428000 ---p 00000000 00:00 0                          [rollup]\n"
	"Rss:               31000 kB\nPss:               29120 kB\nPss_Dirty:         26000 kB\n"
	"Shared_Clean:       1900 kB\nShared_Dirty:          0 kB\nPrivate_Clean:       400 kB\n"
	"Private_Dirty:     26700 kB\nSwap:                 12 kB\nSwapPss:              12 kB\n";

Test(procmem, parses_status)
{
	struct procmem m = { 0 };

	procmem_parse_status(status_text, &m);
	cr_assert(m.have_status);
	cr_expect_eq(m.vm_rss, 31000ull * 1024);
	cr_expect_eq(m.vm_hwm, 33184ull * 1024);
	cr_expect_eq(m.rss_anon, 26644ull * 1024);
	cr_expect_eq(m.rss_file, 4356ull * 1024);
	cr_expect_eq(m.rss_shmem, 0);
	cr_expect_eq(m.vm_swap, 12ull * 1024);
	cr_expect(!m.have_rollup);
}

Test(procmem, parses_rollup_without_confusing_prefixes)
{
	struct procmem m = { 0 };

	procmem_parse_rollup(rollup_text, &m);
	cr_assert(m.have_rollup);
	/* "Pss_Dirty:" and "SwapPss:" must not be read as Pss and Swap */
	cr_expect_eq(m.pss, 29120ull * 1024);
	cr_expect_eq(m.swap, 12ull * 1024);
	cr_expect_eq(procmem_uss(&m), (400ull + 26700) * 1024);
}

Test(procmem, kernel_thread_and_garbage_have_nothing)
{
	struct procmem m = { 0 };

	procmem_parse_status("Name:\tkthreadd\nState:\tS (sleeping)\nThreads:\t1\n", &m);
	cr_expect(!m.have_status);
	procmem_parse_rollup("VmRSS: lots\nPss:\tmany kB\n\n\x01\xff", &m);
	cr_expect(!m.have_rollup);
	cr_expect_eq(m.pss, 0);
	procmem_parse_status("", &m);
	cr_expect(!m.have_status);
}

Test(procmem, reads_own_process)
{
	struct procmem m;
	struct procmem_range r;
	struct pc_err e = { 0 };
	uint64_t res, swp;
	static char page[3 * 4096] __attribute__((aligned(4096)));

	cr_assert_eq(procmem_read(getpid(), &m, &e), 0, "%s", e.detail);
	cr_expect(m.have_status && m.vm_rss > 0 && m.vm_hwm >= m.vm_rss);
	memset(page, 1, 4096); /* one page touched, two not */
	r = (struct procmem_range){ (uint64_t)(uintptr_t)page, (uint64_t)(uintptr_t)page + sizeof page };
	cr_assert_eq(procmem_resident(getpid(), &r, 1, &res, &swp, &e), 0, "%s", e.detail);
	cr_expect_eq(res, 4096, "resident %llu", (unsigned long long)res);
}

Test(stats_report, commas)
{
	char b[32];

	cr_expect_str_eq(stats_commas(0, b, sizeof b), "0");
	cr_expect_str_eq(stats_commas(999, b, sizeof b), "999");
	cr_expect_str_eq(stats_commas(1000, b, sizeof b), "1,000");
	cr_expect_str_eq(stats_commas(25165824, b, sizeof b), "25,165,824");
	cr_expect_str_eq(stats_commas(18446744073709551615ull, b, sizeof b), "18,446,744,073,709,551,615");
}

/* A full pool (every block allocated, no free list) or one with `count` blocks carved and live. */
static void pool(const struct pylayout *L, uint8_t *p, unsigned szidx, unsigned count)
{
	const struct pyoffsets *o = &L->off;
	unsigned size = (szidx + 1) * L->size_class_step, hsz = (unsigned)o->pool_header_size;
	uint64_t c = count;
	uint32_t v;

	memset(p, 0, L->pool_size);
	memcpy(p + o->ph_count, &c, 8);
	memcpy(p + o->ph_szidx, &szidx, 4);
	v = hsz + (count < 2 ? 2 : count) * size;
	memcpy(p + o->ph_nextoffset, &v, 4);
	v = (uint32_t)L->pool_size - size;
	memcpy(p + o->ph_maxnextoffset, &v, 4);
}

/* Arena A: four full pools of 512-byte blocks (97% used); arena B: one pool with three 32-byte
 * blocks and one empty pool (pinned); a third arena in the table has no carved pool (empty). */
Test(mallocstats, tally_matches_debugmallocstats_formulas)
{
	struct pylayout L;
	struct pc_err e = { 0 };
	struct mallocstats ms = { 0 };
	struct arena_copy v[2];
	struct heapcopy hc = { 0 };
	uint8_t *a, *b;

	cr_assert_eq(layout_lookup(3, 12, &L, &e), 0, "%s", e.detail);
	a = calloc(4, L.pool_size);
	b = calloc(2, L.pool_size);
	for (int i = 0; i < 4; i++)
		pool(&L, a + i * L.pool_size, 31, 31);
	pool(&L, b, 1, 3);
	pool(&L, b + L.pool_size, 1, 0);
	v[0] = (struct arena_copy){ 0x7f0000000000ull, 4 * L.pool_size, a };
	v[1] = (struct arena_copy){ 0x7f0000400000ull, 2 * L.pool_size, b };
	hc.v = v;
	hc.n = 2;
	hc.table = (struct arena_table_sum){ true, 3, 100, 1 };
	mallocstats_tally(&L, &hc, &ms);

	cr_expect_eq(ms.cls[31].pools, 4);
	cr_expect_eq(ms.cls[31].blocks, 124);
	cr_expect_eq(ms.cls[31].avail, 0);
	cr_expect_eq(ms.cls[1].pools, 1);
	cr_expect_eq(ms.cls[1].blocks, 3);
	cr_expect_eq(ms.cls[1].avail, 510 - 3);
	cr_expect_eq(ms.narenas, 3);
	cr_expect_eq(ms.allocated_bytes, 124 * 512 + 3 * 32);
	cr_expect_eq(ms.available_bytes, 507 * 32);
	cr_expect_eq(ms.pool_header_bytes, 5 * 48);
	cr_expect_eq(ms.quantization, 4 * ((16384 - 48) % 512) + (16384 - 48) % 32);
	cr_expect(ms.have_table);
	cr_expect_eq(ms.unused_pools, 100);
	cr_expect_eq(ms.alignment_bytes, 16384);
	cr_expect_eq(ms.empty_pools, 1);
	cr_expect_eq(ms.pinned_arenas, 1);
	cr_expect_eq(ms.pinned_blocks, 3);
	cr_expect_eq(ms.pinned_block_bytes, 96);
	cr_expect_eq(ms.pinned_bytes, 1 << 20);
	cr_expect_eq(ms.empty_arenas, 1);
	cr_expect_eq(ms.unused_and_alignment, 3ull * (1 << 20) - ms.allocated_bytes - ms.available_bytes -
						      ms.pool_header_bytes - ms.quantization);
	free(a);
	free(b);
}

Test(mallocstats, scan_leaves_table_figures_unavailable)
{
	struct pylayout L;
	struct pc_err e = { 0 };
	struct mallocstats ms = { 0 };
	struct heapcopy hc = { 0 };

	cr_assert_eq(layout_lookup(3, 11, &L, &e), 0, "%s", e.detail);
	mallocstats_tally(&L, &hc, &ms);
	cr_expect(!ms.have_table);
	cr_expect(ms.table_why && strstr(ms.table_why, "scanning pool headers"));
	cr_expect_eq(ms.narenas, 0);
	cr_expect_eq(ms.unused_and_alignment, 0);
}
