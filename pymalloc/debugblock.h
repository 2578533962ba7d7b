/* debugblock.h: pymalloc blocks under the debug allocator hooks (PYTHONMALLOC=debug or
 * pymalloc_debug, -X dev). Each block then starts with 8 bytes of requested size (big-endian), an
 * API id byte ('o' object, 'm' mem, 'r' raw) and 7 x 0xFD, and ends with 8 x 0xFD after the
 * request, so the object sits 16 bytes in and the size class holds the request + 3 words
 * (obmalloc.c _PyMem_DebugRawAlloc; docs/cpython.md pitfall 10; measured on 3.8-3.15). */
#ifndef PC_DEBUGBLOCK_H
#define PC_DEBUGBLOCK_H

#include "common/compat.h"
#include <string.h>

#define DEBUGBLOCK_HEADER 16
#define DEBUGBLOCK_OVERHEAD 24

/* DEBUGBLOCK_HEADER when the block of bs bytes at b carries a debug header whose request fits
 * the block (its pad bytes included), with *req set to the request; 0 otherwise. An object's
 * own bytes 9-15 (the high bytes of ob_type or _gc_prev) never hold 0xFD x 7. */
static inline unsigned debugblock_skip(const uint8_t *b, unsigned bs, unsigned *req)
{
	static const uint8_t pad[8] = { 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd, 0xfd };
	uint64_t n = 0;

	if (bs < DEBUGBLOCK_OVERHEAD || memcmp(b + 9, pad, 7) != 0 || (b[8] != 'o' && b[8] != 'm' && b[8] != 'r'))
		return 0;
	for (int i = 0; i < 8; i++)
		n = n << 8 | b[i];
	if (n > bs - DEBUGBLOCK_OVERHEAD || memcmp(b + DEBUGBLOCK_HEADER + n, pad, 8) != 0)
		return 0;
	*req = (unsigned)n;
	return DEBUGBLOCK_HEADER;
}

#endif
