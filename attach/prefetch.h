/* prefetch.h: byte ranges of a live target read ahead in one batch (attach/mem.h mem_prefetch).
 * A census that knows which small objects outside its copies it is about to read one by one
 * (the 60,000 classes of a heap, their shared-keys headers) reads them in a few process_vm_readv
 * calls instead; later reads inside a range are served from here until the next batch replaces
 * it. Like the chunks (attach/chunks.h), these are never reported by mem_local().
 *
 * This module is only the store: ranges sorted by address over one buffer, bounded. A range may
 * overlap the one before only by starting inside it and ending past it (a span that reached its
 * bound), so the last range starting at or below an address is the one to look in. */
#ifndef PC_PREFETCH_H
#define PC_PREFETCH_H

#include "common/compat.h"

/* Bounds of one batch: 4096 ranges of at most 4 KiB each, 32 MiB held at most. */
#define PREFETCH_MAX_RANGES 4096u
#define PREFETCH_MAX_LEN 4096u
#define PREFETCH_MAX_BYTES (32u << 20)
/* Ranges less than a page apart are read as one span of at most 64 KiB, the bytes between
 * included: those lie in pages of the two ranges, so the span is readable when both are, and one
 * iovec costs the kernel one pinning of its pages where two cost two (types of a heap's classes
 * are malloc neighbours, a few to a page: 60,000 of them read in 0.09 s less). */
#define PREFETCH_GAP 4096u
#define PREFETCH_SPAN_MAX 65536u

struct pf_range {      /* a span, once planned */
	uint64_t addr;
	uint32_t len;
	uint32_t off; /* into buf */
};

struct prefetch {
	struct pf_range *v; /* sorted by addr; see above for overlaps */
	size_t n, cap;
	uint8_t *buf;
	size_t bufcap;
	size_t last; /* the range prefetch_find found last (checked against n before use) */
};

void prefetch_release(struct prefetch *f);
/* Plans a batch from n wanted ranges (any order, duplicates allowed): drops empty, oversized and
 * wrapping ones, sorts them, joins repeated, overlapping and near ones into spans, keeps the
 * first spans within the bounds above and lays them out in buf. The caller reads them and then keeps only those read
 * (prefetch_keep). Returns how many were planned. */
size_t prefetch_plan(struct prefetch *f, const uint64_t *addr, const uint32_t *len, size_t n);
/* Keeps the planned ranges whose ok[i] is true, in order. */
void prefetch_keep(struct prefetch *f, const bool *ok);
void prefetch_clear(struct prefetch *f);
/* Local bytes for [addr, addr+len) when one range holds them all, else NULL. */
const uint8_t *prefetch_find(struct prefetch *f, uint64_t addr, uint64_t len);

#endif
