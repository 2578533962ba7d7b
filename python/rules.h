/* rules.h: questions about a CPython version, answered by name. Callers outside python/ never
 * compare version numbers or hold a CPython offset: they ask here. Every answer comes from the
 * target's layout (python/layout.h: its offsets and its version's rules). All functions are
 * total: none fails, none reads memory. */
#ifndef PC_RULES_H
#define PC_RULES_H

#include "common/compat.h"
#include <stddef.h>
#include <string.h>
#include "python/layout.h"

/* Whether pycensus can read CPython major.minor at all (a layout table, or newer than the tables
 * from 3.13 on, where the target describes itself); else the supported range in `why`. */
bool py_version_supported(int major, int minor, char *why, size_t len);

/* A release pycensus refuses although its minor version is known, and why (NULL: none):
 * 3.14.0-3.14.4 ran the incremental GC (young and old lists, a flag bit in _gc_next), which
 * 3.14.5 reverted (docs/cpython.md 9.2); pycensus reads only the generational GC's lists. */
const char *py_release_refused(int major, int minor, int micro);

/* Free-threaded builds (PEP 703, configure --disable-gil, "3.13t"): told from the target itself,
 * not its file name. From 3.13 the start of _PyRuntime, _Py_DebugOffsets (raw, len bytes, as
 * layout_debug_offsets_len() says to read), carries a free_threaded flag (u64 at 16, 1 when built
 * with Py_GIL_DISABLED) and the object header (pyobject.size 32 with ob_type at 24, against 16
 * and 8 with the GIL). A build is named free-threaded or GIL only when flag and header agree;
 * before 3.13, with a short copy, a missing cookie or a disagreement, UNKNOWN. */
enum py_build { PY_BUILD_UNKNOWN, PY_BUILD_GIL, PY_BUILD_FREE_THREADED };
enum py_build py_free_threaded(const uint8_t *raw, size_t len, uint32_t version_hex);
/* Why a free-threaded build is refused (to follow "a free-threaded build of CPython X"). */
#define PY_FREE_THREADED_WHY                                                                     \
	"its objects live in per-thread mimalloc heaps, and pycensus reads those of 3.13t only "      \
	"(3.14 moved to mimalloc 2.5: other page fields, abandoned segments kept in its arenas): "   \
	"run the program under python3.X, not python3.Xt"

/* The flag bits a collection leaves in _gc_next: NEXT_MASK_UNREACHABLE, bit 0 in the generational
 * collector (Modules/gcmodule.c 3.8-3.12, Python/gc.c 3.13, 3.14.5+, 3.15), bit 1 in 3.14.0-3.14.4's
 * incremental one (refused above). An object the collector holds on its tentatively unreachable
 * list carries it; a census that reads the target as it runs, or stopped mid-collection, meets it. */
#define PY_GC_NEXT_COLLECTING_FLAGS UINT64_C(3)
/* The flag bits of _gc_prev below the predecessor's address: _PyGC_PREV_MASK_FINALIZED (1) and
 * _PyGC_PREV_MASK_COLLECTING (2), _PyGC_PREV_SHIFT 2 (Include/internal/pycore_gc.h, 3.8-3.15).
 * Outside a collection a tracked object's _gc_prev, masked, is the node whose _gc_next it is. */
#define PY_GC_PREV_FLAGS UINT64_C(3)

/* Up to 3.11, obmalloc.c defines the exported _PyObject_DebugMallocStats only WITH_PYMALLOC, so
 * its absence means a build without pymalloc; from 3.12 it exists either way. */
bool py_debugmallocstats_proves_pymalloc(int major, int minor);

/* Managed dicts (docs/cpython.md 4.2): the dict pointer is the word MANAGED_DICT_OFFSET (-24 from
 * 3.11: -3 * sizeof(PyObject *), Include/internal/pycore_object.h) before the object; on a
 * free-threaded build, with no PyGC_Head in between, -8 (weakref list -16). */
static inline bool py_has_managed_dict(const struct pylayout *L, uint64_t tp_flags)
{
	return L->managed_dict != PY_MD_NONE && (tp_flags & PC_TPFLAGS_MANAGED_DICT);
}
/* The two pre-header words before a managed-dict object, pre[0] and pre[1] (the dict word): 3.11's
 * values pointer (_PyObject_ValuesPointer) and the dict at -32 and -24; on a free-threaded build
 * the weakref list and the dict at -16 and -8. */
static inline int64_t py_managed_words_offset(const struct pylayout *L)
{
	return L->free_threaded ? -16 : -32;
}
static inline int64_t py_managed_dict_offset(const struct pylayout *L)
{
	return py_managed_words_offset(L) + 8;
}

/* The managed-dict word holds a dict (or NULL), not 3.12's tagged values pointer. */
static inline bool py_managed_word_is_dict(const struct pylayout *L, uint64_t word)
{
	return !(L->managed_dict == PY_MD_TAGGED && (word & 1));
}

/* The attribute values array of a managed-dict object outside any dict, from the pre-header
 * words `pre` (pre[0] at -32, pre[1] at -24); 0 when the version keeps none there (3.13+: they
 * are inline, see py_inline_values). */
static inline uint64_t py_managed_values(const struct pylayout *L, const uint64_t pre[2])
{
	if (L->managed_dict == PY_MD_VALUES_PTR)
		return pre[0];
	if (L->managed_dict == PY_MD_TAGGED && (pre[1] & 1))
		return pre[1] + 1;
	return 0;
}

/* 3.13+: the attribute values live inside the object, right after tp_basicsize bytes. */
static inline bool py_inline_values(const struct pylayout *L, uint64_t tp_flags)
{
	return L->managed_dict == PY_MD_INLINE && (tp_flags & PC_TPFLAGS_INLINE_VALUES);
}

/* PyDictValues header (3.13+, Include/internal/pycore_dict.h): capacity @0, size @1,
 * embedded @2, valid @3, values @8 (the offset is dv_values in the layout). */
#define PY_DICTVALUES_EMBEDDED 2
#define PY_DICTVALUES_VALID 3

/* Value slots of a split dict's values array (dict.__sizeof__, docs/cpython.md 5.2). */
static inline uint64_t py_split_values_slots(const struct pylayout *L, uint64_t dk_size,
					     uint64_t nentries, uint64_t usable)
{
	return L->split_values_usable_fraction ? 2 * dk_size / 3 : nentries + usable;
}

/* int.__sizeof__ digits for an int of `ndigits` digits (3.11+: zero still counts one). */
static inline uint64_t py_int_sizeof_digits(const struct pylayout *L, uint64_t ndigits)
{
	return (L->int_zero_has_digit && ndigits == 0) ? 1 : ndigits;
}

/* The buffer bytes bytearray.__sizeof__ adds to tp_basicsize: ob_alloc, and from 3.15, where a
 * bytes object holds the buffer (ob_bytes_object), that object's header too (ob_sval + 1 bytes)
 * unless the bytearray holds nothing (the empty bytes singleton; measured on 3.15.2:
 * bytearray(1000) 64 + 1033, bytearray() 64). */
static inline uint64_t py_bytearray_buffer_bytes(const struct pylayout *L, uint64_t ob_alloc)
{
	if (L->off.bytearray_object < 0 || ob_alloc == 0)
		return ob_alloc;
	return ob_alloc + (uint64_t)L->off.bytes_sval + 1;
}

/* From 3.15 a non-empty bytearray keeps its buffer in a bytes object (ob_bytes_object) that
 * bytearray.__sizeof__ counts (py_bytearray_buffer_bytes) and that nothing else references: its
 * address, so the census does not count that bytes object a second time; 0 before 3.15, for an
 * empty bytearray, or when the field lies beyond the `have` bytes read of the object at ob. */
static inline uint64_t py_bytearray_buffer_object(const struct pylayout *L, const uint8_t *ob, size_t have)
{
	uint64_t alloc, holder;

	if (L->off.bytearray_object < 0 || (size_t)L->off.bytearray_object + 8 > have ||
	    (size_t)L->off.bytearray_alloc + 8 > have)
		return 0;
	memcpy(&alloc, ob + L->off.bytearray_alloc, 8);
	memcpy(&holder, ob + L->off.bytearray_object, 8);
	return alloc ? holder : 0;
}

/* 3.8-3.10 code.__sizeof__ (Objects/codeobject.c code_sizeof) adds the opcache once a function
 * has run often enough to get one (co_opcache set): the map, a byte per code unit of co_code
 * (2-byte _Py_CODEUNIT), and co_opcache_size _PyOpcache entries. 0 on versions without one. */
static inline uint64_t py_code_opcache_bytes(const struct pylayout *L, uint64_t co_opcache, uint8_t opcache_size,
					     uint64_t co_code_bytes)
{
	if (L->off.co_opcache < 0 || L->off.opcache_entry_size <= 0 || !co_opcache)
		return 0;
	return co_code_bytes / 2 + (uint64_t)opcache_size * (uint64_t)L->off.opcache_entry_size;
}

/* sys.getsizeof of a static (non-heap) type object adds type's pre-header (3.11, 3.12 only). */
static inline bool py_static_type_sizeof_has_preheader(const struct pylayout *L)
{
	return L->static_type_preheader;
}

/* enum _frameowner (Include/internal/pycore_frame.h), the same 3.11-3.15 for these two */
#define PY_FRAME_OWNED_BY_GENERATOR 1
#define PY_FRAME_OWNED_BY_FRAME_OBJECT 2

/* A _PyInterpreterFrame that runs no code: the shim of one C call into Python (3.12+: owned by
 * the C stack; 3.14+ also the interpreter's entry frame and the thread's base frame). */
static inline bool py_frame_is_shim(const struct pylayout *L, int owner)
{
	return (L->frame_owned_by_cstack >= 0 && owner == L->frame_owned_by_cstack) ||
	       (L->frame_owned_by_interp >= 0 && owner == L->frame_owned_by_interp);
}

/* A generator's frame not yet started or suspended: its locals are alive and only the generator
 * holds them (executing: the thread's walk reads it; completed or cleared: released). */
static inline bool py_gen_frame_suspended(const struct pylayout *L, int8_t gi_frame_state)
{
	return gi_frame_state < L->frame_executing;
}

/* The object a frame slot refers to (3.14+ _PyStackRef, Include/internal/pycore_stackref.h: the
 * low two bits tag deferred/borrowed references; both set is a tagged int, no object). */
static inline uint64_t py_stackref_object(const struct pylayout *L, uint64_t v)
{
	if (!L->stackrefs)
		return v;
	if ((v & 3) == 3)
		return 0;
	return v & ~(uint64_t)3;
}

/* 3.13+: a dict materialised from inline values can leave them embedded in the instance. */
static inline bool py_dict_values_may_be_embedded(const struct pylayout *L)
{
	return L->dict_values_embedded;
}

/* 3.15: gc.generation_stats is a pointer to ring buffers, not an inline array. */
static inline bool py_gc_stats_inline(const struct pylayout *L)
{
	return !L->gc_stats_ring;
}

/* One generation's ring of struct gc_generation_stats (3.15 struct gc_stats, 3.15.2 DWARF: the
 * young buffer {items[11], int8_t index} at 0, then old[2] of {items[3], int8_t index}, 200 bytes
 * each). gc.get_stats()[g] is items[index] of generation g's ring (measured on 3.15.2). */
struct py_gc_ring {
	uint32_t at;       /* the ring's offset in struct gc_stats */
	uint32_t nitems;   /* its items (each gc_stats_size bytes, from `at`) */
	uint32_t index_at; /* offset of its int8_t index in struct gc_stats */
};
#define PY_GC_STATS_RING_BYTES 1112 /* sizeof(struct gc_stats) without its trailing fields */
static inline bool py_gc_ring(const struct pylayout *L, unsigned gen, struct py_gc_ring *r)
{
	if (!L->gc_stats_ring || gen > 2)
		return false;
	if (gen == 0)
		*r = (struct py_gc_ring){ 0, 11, 704 };
	else
		*r = (struct py_gc_ring){ 712 + 200 * (gen - 1), 3, 712 + 200 * (gen - 1) + 192 };
	return true;
}

/* Is the target a free-threaded build (Py_GIL_DISABLED): no pymalloc, its objects in mimalloc
 * heaps (python/mimalloc.h), no GC lists, a 32-byte object header. */
static inline bool py_is_free_threaded(const struct pylayout *L)
{
	return L->free_threaded;
}

/* Do the GC generation heads link the tracked objects? Not on a free-threaded build:
 * Python/gc_free_threading.c (3.13) finds them by walking the mimalloc heaps, and the heads in the
 * GC state stay zero (measured on 3.13.15t: _gc_next 0). Its generation 0 count also lags: each
 * thread counts up to LOCAL_ALLOC_COUNT_THRESHOLD (512) allocations before adding them there. */
static inline bool py_gc_lists_link_objects(const struct pylayout *L)
{
	return !L->free_threaded;
}

/* The reference count of the object whose header is at ob, in the form py_refcnt_plausible
 * takes: ob_refcnt; on a free-threaded build ob_ref_local + (ob_ref_shared >> 2) (the low two
 * bits of ob_ref_shared are flags, _Py_REF_SHARED_SHIFT; Include/object.h 3.13), UINT32_MAX when
 * ob_ref_local is _Py_IMMORTAL_REFCNT_LOCAL, and 0 for a freed object still in its block (no
 * reference left, local 0 and shared <= 0: 3.13t's per-thread freelists keep these). */
static inline uint64_t py_ob_refcnt(const struct pylayout *L, const uint8_t *ob)
{
	uint64_t r;
	uint32_t local;
	int64_t shared, total;

	if (L->refcnt_form != PY_RC_FREE_THREADED) {
		memcpy(&r, ob + L->off.ob_refcnt, sizeof r);
		return r;
	}
	memcpy(&local, ob + L->off.ob_ref_local, sizeof local);
	memcpy(&shared, ob + L->off.ob_ref_shared, sizeof shared);
	if (local == UINT32_MAX)
		return UINT32_MAX;
	total = (int64_t)local + (shared >> 2);
	return total > 0 ? (uint64_t)total : 0;
}

/* A refcount a live object can hold. Pointers and text fail this: it is how the walkers tell
 * an object header from other bytes. */
static inline bool py_refcnt_plausible(const struct pylayout *L, uint64_t r)
{
	uint64_t lo = r & 0xffffffffULL;

	if (r - 1 < (1ULL << 31) - 1) /* 0 < r < 2^31: a live count on every version (hot path) */
		return true;
	switch (L->refcnt_form) {
	case PY_RC_PLAIN:
		return r > 0 && r < (1ULL << 31);
	case PY_RC_IMMORTAL_UINT:
	case PY_RC_FREE_THREADED: /* py_ob_refcnt's form */
		return (r > 0 && r < (1ULL << 31)) || r == 0xffffffffULL;
	case PY_RC_SPLIT_FLAGS:
		/* 3.14 immortals start at 3 << 30 and may drift; static ones carry ob_flags */
		return lo != 0 && ((r >> 32) & 0xffff) == 0 && (r >> 48) <= 0xff &&
		       (lo >= (1ULL << 31) || (r >> 48) == 0);
	}
	return false;
}

/* A refcount (py_ob_refcnt's form) that marks an immortal object (3.12+: PEP 683): its count is
 * not the number of references to it, so it says nothing of who holds it. 3.12/3.13 set
 * _Py_IMMORTAL_REFCNT (UINT_MAX, 2^32 - 1 in the 64-bit field) and may drift above 2^31; 3.14
 * keeps the low 32 bits >= 2^31 (Include/refcount.h); free-threaded: local UINT32_MAX. */
static inline bool py_refcnt_immortal(const struct pylayout *L, uint64_t r)
{
	switch (L->refcnt_form) {
	case PY_RC_PLAIN:
		return false;
	case PY_RC_IMMORTAL_UINT:
	case PY_RC_FREE_THREADED:
		return r >= (1ULL << 31);
	case PY_RC_SPLIT_FLAGS:
		return (r & 0xffffffffULL) >= (1ULL << 31);
	}
	return false;
}

/* How a str is stored, from PyASCIIObject.state (Include/cpython/unicodeobject.h; the same bits
 * 3.8-3.15, checked in the DWARF of 3.14.10 and 3.15.2: interned 0-1, kind 2-4, compact 5,
 * ascii 6). `header`: the bytes before a compact str's characters (0 when not compact: the
 * characters are behind PyUnicodeObject.data). `kind`: bytes per character, 1 for a 0 kind. */
struct py_str_form {
	unsigned kind, raw_kind;
	bool compact, ascii;
	uint64_t header;
};
static inline struct py_str_form py_str_form(const struct pylayout *L, uint32_t state)
{
	struct py_str_form f;

	f.raw_kind = (state >> 2) & 7;
	f.kind = f.raw_kind ? f.raw_kind : 1;
	f.compact = (state >> 5) & 1;
	f.ascii = (state >> 6) & 1;
	f.header = !f.compact ? 0 : (uint64_t)(f.ascii ? L->off.ascii_size : L->off.compact_size);
	return f;
}

/* collections.deque (python/layout_fields.def): whether this layout describes its blocks (the
 * DWARF-made tables do; those from the headers alone do not), and how many references a block
 * holds (BLOCKLEN, 64 in 3.8-3.15). */
static inline uint64_t py_deque_blocklen(const struct pylayout *L)
{
	const struct pyoffsets *o = &L->off;

	if (o->deque_size < 0 || o->deque_leftblock < 0 || o->deque_leftindex < 0 || o->deque_block_data < 0 ||
	    o->deque_block_right <= o->deque_block_data || o->deque_block_size < o->deque_block_right + 8)
		return 0;
	return (uint64_t)(o->deque_block_right - o->deque_block_data) / 8;
}

/* deque.__sizeof__ (deque_sizeof, 3.8-3.15): tp_basicsize and a block for every BLOCKLEN slots from
 * leftindex to the last of its n items. basicsize alone where the layout lacks the blocks or the
 * fields are garbage (0 when their span is no deque's: the caller sizes by basicsize). */
static inline uint64_t py_deque_sizeof(const struct pylayout *L, int64_t basicsize, int64_t leftindex, int64_t n)
{
	uint64_t len = py_deque_blocklen(L);

	if (!len || leftindex < 0 || (uint64_t)leftindex >= len || n < 0 || n > (INT64_C(1) << 40))
		return (uint64_t)basicsize;
	return (uint64_t)basicsize + ((uint64_t)leftindex + (uint64_t)n + len - 1) / len * (uint64_t)L->off.deque_block_size;
}

/* What OrderedDict.__sizeof__ (odict_sizeof, 3.8-3.15) adds to its dict's: the fast-nodes array
 * (a pointer per slot) and, unless empty (od_first NULL), a node per item; 0 where the layout
 * lacks the fields. */
static inline uint64_t py_odict_sizeof_extra(const struct pylayout *L, uint64_t fast_nodes_size, uint64_t first,
					     uint64_t used)
{
	const struct pyoffsets *o = &L->off;

	if (o->odict_first < 0 || o->odict_fast_nodes_size < 0 || o->odict_node_size <= 0 ||
	    fast_nodes_size > (UINT64_C(1) << 40) || used > (UINT64_C(1) << 40))
		return 0;
	return 8 * fast_nodes_size + (first ? used * (uint64_t)o->odict_node_size : 0);
}

/* What the _io buffered objects' __sizeof__ (buffered_sizeof, 3.8-3.15) adds: buffer_size while
 * the buffer is allocated; 0 where the layout lacks the fields. */
static inline uint64_t py_buffered_sizeof_extra(const struct pylayout *L, uint64_t buffer, int64_t buffer_size)
{
	if (L->off.buffered_buffer < 0 || L->off.buffered_buffer_size < 0 || !buffer || buffer_size < 0 ||
	    buffer_size > (INT64_C(1) << 40))
		return 0;
	return (uint64_t)buffer_size;
}

/* A native symbol of CPython's frame evaluation function (_PyEval_EvalFrameDefault, 3.8-3.15):
 * one C call of it runs Python frames. GCC's split parts count too (".cold", ".part.0"). */
bool py_is_eval_function(const char *symbol);

/* guppy3's name for a builtin type that Lib/types.py binds (`types.CodeType`), for this version,
 * or NULL when the type keeps its tp_name. */
const char *py_types_alias(const struct pylayout *L, const char *tp_name);

#endif
