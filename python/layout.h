/* layout.h: the struct layout of one CPython build. `struct pylayout` holds every offset and size
 * pycensus reads (fields from layout_fields.def, -1 where the version lacks them) plus the
 * pymalloc and object-model constants of the version. No other file hard-codes an offset.
 *
 * Tables are const data generated from DWARF (tools/gen_layouts -> layouts_gen.c), one per
 * (major, minor). layout_lookup() never guesses: an unknown version is PC_EUNSUPPORTED. On 3.13+
 * layout_overlay_debug_offsets() replaces fields with the target's own _Py_DebugOffsets. */
#ifndef PC_LAYOUT_H
#define PC_LAYOUT_H

#include "common/compat.h"
#include "common/error.h"

struct pyoffsets {
#define OFF(field, type, path) int32_t field;
#define SIZE(field, type) int32_t field;
#include "python/layout_fields.def"
#undef OFF
#undef SIZE
};

/* One generated table: the DWARF of a given build. */
struct pylayout_gen {
	int major, minor;
	const char *source; /* the build it was generated from, e.g. "3.12.1" */
	struct pyoffsets off;
};
/* One table per build, each in its own generated file (python/layout_py3_X.c). */
extern const struct pylayout_gen *const pylayout_tables[];
extern const size_t pylayout_ntables;

/* Type flags (Include/object.h; the bits are stable from 3.8 to 3.13 where they exist). */
#define PC_TPFLAGS_INLINE_VALUES (1UL << 2)   /* 3.13+ */
#define PC_TPFLAGS_MANAGED_WEAKREF (1UL << 3) /* 3.12+ */
#define PC_TPFLAGS_MANAGED_DICT (1UL << 4)    /* 3.11+ */
#define PC_TPFLAGS_HEAPTYPE (1UL << 9)
#define PC_TPFLAGS_READY (1UL << 12)
#define PC_TPFLAGS_HAVE_GC (1UL << 14)
#define PC_TPFLAGS_LONG_SUBCLASS (1UL << 24)
#define PC_TPFLAGS_LIST_SUBCLASS (1UL << 25)
#define PC_TPFLAGS_TUPLE_SUBCLASS (1UL << 26)
#define PC_TPFLAGS_BYTES_SUBCLASS (1UL << 27)
#define PC_TPFLAGS_UNICODE_SUBCLASS (1UL << 28)
#define PC_TPFLAGS_DICT_SUBCLASS (1UL << 29)
#define PC_TPFLAGS_TYPE_SUBCLASS (1UL << 31)

struct pylayout {
	int major, minor;
	const char *source;
	struct pyoffsets off;
	/* pymalloc (CPYTHON.md 1.1): 4 KiB pools / 256 KiB arenas up to 3.9, 16 KiB / 1 MiB from 3.10 */
	uint64_t pool_size, arena_size;
	unsigned nsize_classes;      /* 32: 512-byte threshold, 16-byte alignment */
	unsigned size_class_step;    /* 16 */
	unsigned ngenerations;       /* 3 for 3.8-3.13 */
	bool arenas_in_interp;       /* 3.12+: the arena table hangs off PyInterpreterState.obmalloc */
	bool obmalloc_is_pointer;    /* 3.13+: interp->obmalloc is a pointer */
	bool preheader_dict;         /* 3.11+: MANAGED_DICT types carry 16 bytes before the GC head */
	bool preheader_weakref;      /* 3.12+: MANAGED_WEAKREF counts for the pre-header too */
	bool debug_offsets;          /* the values were overlaid from the target's _Py_DebugOffsets */
};

/* Fills *out for major.minor or fails with PC_EUNSUPPORTED. */
int layout_lookup(int major, int minor, struct pylayout *out, struct pc_err *e);

/* 3.13+: overlays the fields _Py_DebugOffsets carries. `raw` is the target's copy of the struct
 * (len bytes from _PyRuntime); fails with PC_ELAYOUT when the cookie or version does not match. */
int layout_overlay_debug_offsets(struct pylayout *l, const uint8_t *raw, size_t len,
				 uint32_t version_hex, struct pc_err *e);

/* Bytes before the object in its block, from the type's flags (CPYTHON.md 4.2). */
static inline unsigned layout_preheader(const struct pylayout *l, uint64_t tp_flags)
{
	unsigned pre = (tp_flags & PC_TPFLAGS_HAVE_GC) ? 16 : 0;

	if (l->preheader_dict && (tp_flags & PC_TPFLAGS_MANAGED_DICT))
		pre += 16;
	else if (l->preheader_weakref && (tp_flags & PC_TPFLAGS_MANAGED_WEAKREF))
		pre += 16;
	return pre;
}

#endif
