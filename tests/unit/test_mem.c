/* test_mem.c: the memory reader. Buffer backend: regions, all-or-nothing reads, batches and C
 * strings over local regions. Live backend: this test process reads itself through
 * process_vm_readv (no ptrace needed for one's own process), including batches larger than
 * IOV_MAX with faulting addresses, and the chunks small reads are served from. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "attach/chunks.h"
#include "attach/mem.h"
#include "common/error.h"

#define A_ADDR 0x1000ULL
#define B_ADDR 0x1100ULL /* directly after A */

static uint8_t a_data[256], b_data[256];

static void two_regions(struct mem *m)
{
	for (unsigned i = 0; i < 256; i++) {
		a_data[i] = (uint8_t)i;
		b_data[i] = (uint8_t)(255 - i);
	}
	mem_init_buffer(m);
	mem_add_region(m, B_ADDR, b_data, sizeof b_data);
	mem_add_region(m, A_ADDR, a_data, sizeof a_data); /* out of order on purpose */
}

/* A streamed census's arenas: covered by the reader before they are held, read from the process
 * (here: an image standing in for it) while not held, and from the window while held. */
Test(attach_mem, covered_regions_held_and_let_go)
{
	static uint8_t window[256], image_data[256];
	struct mem_region image = { A_ADDR, sizeof image_data, image_data };
	struct mem m;
	uint8_t buf[4];

	memset(window, 0x11, sizeof window);
	memset(image_data, 0x22, sizeof image_data);
	mem_init_buffer(&m);
	mem_set_image(&m, &image, 1);
	mem_add_region(&m, A_ADDR, NULL, 256);
	cr_assert(mem_covered(&m, A_ADDR + 8, 16));
	cr_assert_not(mem_covered(&m, A_ADDR + 250, 16), "runs past the region");
	cr_assert_not(mem_covered(&m, B_ADDR, 1));
	cr_assert_null(mem_local(&m, A_ADDR, 8), "covered, not held");
	cr_assert_eq(mem_read(&m, A_ADDR, buf, 4, NULL), 0);
	cr_assert_eq(buf[0], 0x22, "read from the image while not held");
	cr_assert(mem_region_hold(&m, A_ADDR, window));
	cr_assert_eq(mem_local(&m, A_ADDR + 4, 4), window + 4);
	cr_assert_eq(mem_read(&m, A_ADDR, buf, 4, NULL), 0);
	cr_assert_eq(buf[0], 0x11, "read from the window while held");
	cr_assert(mem_region_hold(&m, A_ADDR, NULL));
	cr_assert_null(mem_local(&m, A_ADDR + 4, 4), "let go: the fast path must not serve it either");
	cr_assert_not(mem_region_hold(&m, A_ADDR + 8, window), "no region starts there");
	mem_release(&m);
}

Test(attach_mem, read_inside_regions)
{
	struct mem m;
	struct pc_err e = { 0 };
	uint8_t buf[16];
	uint64_t v;
	uint32_t w;

	two_regions(&m);
	cr_assert_eq(mem_read(&m, A_ADDR, buf, 16, &e), 0);
	cr_assert_arr_eq(buf, a_data, 16);
	cr_assert_eq(mem_read(&m, A_ADDR + 240, buf, 16, &e), 0, "the last 16 bytes of A");
	cr_assert_arr_eq(buf, a_data + 240, 16);
	cr_assert_eq(mem_read(&m, B_ADDR, buf, 16, &e), 0, "the first 16 bytes of B");
	cr_assert_arr_eq(buf, b_data, 16);
	cr_assert_eq(mem_read(&m, B_ADDR + 255, buf, 1, &e), 0);
	cr_assert_eq(buf[0], 0);
	cr_assert_eq(mem_read_u64(&m, A_ADDR + 8, &v, &e), 0);
	cr_assert_eq(v, 0x0f0e0d0c0b0a0908ULL);
	cr_assert_eq(mem_read_u32(&m, B_ADDR, &w, &e), 0);
	cr_assert_eq(w, 0xfcfdfeffU);
	cr_assert_eq(e.code, PC_EOK);
	cr_assert_eq(m.stats.syscalls, 0);
	mem_release(&m);
}

Test(attach_mem, local_pointer_into_region)
{
	struct mem m;

	two_regions(&m);
	cr_assert_eq(mem_local(&m, A_ADDR + 3, 5), a_data + 3);
	cr_assert_eq(mem_local(&m, B_ADDR, 256), b_data);
	cr_assert_eq(mem_local(&m, A_ADDR, 256), a_data);
	cr_assert_null(mem_local(&m, A_ADDR, 257), "one byte into B");
	cr_assert_null(mem_local(&m, B_ADDR - 1, 2), "straddles A and B");
	cr_assert_null(mem_local(&m, A_ADDR - 1, 1));
	cr_assert_null(mem_local(&m, B_ADDR + 256, 1));
	cr_assert_null(mem_local(&m, 0, 1));
	mem_release(&m);

	mem_init_buffer(&m);
	cr_assert_null(mem_local(&m, A_ADDR, 1), "no region at all");
	mem_release(&m);
}

/* Adjacent regions are still two regions: a read across the seam fails and leaves buf alone. */
Test(attach_mem, straddling_two_regions_fails_whole)
{
	struct mem m;
	struct pc_err e = { 0 };
	uint8_t buf[16];

	two_regions(&m);
	memset(buf, 0xee, sizeof buf);
	cr_assert_eq(mem_read(&m, B_ADDR - 8, buf, 16, &e), -1);
	cr_assert_eq(e.code, PC_ETARGETMEM);
	for (size_t i = 0; i < sizeof buf; i++)
		cr_assert_eq(buf[i], 0xee, "byte %zu written by a failed read", i);
	mem_release(&m);
}

Test(attach_mem, outside_fails_with_targetmem)
{
	static const struct {
		uint64_t addr;
		size_t len;
	} rows[] = {
		{ 0, 8 }, { A_ADDR - 8, 8 }, { A_ADDR - 1, 2 }, { B_ADDR + 256, 1 }, { B_ADDR + 250, 8 },
		{ 0x7f0000000000ULL, 8 }, { A_ADDR, 513 },
	};
	struct mem m;

	two_regions(&m);
	for (size_t i = 0; i < PC_ARRAY_LEN(rows); i++) {
		struct pc_err e = { 0 };
		uint8_t buf[600];
		cr_assert_eq(mem_read(&m, rows[i].addr, buf, rows[i].len, &e), -1, "row %zu", i);
		cr_assert_eq(e.code, PC_ETARGETMEM, "row %zu", i);
		cr_assert_neq(e.detail[0], '\0');
	}
	cr_assert_eq(mem_read(&m, 0, NULL, 8, NULL), -1, "no error record needed");
	mem_release(&m);
}

/* A region ending at 2^64: reads near UINT64_MAX must not wrap around. */
Test(attach_mem, address_overflow_near_uint64_max)
{
	static uint8_t top[256];
	struct mem m;
	struct pc_err e = { 0 };
	uint8_t buf[16];
	uint64_t base = UINT64_MAX - 255;

	for (unsigned i = 0; i < 256; i++)
		top[i] = (uint8_t)(i ^ 0x5a);
	mem_init_buffer(&m);
	mem_add_region(&m, 0x1000, a_data, 256);
	mem_add_region(&m, base, top, sizeof top);
	cr_assert_eq(mem_read(&m, UINT64_MAX - 7, buf, 8, &e), 0, "the last 8 bytes of the address space");
	cr_assert_arr_eq(buf, top + 248, 8);
	cr_assert_eq(mem_read(&m, UINT64_MAX, buf, 1, &e), 0);
	cr_assert_eq(buf[0], top[255]);
	cr_assert_eq(mem_read(&m, UINT64_MAX - 7, buf, 16, &e), -1, "wraps past 2^64");
	cr_assert_eq(e.code, PC_ETARGETMEM);
	cr_assert_eq(mem_read(&m, UINT64_MAX, buf, 2, NULL), -1);
	cr_assert_null(mem_local(&m, UINT64_MAX - 7, 16));
	cr_assert_null(mem_local(&m, UINT64_MAX - 7, SIZE_MAX));
	cr_assert_null(mem_local(&m, 0x1000, UINT64_MAX));
	mem_release(&m);

	/* the live backend rejects a wrapping range before any syscall */
	mem_init_pid(&m, getpid());
	pc_err_clear(&e);
	cr_assert_eq(mem_read(&m, UINT64_MAX - 3, buf, 8, &e), -1);
	cr_assert_eq(e.code, PC_ETARGETMEM);
	cr_assert_eq(m.stats.syscalls, 0);
	mem_release(&m);
}

/* Many regions appended unsorted, sorted once: each reads back its own bytes. */
Test(attach_mem, unsorted_regions_then_sort)
{
	enum { N = 200 };
	static uint64_t data[N][4];
	struct mem m;
	unsigned order[N];

	for (unsigned i = 0; i < N; i++)
		order[i] = (i * 37) % N; /* 37 is coprime with 200: a permutation */
	mem_init_buffer(&m);
	for (unsigned k = 0; k < N; k++) {
		unsigned i = order[k];
		for (unsigned j = 0; j < 4; j++)
			data[i][j] = 0x1000000ULL * i + j;
		mem_add_region_unsorted(&m, 0x10000 + 0x100ULL * i, data[i], sizeof data[i]);
	}
	mem_sort_regions(&m);
	cr_assert_eq(m.ncache, N);
	for (size_t i = 1; i < m.ncache; i++)
		cr_assert_lt(m.cache[i - 1].addr, m.cache[i].addr);
	for (unsigned i = 0; i < N; i++) {
		uint64_t v;
		cr_assert_eq(mem_read_u64(&m, 0x10000 + 0x100ULL * i + 24, &v, NULL), 0, "region %u", i);
		cr_assert_eq(v, 0x1000000ULL * i + 3);
		cr_assert_null(mem_local(&m, 0x10000 + 0x100ULL * i + 32, 1), "gap after region %u", i);
	}
	mem_release(&m);
}

/* mem_readv over the buffer backend: each request on its own. */
Test(attach_mem, readv_marks_each_request)
{
	struct mem m;
	uint8_t b[6][16];
	struct mem_req r[6] = {
		{ A_ADDR + 16, b[0], 16, false },       /* in A */
		{ B_ADDR - 4, b[1], 8, true },          /* straddles A|B */
		{ B_ADDR + 100, b[2], 4, false },       /* in B */
		{ 0x9000, b[3], 8, true },              /* outside */
		{ UINT64_MAX - 3, b[4], 8, true },      /* wraps */
		{ A_ADDR + 255, b[5], 1, false },       /* last byte of A */
	};

	two_regions(&m);
	cr_assert_eq(mem_readv(&m, r, 6), 3);
	cr_assert(r[0].ok);
	cr_assert_not(r[1].ok);
	cr_assert(r[2].ok);
	cr_assert_not(r[3].ok);
	cr_assert_not(r[4].ok);
	cr_assert(r[5].ok);
	cr_assert_arr_eq(b[0], a_data + 16, 16);
	cr_assert_arr_eq(b[2], b_data + 100, 4);
	cr_assert_eq(b[5][0], 255);
	cr_assert_eq(mem_readv(&m, r, 0), 0);
	mem_release(&m);
}

/* C strings: read in chunks that never cross a page end, so a string that ends right before an
 * unreadable page (here: the end of the region) still reads. */
Test(attach_mem, read_cstr)
{
	static _Alignas(4096) char page[3][4096];
	struct mem m;
	struct pc_err e = { 0 };
	char buf[64], big[256];

	memset(page, 'x', sizeof page);
	memcpy(page[0], "hello", 6);
	memcpy(page[0] + 4096 - 16, "0123456789abcdef", 16); /* no NUL: runs into page 1 */
	memcpy(page[1], "ghijklmnopq", 12);                  /* ... and ends there */
	mem_init_buffer(&m);
	mem_add_region(&m, 0x20000, page[0], 4096);
	mem_add_region(&m, 0x21000, page[1], 4096); /* adjacent, separate region */
	memcpy(page[2] + 4096 - 4, "abc", 4);          /* ends exactly at the page and region end */
	mem_add_region(&m, 0x30000, page[2], 4096);

	cr_assert_eq(mem_read_cstr(&m, 0x20000, buf, sizeof buf, &e), 0, "%s", e.detail);
	cr_assert_str_eq(buf, "hello");
	cr_assert_eq(mem_read_cstr(&m, 0x30000 + 4096 - 4, buf, sizeof buf, &e), 0, "%s", e.detail);
	cr_assert_str_eq(buf, "abc");
	cr_assert_eq(mem_read_cstr(&m, 0x20000 + 4096 - 16, buf, sizeof buf, &e), 0, "%s", e.detail);
	cr_assert_str_eq(buf, "0123456789abcdefghijklmnopq", "string across two regions: '%s'", buf);

	/* NUL as the last byte of max: fits; one more byte: does not */
	memset(page[1] + 100, 'y', 63);
	page[1][163] = '\0';
	cr_assert_eq(mem_read_cstr(&m, 0x21000 + 100, buf, 64, &e), 0);
	cr_assert_eq(strlen(buf), 63);
	cr_assert_eq(mem_read_cstr(&m, 0x21000 + 99, buf, 64, &e), -1, "64 characters + NUL in 64 bytes");
	cr_assert_eq(e.code, PC_ETARGETMEM);
	cr_assert_eq(buf[63], '\0', "a failed read still leaves buf terminated");
	cr_assert_eq(strlen(buf), 63);

	/* a long string with max larger than one chunk */
	memset(page[1] + 1000, 'z', 200);
	page[1][1200] = '\0';
	cr_assert_eq(mem_read_cstr(&m, 0x21000 + 1000, big, sizeof big, NULL), 0);
	cr_assert_eq(strlen(big), 200);
	cr_assert_eq(mem_read_cstr(&m, 0x21000 + 1000, big, 200, NULL), -1);

	/* unterminated up to the end of the last region: the chunk after it is unreadable */
	pc_err_clear(&e);
	cr_assert_eq(mem_read_cstr(&m, 0x21000 + 4096 - 8, buf, sizeof buf, &e), -1);
	cr_assert_eq(e.code, PC_ETARGETMEM);
	cr_assert_eq(mem_read_cstr(&m, 0x50000, buf, sizeof buf, NULL), -1, "nothing there");
	mem_release(&m);
}

/* Whether process_vm_readv works on this process. */
static bool vm_readv_works(void)
{
	uint64_t src = 42, dst = 0;
	struct iovec l = { &dst, 8 }, r = { &src, 8 };

	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == 8 && dst == 42;
}

/* Whether this process can read itself with process_vm_readv or /proc/self/mem. */
static bool can_read_self(void)
{
	int fd;

	if (vm_readv_works())
		return true;
	fd = open("/proc/self/mem", O_RDONLY);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

Test(attach_mem, live_read_of_own_variable)
{
	volatile uint64_t secret = 0x1122334455667788ULL;
	char text[] = "pycensus reads itself";
	struct mem m;
	struct pc_err e = { 0 };
	uint64_t v = 0;
	char buf[64];

	if (!can_read_self())
		cr_skip_test("neither process_vm_readv nor /proc/self/mem works here");
	mem_init_pid(&m, getpid());
	cr_assert_eq(mem_read_u64(&m, (uint64_t)(uintptr_t)&secret, &v, &e), 0, "%s", e.detail);
	cr_assert_eq(v, 0x1122334455667788ULL);
	cr_assert_eq(m.stats.remote_reads, 1);
	cr_assert_geq(m.stats.syscalls, 1);
	cr_assert_eq(m.stats.remote_bytes, 8);
	cr_assert_eq(mem_read_cstr(&m, (uint64_t)(uintptr_t)text, buf, sizeof buf, &e), 0, "%s", e.detail);
	cr_assert_str_eq(buf, text);

	/* page 0 is never mapped */
	cr_assert_eq(mem_read(&m, 16, buf, 8, &e), -1);
	cr_assert_eq(e.code, PC_ETARGETMEM, "%s", e.detail);

	/* a cached region answers first, whatever the target holds */
	pc_err_clear(&e);
	uint64_t shadow = 0xabad1dea;
	uint64_t reads_before = m.stats.remote_reads;
	mem_add_region(&m, (uint64_t)(uintptr_t)&secret, &shadow, 8);
	cr_assert_eq(mem_read_u64(&m, (uint64_t)(uintptr_t)&secret, &v, &e), 0);
	cr_assert_eq(v, 0xabad1dea);
	cr_assert_eq(m.stats.remote_reads, reads_before, "served locally");
	mem_release(&m);
}

/* 3000 requests (three IOV_MAX batches and more), one faulting address at `bad`: exactly that one
 * fails. Rows put the fault at the start, the batch edges, the middle and the end. */
Test(attach_mem, live_readv_many_with_one_bad)
{
	enum { N = 3000 };
	static const size_t bads[] = { 0, 1023, 1024, 1500, 2047, 2999 };
	/* process_vm_readv calls: a batch stops after its faulting request, the next starts after it;
	 * e.g. bad 1500: [0,1024) [1024,1501) [1501,2525) [2525,3000) */
	static const uint64_t syscalls[] = { 4, 3, 4, 4, 3, 3 };
	uint64_t *src = malloc(N * sizeof *src), *dst = malloc(N * sizeof *dst);
	struct mem_req *r = malloc(N * sizeof *r);

	if (!can_read_self())
		cr_skip_test("neither process_vm_readv nor /proc/self/mem works here");
	cr_assert(src && dst && r);
	for (size_t i = 0; i < N; i++)
		src[i] = 0x5000000000ULL + i * 7;
	for (size_t b = 0; b < PC_ARRAY_LEN(bads); b++) {
		struct mem m;
		size_t bad = bads[b];

		mem_init_pid(&m, getpid());
		for (size_t i = 0; i < N; i++) {
			dst[i] = 0xfeedfacefeedfaceULL;
			r[i] = (struct mem_req){ (uint64_t)(uintptr_t)&src[i], &dst[i], 8, false };
		}
		r[bad].addr = 8; /* page 0 */
		cr_assert_eq(mem_readv(&m, r, N), N - 1, "bad at %zu", bad);
		for (size_t i = 0; i < N; i++) {
			if (i == bad) {
				cr_assert_not(r[i].ok, "bad request %zu marked ok", i);
				cr_assert_eq(dst[i], 0xfeedfacefeedfaceULL);
			} else {
				cr_assert(r[i].ok, "request %zu (bad at %zu) failed", i, bad);
				cr_assert_eq(dst[i], src[i], "request %zu", i);
			}
		}
		if (vm_readv_works()) {
			cr_assert(m.use_vm_readv);
			cr_assert_eq(m.stats.syscalls, syscalls[b], "bad at %zu: %llu syscalls", bad,
				     (unsigned long long)m.stats.syscalls);
			cr_assert_eq(m.stats.remote_bytes, 8 * (N - 1));
		}
		mem_release(&m);
	}
	free(src);
	free(dst);
	free(r);
}

/* Every other request served from a copy: the rest still go to the target in one syscall, not
 * one per run between the served ones. */
Test(attach_mem, live_readv_served_between_remote_reads_in_one_syscall)
{
	enum { N = 2000 };
	static uint64_t src[N], copy[N], dst[N];
	struct mem_req r[N];
	struct mem m;

	if (!vm_readv_works())
		cr_skip_test("process_vm_readv does not work here");
	mem_init_pid(&m, getpid());
	for (size_t i = 0; i < N; i++) {
		src[i] = 0x6000000000ULL + i;
		copy[i] = 0x7000000000ULL + i;
		r[i] = (struct mem_req){ (uint64_t)(uintptr_t)&src[i], &dst[i], 8, false };
		if (i % 2 == 0)
			mem_add_region_unsorted(&m, (uint64_t)(uintptr_t)&src[i], &copy[i], 8);
	}
	mem_sort_regions(&m);
	cr_assert_eq(mem_readv(&m, r, N), N);
	for (size_t i = 0; i < N; i++)
		cr_assert_eq(dst[i], i % 2 ? src[i] : copy[i], "request %zu", i);
	cr_assert_eq(m.stats.syscalls, 1, "%llu syscalls", (unsigned long long)m.stats.syscalls);
	mem_release(&m);
}

/* A request that starts on a readable page and runs into an unmapped one: partly read, so not
 * ok; its neighbours in the same batch are unaffected. */
Test(attach_mem, live_readv_request_cut_at_page_end)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *map = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t before = 0x0102030405060708ULL, after = 0x8877665544332211ULL, got[3] = { 0, 0, 0 };
	uint8_t cut[16];
	struct mem m;

	if (!can_read_self())
		cr_skip_test("neither process_vm_readv nor /proc/self/mem works here");
	cr_assert_neq(map, MAP_FAILED);
	cr_assert_eq(munmap(map + pg, (size_t)pg), 0);
	memset(map, 0x77, (size_t)pg);
	struct mem_req r[4] = {
		{ (uint64_t)(uintptr_t)&before, &got[0], 8, false },
		{ (uint64_t)(uintptr_t)(map + pg - 8), cut, 16, false }, /* 8 readable, 8 not */
		{ (uint64_t)(uintptr_t)(map + pg - 8), &got[1], 8, false }, /* the readable half alone */
		{ (uint64_t)(uintptr_t)&after, &got[2], 8, false },
	};
	mem_init_pid(&m, getpid());
	cr_assert_eq(mem_readv(&m, r, 4), 3);
	cr_assert(r[0].ok);
	cr_assert_not(r[1].ok);
	cr_assert(r[2].ok);
	cr_assert(r[3].ok);
	cr_assert_eq(got[0], before);
	cr_assert_eq(got[1], 0x7777777777777777ULL);
	cr_assert_eq(got[2], after);
	mem_release(&m);
	munmap(map, (size_t)pg);
}

/* Live chunks (attach/chunks.h) over a mapping laid out on purpose: `nchunks` chunk-aligned chunks,
 * each page filled with its own index, then the pages listed in `holes` unmapped. */
struct chunked_map {
	uint8_t *base;
	size_t len;
};

static struct chunked_map map_chunks(size_t nchunks, const size_t *holes, size_t nholes)
{
	size_t len = nchunks * CHUNK_SIZE;
	uint8_t *raw = mmap(NULL, len + CHUNK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct chunked_map cm;

	cr_assert_neq(raw, MAP_FAILED);
	cm.base = (uint8_t *)(((uintptr_t)raw + CHUNK_SIZE - 1) & ~(uintptr_t)(CHUNK_SIZE - 1));
	cm.len = len;
	for (size_t pg = 0; pg < len / 4096; pg++)
		for (size_t i = 0; i < 4096; i += 8) {
			uint64_t v = pg << 32 | i;
			memcpy(cm.base + pg * 4096 + i, &v, 8);
		}
	for (size_t h = 0; h < nholes; h++)
		cr_assert_eq(munmap(cm.base + holes[h] * 4096, 4096), 0);
	return cm;
}

static uint64_t expected_at(size_t off)
{
	return (uint64_t)(off / 4096) << 32 | (off % 4096);
}

static int read_at(struct mem *m, const struct chunked_map *cm, size_t off, uint64_t *v)
{
	return mem_read_u64(m, (uint64_t)(uintptr_t)(cm->base + off), v, NULL);
}

/* A live reader of this process with chunks on (skips where process_vm_readv is filtered). */
static void chunked_reader(struct mem *m)
{
	if (!vm_readv_works())
		cr_skip_test("process_vm_readv does not work here");
	mem_init_pid(m, getpid());
	mem_use_chunks(m);
}

Test(attach_mem_chunks, small_reads_cost_one_syscall_per_chunk)
{
	struct chunked_map cm = map_chunks(4, NULL, 0);
	struct mem m;
	uint64_t v;

	chunked_reader(&m);
	/* 1000 reads scattered over 4 chunks, in an order that jumps between them */
	for (size_t k = 0; k < 1000; k++) {
		size_t off = (k * 7919 * 8) % cm.len;
		cr_assert_eq(read_at(&m, &cm, off, &v), 0, "read %zu", k);
		cr_assert_eq(v, expected_at(off), "read %zu at %zu", k, off);
	}
	cr_assert_eq(m.stats.syscalls, 4, "%llu syscalls", (unsigned long long)m.stats.syscalls);
	cr_assert_eq(m.stats.remote_bytes, 4 * CHUNK_SIZE);
	mem_release(&m);
	munmap(cm.base, cm.len);
}

Test(attach_mem_chunks, a_read_across_two_chunks_takes_a_part_from_each)
{
	struct chunked_map cm = map_chunks(2, NULL, 0);
	struct mem m;
	uint8_t got[64];

	chunked_reader(&m);
	cr_assert_eq(mem_read(&m, (uint64_t)(uintptr_t)(cm.base + CHUNK_SIZE - 24), got, sizeof got, NULL), 0);
	cr_assert_eq(memcmp(got, cm.base + CHUNK_SIZE - 24, sizeof got), 0);
	cr_assert_eq(m.stats.syscalls, 2);
	mem_release(&m);
	munmap(cm.base, cm.len);
}

/* A chunk whose mapping starts after it begins and ends before it does: the pages that are there
 * read (from the read's own page when the chunk's first page is missing), the rest fail as a
 * plain read would. */
Test(attach_mem_chunks, a_chunk_partly_mapped_serves_its_mapped_pages)
{
	static const size_t holes[] = { 0, 3 }; /* of chunk 0: pages 1 and 2 stay */
	struct chunked_map cm = map_chunks(1, holes, PC_ARRAY_LEN(holes));
	struct pc_err e = { 0 };
	struct mem m;
	uint64_t v;

	chunked_reader(&m);
	cr_assert_eq(read_at(&m, &cm, 4096 + 8, &v), 0);
	cr_assert_eq(v, expected_at(4096 + 8));
	cr_assert_eq(read_at(&m, &cm, 2 * 4096 + 4088, &v), 0);
	cr_assert_eq(v, expected_at(2 * 4096 + 4088));
	cr_assert_eq(read_at(&m, &cm, 8, &v), -1);
	cr_assert_eq(mem_read_u64(&m, (uint64_t)(uintptr_t)(cm.base + 3 * 4096), &v, &e), -1);
	cr_assert_eq(e.code, PC_ETARGETMEM, "%s", e.detail);
	/* 8 bytes across the end of the mapping: all or nothing */
	cr_assert_eq(mem_read_u64(&m, (uint64_t)(uintptr_t)(cm.base + 3 * 4096 - 4), &v, NULL), -1);
	mem_release(&m);
	munmap(cm.base + 4096, 2 * 4096);
}

/* A chunk is what the target held when it was read: later reads see that; a fresh batch (used to
 * check a census read while the target ran) sees the change. */
Test(attach_mem_chunks, chunks_hold_what_was_read_fresh_reads_do_not)
{
	struct chunked_map cm = map_chunks(1, NULL, 0);
	struct mem m;
	uint64_t v = 0, fresh = 0, changed = 0x5eed;
	struct mem_req r = { (uint64_t)(uintptr_t)(cm.base + 64), &fresh, 8, false };

	chunked_reader(&m);
	cr_assert_eq(read_at(&m, &cm, 0, &v), 0);
	memcpy(cm.base + 64, &changed, 8);
	cr_assert_eq(read_at(&m, &cm, 64, &v), 0);
	cr_assert_eq(v, expected_at(64));
	cr_assert_eq(mem_readv_fresh(&m, &r, 1), 1);
	cr_assert_eq(fresh, 0x5eed);
	mem_release(&m);
	/* a reader without chunks (pyready polls the interpreter's start) sees every change */
	mem_init_pid(&m, getpid());
	cr_assert_eq(read_at(&m, &cm, 64, &v), 0);
	cr_assert_eq(v, 0x5eed);
	changed = 0xfeed;
	memcpy(cm.base + 64, &changed, 8);
	cr_assert_eq(read_at(&m, &cm, 64, &v), 0);
	cr_assert_eq(v, 0xfeed);
	mem_release(&m);
	munmap(cm.base, cm.len);
}

/* Past CHUNK_MAX chunks the store takes no more: reads still answer, one syscall each. */
Test(attach_mem_chunks, a_full_store_reads_directly)
{
	struct chunked_map cm = map_chunks(CHUNK_MAX + 8, NULL, 0);
	struct mem m;
	uint64_t v, before;

	chunked_reader(&m);
	for (size_t c = 0; c < CHUNK_MAX + 8; c++) {
		cr_assert_eq(read_at(&m, &cm, c * CHUNK_SIZE + 16, &v), 0);
		cr_assert_eq(v, expected_at(c * CHUNK_SIZE + 16));
	}
	cr_assert_eq(m.chunks->n, CHUNK_MAX);
	before = m.stats.syscalls;
	cr_assert_eq(read_at(&m, &cm, (CHUNK_MAX + 3) * CHUNK_SIZE + 24, &v), 0);
	cr_assert_eq(v, expected_at((CHUNK_MAX + 3) * CHUNK_SIZE + 24));
	cr_assert_eq(m.stats.syscalls, before + 1);
	cr_assert_eq(read_at(&m, &cm, 24, &v), 0, "an early chunk still serves");
	cr_assert_eq(m.stats.syscalls, before + 1);
	mem_release(&m);
	munmap(cm.base, cm.len);
}

/* A batch of one is a step along a chain: it fills the chunk, and its neighbours come from it. */
Test(attach_mem_chunks, a_batch_of_one_fills_a_chunk)
{
	struct chunked_map cm = map_chunks(1, NULL, 0);
	struct mem m;
	uint64_t got = 0;

	chunked_reader(&m);
	for (size_t off = 0; off < CHUNK_SIZE; off += 512) {
		struct mem_req r = { (uint64_t)(uintptr_t)(cm.base + off), &got, 8, false };
		cr_assert_eq(mem_readv(&m, &r, 1), 1);
		cr_assert_eq(got, expected_at(off));
	}
	cr_assert_eq(m.stats.syscalls, 1);
	mem_release(&m);
	munmap(cm.base, cm.len);
}

/* STYLE 9: releasing a zeroed (never initialised) reader closes nothing: its memfd of 0 is not
 * an fd it opened (a failed open used to close the process's stdin this way). */
Test(mem, release_of_zeroed_reader_keeps_fd_0)
{
	struct mem m;

	if (fcntl(0, F_GETFD) < 0)
		cr_assert_eq(open("/dev/null", O_RDONLY), 0);
	memset(&m, 0, sizeof m);
	mem_release(&m);
	cr_expect_neq(fcntl(0, F_GETFD), -1, "fd 0 was closed");
}

/* Many regions (a heap's classes copied outside the arenas), found by the binary search and then
 * by the page hints that spare it, also after a region added before all shifted every index. */
Test(attach_mem, many_regions_found_again_after_more_are_added)
{
	static uint8_t data[1000][64];
	struct mem m;
	uint64_t v;

	mem_init_buffer(&m);
	for (size_t i = 0; i < 1000; i++) {
		memset(data[i], (int)(i & 0xff), sizeof data[i]);
		mem_add_region_unsorted(&m, 0x100000 + (999 - i) * 0x2000, data[i], sizeof data[i]);
	}
	mem_sort_regions(&m);
	for (int pass = 0; pass < 2; pass++) /* the second pass is answered by the hints */
		for (size_t i = 0; i < 1000; i++) {
			cr_assert_eq(mem_local(&m, 0x100000 + (999 - i) * 0x2000 + 8, 8), data[i] + 8, "region %zu", i);
			cr_assert_null(mem_local(&m, 0x100000 + (999 - i) * 0x2000 + 64, 8), "past region %zu", i);
		}
	mem_add_region(&m, 0x1000, &v, sizeof v); /* before all: every index shifts by one */
	for (size_t i = 0; i < 1000; i++)
		cr_assert_eq(mem_local(&m, 0x100000 + (999 - i) * 0x2000, 8), data[i], "region %zu after the shift", i);
	cr_assert(mem_covered(&m, 0x1000, 8));
	mem_release(&m);
}
