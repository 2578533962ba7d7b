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
