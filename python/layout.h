/* layout.h: the struct layout of one CPython build. `struct pylayout` holds every offset and size
 * pycensus reads (fields from layout_fields.def, -1 where the version lacks them) plus the
 * pymalloc and object-model constants of the version. No other file hard-codes an offset.
 *
 * Tables are const data generated from DWARF (tools/gen_layouts -> layouts_gen.c), one per
 * build. The target picks: layout_candidates() lists a version's tables, on 3.13+
 * layout_overlay_debug_offsets() replaces fields with the target's own _Py_DebugOffsets, and the
 * caller validates the result against the target's memory. A free-threaded target (told by its
 * _Py_DebugOffsets) gets free-threaded tables only, every other target GIL tables only. Only
 * python/ knows versions: the
 * rules below are answered by name in python/rules.h. */
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

/* One generated table: the DWARF of a given build. Several builds of one minor version may have
 * tables (upstream 3.13.0 and Debian's 3.13.18, whose PyGC_Head alignment patch moves fields):
 * python/ picks among them by checking each against the target. */
struct pylayout_gen {
	int major, minor;
	const char *source; /* the build it was generated from, e.g. "3.12.1", "3.14.10-debian" */
	struct pyoffsets off;
};
/* One table per build, each in its own generated file (python/layout_py3_X_Y*.c), sorted by
 * version. */
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

/* How an instance of a MANAGED_DICT type keeps its attributes (docs/cpython.md 4.2). */
enum py_managed_dict {
	PY_MD_NONE,       /* <= 3.10: tp_dictoffset only */
	PY_MD_VALUES_PTR, /* 3.11: values pointer at -32, dict pointer at -24 */
	PY_MD_TAGGED,     /* 3.12: one word at -24: the dict, or values + 1 (bit 0 set) */
	PY_MD_INLINE,     /* 3.13+: dict pointer at -24, values inline after the object */
};

/* What ob_refcnt holds (Include/refcount.h). */
enum py_refcnt_form {
	PY_RC_PLAIN,         /* <= 3.11: a count */
	PY_RC_IMMORTAL_UINT, /* 3.12, 3.13: or exactly UINT_MAX, _Py_IMMORTAL_REFCNT */
	PY_RC_SPLIT_FLAGS,   /* 3.14+: 32-bit count (>= 2^31: immortal), 16 overflow bits, 16 ob_flags */
	PY_RC_FREE_THREADED, /* Py_GIL_DISABLED: ob_ref_local u32 + (ob_ref_shared >> 2), UINT32_MAX local: immortal */
};

struct pylayout {
	int major, minor;    /* of the table: the rules below are that version's */
	const char *source;  /* the table's build */
	struct pyoffsets off;
	/* pymalloc (docs/cpython.md 1.1): 4 KiB pools / 256 KiB arenas up to 3.9, 16 KiB / 1 MiB from 3.10 */
	uint64_t pool_size, arena_size;
	unsigned nsize_classes;      /* 32: 512-byte threshold, 16-byte alignment */
	unsigned size_class_step;    /* 16 */
	unsigned ngenerations;       /* 3 for 3.8-3.15 (3.14.0-3.14.4's incremental GC: no table) */
	bool arenas_in_interp;       /* 3.12+: the arena table hangs off PyInterpreterState.obmalloc */
	bool obmalloc_is_pointer;    /* 3.13+: interp->obmalloc is a pointer */
	bool preheader_dict;         /* 3.11+: MANAGED_DICT types carry 16 bytes before the GC head */
	bool preheader_weakref;      /* 3.12+: MANAGED_WEAKREF counts for the pre-header too */
	enum py_managed_dict managed_dict;
	bool split_values_usable_fraction; /* <= 3.10: split values slots = USABLE_FRACTION(dk_size) */
	bool int_zero_has_digit;     /* 3.11+: int.__sizeof__ counts one digit for 0 */
	bool static_type_preheader;  /* 3.11, 3.12: getsizeof(static type) adds type's pre-header */
	int frame_owned_by_cstack;   /* FRAME_OWNED_BY_CSTACK: 3 (3.12, 3.13), 4 (3.14+), -1 before */
	int frame_owned_by_interp;   /* FRAME_OWNED_BY_INTERPRETER: 3 (3.14+), -1 before */
	int frame_executing;         /* FRAME_EXECUTING: 0 (3.11-3.14), 4 (3.15) */
	bool stackrefs;              /* 3.14+: frame slots are tagged _PyStackRef values */
	bool dict_values_embedded;   /* 3.13+: PyDictValues.embedded (byte 2) */
	enum py_refcnt_form refcnt_form;
	bool gc_stats_ring;          /* 3.15+: gc.generation_stats points to ring buffers */
	bool has_debug_offsets;      /* 3.13+: _PyRuntime starts with _Py_DebugOffsets */
	bool free_threaded;          /* a Py_GIL_DISABLED build's table (it has ob_ref_local) */
	bool debug_offsets;          /* the values were overlaid from the target's _Py_DebugOffsets */
	bool newer;                  /* the target is newer than this table's version */
};

/* Fills *out from the first table of major.minor or fails with PC_EUNSUPPORTED. */
int layout_lookup(int major, int minor, struct pylayout *out, struct pc_err *e);

/* Fills *out from one table: its offsets and its version's rules. */
void layout_from_table(const struct pylayout_gen *g, struct pylayout *out);

/* The tables that may describe a target of major.minor, best first, into out (at most max);
 * returns how many. For a version newer than every table, the newest minor's tables with
 * *newer set (the caller warns). 0 (and PC_EUNSUPPORTED in e) when none can. */
size_t layout_candidates(int major, int minor, const struct pylayout_gen **out, size_t max,
			 bool *newer, struct pc_err *e);

/* The same for one build: the free-threaded tables (Py_GIL_DISABLED) or the GIL build's; never
 * both. layout_candidates() and layout_lookup() give GIL tables only. */
size_t layout_candidates_build(int major, int minor, bool free_threaded, const struct pylayout_gen **out,
			       size_t max, bool *newer, struct pc_err *e);
/* Whether a generated table is a free-threaded build's (its PyObject has ob_ref_local). */
bool layout_table_free_threaded(const struct pylayout_gen *g);
/* Whether a table was generated from a CPython's headers alone (tools/ft-layouts: 3.14t and
 * 3.15t, of which no build runs here), not from a build's DWARF: never checked against a running
 * interpreter, and no figure measured on one exists for it. */
bool layout_table_from_headers(const struct pylayout_gen *g);

/* layout_candidates() ranked for one target: tables whose fields its _Py_DebugOffsets (raw, len
 * bytes; NULL before 3.13) confirm come first. The caller tries them in order, validating each. */
size_t layout_ranked(int major, int minor, uint32_t version_hex, const uint8_t *raw, size_t len,
		     const struct pylayout_gen **out, size_t max, bool *newer, struct pc_err *e);

/* The bytes of _Py_DebugOffsets to read for a target of this PY_VERSION_HEX (0: it has none). */
size_t layout_debug_offsets_len(uint32_t version_hex);

/* 3.13+: overlays the fields _Py_DebugOffsets carries. `raw` is the target's copy of the struct
 * (len bytes from _PyRuntime); fails with PC_ELAYOUT when the cookie, version or a value does not
 * check out, PC_EUNSUPPORTED for a free-threaded build. */
int layout_overlay_debug_offsets(struct pylayout *l, const uint8_t *raw, size_t len,
				 uint32_t version_hex, struct pc_err *e);

/* How many fields the target's _Py_DebugOffsets give differently from table g (-1 when they
 * do not parse); the first difference is described in `first`. Ranks a minor's tables. */
int layout_debug_offsets_mismatches(const struct pylayout_gen *g, const uint8_t *raw, size_t len,
				    uint32_t version_hex, char *first, size_t first_len);

/* Bytes before the object in its block, from the type's flags (docs/cpython.md 4.2). A
 * free-threaded build has no PyGC_Head: only the dict and weakref words of Py_TPFLAGS_PREHEADER
 * types (_PyType_PreHeaderSize, Include/internal/pycore_object.h 3.13). */
static inline unsigned layout_preheader(const struct pylayout *l, uint64_t tp_flags)
{
	unsigned pre = (tp_flags & PC_TPFLAGS_HAVE_GC) && !l->free_threaded ? 16 : 0;

	if (l->preheader_dict && (tp_flags & PC_TPFLAGS_MANAGED_DICT))
		pre += 16;
	else if (l->preheader_weakref && (tp_flags & PC_TPFLAGS_MANAGED_WEAKREF))
		pre += 16;
	return pre;
}

#endif
