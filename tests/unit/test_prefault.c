/* test_prefault.c: pages faulted in by the prefault thread are resident afterwards, keep every
 * byte the owner wrote (also while it writes), and unmapped ranges or a full queue are no error. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/prefault.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define LEN ((size_t)8 << 20)

static uint8_t *map(void)
{
	void *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	return p;
}

static size_t resident_pages(const uint8_t *p, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = 0;
	unsigned char v[(8u << 20) / 4096];

	cr_assert_eq(mincore((void *)p, len, v), 0);
	for (size_t i = 0; i < len / pg; i++)
		n += v[i] & 1;
	return n;
}

/* What the kernel says of the advice itself: the thread can only do what it allows. */
static bool kernel_populates(void)
{
	uint8_t *p = map();
	bool ok = madvise(p, 4096, MADV_POPULATE_WRITE) == 0;

	munmap(p, LEN);
	return ok || errno != EINVAL;
}

static void skip_unpopulated(uint8_t *p)
{
	munmap(p, LEN);
	cr_skip_test("this kernel has no MADV_POPULATE_WRITE (Linux 5.14): prefault does nothing here");
}

Test(prefault, pages_resident_after_wait)
{
	uint8_t *p = map();
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (!kernel_populates())
		skip_unpopulated(p);
	cr_assert_eq(resident_pages(p, LEN), 0, "a fresh mapping has no page yet");
	prefault(p + 2 * pg, LEN / 2);
	prefault_wait();
	cr_assert_eq(resident_pages(p, LEN), LEN / 2 / pg, "exactly the pages asked for");
	cr_assert_eq(resident_pages(p, 2 * pg), 0, "none before them");
	for (size_t i = 0; i < LEN; i += pg)
		cr_assert_eq(p[i], 0, "faulted in as zeroes, at %zu", i);
	munmap(p, LEN);
}

Test(prefault, writes_kept_while_it_runs)
{
	uint8_t *p = map();

	for (int round = 0; round < 4; round++) {
		prefault(p, LEN);
		/* the owner writes the same pages meanwhile: nothing it wrote may be undone */
		for (size_t i = 0; i < LEN; i += 512)
			p[i] = (uint8_t)(i / 512 + round);
		prefault_wait();
		for (size_t i = 0; i < LEN; i += 512)
			cr_assert_eq(p[i], (uint8_t)(i / 512 + round), "byte %zu, round %d", i, round);
	}
	munmap(p, LEN);
}

Test(prefault, unmapped_ranges_and_a_full_queue_are_no_error)
{
	uint8_t *p = map();

	munmap(p, LEN);
	for (int i = 0; i < 1000; i++) /* past the queue's room: the rest are dropped */
		prefault(p + (size_t)(i % 64) * 4096, 4096);
	prefault(NULL, 4096);
	prefault(p, 0);
	prefault_wait();
	p = map(); /* the thread still serves requests after the failures */
	if (kernel_populates()) {
		prefault(p, 4096);
		prefault_wait();
		cr_assert_eq(resident_pages(p, 4096), 1);
	}
	munmap(p, LEN);
}

Test(prefault, elems_stop_at_the_array_s_room)
{
	uint8_t *p = map();
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (!kernel_populates())
		skip_unpopulated(p);
	/* elements of one page each: 8 asked from element 2, the array's room ending at element 6 */
	prefault_elems(p, 2, 8, 6, pg);
	prefault_elems(p, 6, 8, 6, pg); /* past the room: nothing */
	prefault_wait();
	cr_assert_eq(resident_pages(p, LEN), 4, "elements 2 to 5 only");
	cr_assert_eq(resident_pages(p, 2 * pg), 0);
	munmap(p, LEN);
}
