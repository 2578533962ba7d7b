/* ftprobe.c: compiled by tools/ft-layouts against a CPython's own headers (Include/ and
 * Include/internal/, as Debian's libpython3.X-dev ships them), never linked into pycensus.
 *
 * Two uses:
 *  - its DWARF: built with -g -fno-eliminate-unused-debug-types, the object file describes every
 *    struct the headers declare, so tools/gen_layouts reads python/layout_fields.def's rows from
 *    it (LABEL=FILE) as it does from a libpython's DWARF;
 *  - its .PyRuntime section: _Py_DebugOffsets as such a build starts _PyRuntime with;
 *  - its output: run, it prints the mimalloc offsets python/mimalloc.c's struct pymi holds, in
 *    that struct's initializer form, for a free-threaded configuration (-DPy_GIL_DISABLED=1).
 * Linked with unresolved symbols left at 0 (-no-pie): the 3.13 runtime initialiser names
 * libpython's objects, whose addresses nothing here uses.
 *
 * Py_BUILD_CORE: the internal headers refuse to be included without it. */
#define Py_BUILD_CORE 1
#include "Python.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The structs layout_fields.def names live in these (3.13-3.15); __has_include keeps one probe
 * for every minor. */
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_code.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_gc.h"
#include "internal/pycore_long.h"
#include "internal/pycore_object.h"
#include "internal/pycore_obmalloc.h"
#include "internal/pycore_typeobject.h"
#include "internal/pycore_moduleobject.h"
#include "internal/pycore_tstate.h"
#if __has_include("internal/pycore_genobject.h")
#include "internal/pycore_genobject.h"
#endif
#if __has_include("internal/pycore_gil.h")
#include "internal/pycore_gil.h"
#endif
#if __has_include("internal/pycore_interp_structs.h")
#include "internal/pycore_interp_structs.h"
#endif

/* _Py_DebugOffsets as the build initialises the start of _PyRuntime (Python/pylifecycle.c), in the
 * section the build keeps _PyRuntime in: tools/ft-layouts compares these bytes with a real
 * build's, and the unit tests read them as they read a libpython's .PyRuntime. 3.14+ have a macro
 * for it; 3.13 initialises the whole runtime state at once. */
#if PY_VERSION_HEX >= 0x030e0000
#include "internal/pycore_debug_offsets.h"
__attribute__((section(".PyRuntime"), used)) _Py_DebugOffsets ftprobe_runtime =
	_Py_DebugOffsets_INIT(_Py_Debug_Cookie);
#else
#include "internal/pycore_ceval.h" /* Py_DEFAULT_RECURSION_LIMIT, used by the INIT macros */
#include "internal/pycore_runtime_init.h"
__attribute__((section(".PyRuntime"), used)) _PyRuntimeState ftprobe_runtime =
	_PyRuntimeState_INIT(ftprobe_runtime, _Py_Debug_Cookie);
#endif

/* Objects/codeobject.c's, in no header (3.8-3.15): what PyCodeObject.co_extra points to
 * (layout_fields.def co_extra_size, co_extra_extras). */
typedef struct {
	Py_ssize_t ce_size;
	void *ce_extras[1];
} _PyCodeObjectExtra;
_PyCodeObjectExtra *ftprobe_code_extra;

#ifdef Py_GIL_DISABLED
/* The byte and bit position of a one-byte bit-field: set it in a zeroed copy, find what changed. */
#define BITFIELD(type, member, byte, shift, mask)                                              \
	do {                                                                                   \
		type z_;                                                                       \
		memset(&z_, 0, sizeof z_);                                                     \
		z_.member--; /* all ones, whatever its width */                              \
		bitfield_at((const unsigned char *)&z_, sizeof z_, byte, shift, mask);         \
	} while (0)

static void bitfield_at(const unsigned char *p, size_t n, size_t *byte, unsigned *shift, unsigned *mask)
{
	for (size_t i = 0; i < n; i++)
		if (p[i]) {
			unsigned v = p[i], s = 0;
			while (!(v & 1))
				v >>= 1, s++;
			*byte = i, *shift = s, *mask = v;
			return;
		}
}

#define P(name, value) printf("\t." #name " = %llu,\n", (unsigned long long)(value))
#define OFFSETOF(name, type, member) P(name, offsetof(type, member))
#define SIZEOF(name, type, member) P(name, sizeof(((type *)0)->member))

int main(void)
{
	size_t byte = 0;
	unsigned shift = 0, mask = 0;

	printf("/* %s, MI_MALLOC_VERSION %d, _Py_DebugOffsets %zu bytes */\n", PY_VERSION, MI_MALLOC_VERSION,
	       sizeof(_Py_DebugOffsets));
	P(segment_size, MI_SEGMENT_SIZE);
	P(slice_size, MI_SEGMENT_SLICE_SIZE);
	P(slices_max, MI_SLICES_PER_SEGMENT + 1);
#ifdef MI_HUGE_BLOCK_SIZE
	P(huge_block, MI_HUGE_BLOCK_SIZE);
#endif
	P(max_blocks, MI_SMALL_PAGE_SIZE / 8);
	P(page_size, sizeof(mi_page_t));
	OFFSETOF(pg_slice_count, mi_page_t, slice_count);
	OFFSETOF(pg_slice_offset, mi_page_t, slice_offset);
#if MI_MALLOC_VERSION >= 20000
	/* mimalloc 2.x as 3.14 vendors it: the tag is a byte of its own */
	OFFSETOF(pg_bits, mi_page_t, heap_tag);
	P(pg_tag_shift, 0);
	P(pg_tag_mask, 0xff);
	OFFSETOF(pg_block_size, mi_page_t, block_size);
	SIZEOF(pg_block_size_width, mi_page_t, block_size);
	OFFSETOF(pg_page_start, mi_page_t, page_start);
#else
	BITFIELD(mi_page_t, tag, &byte, &shift, &mask);
	P(pg_bits, byte);
	P(pg_tag_shift, shift);
	P(pg_tag_mask, mask);
#endif
	OFFSETOF(pg_capacity, mi_page_t, capacity);
	OFFSETOF(pg_reserved, mi_page_t, reserved);
	OFFSETOF(pg_free, mi_page_t, free);
	OFFSETOF(pg_used, mi_page_t, used);
	SIZEOF(pg_used_width, mi_page_t, used);
#if MI_MALLOC_VERSION < 20000
	OFFSETOF(pg_xblock_size, mi_page_t, xblock_size);
#endif
	OFFSETOF(pg_local_free, mi_page_t, local_free);
	OFFSETOF(pg_xthread_free, mi_page_t, xthread_free);
	OFFSETOF(pg_next, mi_page_t, next);
#if MI_MALLOC_VERSION < 20000
	OFFSETOF(seg_abandoned_next, mi_segment_t, abandoned_next);
#else
	OFFSETOF(seg_abandoned_os_next, mi_segment_t, abandoned_os_next);
#endif
	OFFSETOF(seg_slice_entries, mi_segment_t, slice_entries);
	OFFSETOF(seg_thread_id, mi_segment_t, thread_id);
	OFFSETOF(seg_slices, mi_segment_t, slices);
	P(heap_size, sizeof(mi_heap_t));
	OFFSETOF(heap_pages, mi_heap_t, pages);
	P(heap_nqueues, MI_BIN_FULL + 1);
	P(queue_size, sizeof(mi_page_queue_t));
	OFFSETOF(heap_delayed_free, mi_heap_t, thread_delayed_free);
	OFFSETOF(heap_tag, mi_heap_t, tag);
	P(ts_heaps, offsetof(_PyThreadStateImpl, mimalloc) + offsetof(struct _mimalloc_thread_state, heaps));
#if MI_MALLOC_VERSION < 20000
	P(is_abandoned_pool, offsetof(PyInterpreterState, mimalloc) +
				     offsetof(struct _mimalloc_interp_state, abandoned_pool));
	OFFSETOF(pool_abandoned_visited, mi_abandoned_pool_t, abandoned_visited);
	OFFSETOF(pool_abandoned, mi_abandoned_pool_t, abandoned);
#else
	/* abandoned segments: per sub-process; those outside mimalloc's arenas on a list */
	P(is_subproc, offsetof(PyInterpreterState, mimalloc) + offsetof(struct _mimalloc_interp_state, subproc));
	OFFSETOF(subproc_abandoned_count, mi_subproc_t, abandoned_count);
	OFFSETOF(subproc_abandoned_os_list, mi_subproc_t, abandoned_os_list);
#endif
	(void)byte, (void)shift, (void)mask;
	return 0;
}
#else
/* A GIL build's headers: the DWARF and .PyRuntime are what is wanted. */
int main(void)
{
	printf("/* %s, GIL build, _Py_DebugOffsets %zu bytes */\n", PY_VERSION, sizeof(_Py_DebugOffsets));
	return 0;
}
#endif
