/* test_prefetch.c: ranges read ahead in one batch (attach/prefetch.h, mem_prefetch in
 * attach/mem.h). The store: planning (sorted, repeats and neighbours joined into bounded spans,
 * garbage dropped, the batch bounded) and finding. The live reader: this test process reads
 * itself, so the syscall counts are the reader's own. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "attach/mem.h"
#include "attach/prefetch.h"

Test(attach_prefetch, plan_sorts_joins_repeats_and_neighbours_and_keeps_far_ones_apart)
{
	/* 0x10000 twice (the longer kept), 0x10020 inside it, 0x10800 less than a page after its end,
	 * 0x20000 far away, and garbage: empty, oversized, wrapping, address 0 */
	const uint64_t a[] = { 0x20000, 0x10000, 0x10800, 0x10000, 0x10020, 0x30000, 0x40000, UINT64_MAX - 8, 0 };
	const uint32_t l[] = { 64, 32, 16, 128, 8, 0, PREFETCH_MAX_LEN + 1, 64, 8 };
	struct prefetch f = { 0 };

	cr_assert_eq(prefetch_plan(&f, a, l, PC_ARRAY_LEN(a)), 2);
	cr_assert_eq(f.v[0].addr, 0x10000);
	cr_assert_eq(f.v[0].len, 0x810, "one span from 0x10000 to the end of 0x10800: %u", f.v[0].len);
	cr_assert_eq(f.v[0].off, 0);
	cr_assert_eq(f.v[1].addr, 0x20000);
	cr_assert_eq(f.v[1].len, 64);
	cr_assert_eq(f.v[1].off, 0x810);
	cr_assert_geq(f.bufcap, 0x810 + 64);
	prefetch_release(&f);
}

Test(attach_prefetch, a_page_apart_is_two_spans_and_a_span_stops_at_its_bound)
{
	uint64_t a[40];
	uint32_t l[40];
	struct prefetch f = { 0 };

	a[0] = 0x100000;
	l[0] = 64;
	a[1] = 0x100000 + 64 + PREFETCH_GAP; /* exactly a page after the end: not joined */
	l[1] = 64;
	cr_assert_eq(prefetch_plan(&f, a, l, 2), 2);
	/* 4 KiB ranges back to back: joined until the span would pass PREFETCH_SPAN_MAX */
	for (size_t i = 0; i < 40; i++) {
		a[i] = 0x200000 + i * PREFETCH_MAX_LEN;
		l[i] = PREFETCH_MAX_LEN;
	}
	cr_assert_eq(prefetch_plan(&f, a, l, 40), (40 * PREFETCH_MAX_LEN + PREFETCH_SPAN_MAX - 1) / PREFETCH_SPAN_MAX);
	for (size_t i = 0; i < f.n; i++)
		cr_assert_leq(f.v[i].len, PREFETCH_SPAN_MAX);
	prefetch_release(&f);
}

/* Reads longer than their stride (types read whole, 1 KiB apart) overlap: at a span's bound the
 * next one starts a span of its own over the end of the last, and every read is served. */
Test(attach_prefetch, overlapping_reads_past_a_span_bound_are_all_served)
{
	enum { N = 200, STEP = 1024, LEN = 1500 };
	uint64_t a[N];
	uint32_t l[N];
	struct prefetch f = { 0 };
	size_t spans;

	for (size_t i = 0; i < N; i++) {
		a[i] = 0x700000 + i * STEP;
		l[i] = LEN;
	}
	spans = prefetch_plan(&f, a, l, N);
	cr_assert_gt(spans, 1, "200 KiB cannot be one span");
	for (size_t i = 0; i < spans; i++)
		cr_assert_leq(f.v[i].len, PREFETCH_SPAN_MAX);
	for (size_t i = 0; i < N; i++)
		cr_assert_not_null(prefetch_find(&f, a[i], l[i]), "read %zu at 0x%llx not served", i,
				   (unsigned long long)a[i]);
	prefetch_release(&f);
}

Test(attach_prefetch, a_batch_is_bounded_in_ranges)
{
	size_t n = PREFETCH_MAX_RANGES + 100;
	uint64_t *a = calloc(n, sizeof *a);
	uint32_t *l = calloc(n, sizeof *l);
	struct prefetch f = { 0 };

	for (size_t i = 0; i < n; i++) {
		a[i] = 0x1000000 + (uint64_t)(n - i) * 2 * PREFETCH_GAP; /* far apart, in reverse order */
		l[i] = 8;
	}
	cr_assert_eq(prefetch_plan(&f, a, l, n), PREFETCH_MAX_RANGES);
	cr_assert_eq(f.v[0].addr, 0x1000000 + 2 * PREFETCH_GAP, "the lowest first");
	free(a);
	free(l);
	prefetch_release(&f);
}

Test(attach_prefetch, find_serves_only_whole_reads_inside_one_span)
{
	const uint64_t a[] = { 0x5000, 0x9000 };
	const uint32_t l[] = { 32, 16 };
	struct prefetch f = { 0 };

	prefetch_plan(&f, a, l, 2);
	memset(f.buf, 0xab, 48);
	f.buf[5] = 7;
	cr_assert_eq(prefetch_find(&f, 0x5000, 32), f.buf);
	cr_assert_eq(*prefetch_find(&f, 0x5005, 1), 7);
	cr_assert_null(prefetch_find(&f, 0x4ff8, 16), "starts before the span");
	cr_assert_null(prefetch_find(&f, 0x5010, 32), "runs past its end");
	cr_assert_eq(prefetch_find(&f, 0x9008, 8), f.buf + 32 + 8);
	cr_assert_null(prefetch_find(&f, 0x1000, 8), "before every span");
	prefetch_keep(&f, (const bool[]){ false, true });
	cr_assert_null(prefetch_find(&f, 0x5000, 8), "not read: not kept");
	cr_assert_eq(prefetch_find(&f, 0x9000, 8), f.buf + 32);
	prefetch_release(&f);
}

static bool vm_readv_works(void)
{
	uint64_t src = 42, dst = 0;
	struct iovec l = { &dst, 8 }, r = { &src, 8 };

	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == 8 && dst == 42;
}

/* 2,000 ranges of 64 bytes, 8 KiB apart, over a mapping with one page unmapped: one batched
 * read (a faulting iovec costs one more) serves all the readable ones afterwards; the ones in the
 * hole fail as before. */
Test(attach_prefetch, a_live_batch_serves_later_reads_without_syscalls)
{
	enum { N = 2000, STEP = 8192 };
	size_t len = (size_t)N * STEP;
	uint8_t *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t *a = calloc(N, sizeof *a), v, before;
	uint32_t *l = calloc(N, sizeof *l);
	size_t hole = 700; /* range 700 lies in the unmapped page */
	struct mem m;

	if (!vm_readv_works())
		cr_skip_test("process_vm_readv does not work here");
	cr_assert_neq(map, MAP_FAILED);
	for (size_t i = 0; i < N; i++) {
		v = 0x1000000000ULL + i;
		memcpy(map + i * STEP, &v, 8);
		a[i] = (uint64_t)(uintptr_t)(map + i * STEP);
		l[i] = 64;
	}
	cr_assert_eq(munmap(map + hole * STEP, 4096), 0);
	mem_init_pid(&m, getpid());
	cr_assert_eq(mem_prefetch(&m, a, l, N), 0, "no chunks: a reader that may poll reads ahead nothing");
	mem_use_chunks(&m);
	before = m.stats.syscalls;
	cr_assert_eq(mem_prefetch(&m, a, l, N), N - 1);
	cr_assert_leq(m.stats.syscalls - before, 4, "%llu syscalls", (unsigned long long)(m.stats.syscalls - before));
	before = m.stats.syscalls;
	for (size_t i = 0; i < N; i++) {
		if (i == hole)
			continue;
		cr_assert_eq(mem_read_u64(&m, a[i] + 0, &v, NULL), 0, "range %zu", i);
		cr_assert_eq(v, 0x1000000000ULL + i);
	}
	cr_assert_eq(m.stats.syscalls, before, "served from the batch");
	cr_assert_eq(mem_read_u64(&m, a[hole], &v, NULL), -1);
	mem_release(&m);
	munmap(map, hole * STEP);
	munmap(map + hole * STEP + 4096, len - hole * STEP - 4096);
	free(a);
	free(l);
}

/* A batch holds what the target held when it was read, until the next batch or a drop; a fresh
 * read (--nonblocking's check) never sees it. (A batch of one or two is read through the chunks,
 * which keep what they read too: attach/chunks.h.) */
Test(attach_prefetch, a_batch_is_let_go_by_the_next_and_hidden_from_fresh_reads)
{
	uint8_t *map = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t a0 = (uint64_t)(uintptr_t)map, a1 = a0 + 4096, v = 0, fresh = 0, one = 1, two = 2;
	uint32_t l = 8;
	struct mem_req r = { a0, &fresh, 8, false };
	struct mem m;

	if (!vm_readv_works())
		cr_skip_test("process_vm_readv does not work here");
	cr_assert_neq(map, MAP_FAILED);
	memcpy(map, &one, 8);
	mem_init_pid(&m, getpid());
	mem_use_chunks(&m);
	cr_assert_eq(mem_prefetch(&m, &a0, &l, 1), 1);
	memcpy(map, &two, 8);
	cr_assert_eq(mem_read_u64(&m, a0, &v, NULL), 0);
	cr_assert_eq(v, 1, "what was read ahead");
	cr_assert_eq(mem_readv_fresh(&m, &r, 1), 1);
	cr_assert_eq(fresh, 2);
	cr_assert_eq(mem_prefetch(&m, &a1, &l, 1), 1);
	cr_assert_null(prefetch_find(m.pf, a0, 8), "the first batch was let go");
	cr_assert_not_null(prefetch_find(m.pf, a1, 8));
	mem_prefetch_drop(&m);
	cr_assert_null(prefetch_find(m.pf, a1, 8));
	mem_release(&m);
	munmap(map, 2 * 4096);
}

/* A batch kept (mem_prefetch_hold) outlives the next batch: mem_prefetched finds its bytes, as
 * they were read, and nothing it did not read. Until mem_held_expire (the target resumes), reads
 * are served from it and read-aheads skip what it holds; after, only mem_prefetched finds it. */
Test(attach_prefetch, a_kept_batch_is_found_after_the_next)
{
	static uint64_t first[4096], second[512]; /* its two ranges 16 KiB apart: two spans */
	const uint64_t a1[] = { (uint64_t)(uintptr_t)&first[0], (uint64_t)(uintptr_t)&first[2048] };
	const uint32_t l1[] = { 64, 128 };
	const uint64_t a2[] = { (uint64_t)(uintptr_t)&second[0] };
	const uint32_t l2[] = { 256 };
	const uint8_t *p;
	uint64_t v, before;
	struct mem m;

	if (!vm_readv_works())
		cr_skip_test("process_vm_readv on itself is not permitted here");
	for (size_t i = 0; i < 4096; i++)
		first[i] = 1000 + i;
	for (size_t i = 0; i < 512; i++)
		second[i] = 5000 + i;
	mem_init_pid(&m, getpid());
	mem_use_chunks(&m);
	cr_assert_eq(mem_prefetch(&m, a1, l1, 2), 2);
	mem_prefetch_hold(&m);
	first[2049] = 7; /* changed after the read: the kept batch holds the old value */
	cr_assert_eq(mem_prefetch(&m, a2, l2, 1), 1);
	mem_prefetch_hold(&m);
	mem_prefetch_drop(&m);
	p = mem_prefetched(&m, a1[1] + 8, 16);
	cr_assert_not_null(p);
	cr_assert_eq(((const uint64_t *)(const void *)p)[0], 1000 + 2049, "the bytes as they were read");
	p = mem_prefetched(&m, a2[0] + 8, 8);
	cr_assert_not_null(p);
	cr_assert_eq(((const uint64_t *)(const void *)p)[0], 5001);
	cr_assert_null(mem_prefetched(&m, a1[0] + 64, 8), "not read: after the first range");
	cr_assert_null(mem_prefetched(&m, a1[1] + 120, 16), "runs past the range");
	before = m.stats.syscalls;
	cr_assert_eq(mem_read_u64(&m, a1[1] + 8, &v, NULL), 0);
	cr_assert_eq(v, 1000 + 2049, "served from the kept batch");
	cr_assert_eq(mem_prefetch(&m, a1, l1, 2), 0, "what kept batches hold is not read ahead again");
	cr_assert_eq(m.stats.syscalls, before);
	mem_held_expire(&m);
	cr_assert_null(mem_peek(&m, a1[1] + 8, 8), "the target resumed: kept batches no longer serve reads");
	cr_assert_not_null(mem_prefetched(&m, a1[1] + 8, 16));
	mem_release(&m);
}

/* Ranges in no order, with repeats of one address: sorted by address, the longest of a repeat
 * first (what it keeps), as many as there were. */
Test(attach_prefetch, plan_sorts_many_ranges_in_no_order)
{
	size_t n = 3000;
	uint64_t *a = calloc(n, sizeof *a);
	uint32_t *l = calloc(n, sizeof *l);
	struct prefetch f = { 0 };

	for (size_t i = 0; i < n; i++) {
		a[i] = 0x7f0000000000 + (uint64_t)((i * 7919) % 1000) * 3 * PREFETCH_SPAN_MAX; /* 3 of each */
		l[i] = 8 + (uint32_t)(i % 3) * 8;
	}
	cr_assert_eq(prefetch_plan(&f, a, l, n), 1000);
	for (size_t i = 0; i < f.n; i++) {
		cr_assert_eq(f.v[i].addr, 0x7f0000000000 + (uint64_t)i * 3 * PREFETCH_SPAN_MAX);
		cr_assert_eq(f.v[i].len, 24, "the longest of the three: %u", f.v[i].len);
	}
	free(a);
	free(l);
	prefetch_release(&f);
}

/* Held regions come in no order (the census's copies outside the arenas, then follow's reads):
 * indexed by address (a radix sort past a few), each is found at its start and end, and the gaps
 * between them are not. */
Test(attach_prefetch, many_held_regions_in_no_order_are_all_found)
{
	enum { N = 40000 };
	static uint8_t data[N][16];
	struct mem_region *r = malloc(N * sizeof *r);
	uint64_t v;
	struct mem m;

	cr_assert_not_null(r);
	for (uint32_t i = 0; i < N; i++) {
		/* a permutation of N (odd multiplier mod a power of two past N), spread over 40 bits */
		uint32_t k = (uint32_t)(((uint64_t)i * 40503u) % 65536u);
		uint64_t addr = 0x7f0000000000ULL + (uint64_t)k * 0x10000 + (k % 7) * 0x100000000ULL;

		memset(data[i], (int)(k & 0xff), sizeof data[i]);
		r[i] = (struct mem_region){ addr, sizeof data[i], data[i] };
	}
	mem_init_buffer(&m);
	mem_hold_regions(&m, r, N);
	for (uint32_t i = 0; i < N; i++) {
		uint64_t want;

		memset(&want, data[i][0], sizeof want);
		cr_assert_eq(mem_read_u64(&m, r[i].addr, &v, NULL), 0, "region %u at its start", i);
		cr_assert_eq(v, want);
		cr_assert_eq(mem_read_u64(&m, r[i].addr + 8, &v, NULL), 0, "region %u at its end", i);
		cr_assert_eq(mem_read_u64(&m, r[i].addr + 0x1000, &v, NULL), -1, "a gap after region %u", i);
	}
	mem_release(&m);
	free(r);
}
