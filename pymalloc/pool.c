/* pool.c: pool header and free-list validation (docs/cpython.md 1.2, 1.4, 2.2). */
#include "common/compat.h"
#include "pymalloc/pool.h"

#include <string.h>

static uint32_t rd32(const uint8_t *p, int32_t off)
{
	uint32_t v;
	memcpy(&v, p + off, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p, int32_t off)
{
	uint64_t v;
	memcpy(&v, p + off, 8);
	return v;
}

static bool fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return false;
}

bool pool_header_ok(const struct pylayout *L, const uint8_t *hdr, uint64_t addr, const char **why)
{
	const struct pyoffsets *o = &L->off;
	unsigned hsz = (unsigned)o->pool_header_size, szidx, size, n, next;

	if (addr % L->pool_size)
		return fail(why, "pool address not pool-aligned");
	/* ref is a union of a pointer and the uint count: the upper half stays 0. */
	if (rd32(hdr, o->ph_count + 4) != 0)
		return fail(why, "pool ref.count upper half not zero");
	szidx = rd32(hdr, o->ph_szidx);
	if (szidx >= L->nsize_classes)
		return fail(why, "pool size class out of range");
	size = (szidx + 1) * L->size_class_step;
	n = (unsigned)((L->pool_size - hsz) / size);
	if (rd32(hdr, o->ph_maxnextoffset) != L->pool_size - size)
		return fail(why, "pool maxnextoffset does not match its size class");
	next = rd32(hdr, o->ph_nextoffset);
	/* The first carve hands out one block and sets nextoffset past a second one. */
	if (next < hsz + 2 * size || next > hsz + n * size || (next - hsz) % size)
		return fail(why, "pool nextoffset out of range");
	if (rd32(hdr, o->ph_count) > n)
		return fail(why, "pool count larger than its capacity");
	return true;
}

/* Walks the free list, marking free blocks; false on a bad link, a cycle or an overlong list. */
static bool walk_freelist(const struct pylayout *L, const uint8_t *pool, uint64_t addr, struct pool_info *pi,
			  const char **why)
{
	unsigned hsz = (unsigned)L->off.pool_header_size;
	uint64_t f = rd64(pool, L->off.ph_freeblock);

	while (f) {
		uint64_t off, i;
		if (f < addr + hsz || f >= addr + pi->nextoffset)
			return fail(why, "pool free-list link outside the carved blocks");
		off = f - addr - hsz;
		if (off % pi->block_size)
			return fail(why, "pool free-list link not on a block boundary");
		i = off / pi->block_size;
		if ((pi->freemap[i / 64] >> (i % 64)) & 1)
			return fail(why, "pool free list has a cycle");
		/* distinct carved blocks only, so the walk ends within `carved` steps */
		pi->freemap[i / 64] |= 1ULL << (i % 64);
		pi->nfree++;
		f = rd64(pool, (int32_t)(f - addr));
	}
	return true;
}

bool pool_inspect(const struct pylayout *L, const uint8_t *pool, uint64_t addr, struct pool_info *pi,
		  const char **why)
{
	const struct pyoffsets *o = &L->off;
	unsigned hsz = (unsigned)o->pool_header_size;

	memset(pi, 0, sizeof *pi);
	if (!pool_header_ok(L, pool, addr, why))
		return false;
	pi->szidx = rd32(pool, o->ph_szidx);
	pi->block_size = (pi->szidx + 1) * L->size_class_step;
	pi->count = rd32(pool, o->ph_count);
	pi->arenaindex = rd32(pool, o->ph_arenaindex);
	pi->nextoffset = rd32(pool, o->ph_nextoffset);
	pi->capacity = (unsigned)((L->pool_size - hsz) / pi->block_size);
	pi->carved = (pi->nextoffset - hsz) / pi->block_size;
	if (pi->carved > pi->capacity)
		pi->carved = pi->capacity;
	if (!walk_freelist(L, pool, addr, pi, why))
		return false;
	/* An empty pool (count 0) may keep a stale free list; it has no live block either way. */
	if (pi->count == 0) {
		memset(pi->freemap, 0xff, sizeof pi->freemap);
		pi->nfree = pi->carved;
		return true;
	}
	/* A thread stopped inside pymalloc has moved the count and the free list one step apart
	 * (Objects/obmalloc.c, 3.8-3.15: pymalloc_alloc increments ref.count before freeblock
	 * advances past the block it hands out; pymalloc_free puts the block on the list before it
	 * decrements ref.count). One block is in flux and no object yet or any more: the pool's
	 * other blocks are whole (measured: 1-2.5 % of --pause census stops on a churning target
	 * dropped a whole pool, about 159 blocks, for it). */
	if (pi->count == pi->carved - pi->nfree + 1) {
		pi->in_flux = true;
		return true;
	}
	if (pi->count + pi->nfree != pi->carved)
		return fail(why, "pool count + free blocks != carved blocks");
	return true;
}
