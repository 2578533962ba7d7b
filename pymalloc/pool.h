/* pool.h: one pymalloc pool, checked against the invariants of docs/cpython.md 2.2 and split into
 * allocated and free blocks. Pure functions over a local copy: no target access, so unit tests
 * and fuzzers feed them synthetic pools. */
#ifndef PC_POOL_H
#define PC_POOL_H

#include "common/compat.h"
#include "python/layout.h"

/* Enough bits for the most blocks a pool can hold: (16 KiB - 48) / 16 = 1021. */
#define POOL_MAX_BLOCKS 1024
#define POOL_MAP_WORDS (POOL_MAX_BLOCKS / 64)

struct pool_info {
	unsigned szidx, block_size;
	unsigned count;       /* allocated blocks, per the header */
	unsigned arenaindex;
	unsigned nextoffset;
	unsigned carved;      /* blocks below nextoffset */
	unsigned nfree;       /* carved blocks on the free list */
	unsigned capacity;    /* NUMBLOCKS(szidx) */
	bool in_flux;         /* count is one above the blocks off the free list: a thread was
			       * stopped inside pymalloc's allocation or free of one block */
	uint64_t freemap[POOL_MAP_WORDS]; /* bit i: carved block i is free */
};

/* Header-only checks (invariants 1-5, 8): cheap, used to pick scan candidates. On failure returns
 * false with *why set to a static description. */
bool pool_header_ok(const struct pylayout *L, const uint8_t *hdr, uint64_t addr, const char **why);

/* Full check of a pool copied whole (L->pool_size bytes at pool): the header, then the free list
 * (every link inside the carved part, on a block boundary, no cycle, count + free == carved).
 * count == 0 pools are valid and have no allocated block. */
bool pool_inspect(const struct pylayout *L, const uint8_t *pool, uint64_t addr, struct pool_info *out,
		  const char **why);

/* Offset (from the pool start) of allocated block i, or 0 when block i is free or not carved. */
static inline unsigned pool_block_offset(const struct pylayout *L, const struct pool_info *pi, unsigned i)
{
	if (i >= pi->carved || (pi->freemap[i / 64] >> (i % 64)) & 1)
		return 0;
	return (unsigned)L->off.pool_header_size + i * pi->block_size;
}

#endif
