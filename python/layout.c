/* layout.c: picks the generated layout table of a CPython version, sets the version's constants,
 * and overlays a 3.13+ target's own _Py_DebugOffsets. */
#include "common/compat.h"
#include "python/layout.h"

#include <stdio.h>
#include <string.h>

/* Writes "3.8-3.13" when the tables cover one contiguous run of minors, else "3.8, 3.10, ...". */
static void supported_versions(char *buf, size_t n)
{
	bool contiguous = pylayout_ntables > 0;
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 1; i < pylayout_ntables; i++)
		if (pylayout_tables[i]->major != pylayout_tables[0]->major ||
		    pylayout_tables[i]->minor != pylayout_tables[i - 1]->minor + 1)
			contiguous = false;
	if (contiguous && pylayout_ntables > 1) {
		const struct pylayout_gen *lo = pylayout_tables[0];
		const struct pylayout_gen *hi = pylayout_tables[pylayout_ntables - 1];
		snprintf(buf, n, "%d.%d-%d.%d", lo->major, lo->minor, hi->major, hi->minor);
		return;
	}
	for (size_t i = 0; i < pylayout_ntables && used < n; i++) {
		int w = snprintf(buf + used, n - used, "%s%d.%d", i ? ", " : "",
				 pylayout_tables[i]->major, pylayout_tables[i]->minor);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

int layout_lookup(int major, int minor, struct pylayout *out, struct pc_err *e)
{
	const struct pylayout_gen *g = NULL;
	char list[128];

	for (size_t i = 0; i < pylayout_ntables; i++)
		if (!g && pylayout_tables[i]->major == major && pylayout_tables[i]->minor == minor)
			g = pylayout_tables[i];
	if (!g) {
		supported_versions(list, sizeof list);
		return pc_fail(e, PC_EUNSUPPORTED,
			       "CPython %d.%d has no layout table (supported: %s)", major, minor, list);
	}

	memset(out, 0, sizeof *out);
	out->major = major;
	out->minor = minor;
	out->source = g->source;
	out->off = g->off;

	/* CPYTHON.md 1.1: the radix tree of 3.10 came with 16 KiB pools and 1 MiB arenas. */
	if (major == 3 && minor <= 9) {
		out->pool_size = 4096;
		out->arena_size = 256 * 1024;
	} else {
		out->pool_size = 16384;
		out->arena_size = 1024 * 1024;
	}
	/* 512-byte SMALL_REQUEST_THRESHOLD in 16-byte ALIGNMENT steps, unchanged 3.8-3.13. */
	out->nsize_classes = 32;
	out->size_class_step = 16;
	/* 3.13.0 still has three generations (the incremental GC was reverted before release). */
	out->ngenerations = 3;
	/* CPYTHON.md 1.5: arenas moved into PyInterpreterState.obmalloc in 3.12, a pointer in 3.13. */
	out->arenas_in_interp = minor >= 12;
	out->obmalloc_is_pointer = minor >= 13;
	/* CPYTHON.md 4.2: MANAGED_DICT pre-header from 3.11, MANAGED_WEAKREF joins it in 3.12. */
	out->preheader_dict = minor >= 11;
	out->preheader_weakref = minor >= 12;
	/* CPYTHON.md 5.1: 3.12's getsizeof adds a pre-header to static types (432 for int). */
	out->debug_offsets = false;
	return 0;
}

/* _Py_DebugOffsets of 3.13.0, every member a uint64_t (gdb `ptype /o struct _Py_DebugOffsets`
 * on libpython3.13.so.1.0). 3.13.0 already has free_threaded at 16, which CPYTHON.md 3.5 lists
 * as new in 3.14. 3.14 appends and inserts members, so these positions are 3.13's only. */
enum {
	DO313_COOKIE = 0,
	DO313_VERSION = 8,
	DO313_FREE_THREADED = 16,
	DO313_RT_SIZE = 24,
	DO313_RT_INTERPRETERS_HEAD = 40,
	DO313_IS_SIZE = 48,
	DO313_IS_ID = 56,
	DO313_IS_NEXT = 64,
	DO313_IS_THREADS_HEAD = 72,
	DO313_IS_GC = 80,
	DO313_IS_IMPORTS_MODULES = 88,
	DO313_IS_SYSDICT = 96,
	DO313_IS_BUILTINS = 104,
	DO313_IS_CEVAL_GIL = 112,
	DO313_TS_SIZE = 152,
	DO313_TS_PREV = 160,
	DO313_TS_NEXT = 168,
	DO313_TS_INTERP = 176,
	DO313_TS_CURRENT_FRAME = 184,
	DO313_TS_THREAD_ID = 192,
	DO313_TS_NATIVE_THREAD_ID = 200,
	DO313_IF_SIZE = 224,
	DO313_IF_PREVIOUS = 232,
	DO313_IF_EXECUTABLE = 240,
	DO313_IF_INSTR_PTR = 248,
	DO313_IF_OWNER = 264,
	DO313_CODE_SIZE = 272,
	DO313_CODE_FILENAME = 280,
	DO313_CODE_NAME = 288,
	DO313_CODE_LINETABLE = 304,
	DO313_CODE_FIRSTLINENO = 312,
	DO313_CODE_CO_CODE_ADAPTIVE = 344,
	DO313_OBJ_SIZE = 352,
	DO313_OBJ_OB_TYPE = 360,
	DO313_TYPE_SIZE = 368,
	DO313_TYPE_TP_NAME = 376,
	DO313_TYPE_TP_FLAGS = 392,
	DO313_TUPLE_SIZE = 400,
	DO313_TUPLE_OB_ITEM = 408,
	DO313_TUPLE_OB_SIZE = 416,
	DO313_LIST_SIZE = 424,
	DO313_LIST_OB_ITEM = 432,
	DO313_DICT_SIZE = 448,
	DO313_DICT_MA_KEYS = 456,
	DO313_DICT_MA_VALUES = 464,
	DO313_FLOAT_SIZE = 472,
	DO313_FLOAT_OB_FVAL = 480,
	DO313_LONG_SIZE = 488,
	DO313_LONG_LV_TAG = 496,
	DO313_LONG_OB_DIGIT = 504,
	DO313_BYTES_SIZE = 512,
	DO313_BYTES_OB_SVAL = 528,
	DO313_UNICODE_SIZE = 536,
	DO313_UNICODE_STATE = 544,
	DO313_UNICODE_LENGTH = 552,
	DO313_UNICODE_ASCII_SIZE = 560,
	DO313_GC_SIZE = 568,
	DO313_GC_COLLECTING = 576,
	DO313_TOTAL = 584, /* sizeof(struct _Py_DebugOffsets) in 3.13.0 */
};

/* The bytes come from the target: no offset or size of these structs comes near 1 MiB (the
 * largest, _PyRuntimeState, is 460 KB in 3.12.1). */
#define DO_MAX_VALUE (1u << 20)

/* One overlaid field: where the value sits in _Py_DebugOffsets, and where its group's `size`
 * sits (NO_GROUP when the value is itself a size). The field's `width` bytes must lie inside its
 * struct, because readers copy `size` bytes and then read the field from that copy (0 for the
 * start of a variable array, whose items the readers bound themselves). */
struct do_map {
	uint16_t pos, group;
	uint16_t dst; /* offsetof(struct pyoffsets, field) */
	uint8_t width;
	const char *name;
};

#define NO_GROUP UINT16_MAX
#define SZ(pos, field) { pos, NO_GROUP, offsetof(struct pyoffsets, field), 0, #field }
#define OF(pos, group, field, width) \
	{ pos, group, offsetof(struct pyoffsets, field), width, #field }

static const struct do_map do313[] = {
	SZ(DO313_RT_SIZE, rt_size),
	OF(DO313_RT_INTERPRETERS_HEAD, DO313_RT_SIZE, rt_interp_head, 8),
	SZ(DO313_IS_SIZE, is_size),
	OF(DO313_IS_ID, DO313_IS_SIZE, is_id, 8),
	OF(DO313_IS_NEXT, DO313_IS_SIZE, is_next, 8),
	OF(DO313_IS_THREADS_HEAD, DO313_IS_SIZE, is_threads_head, 8),
	OF(DO313_IS_GC, DO313_IS_SIZE, is_gc, 0),
	OF(DO313_IS_IMPORTS_MODULES, DO313_IS_SIZE, is_modules, 8),
	OF(DO313_IS_SYSDICT, DO313_IS_SIZE, is_sysdict, 8),
	OF(DO313_IS_BUILTINS, DO313_IS_SIZE, is_builtins, 8),
	OF(DO313_IS_CEVAL_GIL, DO313_IS_SIZE, is_ceval_gil, 8),
	SZ(DO313_TS_SIZE, ts_size),
	OF(DO313_TS_PREV, DO313_TS_SIZE, ts_prev, 8),
	OF(DO313_TS_NEXT, DO313_TS_SIZE, ts_next, 8),
	OF(DO313_TS_INTERP, DO313_TS_SIZE, ts_interp, 8),
	OF(DO313_TS_CURRENT_FRAME, DO313_TS_SIZE, ts_frame, 8),
	OF(DO313_TS_THREAD_ID, DO313_TS_SIZE, ts_thread_id, 8),
	OF(DO313_TS_NATIVE_THREAD_ID, DO313_TS_SIZE, ts_native_thread_id, 8),
	SZ(DO313_IF_SIZE, if_size),
	OF(DO313_IF_PREVIOUS, DO313_IF_SIZE, if_previous, 8),
	OF(DO313_IF_EXECUTABLE, DO313_IF_SIZE, if_code, 8),
	OF(DO313_IF_INSTR_PTR, DO313_IF_SIZE, if_instr, 8),
	OF(DO313_IF_OWNER, DO313_IF_SIZE, if_owner, 1),
	SZ(DO313_CODE_SIZE, code_size),
	OF(DO313_CODE_FILENAME, DO313_CODE_SIZE, co_filename, 8),
	OF(DO313_CODE_NAME, DO313_CODE_SIZE, co_name, 8),
	OF(DO313_CODE_LINETABLE, DO313_CODE_SIZE, co_linetable, 8),
	OF(DO313_CODE_FIRSTLINENO, DO313_CODE_SIZE, co_firstlineno, 4),
	OF(DO313_CODE_CO_CODE_ADAPTIVE, DO313_CODE_SIZE, co_code_adaptive, 2),
	OF(DO313_OBJ_OB_TYPE, DO313_OBJ_SIZE, ob_type, 8),
	SZ(DO313_TYPE_SIZE, type_size),
	OF(DO313_TYPE_TP_NAME, DO313_TYPE_SIZE, tp_name, 8),
	OF(DO313_TYPE_TP_FLAGS, DO313_TYPE_SIZE, tp_flags, 8),
	OF(DO313_TUPLE_OB_ITEM, DO313_TUPLE_SIZE, tuple_item, 0),
	OF(DO313_TUPLE_OB_SIZE, DO313_TUPLE_SIZE, ob_size, 8),
	OF(DO313_LIST_OB_ITEM, DO313_LIST_SIZE, list_item, 8),
	SZ(DO313_DICT_SIZE, dict_size),
	OF(DO313_DICT_MA_KEYS, DO313_DICT_SIZE, dict_keys, 8),
	OF(DO313_DICT_MA_VALUES, DO313_DICT_SIZE, dict_values, 8),
	OF(DO313_FLOAT_OB_FVAL, DO313_FLOAT_SIZE, float_val, 8),
	OF(DO313_LONG_LV_TAG, DO313_LONG_SIZE, long_tag, 8),
	OF(DO313_LONG_OB_DIGIT, DO313_LONG_SIZE, long_digit, 0),
	OF(DO313_BYTES_OB_SVAL, DO313_BYTES_SIZE, bytes_sval, 0),
	/* unicode_object.size is sizeof(PyUnicodeObject), not the compact ASCII header. */
	SZ(DO313_UNICODE_SIZE, unicode_size),
	OF(DO313_UNICODE_STATE, DO313_UNICODE_SIZE, str_state, 4),
	OF(DO313_UNICODE_LENGTH, DO313_UNICODE_SIZE, str_length, 8),
	SZ(DO313_UNICODE_ASCII_SIZE, ascii_size),
	SZ(DO313_GC_SIZE, gc_state_size),
	OF(DO313_GC_COLLECTING, DO313_GC_SIZE, gc_collecting, 4),
};

#undef SZ
#undef OF

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

int layout_overlay_debug_offsets(struct pylayout *l, const uint8_t *raw, size_t len,
				 uint32_t version_hex, struct pc_err *e)
{
	static const char cookie[8] = { 'x', 'd', 'e', 'b', 'u', 'g', 'p', 'y' };
	struct pyoffsets off = l->off;
	uint64_t v = 0, size = 0;

	if (l->major != 3 || l->minor < 13)
		return pc_fail(e, PC_EINTERNAL, "_Py_DebugOffsets exist from CPython 3.13 on, not %d.%d",
			       l->major, l->minor);
	if (l->minor > 13)
		return pc_fail(e, PC_EUNSUPPORTED,
			       "no _Py_DebugOffsets positions for CPython %d.%d (known: 3.13)",
			       l->major, l->minor);
	if ((int)(version_hex >> 24) != l->major || (int)((version_hex >> 16) & 0xff) != l->minor)
		return pc_fail(e, PC_ELAYOUT, "version %#x does not match the %d.%d layout",
			       version_hex, l->major, l->minor);

	if (len < DO313_TOTAL)
		return pc_fail(e, PC_ELAYOUT, "_Py_DebugOffsets truncated: need %d bytes, have %zu",
			       DO313_TOTAL, len);
	if (memcmp(raw + DO313_COOKIE, cookie, sizeof cookie) != 0)
		return pc_fail(e, PC_ELAYOUT, "_PyRuntime does not start with the \"xdebugpy\" cookie");
	if (do_u64(raw, len, DO313_VERSION, &v, e) < 0)
		return -1;
	if (v != version_hex)
		return pc_fail(e, PC_ELAYOUT,
			       "_Py_DebugOffsets.version is %#llx, the interpreter says %#x",
			       (unsigned long long)v, version_hex);
	if (do_u64(raw, len, DO313_FREE_THREADED, &v, e) < 0)
		return -1;
	if (v != 0)
		return pc_fail(e, PC_EUNSUPPORTED,
			       "free-threaded build (CPython %d.%dt uses mimalloc, not pymalloc)",
			       l->major, l->minor);

	for (size_t i = 0; i < PC_ARRAY_LEN(do313); i++) {
		const struct do_map *m = &do313[i];

		if (do_u64(raw, len, m->pos, &v, e) < 0)
			return -1;
		if (m->group == NO_GROUP) {
			if (v == 0 || v >= DO_MAX_VALUE)
				return pc_fail(e, PC_ELAYOUT,
					       "_Py_DebugOffsets: absurd size %llu for %s",
					       (unsigned long long)v, m->name);
		} else {
			if (do_u64(raw, len, m->group, &size, e) < 0)
				return -1;
			if (v >= DO_MAX_VALUE || size >= DO_MAX_VALUE || v >= size ||
			    size - v < m->width)
				return pc_fail(e, PC_ELAYOUT,
					       "_Py_DebugOffsets: %u-byte %s at %llu outside its "
					       "%llu-byte struct",
					       m->width, m->name, (unsigned long long)v,
					       (unsigned long long)size);
		}
		int32_t val = (int32_t)v;
		memcpy((char *)&off + m->dst, &val, sizeof val);
	}

	/* The GC state is a struct embedded in the interpreter state, not one field. */
	if ((int64_t)off.is_gc + off.gc_state_size > off.is_size)
		return pc_fail(e, PC_ELAYOUT,
			       "_Py_DebugOffsets: %d-byte GC state at %d outside the %d-byte "
			       "interpreter state",
			       off.gc_state_size, off.is_gc, off.is_size);
	l->off = off;
	l->debug_offsets = true;
	return 0;
}
