/* record.h: a recorder of every byte read from the target, for `pycensus capture`. The memory
 * reader (attach/mem.c) hands each successful remote read to the recorder it carries; the
 * recorder keeps copies and, at the end, merges them into sorted, non-overlapping regions that
 * replay the census offline (source/image.c writes them to an image file). */
#ifndef PC_RECORD_H
#define PC_RECORD_H

#include "common/compat.h"
#include "attach/mem.h"

struct record_piece {
	uint64_t addr, len;
	uint8_t *data; /* owned */
};

struct mem_recorder {
	struct record_piece *v;
	size_t n, cap;
	uint64_t bytes; /* sum of piece lengths, before merging */
	/* the arena copies are left out: a heap dump saves them from the census's own copy
	 * (census/dumpsave.c), so the heap is not held twice (pymalloc/arenas.c reads around it) */
	bool skip_copies;
};

void record_init(struct mem_recorder *r);
void record_release(struct mem_recorder *r);
/* Keeps a copy of [addr, addr+len) as read from the target. Never fails (aborts on OOM). */
void record_add(struct mem_recorder *r, uint64_t addr, const void *buf, uint64_t len);
/* Merges the pieces into sorted, non-overlapping regions (overlapping or touching pieces become
 * one; where pieces overlap the later read wins). The recorder keeps ownership of the data: the
 * regions stay valid until record_release. Returns the number of regions in *out (malloc'd). */
size_t record_regions(struct mem_recorder *r, struct mem_region **out);

#endif
