/* hugepages.h: large arrays of pycensus's own backed by 2 MiB pages where the kernel allows it
 * (transparent huge pages in "always" or "madvise" mode). The object graph and inspect's records
 * fill tens of MiB of fresh memory once each; every 4 KiB page of it is a fault, and a fault cost
 * 10 to 30 us on the 2-core VM issue 17 measures on (a page of 2 MiB: 0.25 to 2 us per 4 KiB),
 * so 4 KiB pages were a third of inspect's CPU there (20700 faults). The arrays stay malloc'ed
 * (free and realloc as before); past the used bytes at most one 2 MiB page per array is resident
 * beyond what 4 KiB pages would hold. */
#ifndef PC_HUGEPAGES_H
#define PC_HUGEPAGES_H

#include "common/compat.h"

/* Below this an array keeps 4 KiB pages (a 2 MiB page would be mostly unused). */
#define HUGE_MIN_BYTES (2u << 20)

/* Asks 2 MiB pages for [p, p + bytes) (nothing when bytes is under HUGE_MIN_BYTES; the kernel
 * gives them to the whole 2 MiB-aligned spans inside): call it before the memory is first written,
 * e.g. after each growth; the pages already touched keep their size. A kernel that says no
 * changes nothing. */
void huge_advise(void *p, size_t bytes);
/* bytes (at least HUGE_MIN_BYTES) malloc'ed on a 2 MiB boundary and advised: NULL when refused or
 * smaller (the caller then takes xmalloc's). free and realloc take it as any malloc'ed block. */
void *huge_alloc(size_t bytes);
/* Grows *p (of *cap elements of `size` bytes) to `want` elements up front, advised as above: room
 * that is never written takes address space only, and the array then starts in 2 MiB pages where
 * growing it from small would have written its first MiBs in 4 KiB ones (and copied them on each
 * doubling). A reservation the system refuses is no error: *p and *cap are left as they were;
 * none is made under strict overcommit (vm.overcommit_memory 2), where unwritten room would
 * count against the commit limit the target shares. */
void huge_reserve(void **p, size_t *cap, size_t want, size_t size);

#endif
