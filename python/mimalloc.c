/* mimalloc.c: the mimalloc tables of python/mimalloc.h. */
#include "common/compat.h"
#include "python/mimalloc.h"

#include <stddef.h>
#include <string.h>

/* CPython 3.13.15 --disable-gil (tools/build-freethreaded), x86-64: offsetof/sizeof printed by a
 * program compiled against that build's own headers and pyconfig.h. sizeof(mi_page_t) is 96 (the
 * GIL build's padding word is replaced by qsbr_node and qsbr_goal); the segment header is 264
 * bytes before slices[513]; a heap is 3064 bytes, its 75 page queues (MI_BIN_FULL + 1) at 1040. */
static const struct pymi mi_3_13 = {
	.source = "3.13.15t",
	.segment_size = 32ull << 20,
	.slice_size = 64ull << 10,
	.slices_max = 512 + 1,
	.huge_block = 2ull << 30,
	.max_blocks = (64u << 10) / 8,
	.page_size = 96,
	.pg_slice_count = 0,
	.pg_slice_offset = 4,
	.pg_bits = 8, /* is_committed:1, is_zero_init:1, use_qsbr:1, tag:4 (GCC: from bit 0) */
	.pg_tag_shift = 3,
	.pg_tag_mask = 0xf,
	.pg_capacity = 10,
	.pg_reserved = 12,
	.pg_free = 16,
	.pg_used = 24,
	.pg_xblock_size = 28,
	.pg_local_free = 32,
	.pg_xthread_free = 40,
	.pg_next = 56,
	.seg_abandoned_next = 176,
	.seg_slice_entries = 248,
	.seg_thread_id = 256,
	.seg_slices = 264,
	.heap_size = 3064,
	.heap_pages = 1040,
	.heap_nqueues = 75,
	.queue_size = 24,
	.heap_delayed_free = 2840,
	.heap_tag = 3057,
	.ts_heaps = 352 + 8,
	.is_abandoned_pool = 10816,
	.pool_abandoned_visited = 0,
	.pool_abandoned = 64,
};

/* None for 3.14t and 3.15t: their headers (sid's libpython3.14-dev 3.14.10, 3.15-dev 3.15.2;
 * `tools/ft-layouts --mimalloc`) vendor mimalloc 2.5.2 (MI_MALLOC_VERSION 20502, 212 in 3.13):
 * mi_page_t is 112 bytes, `used` a u16 at 32, `xblock_size` gone for a size_t `block_size` at
 * 40 and a `page_start` pointer at 48, the tag a byte of its own (`heap_tag` at 35), and the
 * interpreter's abandoned pool replaced by a mi_subproc_t pointer: abandoned segments are marked
 * in mimalloc's arenas (Objects/mimalloc/arena.c, a static array no header describes), only
 * those outside any arena on a list. The walk (pymalloc/mipage.c, miheap.c) reads 3.13's shapes. */
const struct pymi *py_mimalloc(int major, int minor)
{
	return major == 3 && minor == 13 ? &mi_3_13 : NULL;
}

void pyft_object_read(const uint8_t hdr[PYFT_HEADER], struct pyft_object *o)
{
	memcpy(&o->tid, hdr, 8);
	memcpy(&o->ref_local, hdr + 12, 4);
	memcpy(&o->ref_shared, hdr + 16, 8);
	memcpy(&o->type, hdr + PYFT_OB_TYPE, 8);
	o->gc_bits = hdr[11];
}

bool pyft_immortal(const struct pyft_object *o)
{
	return o->ref_local == UINT32_MAX;
}

bool pyft_dead(const struct pyft_object *o)
{
	/* an arithmetic shift, as Py_ARITHMETIC_RIGHT_SHIFT in Include/object.h */
	return o->ref_local == 0 && (o->ref_shared < 0 ? -((-o->ref_shared) >> 2) : o->ref_shared >> 2) <= 0;
}
