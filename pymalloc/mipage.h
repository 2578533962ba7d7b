/* mipage.h: one mimalloc page of a free-threaded CPython (python/mimalloc.h), checked and split
 * into live and free blocks: the mimalloc counterpart of pool.h. Pure functions over local copies
 * (the page descriptor, the page's blocks): no target access, so unit tests and fuzzers feed them
 * synthetic pages.
 *
 * A block is free when it is on the page's `free` list (allocation takes from it), its
 * `local_free` list (freed by the owning thread), its `xthread_free` list (freed by other threads;
 * the low 2 bits are flags), or the owning heap's `thread_delayed_free` list (mipage_mark_free).
 * mimalloc keeps `used + |free| + |local_free| == capacity` (Objects/mimalloc/page.c
 * mi_page_is_valid_init); a page that breaks it, or a link that leaves the page, lands between
 * blocks, or repeats, is refused with the reason. */
#ifndef PC_MIPAGE_H
#define PC_MIPAGE_H

#include "common/compat.h"
#include <stddef.h>
#include "python/mimalloc.h"

/* The most blocks a page holds: a 64 KiB small page of 8-byte blocks (MI_SMALL_PAGE_SIZE / 8). */
#define MIPAGE_MAX_BLOCKS 8192

struct mipage {
	uint64_t addr;        /* the page descriptor's address (in its segment's slices[]) */
	uint64_t segment;     /* the segment holding it (addr rounded down to segment_size) */
	uint64_t start;       /* the first block */
	uint64_t block_size;  /* the stride between blocks */
	uint64_t area;        /* bytes of block area: capacity * block_size */
	uint32_t capacity;    /* blocks set up so far (the rest of the page is untouched) */
	uint32_t used;        /* mimalloc's count: live + thread-freed + delayed */
	unsigned tag;         /* the owning heap's tag: PYMI_HEAP_* */
	uint32_t nfree, nlocal, nthread, ndelayed, nlive;
	uint64_t freemap[MIPAGE_MAX_BLOCKS / 64]; /* bit i: block i is free */
};

/* Reads and checks the descriptor `desc` (page_size bytes copied from `addr`): its place in its
 * segment, the block size and where its blocks lie. No block is read. 0, or -1 with `why`. A
 * descriptor with xblock_size 0 (a free span) is refused as "not in use". */
int mipage_parse(const struct pymi *M, uint64_t addr, const uint8_t *desc, struct mipage *pg,
		 char *why, size_t len);

/* Walks the free lists through `data`, a copy of the block area [pg->start, pg->start +
 * pg->area), and counts the live blocks. 0, or -1 with `why` (the page is then to be skipped). */
int mipage_split(const struct pymi *M, const uint8_t *desc, const uint8_t *data, struct mipage *pg,
		 char *why, size_t len);

/* One block of a heap's thread_delayed_free list: true when it was a live block of this page (it
 * is then counted free). */
bool mipage_mark_free(struct mipage *pg, uint64_t block);

static inline bool mipage_live(const struct mipage *pg, uint32_t i)
{
	return i < pg->capacity && !(pg->freemap[i / 64] >> (i % 64) & 1);
}

#endif
