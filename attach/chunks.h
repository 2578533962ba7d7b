/* chunks.h: 16 KiB chunks of a live target kept after a small read missed the copied regions.
 * Type objects, their names, their dicts and the interpreter's static objects are read one small
 * field at a time and sit close together (static types fill libpython's data segment, heap types
 * are neighbours in the malloc heap), so reading the whole chunk on the first miss serves the next
 * reads locally: one syscall per chunk instead of one per field (1056 -> about 150 on a bare 3.13).
 *
 * This module is only the store: which byte range of which chunk is held. attach/mem.c decides
 * when to fill it and reads the target. A chunk may hold a part of its 16 KiB (a mapping that ends
 * or starts inside it); `lo`/`hi` say which. */
#ifndef PC_CHUNKS_H
#define PC_CHUNKS_H

#include "common/compat.h"
#include "common/ptrmap.h"

#define CHUNK_SIZE 16384u
/* 32 MiB: past that, reads go to the target one by one as before (a census that touches more than
 * 2048 distinct chunks outside its copies is rare, and pycensus's memory stays bounded). */
#define CHUNK_MAX 2048u

struct chunk {
	uint64_t base;    /* CHUNK_SIZE-aligned */
	uint32_t lo, hi;  /* bytes [base+lo, base+hi) are held */
	uint8_t *data;    /* CHUNK_SIZE bytes */
};

struct chunks {
	struct ptrmap index; /* base -> slot + 1 */
	struct chunk *v;
	size_t n, cap;
	uint8_t scratch[CHUNK_SIZE]; /* a fill lands here first, so a failed one costs no slot */
};

void chunks_init(struct chunks *c);
void chunks_release(struct chunks *c);
/* Local bytes for [addr, addr+len) when one chunk holds them all, else NULL. */
const uint8_t *chunks_find(const struct chunks *c, uint64_t addr, uint64_t len);
/* Whether the chunk at base exists or could be created. */
bool chunks_room(const struct chunks *c, uint64_t base);
/* The chunk at base, created empty if there is room; NULL when the store is full. */
struct chunk *chunks_slot(struct chunks *c, uint64_t base);
/* Records that [lo, lo+n) of ch now holds fresh bytes: the held range becomes their union with
 * what it held when the two touch, else just them. */
void chunks_held(struct chunk *ch, uint32_t lo, uint32_t n);

#endif
