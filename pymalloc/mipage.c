/* mipage.c: one mimalloc page checked and split into live and free blocks (mipage.h). */
#include "common/compat.h"
#include "pymalloc/mipage.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static uint64_t rd64(const uint8_t *p, uint16_t off)
{
	uint64_t v;
	memcpy(&v, p + off, sizeof v);
	return v;
}

static uint32_t rd32(const uint8_t *p, uint16_t off)
{
	uint32_t v;
	memcpy(&v, p + off, sizeof v);
	return v;
}

static uint16_t rd16(const uint8_t *p, uint16_t off)
{
	uint16_t v;
	memcpy(&v, p + off, sizeof v);
	return v;
}

PC_PRINTF(3, 4) static int refuse(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* Small blocks do not start at the page's first byte: 3 blocks in for blocks up to 64 bytes, one
 * up to 512 (Objects/mimalloc/segment.c _mi_segment_page_start_from_slice). */
static uint64_t start_offset(uint64_t xblock_size)
{
	if (xblock_size < 8)
		return 0;
	return xblock_size <= 64 ? 3 * xblock_size : xblock_size <= 512 ? xblock_size : 0;
}

int mipage_parse(const struct pymi *M, uint64_t addr, const uint8_t *desc, struct mipage *pg,
		 char *why, size_t len)
{
	uint64_t seg = addr & ~(M->segment_size - 1), first = seg + M->seg_slices, idx, span, off;
	uint32_t slice_count = rd32(desc, M->pg_slice_count), xbs = rd32(desc, M->pg_xblock_size);

	memset(pg, 0, sizeof *pg);
	pg->addr = addr;
	pg->segment = seg;
	if (addr < first || (addr - first) % M->page_size)
		return refuse(why, len, "page %#llx is not a slice of segment %#llx",
			      (unsigned long long)addr, (unsigned long long)seg);
	idx = (addr - first) / M->page_size;
	if (idx >= M->slices_max || slice_count == 0 || slice_count > M->slices_max - idx)
		return refuse(why, len, "page %#llx: slice %llu of %u spans %u slices",
			      (unsigned long long)addr, (unsigned long long)idx, M->slices_max, slice_count);
	if (rd32(desc, M->pg_slice_offset) != 0)
		return refuse(why, len, "page %#llx: not the first slice of its page", (unsigned long long)addr);
	if (xbs == 0)
		return refuse(why, len, "page %#llx: not in use", (unsigned long long)addr);
	span = (uint64_t)slice_count * M->slice_size;
	off = start_offset(xbs);
	pg->start = seg + idx * M->slice_size + off;
	pg->block_size = xbs < M->huge_block ? xbs : span - off;
	pg->capacity = rd16(desc, M->pg_capacity);
	pg->used = rd32(desc, M->pg_used);
	pg->tag = (desc[M->pg_bits] >> M->pg_tag_shift) & M->pg_tag_mask;
	if (pg->block_size < 8 || pg->block_size > span - off)
		return refuse(why, len, "page %#llx: block size %llu in a %llu-byte page",
			      (unsigned long long)addr, (unsigned long long)pg->block_size,
			      (unsigned long long)span);
	if (pg->capacity > rd16(desc, M->pg_reserved) || pg->capacity > MIPAGE_MAX_BLOCKS ||
	    pg->capacity > M->max_blocks || (uint64_t)pg->capacity * pg->block_size > span - off)
		return refuse(why, len, "page %#llx: %u blocks of %llu bytes do not fit",
			      (unsigned long long)addr, pg->capacity, (unsigned long long)pg->block_size);
	if (pg->used > pg->capacity)
		return refuse(why, len, "page %#llx: %u used of %u blocks", (unsigned long long)addr,
			      pg->used, pg->capacity);
	if (pg->tag >= PYMI_NHEAPS)
		return refuse(why, len, "page %#llx: heap tag %u", (unsigned long long)addr, pg->tag);
	pg->area = (uint64_t)pg->capacity * pg->block_size;
	return 0;
}

/* The index of block b of pg, or -1 when b is not the start of one of its blocks. */
static int64_t block_index(const struct mipage *pg, uint64_t b)
{
	if (b < pg->start || b - pg->start >= pg->area || (b - pg->start) % pg->block_size)
		return -1;
	return (int64_t)((b - pg->start) / pg->block_size);
}

/* Marks the blocks of one list free; *n counts them. Bounded by the capacity: a list longer than
 * the page, or one that comes back to a block, is refused. */
static int walk_list(struct mipage *pg, const uint8_t *data, uint64_t head, uint32_t *n,
		     const char *name, char *why, size_t len)
{
	for (uint64_t b = head; b; ) {
		int64_t i = block_index(pg, b);

		if (i < 0)
			return refuse(why, len, "page %#llx: %s link %#llx is not one of its blocks",
				      (unsigned long long)pg->addr, name, (unsigned long long)b);
		if (pg->freemap[i / 64] >> (i % 64) & 1)
			return refuse(why, len, "page %#llx: block %#llx twice on the free lists (%s)",
				      (unsigned long long)pg->addr, (unsigned long long)b, name);
		pg->freemap[i / 64] |= 1ull << (i % 64);
		(*n)++;
		memcpy(&b, data + (uint64_t)i * pg->block_size, sizeof b);
	}
	return 0;
}

int mipage_split(const struct pymi *M, const uint8_t *desc, const uint8_t *data, struct mipage *pg,
		 char *why, size_t len)
{
	uint64_t tfree = rd64(desc, M->pg_xthread_free) & ~3ull; /* low bits: mi_delayed_t */

	memset(pg->freemap, 0, sizeof pg->freemap);
	pg->nfree = pg->nlocal = pg->nthread = pg->ndelayed = pg->nlive = 0;
	if (walk_list(pg, data, rd64(desc, M->pg_free), &pg->nfree, "free", why, len) < 0 ||
	    walk_list(pg, data, rd64(desc, M->pg_local_free), &pg->nlocal, "local_free", why, len) < 0)
		return -1;
	if ((uint64_t)pg->used + pg->nfree + pg->nlocal != pg->capacity)
		return refuse(why, len, "page %#llx: %u used + %u free + %u local_free != %u blocks",
			      (unsigned long long)pg->addr, pg->used, pg->nfree, pg->nlocal, pg->capacity);
	/* its blocks are distinct from the other lists', so nthread <= used */
	if (walk_list(pg, data, tfree, &pg->nthread, "xthread_free", why, len) < 0)
		return -1;
	pg->nlive = pg->used - pg->nthread;
	return 0;
}

bool mipage_mark_free(struct mipage *pg, uint64_t block)
{
	int64_t i = block_index(pg, block);

	if (i < 0 || !mipage_live(pg, (uint32_t)i) || pg->nlive == 0)
		return false;
	pg->freemap[i / 64] |= 1ull << (i % 64);
	pg->ndelayed++;
	pg->nlive--;
	return true;
}
