/* hugepages.c: 2 MiB pages for large arrays (common/hugepages.h). */
#include "common/compat.h"
#include "common/hugepages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE ((uintptr_t)4096)
#define HUGE_PAGE ((size_t)2 << 20)

/* The whole 4 KiB pages the array touches, not only its 2 MiB-aligned part: a large malloc is a
 * mapping of its own, and advising part of it splits it in two, after which glibc's realloc can no
 * longer move it with mremap (EFAULT across mappings) and copies it instead, every page faulted
 * again (strace, inspect on Sphinx: 3000 faults more). The kernel backs only the 2 MiB-aligned
 * pages inside with huge ones. */
void huge_advise(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
	uintptr_t lo = (uintptr_t)p & ~(PAGE - 1), hi = ((uintptr_t)p + bytes + PAGE - 1) & ~(PAGE - 1);

	if (p && bytes >= HUGE_MIN_BYTES)
		(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE); /* EINVAL without THP: 4 KiB pages as before */
#else
	(void)p;
	(void)bytes;
#endif
}

/* Aligned to 2 MiB: the kernel gives huge pages only to whole aligned 2 MiB spans, and a malloc'ed
 * mapping starts anywhere, so its first span (up to 2 MiB, 512 faults) would stay in 4 KiB pages. */
void *huge_alloc(size_t bytes)
{
	void *q;

	if (bytes < HUGE_MIN_BYTES || posix_memalign(&q, HUGE_PAGE, bytes))
		return NULL;
	huge_advise(q, bytes);
	return q;
}

/* Under strict overcommit (vm.overcommit_memory 2) room reserved and never written still counts
 * against the commit limit the whole system shares, the target included: a reservation there
 * could make the target's own allocations fail. Read once. */
static bool strict_overcommit(void)
{
	static int mode = -1;
	FILE *f;

	if (mode < 0) {
		mode = 0;
		if ((f = fopen("/proc/sys/vm/overcommit_memory", "r"))) {
			if (fscanf(f, "%d", &mode) != 1)
				mode = 0;
			fclose(f);
		}
	}
	return mode == 2;
}

void huge_reserve(void **p, size_t *cap, size_t want, size_t size)
{
	void *q;

	if (want <= *cap || !size || want > SIZE_MAX / size || strict_overcommit() || !(q = huge_alloc(want * size)))
		return;
	if (*cap)
		memcpy(q, *p, *cap * size);
	free(*p);
	*p = q;
	*cap = want;
}
