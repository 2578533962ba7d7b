/* miheap.h: a free-threaded CPython's mimalloc heaps walked from outside: the segments reached
 * from every thread state's heaps (their page queues, full pages included) and from the
 * interpreter's abandoned pool (the segments of threads that exited), every in-use page of each
 * segment split by pymalloc/mipage.h, the heaps' thread_delayed_free blocks taken off, and every
 * live block handed to a callback with its page. Bounded: segments, pages per queue, list lengths;
 * a page or segment that does not check out is skipped and counted, with the first reason kept.
 * The layout of one build comes from python/mimalloc.h; the thread states and the interpreter are
 * the caller's (the census's usual walk). Not yet used by any command. */
#ifndef PC_MIHEAP_H
#define PC_MIHEAP_H

#include "common/compat.h"
#include "attach/mem.h"
#include "common/error.h"
#include "pymalloc/mipage.h"
#include "python/mimalloc.h"

#define MIHEAP_MAX_SEGMENTS 65536   /* 2 TiB of 32 MiB segments */
#define MIHEAP_MAX_QUEUE_PAGES 262144 /* pages followed through one queue */
#define MIHEAP_MAX_DELAYED 1048576  /* blocks on all thread_delayed_free lists */

struct miheap_totals {
	uint64_t segments, abandoned_segments; /* the abandoned ones are among segments */
	uint64_t pages[PYMI_NHEAPS], live[PYMI_NHEAPS], live_bytes[PYMI_NHEAPS];
	uint64_t abandoned_pages, delayed;
	uint64_t skipped_pages, skipped_segments;
	char first_skip[200]; /* why the first skipped page or segment was skipped */
};

/* One live block: its address, its page (tag, block size), and `data`, the local copy of the
 * block's first `len` bytes (the whole block, or less for blocks over 4 KiB; len 0 when unread). */
typedef void (*miheap_block_fn)(void *arg, const struct mipage *pg, uint64_t block,
				const uint8_t *data, size_t len);

/* Walks the heaps of the thread states `ts` (n of them, _PyThreadStateImpl addresses) and the
 * abandoned pool of the interpreter at `interp`. 0, or -1 when the target cannot be read at all
 * (e set); what could not be read page by page is in `t`. */
int miheap_walk(struct mem *mem, const struct pymi *M, uint64_t interp, const uint64_t *ts, size_t n,
		miheap_block_fn fn, void *arg, struct miheap_totals *t, struct pc_err *e);

#endif
