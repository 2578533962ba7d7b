/* test_copybuf.c: the arena copy's kept buffer (pymalloc/arenas.h): it grows before a stop by what the
 * target's anonymous memory grew, with its new pages already faulted in (so they cost nothing in
 * the pause), and it is left alone when there is nothing to go by. The "target" is this process. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "attach/procmem.h"
#include "pymalloc/arenas.h"

#define MiB (1024ull * 1024)

/* Anonymous memory this process touches, as a growing heap would. */
static uint8_t *grow_anon(size_t len)
{
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert(p != MAP_FAILED);
	memset(p, 1, len);
	return p;
}

static uint64_t resident(const void *p, uint64_t len)
{
	struct procmem_range r = { (uint64_t)(uintptr_t)p & ~4095ull, ((uint64_t)(uintptr_t)p + len) & ~4095ull };
	struct pc_err e = { 0 };
	uint64_t res = 0, swp = 0;

	cr_assert_eq(procmem_resident(getpid(), &r, 1, &res, &swp, &e), 0, "%s", e.detail);
	return res;
}

Test(copybuf, anon_follows_touched_memory)
{
	uint64_t before = procmem_anon(getpid()), after;
	uint8_t *p;

	cr_assert_gt(before, 0);
	p = grow_anon(48 * MiB);
	after = procmem_anon(getpid());
	cr_expect_geq(after, before + 47 * MiB, "anon %llu -> %llu after touching 48 MiB", (unsigned long long)before,
		      (unsigned long long)after);
	munmap(p, 48 * MiB);
	cr_expect_eq(procmem_anon(999999999), 0, "no such process reads as 0");
}

Test(copybuf, first_census_has_nothing_to_go_by)
{
	struct copybuf k = { 0 };

	copybuf_prepare(&k, getpid());
	cr_expect_eq(k.cap, 0);
	cr_expect_null(k.buf);
}

Test(copybuf, grows_by_the_targets_growth_with_pages_faulted_in)
{
	struct copybuf k = { 0 };
	uint64_t used = 4 * MiB, cap;
	uint8_t *heap;

	k.used = used;
	k.anon_at_use = procmem_anon(getpid());
	heap = grow_anon(32 * MiB);
	copybuf_prepare(&k, getpid());
	cr_assert_geq(k.cap, used + 32 * MiB, "cap %llu after 32 MiB of growth", (unsigned long long)k.cap);
	cr_expect_leq(k.cap, (used + 40 * MiB) * 9 / 8, "cap %llu: an eighth more, not unbounded",
		      (unsigned long long)k.cap);
	/* every page but the partial ones at the ends is resident before any copy touched it */
	cr_expect_geq(resident(k.buf, k.cap), k.cap - 2 * 2 * MiB, "resident %llu of %llu",
		      (unsigned long long)resident(k.buf, k.cap), (unsigned long long)k.cap);
	cap = k.cap;
	k.anon_at_use = procmem_anon(getpid());
	copybuf_prepare(&k, getpid());
	cr_expect_eq(k.cap, cap, "no growth since: the buffer stays as it is");
	munmap(heap, 32 * MiB);
	copybuf_release(&k);
	cr_expect_null(k.buf);
	cr_expect_eq(k.cap, 0);
}

/* The census's copies of objects outside the arenas, handed over: served to a later reader with
 * the arenas, owned (and freed) by the buffer; reads find them, mem_covered does not (no class
 * lives in the arenas: objects/types.c asks it so). A second census's note drops them. */
Test(copybuf, adopted_copies_are_served_not_covered)
{
	static uint8_t arena[256];
	struct copybuf b = { 0 };
	struct mem_region ar = { 0x100000, sizeof arena, arena };
	struct mem_region cp[2];
	uint8_t *bufs[3] = { malloc(32), NULL, malloc(16) };
	uint64_t v = 0;
	struct mem m;

	cr_assert(bufs[0] && bufs[2]);
	memset(bufs[0], 0x11, 32);
	memset(bufs[2], 0x22, 16);
	cp[0] = (struct mem_region){ 0x200000, 32, bufs[0] };
	cp[1] = (struct mem_region){ 0x300000, 16, bufs[2] };
	b.regions = malloc(sizeof ar);
	b.regions[0] = ar;
	b.nregions = b.capregions = 1;
	copybuf_adopt(&b, cp, 2, bufs, 3);
	cr_assert_eq(b.nowned, 2, "the NULL buffer is not owned");
	mem_init_buffer(&m);
	copybuf_serve(&b, &m);
	cr_assert(mem_covered(&m, 0x100010, 8), "the arenas are copies");
	cr_assert_not(mem_covered(&m, 0x200000, 8), "an adopted copy is not in the arenas");
	cr_assert_eq(mem_read_u64(&m, 0x200008, &v, NULL), 0);
	cr_assert_eq(v, 0x1111111111111111ULL);
	cr_assert_eq(mem_read_u64(&m, 0x300008, &v, NULL), 0);
	cr_assert_eq(v, 0x2222222222222222ULL);
	cr_assert_eq(mem_read_u64(&m, 0x30000c, &v, NULL), -1, "past the copy");
	mem_held_expire(&m);
	cr_assert_eq(mem_read_u64(&m, 0x200008, &v, NULL), -1, "no longer served");
	mem_release(&m);
	copybuf_release(&b);
}

/* A census with nothing outside the arenas hands over no arrays at all. */
Test(copybuf, adopting_nothing_keeps_nothing)
{
	struct copybuf b = { 0 };

	copybuf_adopt(&b, NULL, 0, NULL, 0);
	cr_assert_eq(b.ncopies, 0);
	cr_assert_eq(b.nowned, 0);
	copybuf_release(&b);
}
