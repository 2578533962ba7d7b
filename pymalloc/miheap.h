/* miheap.h: a free-threaded CPython's mimalloc heaps walked from outside: the segments reached
 * from every thread state's heaps (their page queues, full pages included) and from the
 * interpreter's abandoned pool (the segments of threads that exited), every in-use page of each
 * segment split by pymalloc/mipage.h, the heaps' thread_delayed_free blocks taken off, and every
 * live block handed to a callback with its page. Bounded: segments, pages per queue, list lengths;
 * a page or segment that does not check out is skipped and counted, with the first reason kept.
 * The layout of one build comes from python/mimalloc.h; the thread states and the interpreter are
 * caller's (miheap_thread_states lists the main interpreter's). Used by the census
 * (census/miblocks.c) and by `stats` (its size classes). */
#ifndef PC_MIHEAP_H
#define PC_MIHEAP_H

#include "common/compat.h"
#include "attach/mem.h"
#include "common/error.h"
#include "pymalloc/mipage.h"
#include "python/mimalloc.h"
#include "source/pyproc.h"

#define MIHEAP_MAX_SEGMENTS 65536   /* 2 TiB of 32 MiB segments */
#define MIHEAP_MAX_QUEUE_PAGES 262144 /* pages followed through one queue */
#define MIHEAP_MAX_DELAYED 1048576  /* blocks on all thread_delayed_free lists */
#define MIHEAP_WHY 200              /* the room for the first reason a part was skipped */

/* One size class of one heap: what `pycensus stats` prints for a free-threaded build, as
 * sys._debugmallocstats() prints pymalloc's size classes on the GIL build. */
struct miheap_class {
	uint64_t block_size;
	unsigned tag;                 /* PYMI_HEAP_* */
	uint64_t pages, abandoned_pages;
	uint64_t capacity;            /* blocks set up in its pages */
	uint64_t used;                /* mimalloc's count: live, freed by other threads, delayed */
	uint64_t live;                /* used less the blocks on the cross-thread and delayed lists */
};

/* Size classes kept apart; more (a page size per large object) are summed in the last one. */
#define MIHEAP_MAX_CLASSES 512

struct miheap_totals {
	uint64_t segments, abandoned_segments; /* the abandoned ones are among segments */
	uint64_t pages[PYMI_NHEAPS], live[PYMI_NHEAPS], live_bytes[PYMI_NHEAPS];
	/* sum of `used` over every page: what sys.getallocatedblocks() counts on this build (3.13t
	 * Objects/obmalloc.c get_mimalloc_allocated_blocks: area->used of every page, every heap) */
	uint64_t used[PYMI_NHEAPS];
	struct miheap_class classes[MIHEAP_MAX_CLASSES]; /* sorted by heap, then block size */
	unsigned nclasses;
	uint64_t abandoned_pages, delayed;
	uint64_t skipped_pages, skipped_segments;
	char first_skip[MIHEAP_WHY]; /* why the first skipped page or segment was skipped */
};

/* What a walk walks, gathered from the thread states' heaps and the abandoned pool: the segments
 * and the heaps' thread_delayed_free blocks. Gathered while the target stands stopped, it lets a
 * later walk of copies of those segments (pymalloc/micopy.h) see the heaps of that instant. */
struct miheap_set {
	uint64_t *segs;
	size_t nsegs, nowned;  /* segs[0..nowned) came from thread states, the rest abandoned */
	uint64_t *delayed;     /* sorted */
	size_t ndelayed;
	size_t nthreads;       /* thread states whose heaps were read */
	bool full;             /* more than MIHEAP_MAX_SEGMENTS */
	uint64_t skipped_pages, skipped_segments;
	char first_skip[MIHEAP_WHY];
};

/* One live block: its address, its page (tag, block size), and `data`, the local copy of the
 * block's first `len` bytes (the whole block, or less for blocks over 4 KiB; len 0 when unread). */
typedef void (*miheap_block_fn)(void *arg, const struct mipage *pg, uint64_t block,
				const uint8_t *data, size_t len);

/* Walks the heaps of the thread states `ts` (n of them, _PyThreadStateImpl addresses) and the
 * abandoned pool of the interpreter at `interp`. 0, or -1 when the target cannot be read at all
 * (e set); what could not be read page by page is in `t`. */
/* The heap a tag names, as CPython names them (_Py_MIMALLOC_HEAP_MEM, _OBJECT, _GC, _GC_PRE):
 * "mem", "object", "gc", "gc_pre"; "?" for another. */
const char *miheap_tag_name(unsigned tag);

/* The thread states of the main interpreter (threads.head, linked by next), bounded: *out is
 * malloc'd; returns how many. */
size_t miheap_thread_states(struct pyproc *p, uint64_t **out);

int miheap_walk(struct mem *mem, const struct pymi *M, uint64_t interp, const uint64_t *ts, size_t n,
		miheap_block_fn fn, void *arg, struct miheap_totals *t, struct pc_err *e);

/* miheap_walk in two steps: the set gathered (what was not readable counted in it), then walked
 * (the same errors as miheap_walk). miheap_set_release frees what the set holds. */
void miheap_collect(struct mem *mem, const struct pymi *M, uint64_t interp, const uint64_t *ts, size_t n,
		    struct miheap_set *s);
int miheap_walk_set(struct mem *mem, const struct pymi *M, const struct miheap_set *s, miheap_block_fn fn, void *arg,
		    struct miheap_totals *t, struct pc_err *e);
void miheap_set_release(struct miheap_set *s);

/* The bytes of a segment's header the walk reads at its start: the segment and its slices. */
size_t miheap_segment_header(const struct pymi *M);
/* Each in-use page of the segment at seg, from a copy of its header (miheap_segment_header bytes):
 * fn gets the page descriptor's address and bytes (unchecked: mipage_parse checks them). 0; -1
 * when the header is refused whole; 1 when a span ended the walk early (the pages before it were
 * handed on); why says what was wrong. */
typedef void (*miheap_page_fn)(void *arg, uint64_t addr, const uint8_t *desc);
int miheap_segment_each(const struct pymi *M, uint64_t seg, const uint8_t *hdr, miheap_page_fn fn, void *arg,
			char *why, size_t len);
/* The bytes of a page's blocks the walk reads from pg->start: every block, or for a page of one
 * large block its first 4 KiB; 0 for a page of many blocks too large to walk (it is skipped). */
uint64_t miheap_page_bytes(const struct mipage *pg);

#endif
