/* layout.c: the generated layout tables of a CPython version, the version's rules, and a 3.13+
 * target's own _Py_DebugOffsets overlaid on them. */
#include "common/compat.h"
#include "python/layout.h"
#include "python/rules.h"

#include <stdio.h>
#include <string.h>

/* Writes "3.8-3.15" when the tables cover one contiguous run of minors, else "3.8, 3.10, ...". */
static void supported_versions(char *buf, size_t n)
{
	bool contiguous = pylayout_ntables > 0;
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 1; i < pylayout_ntables; i++) {
		const struct pylayout_gen *a = pylayout_tables[i - 1], *b = pylayout_tables[i];
		if (b->major != a->major || (b->minor != a->minor && b->minor != a->minor + 1))
			contiguous = false;
	}
	if (contiguous && pylayout_ntables > 1) {
		const struct pylayout_gen *lo = pylayout_tables[0];
		const struct pylayout_gen *hi = pylayout_tables[pylayout_ntables - 1];
		snprintf(buf, n, "%d.%d-%d.%d", lo->major, lo->minor, hi->major, hi->minor);
		return;
	}
	for (size_t i = 0; i < pylayout_ntables && used < n; i++) {
		if (i && pylayout_tables[i]->minor == pylayout_tables[i - 1]->minor)
			continue;
		int w = snprintf(buf + used, n - used, "%s%d.%d", i ? ", " : "",
				 pylayout_tables[i]->major, pylayout_tables[i]->minor);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* The rules of a minor version (docs/cpython.md section numbers in each comment). */
static void set_rules(struct pylayout *out, int minor)
{
	/* 1.1: the radix tree of 3.10 came with 16 KiB pools and 1 MiB arenas. */
	out->pool_size = minor <= 9 ? 4096 : 16384;
	out->arena_size = minor <= 9 ? 256 * 1024 : 1024 * 1024;
	/* 512-byte SMALL_REQUEST_THRESHOLD in 16-byte ALIGNMENT steps, unchanged 3.8-3.15. */
	out->nsize_classes = 32;
	out->size_class_step = 16;
	/* 3.13.0 still has three generations (the incremental GC was reverted before release);
	 * 3.14.5+ and 3.15 went back to three (9.2). */
	out->ngenerations = 3;
	/* 1.5: arenas moved into PyInterpreterState.obmalloc in 3.12, a pointer in 3.13. */
	out->arenas_in_interp = minor >= 12;
	out->obmalloc_is_pointer = minor >= 13;
	/* 4.2: MANAGED_DICT pre-header from 3.11, MANAGED_WEAKREF joins it in 3.12. */
	out->preheader_dict = minor >= 11;
	out->preheader_weakref = minor >= 12;
	out->managed_dict = minor <= 10 ? PY_MD_NONE
			  : minor == 11 ? PY_MD_VALUES_PTR
			  : minor == 12 ? PY_MD_TAGGED : PY_MD_INLINE;
	/* 5.2: split values slots are USABLE_FRACTION(size) up to 3.10, nentries + usable after. */
	out->split_values_usable_fraction = minor <= 10;
	out->int_zero_has_digit = minor >= 11;
	/* 5.1: tp_is_gc is true only for heap types, so static types get no GC header up to 3.10
	 * and again from 3.13; 3.11 and 3.12 add the pre-header of type(o) regardless. */
	out->static_type_preheader = minor == 11 || minor == 12;
	/* Include/internal/pycore_frame.h: FRAME_OWNED_BY_CSTACK 3 (3.12, 3.13), 4 from 3.14
	 * (FRAME_OWNED_BY_INTERPRETER took 3); 3.11 marks entry frames with is_entry instead. */
	/* 3.15 dropped FRAME_OWNED_BY_CSTACK (enum _frameowner in the 3.15.2 DWARF) */
	out->frame_owned_by_cstack = minor <= 11 || minor >= 15 ? -1 : minor <= 13 ? 3 : 4;
	/* 3.14+: _PyEval_EvalFrameDefault's entry frame (and 3.15's tstate->base_frame) */
	out->frame_owned_by_interp = minor <= 13 ? -1 : 3;
	/* enum _framestate (DWARF): EXECUTING 0, the states before it negative, up to 3.14 (CREATED
	 * -2 in 3.11/3.12, -3 in 3.13/3.14); 3.15 counts up from CREATED 0,
	 * SUSPENDED 1, SUSPENDED_YIELD_FROM 2, ..._LOCKED 3, EXECUTING 4, CLEARED 5 (DWARF) */
	out->frame_executing = minor <= 14 ? 0 : 4;
	/* 9.3: 3.14 frames hold _PyStackRef values. */
	out->stackrefs = minor >= 14;
	out->dict_values_embedded = minor >= 13;
	/* 3.15 Include/internal/pycore_interp_structs.h: struct gc_stats *generation_stats. */
	out->gc_stats_ring = minor >= 15;
	out->refcnt_form = minor <= 11 ? PY_RC_PLAIN : minor <= 13 ? PY_RC_IMMORTAL_UINT : PY_RC_SPLIT_FLAGS;
	out->has_debug_offsets = minor >= 13;
}

void layout_from_table(const struct pylayout_gen *g, struct pylayout *out)
{
	memset(out, 0, sizeof *out);
	out->major = g->major;
	out->minor = g->minor;
	out->source = g->source;
	out->off = g->off;
	set_rules(out, g->minor);
	/* A free-threaded build (Py_GIL_DISABLED, docs/cpython.md 9.5): its DWARF has PyObject's
	 * ob_ref_local, and no pymalloc: the mimalloc heaps (python/mimalloc.h) hold its objects. */
	if (layout_table_free_threaded(g)) {
		out->free_threaded = true;
		out->refcnt_form = PY_RC_FREE_THREADED;
		/* Its three generations keep their counts, thresholds and stats (gc.get_count(),
		 * get_threshold(), get_stats() read them: Modules/gcmodule.c 3.13), but link no objects
		 * (py_gc_lists_link_objects). */
	}
}

bool layout_table_free_threaded(const struct pylayout_gen *g)
{
	return g->off.ob_ref_local >= 0;
}

bool layout_table_from_headers(const struct pylayout_gen *g)
{
	static const char tag[] = "-headers"; /* gen_layouts labels them 3.X.Y-ft-headers */
	size_t n = strlen(g->source);

	return n >= sizeof tag - 1 && strcmp(g->source + n - (sizeof tag - 1), tag) == 0;
}

int layout_lookup(int major, int minor, struct pylayout *out, struct pc_err *e)
{
	char list[128];

	for (size_t i = 0; i < pylayout_ntables; i++)
		if (pylayout_tables[i]->major == major && pylayout_tables[i]->minor == minor &&
		    !layout_table_free_threaded(pylayout_tables[i])) {
			layout_from_table(pylayout_tables[i], out);
			return 0;
		}
	supported_versions(list, sizeof list);
	return pc_fail(e, PC_EUNSUPPORTED, "CPython %d.%d has no layout table (supported: %s)", major,
		       minor, list);
}

size_t layout_candidates(int major, int minor, const struct pylayout_gen **out, size_t max,
			 bool *newer, struct pc_err *e)
{
	return layout_candidates_build(major, minor, false, out, max, newer, e);
}

size_t layout_candidates_build(int major, int minor, bool free_threaded, const struct pylayout_gen **out,
			       size_t max, bool *newer, struct pc_err *e)
{
	const struct pylayout_gen *last = pylayout_ntables ? pylayout_tables[pylayout_ntables - 1] : NULL;
	size_t n = 0;
	char list[128];

	*newer = false;
	/* Newer than every table: only from 3.13 on, where the target describes itself. */
	if (last && major == last->major && minor > last->minor && minor >= 13) {
		*newer = true;
		minor = last->minor;
	}
	for (size_t i = 0; i < pylayout_ntables && n < max; i++)
		if (pylayout_tables[i]->major == major && pylayout_tables[i]->minor == minor &&
		    layout_table_free_threaded(pylayout_tables[i]) == free_threaded)
			out[n++] = pylayout_tables[i];
	if (n == 0 && free_threaded) {
		pc_fail(e, PC_EUNSUPPORTED, "a free-threaded build of CPython %d.%d: %s", major, minor,
			PY_FREE_THREADED_WHY);
	} else if (n == 0) {
		supported_versions(list, sizeof list);
		pc_fail(e, PC_EUNSUPPORTED, "CPython %d.%d has no layout table (supported: %s)", major,
			minor, list);
	}
	return n;
}

/* _Py_DebugOffsets: every member a uint64_t, positions per minor version from the DWARF of the
 * builds (gdb `ptype /o struct _Py_DebugOffsets`: pyenv 3.13.0; Debian's 3.14.10 and 3.15.2,
 * the -dbg packages). The struct grows every minor version (584, 760, 888 bytes) and members are
 * inserted mid-struct (3.14: interpreter_state.threads_main; 3.15: thread_state.base_frame ...),
 * so each minor has its own column. A version newer than any known is read with the newest
 * column; every value is then checked like any other, and the layout validated against the
 * target before it is trusted. */
enum { DO_13, DO_14, DO_15, DO_NCOLS };
static const uint16_t do_total[DO_NCOLS] = { 584, 760, 888 };
#define DO_COOKIE 0
#define DO_VERSION 8
#define DO_FREE_THREADED 16 /* already in 3.13.0 */

/* The `size` member of each sub-struct, and the pyoffsets field it fills (NO_FIELD: checked and
 * used as a bound only). 0: the version has no such sub-struct. */
enum {
	G_RT, G_IS, G_TS, G_IF, G_CODE, G_OBJ, G_TYPE, G_HEAPTYPE, G_TUPLE, G_LIST, G_SET,
	G_DICT, G_FLOAT, G_LONG, G_BYTES, G_UNICODE, G_GC, G_GEN, G_NGROUPS, NO_GROUP = 0xff
};
#define NO_FIELD UINT16_MAX
struct do_group {
	uint16_t pos[DO_NCOLS];
	uint16_t dst;
	const char *name;
};
#define GR(name, p13, p14, p15, field) { { p13, p14, p15 }, offsetof(struct pyoffsets, field), name }
#define GN(name, p13, p14, p15) { { p13, p14, p15 }, NO_FIELD, name }
static const struct do_group do_groups[G_NGROUPS] = {
	[G_RT] = GR("runtime_state", 24, 24, 24, rt_size),
	[G_IS] = GR("interpreter_state", 48, 48, 48, is_size),
	[G_TS] = GR("thread_state", 152, 176, 176, ts_size),
	[G_IF] = GR("interpreter_frame", 224, 248, 312, if_size),
	[G_CODE] = GR("code_object", 272, 312, 376, code_size),
	[G_OBJ] = GN("pyobject", 352, 400, 464),
	[G_TYPE] = GR("type_object", 368, 416, 480, type_size),
	[G_HEAPTYPE] = GR("heap_type_object", 0, 0, 528, heaptype_size),
	[G_TUPLE] = GN("tuple_object", 400, 448, 544),
	[G_LIST] = GN("list_object", 424, 472, 568),
	[G_SET] = GR("set_object", 0, 496, 592, set_size),
	[G_DICT] = GR("dict_object", 448, 528, 624, dict_size),
	[G_FLOAT] = GN("float_object", 472, 552, 648),
	[G_LONG] = GN("long_object", 488, 568, 664),
	[G_BYTES] = GN("bytes_object", 512, 592, 688),
	/* unicode_object.size is sizeof(PyUnicodeObject), not the compact ASCII header */
	[G_UNICODE] = GR("unicode_object", 536, 616, 712, unicode_size),
	[G_GC] = GR("gc", 568, 648, 752, gc_state_size),
	[G_GEN] = GN("gen_object", 0, 664, 792),
};

/* One member: its position per column (0: absent in that version), the group whose size bounds
 * it (NO_GROUP: the value is itself a size), the field it fills, and its width: the field's
 * `width` bytes must lie inside its struct, because readers copy `size` bytes and read the field
 * from that copy (0 for the start of a variable array or an embedded struct, which readers bound
 * themselves). */
struct do_map {
	uint16_t pos[DO_NCOLS];
	uint8_t group, width;
	uint16_t dst;
	const char *name;
};
#define OF(g, p13, p14, p15, field, w) { { p13, p14, p15 }, g, w, offsetof(struct pyoffsets, field), #field }

static const struct do_map do_fields[] = {
	OF(G_RT, 32, 32, 32, rt_finalizing, 8),
	OF(G_RT, 40, 40, 40, rt_interp_head, 8),
	OF(G_IS, 56, 56, 56, is_id, 8),
	OF(G_IS, 64, 64, 64, is_next, 8),
	OF(G_IS, 72, 72, 72, is_threads_head, 8),
	OF(G_IS, 80, 88, 88, is_gc, 0),
	OF(G_IS, 88, 96, 96, is_modules, 8),
	OF(G_IS, 96, 104, 104, is_sysdict, 8),
	OF(G_IS, 104, 112, 112, is_builtins, 8),
	OF(G_IS, 112, 120, 120, is_ceval_gil, 8),
	OF(G_TS, 160, 184, 184, ts_prev, 8),
	OF(G_TS, 168, 192, 192, ts_next, 8),
	OF(G_TS, 176, 200, 200, ts_interp, 8),
	OF(G_TS, 184, 208, 208, ts_frame, 8),
	OF(G_TS, 192, 216, 240, ts_thread_id, 8),
	OF(G_TS, 200, 224, 248, ts_native_thread_id, 8),
	OF(G_IF, 232, 256, 320, if_previous, 8),
	OF(G_IF, 240, 264, 328, if_code, 8),
	OF(G_IF, 248, 272, 336, if_instr, 8),
	OF(G_IF, 256, 280, 344, if_localsplus, 0),
	OF(G_IF, 264, 288, 352, if_owner, 1),
	OF(G_CODE, 280, 320, 384, co_filename, 8),
	OF(G_CODE, 288, 328, 392, co_name, 8),
	OF(G_CODE, 304, 344, 408, co_linetable, 8),
	OF(G_CODE, 312, 352, 416, co_firstlineno, 4),
	OF(G_CODE, 344, 384, 448, co_code_adaptive, 2),
	OF(G_OBJ, 360, 408, 472, ob_type, 8),
	OF(G_TYPE, 376, 424, 488, tp_name, 8),
	OF(G_TYPE, 392, 440, 504, tp_flags, 8),
	OF(G_TYPE, 0, 0, 512, tp_basicsize, 8),
	OF(G_TYPE, 0, 0, 520, tp_dictoffset, 8),
	OF(G_HEAPTYPE, 0, 0, 536, ht_cached_keys, 8),
	OF(G_TUPLE, 408, 456, 552, tuple_item, 0),
	OF(G_TUPLE, 416, 464, 560, ob_size, 8),
	OF(G_LIST, 432, 480, 576, list_item, 8),
	OF(G_SET, 0, 512, 608, set_table, 8),
	OF(G_SET, 0, 520, 616, set_mask, 8),
	OF(G_DICT, 456, 536, 632, dict_keys, 8),
	OF(G_DICT, 464, 544, 640, dict_values, 8),
	OF(G_FLOAT, 480, 560, 656, float_val, 8),
	OF(G_LONG, 496, 576, 672, long_tag, 8),
	OF(G_LONG, 504, 584, 680, long_digit, 0),
	OF(G_BYTES, 528, 608, 704, bytes_sval, 0),
	OF(G_UNICODE, 544, 624, 720, str_state, 4),
	OF(G_UNICODE, 552, 632, 728, str_length, 8),
	OF(NO_GROUP, 560, 640, 736, ascii_size, 0),
	OF(NO_GROUP, 0, 0, 744, compact_size, 0),
	OF(G_GC, 576, 656, 760, gc_collecting, 4),
	OF(G_GEN, 0, 680, 808, gen_iframe, 0),
	OF(G_GEN, 0, 688, 816, gen_frame_state, 1),
};

#undef GR
#undef GN
#undef OF

/* The bytes come from the target: no offset or size of these structs comes near 1 MiB (the
 * largest, _PyRuntimeState, is 460 KB in 3.12.1). */
#define DO_MAX_VALUE (1u << 20)

/* The column for a target's minor version: its own, or the newest for a newer version. */
static int do_column(int major, int minor)
{
	if (major != 3 || minor < 13)
		return -1;
	return minor - 13 < DO_NCOLS ? minor - 13 : DO_NCOLS - 1;
}

size_t layout_debug_offsets_len(uint32_t version_hex)
{
	int col = do_column((int)(version_hex >> 24), (int)((version_hex >> 16) & 0xff));

	return col < 0 ? 0 : do_total[col];
}

/* The u64 at pos, or -1 when the target's copy is too short to hold it. */
static int do_u64(const uint8_t *raw, size_t len, size_t pos, uint64_t *v, struct pc_err *e)
{
	if (pos > len || len - pos < sizeof *v)
		return pc_fail(e, PC_ELAYOUT,
			       "_Py_DebugOffsets truncated: need %zu bytes, have %zu", pos + sizeof *v,
			       len);
	/* Same byte order as the target: both are x86-64 (pycensus reads only its own arch). */
	memcpy(v, raw + pos, sizeof *v);
	return 0;
}

static void put_field(struct pyoffsets *off, uint16_t dst, uint64_t v)
{
	int32_t val = (int32_t)v;

	memcpy((char *)off + dst, &val, sizeof val);
}

static int32_t get_field(const struct pyoffsets *off, uint16_t dst)
{
	int32_t val;

	memcpy(&val, (const char *)off + dst, sizeof val);
	return val;
}

/* Reads and checks the header (cookie, version, build) of the target's _Py_DebugOffsets; the
 * build must be the table's (`free_threaded`). */
static int do_header(const uint8_t *raw, size_t len, uint32_t version_hex, int col, bool free_threaded,
		     struct pc_err *e)
{
	static const char cookie[8] = { 'x', 'd', 'e', 'b', 'u', 'g', 'p', 'y' };
	uint64_t v = 0;

	if (len < do_total[col])
		return pc_fail(e, PC_ELAYOUT, "_Py_DebugOffsets truncated: need %d bytes, have %zu",
			       do_total[col], len);
	if (memcmp(raw + DO_COOKIE, cookie, sizeof cookie) != 0)
		return pc_fail(e, PC_ELAYOUT, "_PyRuntime does not start with the \"xdebugpy\" cookie");
	if (do_u64(raw, len, DO_VERSION, &v, e) < 0)
		return -1;
	if (v != version_hex)
		return pc_fail(e, PC_ELAYOUT,
			       "_Py_DebugOffsets.version is %#llx, the interpreter says %#x",
			       (unsigned long long)v, version_hex);
	if (do_u64(raw, len, DO_FREE_THREADED, &v, e) < 0)
		return -1;
	/* A build that calls itself free-threaded is never read with the GIL build's object header,
	 * even when its other fields look like one, nor a GIL build with the free-threaded one. */
	if (free_threaded && py_free_threaded(raw, len, version_hex) != PY_BUILD_FREE_THREADED)
		return pc_fail(e, PC_ELAYOUT, "a free-threaded table for a build whose _Py_DebugOffsets "
			       "do not say free-threaded");
	if (v != 0 && !free_threaded)
		return pc_fail(e, PC_EUNSUPPORTED, "a free-threaded build of CPython %u.%u: %s",
			       version_hex >> 24, (version_hex >> 16) & 0xff, PY_FREE_THREADED_WHY);
	return 0;
}

/* The GIL build's PyObject: ob_refcnt, ob_type (16 bytes, ob_type at 8); the free-threaded one
 * (Include/object.h, Py_GIL_DISABLED): ob_tid, ob_flags, ob_mutex, ob_gc_bits, ob_ref_local,
 * ob_ref_shared, ob_type (32 bytes, ob_type at 24). 3.13's _Py_DebugOffsets has the same members
 * in both builds (no #ifdef inside the struct, Include/internal/pycore_runtime.h). */
#define DO_GIL_OBJECT_SIZE 16
#define DO_GIL_OB_TYPE 8
#define DO_FT_OBJECT_SIZE 32
#define DO_FT_OB_TYPE 24

enum py_build py_free_threaded(const uint8_t *raw, size_t len, uint32_t version_hex)
{
	int col = do_column((int)(version_hex >> 24), (int)((version_hex >> 16) & 0xff));
	struct pc_err e = { 0 };
	uint64_t flag = 0, size = 0, ob_type = 0;
	size_t type_pos = 0;

	if (col < 0 || !raw || len < do_total[col] || memcmp(raw, "xdebugpy", 8) != 0)
		return PY_BUILD_UNKNOWN;
	for (size_t i = 0; i < PC_ARRAY_LEN(do_fields); i++)
		if (do_fields[i].dst == offsetof(struct pyoffsets, ob_type))
			type_pos = do_fields[i].pos[col];
	if (do_u64(raw, len, DO_FREE_THREADED, &flag, &e) < 0 ||
	    do_u64(raw, len, do_groups[G_OBJ].pos[col], &size, &e) < 0 ||
	    do_u64(raw, len, type_pos, &ob_type, &e) < 0)
		return PY_BUILD_UNKNOWN;
	if (flag == 1 && size == DO_FT_OBJECT_SIZE && ob_type == DO_FT_OB_TYPE)
		return PY_BUILD_FREE_THREADED;
	if (flag == 0 && size == DO_GIL_OBJECT_SIZE && ob_type == DO_GIL_OB_TYPE)
		return PY_BUILD_GIL;
	return PY_BUILD_UNKNOWN;
}

/* Every group size of column col into off (when it has a field), each checked. */
static int do_read_groups(const uint8_t *raw, size_t len, int col, uint64_t size[G_NGROUPS],
			  struct pyoffsets *off, struct pc_err *e)
{
	for (unsigned g = 0; g < G_NGROUPS; g++) {
		const struct do_group *gr = &do_groups[g];

		size[g] = 0;
		if (!gr->pos[col])
			continue;
		if (do_u64(raw, len, gr->pos[col], &size[g], e) < 0)
			return -1;
		if (size[g] == 0 || size[g] >= DO_MAX_VALUE)
			return pc_fail(e, PC_ELAYOUT, "_Py_DebugOffsets: absurd size %llu for %s",
				       (unsigned long long)size[g], gr->name);
		if (gr->dst != NO_FIELD)
			put_field(off, gr->dst, size[g]);
	}
	return 0;
}

static int do_read_fields(const uint8_t *raw, size_t len, int col, const uint64_t size[G_NGROUPS],
			  struct pyoffsets *off, struct pc_err *e)
{
	uint64_t v = 0;

	for (size_t i = 0; i < PC_ARRAY_LEN(do_fields); i++) {
		const struct do_map *m = &do_fields[i];

		if (!m->pos[col])
			continue;
		if (do_u64(raw, len, m->pos[col], &v, e) < 0)
			return -1;
		if (m->group == NO_GROUP) {
			if (v == 0 || v >= DO_MAX_VALUE)
				return pc_fail(e, PC_ELAYOUT,
					       "_Py_DebugOffsets: absurd size %llu for %s",
					       (unsigned long long)v, m->name);
		} else if (v >= DO_MAX_VALUE || v >= size[m->group] ||
			   size[m->group] - v < m->width) {
			return pc_fail(e, PC_ELAYOUT,
				       "_Py_DebugOffsets: %u-byte %s at %llu outside its %llu-byte struct",
				       m->width, m->name, (unsigned long long)v,
				       (unsigned long long)size[m->group]);
		}
		put_field(off, m->dst, v);
	}
	return 0;
}

/* Parses the target's _Py_DebugOffsets into a copy of `base`: every field it carries, checked. */
static int do_parse(const struct pyoffsets *base, const uint8_t *raw, size_t len, uint32_t version_hex,
		    struct pyoffsets *out, struct pc_err *e)
{
	int col = do_column((int)(version_hex >> 24), (int)((version_hex >> 16) & 0xff));
	uint64_t size[G_NGROUPS];
	struct pyoffsets off = *base;

	if (col < 0)
		return pc_fail(e, PC_EINTERNAL, "_Py_DebugOffsets exist from CPython 3.13 on, not %#x",
			       version_hex);
	/* a free-threaded table (ob_ref_local) for a free-threaded target only */
	if (do_header(raw, len, version_hex, col, base->ob_ref_local >= 0, e) < 0 ||
	    do_read_groups(raw, len, col, size, &off, e) < 0 ||
	    do_read_fields(raw, len, col, size, &off, e) < 0)
		return -1;
	/* The GC state is a struct embedded in the interpreter state, not one field. */
	if ((int64_t)off.is_gc + off.gc_state_size > off.is_size)
		return pc_fail(e, PC_ELAYOUT,
			       "_Py_DebugOffsets: %d-byte GC state at %d outside the %d-byte "
			       "interpreter state",
			       off.gc_state_size, off.is_gc, off.is_size);
	*out = off;
	return 0;
}

int layout_overlay_debug_offsets(struct pylayout *l, const uint8_t *raw, size_t len,
				 uint32_t version_hex, struct pc_err *e)
{
	struct pyoffsets off;

	if (!l->has_debug_offsets)
		return pc_fail(e, PC_EINTERNAL, "_Py_DebugOffsets exist from CPython 3.13 on, not %d.%d",
			       l->major, l->minor);
	if ((int)(version_hex >> 24) != l->major ||
	    ((int)((version_hex >> 16) & 0xff) != l->minor && !l->newer))
		return pc_fail(e, PC_ELAYOUT, "version %#x does not match the %d.%d layout",
			       version_hex, l->major, l->minor);
	if (do_parse(&l->off, raw, len, version_hex, &off, e) < 0)
		return -1;
	l->off = off;
	l->debug_offsets = true;
	return 0;
}

int layout_debug_offsets_mismatches(const struct pylayout_gen *g, const uint8_t *raw, size_t len,
				    uint32_t version_hex, char *first, size_t first_len)
{
	struct pyoffsets off;
	struct pc_err e = { 0 };
	int n = 0;

	if (do_parse(&g->off, raw, len, version_hex, &off, &e) < 0)
		return -1;
	if (first_len)
		first[0] = '\0';
	/* struct sizes first: a grown struct explains the fields after it */
	for (size_t i = 0; i < G_NGROUPS + PC_ARRAY_LEN(do_fields); i++) {
		uint16_t dst = i < G_NGROUPS ? do_groups[i].dst : do_fields[i - G_NGROUPS].dst;
		const char *name = i < G_NGROUPS ? do_groups[i].name : do_fields[i - G_NGROUPS].name;

		if (dst == NO_FIELD || get_field(&off, dst) == get_field(&g->off, dst))
			continue;
		if (n++ == 0 && first_len)
			snprintf(first, first_len, "%s is %d in the target, %d in %s", name,
				 get_field(&off, dst), get_field(&g->off, dst), g->source);
	}
	return n;
}

size_t layout_ranked(int major, int minor, uint32_t version_hex, const uint8_t *raw, size_t len,
		     const struct pylayout_gen **out, size_t max, bool *newer, struct pc_err *e)
{
	bool ft = raw && py_free_threaded(raw, len, version_hex) == PY_BUILD_FREE_THREADED;
	size_t n = layout_candidates_build(major, minor, ft, out, max, newer, e);
	int miss[16];
	char first[8];

	if (!raw || n < 2 || n > PC_ARRAY_LEN(miss))
		return n;
	for (size_t i = 0; i < n; i++) {
		miss[i] = layout_debug_offsets_mismatches(out[i], raw, len, version_hex, first, 0);
		if (miss[i] < 0)
			miss[i] = INT32_MAX;
	}
	/* insertion sort, stable: among equals the table order (upstream first) stays */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && miss[j] < miss[j - 1]; j--) {
			const struct pylayout_gen *g = out[j];
			int m = miss[j];
			out[j] = out[j - 1], miss[j] = miss[j - 1];
			out[j - 1] = g, miss[j - 1] = m;
		}
	return n;
}
