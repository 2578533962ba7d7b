/* mimalloc.h: the mimalloc structures a free-threaded CPython (Py_GIL_DISABLED) keeps its objects
 * in, as offsets: mimalloc 2.1 as CPython vendors it (Include/internal/mimalloc/mimalloc/types.h,
 * release build: MI_SECURE 0, no MI_ENCODE_FREELIST, no MI_PADDING, so free-list links are plain
 * pointers in the first word of a free block), the per-thread heaps of
 * Include/internal/pycore_mimalloc.h and where CPython puts them. Only python/ knows these; the
 * walk (pymalloc/mipage.h) reads them from here. One table per build family; NULL when none. */
#ifndef PC_PY_MIMALLOC_H
#define PC_PY_MIMALLOC_H

#include "common/compat.h"
#include <stdint.h>

/* The heaps of one thread state, by _Py_mimalloc_heap_id (pycore_mimalloc.h). */
enum { PYMI_HEAP_MEM, PYMI_HEAP_OBJECT, PYMI_HEAP_GC, PYMI_HEAP_GC_PRE, PYMI_NHEAPS };

struct pymi {
	const char *source;      /* which build the values were measured on */
	uint64_t segment_size;   /* MI_SEGMENT_SIZE, segments are aligned to it */
	uint64_t slice_size;     /* MI_SEGMENT_SLICE_SIZE */
	uint32_t slices_max;     /* MI_SLICES_PER_SEGMENT (+1 entry for huge alignment) */
	uint64_t huge_block;     /* MI_HUGE_BLOCK_SIZE: xblock_size at or above it means "the page" */
	uint32_t max_blocks;     /* blocks a page can hold at most (MI_SMALL_PAGE_SIZE / 8) */
	/* mi_page_t (= mi_slice_t) */
	uint16_t page_size, pg_slice_count, pg_slice_offset, pg_bits, pg_capacity, pg_reserved,
		pg_free, pg_used, pg_xblock_size, pg_local_free, pg_xthread_free, pg_next;
	uint8_t pg_tag_shift, pg_tag_mask; /* the 4-bit `tag` bit-field in the byte at pg_bits */
	/* mi_segment_t */
	uint16_t seg_abandoned_next, seg_slice_entries, seg_thread_id, seg_slices;
	/* mi_heap_t, mi_page_queue_t */
	uint16_t heap_size, heap_pages, heap_nqueues, queue_size, heap_delayed_free, heap_tag;
	/* CPython: _PyThreadStateImpl.mimalloc.heaps, PyInterpreterState.mimalloc.abandoned_pool */
	uint32_t ts_heaps, is_abandoned_pool;
	uint16_t pool_abandoned, pool_abandoned_visited; /* `abandoned` is tagged: low bits a count */
};

/* The table for a free-threaded CPython major.minor, or NULL when pycensus has none. */
const struct pymi *py_mimalloc(int major, int minor);

/* The free-threaded object header (Include/object.h under Py_GIL_DISABLED, 3.13): ob_tid u64 @0,
 * ob_flags u16 @8, ob_mutex u8 @10, ob_gc_bits u8 @11, ob_ref_local u32 @12, ob_ref_shared i64
 * @16 (a count shifted by _Py_REF_SHARED_SHIFT 2, flags in the low 2 bits), ob_type @24. */
#define PYFT_HEADER 32
#define PYFT_OB_TYPE 24
/* Objects of types with a managed dict or weakref (Py_TPFLAGS_PREHEADER) sit this far into their
 * block, in the GC_PRE heap: the dict and weakref words, no PyGC_Head (_PyType_PreHeaderSize). */
#define PYFT_PREHEADER 16
#define PYFT_GC_DEFERRED 64 /* _PyGC_BITS_DEFERRED: deferred reference counting (functions, code, ...) */

struct pyft_object {
	uint64_t tid, type;
	uint32_t ref_local;
	int64_t ref_shared;
	uint8_t gc_bits;
};

void pyft_object_read(const uint8_t hdr[PYFT_HEADER], struct pyft_object *o);
/* ob_ref_local _Py_IMMORTAL_REFCNT_LOCAL (UINT32_MAX). */
bool pyft_immortal(const struct pyft_object *o);
/* No reference left (local 0, shared count <= 0): a freed object still in its block, kept on a
 * per-thread freelist (3.13t keeps dicts, lists, tuples, floats there: the "free PyListObjects"
 * of sys._debugmallocstats()), or being deallocated. Not part of a census. */
bool pyft_dead(const struct pyft_object *o);

#endif
