/* test_layout.c: the generated layout tables, layout_lookup() and the 3.13 _Py_DebugOffsets
 * overlay. Expected numbers are docs/cpython.md's DWARF tables, checked again with gdb on the
 * pyenv builds (3.8.18, 3.9.18, 3.10.13, 3.11.7, 3.12.1, 3.13.0). */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "python/layout.h"
#include "python/mimalloc.h"
#include "python/rules.h"

static const struct pylayout_gen *table(int minor)
{
	for (size_t i = 0; i < pylayout_ntables; i++)
		if (pylayout_tables[i]->major == 3 && pylayout_tables[i]->minor == minor)
			return pylayout_tables[i];
	cr_assert_fail("no generated table for 3.%d", minor);
	return NULL;
}

static const struct pylayout_gen *table_named(const char *source);

Test(layout, tables_cover_3_8_to_3_15_in_order)
{
	bool seen[16] = { false };

	cr_assert_eq(pylayout_ntables, 12);
	for (size_t i = 0; i < pylayout_ntables; i++) {
		cr_expect_eq(pylayout_tables[i]->major, 3);
		char why[160];
		cr_assert(py_version_supported(3, pylayout_tables[i]->minor, why, sizeof why), "%s", why);
		cr_assert(pylayout_tables[i]->minor < (int)PC_ARRAY_LEN(seen));
		cr_expect(i == 0 || pylayout_tables[i]->minor >= pylayout_tables[i - 1]->minor);
		cr_expect_not_null(pylayout_tables[i]->source);
		seen[pylayout_tables[i]->minor] = true;
	}
	/* no gap between the oldest and the newest (checked by name just below: 3.8 and 3.15) */
	for (int minor = pylayout_tables[0]->minor; minor < pylayout_tables[pylayout_ntables - 1]->minor; minor++)
		cr_expect(seen[minor], "no table for 3.%d", minor);
	cr_expect_str_eq(table(8)->source, "3.8.18");
	cr_expect_str_eq(table(13)->source, "3.13.0");
	cr_expect_str_eq(table(14)->source, "3.14.10-debian");
	cr_expect_str_eq(table(15)->source, "3.15.2-debian");
}

/* Every value is -1 (absent) or a plausible offset/size, and every row exists somewhere: a row
 * that resolves in no build is a wrong type or path in layout_fields.def. */
Test(layout, every_field_sane_and_present_somewhere)
{
#define CHECK(field)                                                                     \
	do {                                                                             \
		bool seen = false;                                                       \
		for (size_t i = 0; i < pylayout_ntables; i++) {                          \
			int32_t v = pylayout_tables[i]->off.field;                        \
			cr_expect(v >= -1 && v < (1 << 20), "3.%d %s = %d",              \
				  pylayout_tables[i]->minor, #field, v);                  \
			seen |= v != -1;                                                 \
		}                                                                        \
		cr_expect(seen, "%s resolves in no build", #field);                      \
	} while (0);
#define OFF(field, type, path) CHECK(field)
#define SIZE(field, type) CHECK(field)
#include "python/layout_fields.def"
#undef OFF
#undef SIZE
#undef CHECK
}

/* The free-threaded tables: 3.13.15t from libpython3.13t.so's DWARF, 3.14t and 3.15t from the
 * headers alone (tools/ft-layouts). The 32-byte header of Include/object.h under Py_GIL_DISABLED;
 * no GC pre-header; never a candidate for a GIL target, the only one for a free-threaded target. */
Test(layout, free_threaded_table)
{
	static const char *const want[] = { "3.13.15-ft", "3.14.10-ft-headers", "3.15.2-ft-headers" };
	const struct pylayout_gen *out[8];
	struct pylayout L;
	struct pc_err e = { 0 };
	bool newer;
	size_t n, nft = 0;

	for (size_t i = 0; i < pylayout_ntables; i++)
		nft += layout_table_free_threaded(pylayout_tables[i]);
	cr_expect_eq(nft, PC_ARRAY_LEN(want));
	for (size_t i = 0; i < pylayout_ntables; i++) /* every GIL table comes from a build's DWARF */
		cr_expect(layout_table_free_threaded(pylayout_tables[i]) || !layout_table_from_headers(pylayout_tables[i]),
			  "%s", pylayout_tables[i]->source);
	for (int minor = 13; minor <= 15; minor++) {
		const struct pylayout_gen *ft;

		n = layout_candidates_build(3, minor, true, out, PC_ARRAY_LEN(out), &newer, &e);
		cr_assert_eq(n, 1, "3.%d: %s", minor, e.detail);
		ft = out[0];
		cr_expect_str_eq(ft->source, want[minor - 13]);
		cr_expect_eq(layout_table_from_headers(ft), minor >= 14, "%s", ft->source);
		cr_expect_eq(ft->off.ob_refcnt, -1);
		cr_expect_eq(ft->off.ob_ref_local, 12);
		cr_expect_eq(ft->off.ob_ref_shared, 16);
		cr_expect_eq(ft->off.ob_type, 24);
		cr_expect_eq(ft->off.ob_size, 32);
		layout_from_table(ft, &L);
		cr_expect(L.free_threaded && L.refcnt_form == PY_RC_FREE_THREADED && L.ngenerations == 3 &&
			  !py_gc_lists_link_objects(&L));
		cr_expect_eq(layout_preheader(&L, PC_TPFLAGS_HAVE_GC), 0);
		cr_expect_eq(layout_preheader(&L, PC_TPFLAGS_HAVE_GC | PC_TPFLAGS_MANAGED_DICT), 16);
		n = layout_candidates(3, minor, out, PC_ARRAY_LEN(out), &newer, &e);
		for (size_t i = 0; i < n; i++)
			cr_expect_not(layout_table_free_threaded(out[i]), "%s offered to a GIL target", out[i]->source);
		cr_expect_eq(layout_lookup(3, minor, &L, &e), 0);
		cr_expect_not(L.free_threaded);
	}
	/* the layout of 3.14t and 3.15t is known, their heaps are not: symbols/pyelf.c refuses them */
	cr_expect_not_null(py_mimalloc(3, 13));
	cr_expect_null(py_mimalloc(3, 14));
	cr_expect_null(py_mimalloc(3, 15));
	cr_assert_not_null(table_named("3.13.15-ft"));
	cr_expect_eq(table_named("3.13.15-ft")->off.tuple_item, 40);
}

/* A free-threaded object is its GIL build's object behind a header 16 bytes longer: every field
 * of an object's body sits 16 bytes further (measured on 3.13: 3.13.15t's DWARF against 3.13.0's).
 * The header-derived 3.14t and 3.15t tables must show the same against Debian's 3.14.10 and
 * 3.15.2 (-dbg DWARF) on every such row: a probe compiled without Py_GIL_DISABLED, or with
 * headers of another version, fails here. */
Test(layout, free_threaded_bodies_sit_16_bytes_further)
{
	static const char *const pairs[][2] = {
		{ "3.13.0", "3.13.15-ft" },
		{ "3.14.10-debian", "3.14.10-ft-headers" },
		{ "3.15.2-debian", "3.15.2-ft-headers" },
	};
	unsigned rows = 0;

	for (size_t i = 0; i < PC_ARRAY_LEN(pairs); i++) {
		cr_assert(table_named(pairs[i][0]) && table_named(pairs[i][1]), "%s, %s", pairs[i][0], pairs[i][1]);
		const struct pyoffsets *g = &table_named(pairs[i][0])->off, *f = &table_named(pairs[i][1])->off;
#define BODY(field)                                                                              \
	do {                                                                                     \
		cr_expect_eq(f->field, g->field + 16, "%s %s: %d, %s: %d", #field, pairs[i][1],  \
			     f->field, pairs[i][0], g->field);                                   \
		rows++;                                                                          \
	} while (0)
		BODY(ob_size);
		BODY(tp_name);
		BODY(tp_basicsize);
		BODY(tp_flags);
		BODY(tp_dict);
		BODY(tp_mro);
		BODY(str_length);
		BODY(str_state);
		BODY(long_digit);
		BODY(float_val);
		BODY(bytes_sval);
		BODY(tuple_item);
		BODY(list_item);
		BODY(list_allocated);
		BODY(dict_used);
		BODY(dict_keys);
		BODY(dict_values);
		BODY(set_table);
		BODY(co_filename);
		BODY(co_name);
		BODY(func_code);
		BODY(func_globals);
		BODY(cell_ref);
		BODY(meth_func);
		BODY(gen_iframe);
#undef BODY
	}
	cr_expect_eq(rows, 3 * 25);
}

Test(layout, values_common_to_all_versions)
{
	for (size_t i = 0; i < pylayout_ntables; i++) {
		const struct pyoffsets *o = &pylayout_tables[i]->off;

		if (pylayout_tables[i]->minor >= 14) /* the GC state changed: values_of_3_14_and_3_15 */
			continue;
		if (layout_table_free_threaded(pylayout_tables[i])) /* free_threaded_table */
			continue;
		cr_expect_eq(o->ob_refcnt, 0);
		cr_expect_eq(o->ob_type, 8);
		cr_expect_eq(o->ob_size, 16);
		cr_expect_eq(o->tp_name, 24);
		cr_expect_eq(o->tp_basicsize, 32);
		cr_expect_eq(o->tp_flags, 168);
		cr_expect_eq(o->tp_dict, 264);
		cr_expect_eq(o->tp_mro, 344);
		cr_expect_eq(o->pool_header_size, 48);
		cr_expect_eq(o->ph_szidx, 36);
		cr_expect_eq(o->ph_nextoffset, 40);
		cr_expect_eq(o->arena_object_size, 48);
		cr_expect_eq(o->gc_head_size, 16);
		cr_expect_eq(o->gc_gen_size, 24);
		cr_expect_eq(o->gc_state_size, 240);
		cr_expect_eq(o->gc_collecting, 200);
		cr_expect_eq(o->dict_keys, 32);
		cr_expect_eq(o->list_allocated, 32);
		cr_expect_eq(o->ts_next, 8);
		cr_expect_eq(o->ts_interp, 16);
	}
}

/* Index 0..5 = 3.8..3.13. */
struct per_version {
	const char *name;
	size_t off; /* offsetof(struct pyoffsets, field) */
	int32_t v[6];
};

#define PV(field, ...) { #field, offsetof(struct pyoffsets, field), { __VA_ARGS__ } }

static const struct per_version expected[] = {
	PV(rt_interp_head, 32, 32, 32, 40, 40, 632),
	PV(rt_interp_main, 40, 40, 40, 48, 48, 640),
	PV(rt_gc, 344, -1, -1, -1, -1, -1),
	PV(rt_size, 1464, 656, 672, 166688, 459944, 283320),
	PV(is_gc, -1, 616, 616, 648, 112, 7400),
	PV(is_threads_head, 8, 8, 8, 16, 72, 7344),
	PV(is_modules, 56, 856, 856, 888, 944, 7656),
	PV(is_obmalloc, -1, -1, -1, -1, 3960, 10800),
	PV(is_feature_flags, -1, -1, -1, -1, 1712, 8440),
	PV(is_static_types, -1, -1, -1, -1, 373704, 182968),
	PV(static_type_state_size, -1, -1, -1, -1, 40, 48),
	PV(sts_tp_dict, -1, -1, -1, -1, 16, 24),
	PV(obm_arenas, -1, -1, -1, -1, 512, 512),
	PV(obm_maxarenas, -1, -1, -1, -1, 520, 520),
	/* 3.10 has both `frame` and `cframe`; its CFrame holds no frame pointer, so `frame` wins. */
	PV(ts_frame, 24, 24, 24, 56, 56, 72),
	PV(ts_thread_id, 176, 176, 176, 152, 136, 152),
	PV(ts_native_thread_id, -1, -1, -1, 160, 144, 160),
	PV(type_size, 416, 408, 408, 408, 416, 416),
	PV(heaptype_size, 880, 880, 888, 904, 920, 928),
	PV(ht_name, 848, 840, 848, 848, 856, 856),
	PV(ht_module, -1, 872, 880, 880, 888, 888),
	PV(ascii_size, 48, 48, 48, 48, 40, 40),
	PV(compact_size, 72, 72, 72, 72, 56, 56),
	PV(str_wstr, 40, 40, 40, 40, -1, -1),
	PV(str_data, 72, 72, 72, 72, 56, 56),
	PV(long_tag, -1, -1, -1, -1, 16, 16),
	PV(long_digit, 24, 24, 24, 24, 24, 24),
	PV(dk_header_size, 40, 40, 40, 32, 32, 32),
	PV(dk_size, 8, 8, 8, -1, -1, -1),
	PV(dk_log2_size, -1, -1, -1, 8, 8, 8),
	PV(dk_indices, 40, 40, 40, 32, 32, 32),
	PV(code_size, 176, 176, 176, 192, 200, 208),
	PV(co_extra, 144, 144, 144, 176, 184, 192),
	PV(func_code, 16, 16, 48, 48, 48, 48),
	PV(func_size, 120, 120, 128, 136, 144, 144),
};

#undef PV

Test(layout, values_per_version)
{
	for (size_t r = 0; r < PC_ARRAY_LEN(expected); r++)
		for (int minor = 8; minor <= 13; minor++) {
			int32_t got;

			memcpy(&got, (const char *)&table(minor)->off + expected[r].off, sizeof got);
			cr_expect_eq(got, expected[r].v[minor - 8], "3.%d %s = %d, expected %d",
				     minor, expected[r].name, got, expected[r].v[minor - 8]);
		}
}

/* Debian's 3.14.10 and 3.15.2 (-dbg DWARF): the GC state shrank in 3.15 (its statistics moved to
 * a ring buffer behind a pointer) and tuples gained ob_hash in 3.14. */
Test(layout, values_of_3_14_and_3_15)
{
	cr_expect_eq(table(14)->off.gc_state_size, 264);
	cr_expect_eq(table(14)->off.gc_collecting, 192);
	cr_expect_eq(table(14)->off.gc_generations, 24);
	cr_expect_eq(table(15)->off.gc_state_size, 176);
	cr_expect_eq(table(15)->off.gc_collecting, 112);
	cr_expect_eq(table(15)->off.gc_generations, 8);
	cr_expect_eq(table(14)->off.tuple_item, 32);
	cr_expect_eq(table(15)->off.tuple_item, 32);
	cr_expect_eq(table(14)->off.is_obmalloc, 10904);
}

Test(layout, lookup_refuses_unknown_versions)
{
	static const int bad[][2] = { { 3, 7 }, { 3, 16 }, { 2, 7 }, { 4, 0 }, { 3, -1 } };

	for (size_t i = 0; i < PC_ARRAY_LEN(bad); i++) {
		struct pc_err e = { 0 };
		struct pylayout l;

		cr_expect_eq(layout_lookup(bad[i][0], bad[i][1], &l, &e), -1);
		cr_expect_eq(e.code, PC_EUNSUPPORTED);
		cr_expect(strstr(e.detail, "supported: 3.8-3.15") != NULL, "%s", e.detail);
	}
}

Test(layout, lookup_sets_constants_per_version)
{
	for (int minor = 8; minor <= 15; minor++) {
		struct pc_err e = { 0 };
		struct pylayout l;

		cr_assert_eq(layout_lookup(3, minor, &l, &e), 0, "%s", e.detail);
		cr_expect_eq(e.code, PC_EOK);
		cr_expect_eq(l.major, 3);
		cr_expect_eq(l.minor, minor);
		cr_expect_str_eq(l.source, table(minor)->source);
		cr_expect_eq(memcmp(&l.off, &table(minor)->off, sizeof l.off), 0);
		cr_expect_eq(l.pool_size, minor <= 9 ? 4096u : 16384u);
		cr_expect_eq(l.arena_size, minor <= 9 ? 256u * 1024 : 1024u * 1024);
		cr_expect_eq(l.nsize_classes, 32);
		cr_expect_eq(l.size_class_step, 16);
		cr_expect_eq(l.ngenerations, 3);
		cr_expect_eq(l.arenas_in_interp, minor >= 12);
		cr_expect_eq(l.obmalloc_is_pointer, minor >= 13);
		cr_expect_eq(l.preheader_dict, minor >= 11);
		cr_expect_eq(l.preheader_weakref, minor >= 12);
		cr_expect_not(l.debug_offsets);
	}
}

Test(layout, preheader_follows_flags)
{
	struct pc_err e = { 0 };
	struct pylayout l10, l11, l12;

	cr_assert_eq(layout_lookup(3, 10, &l10, &e), 0);
	cr_assert_eq(layout_lookup(3, 11, &l11, &e), 0);
	cr_assert_eq(layout_lookup(3, 12, &l12, &e), 0);
	cr_expect_eq(layout_preheader(&l10, 0), 0);
	cr_expect_eq(layout_preheader(&l10, PC_TPFLAGS_HAVE_GC | PC_TPFLAGS_MANAGED_DICT), 16);
	cr_expect_eq(layout_preheader(&l11, PC_TPFLAGS_HAVE_GC | PC_TPFLAGS_MANAGED_DICT), 32);
	cr_expect_eq(layout_preheader(&l11, PC_TPFLAGS_HAVE_GC | PC_TPFLAGS_MANAGED_WEAKREF), 16);
	cr_expect_eq(layout_preheader(&l12, PC_TPFLAGS_HAVE_GC | PC_TPFLAGS_MANAGED_WEAKREF), 32);
	cr_expect_eq(layout_preheader(&l12, PC_TPFLAGS_HAVE_GC | PC_TPFLAGS_MANAGED_DICT |
						    PC_TPFLAGS_MANAGED_WEAKREF),
		     32);
}

/* ---- _Py_DebugOffsets (3.13) ---- */

#define PY313_HEX 0x030d00f0u /* PY_VERSION_HEX of 3.13.0 */
#define DO_LEN 584            /* sizeof(struct _Py_DebugOffsets) in 3.13.0 */

/* `print _PyRuntime.debug_offsets` of libpython3.13.so.1.0 (3.13.0, static data, no process),
 * positions from `ptype /o struct _Py_DebugOffsets`. Every u64 after the cookie. */
static const struct {
	uint16_t pos;
	uint64_t v;
} do_3130[] = {
	{ 8, PY313_HEX }, /* version */
	{ 16, 0 },        /* free_threaded */
	{ 24, 283320 },   /* runtime_state.size */
	{ 32, 608 },      /* runtime_state.finalizing */
	{ 40, 632 },      /* runtime_state.interpreters_head */
	{ 48, 194968 },   /* interpreter_state.size */
	{ 56, 7272 },     /* interpreter_state.id */
	{ 64, 7264 },     /* interpreter_state.next */
	{ 72, 7344 },     /* interpreter_state.threads_head */
	{ 80, 7400 },     /* interpreter_state.gc */
	{ 88, 7656 },     /* interpreter_state.imports_modules */
	{ 96, 7640 },     /* interpreter_state.sysdict */
	{ 104, 7648 },    /* interpreter_state.builtins */
	{ 112, 16 },      /* interpreter_state.ceval_gil */
	{ 120, 7752 },    /* interpreter_state.gil_runtime_state */
	{ 128, 0 },       /* interpreter_state.gil_runtime_state_enabled */
	{ 136, 7768 },    /* interpreter_state.gil_runtime_state_locked */
	{ 144, 7760 },    /* interpreter_state.gil_runtime_state_holder */
	{ 152, 304 },     /* thread_state.size */
	{ 160, 0 },       /* thread_state.prev */
	{ 168, 8 },       /* thread_state.next */
	{ 176, 16 },      /* thread_state.interp */
	{ 184, 72 },      /* thread_state.current_frame */
	{ 192, 152 },     /* thread_state.thread_id */
	{ 200, 160 },     /* thread_state.native_thread_id */
	{ 208, 232 },     /* thread_state.datastack_chunk */
	{ 216, 32 },      /* thread_state.status */
	{ 224, 80 },      /* interpreter_frame.size */
	{ 232, 8 },       /* interpreter_frame.previous */
	{ 240, 0 },       /* interpreter_frame.executable */
	{ 248, 56 },      /* interpreter_frame.instr_ptr */
	{ 256, 72 },      /* interpreter_frame.localsplus */
	{ 264, 70 },      /* interpreter_frame.owner */
	{ 272, 208 },     /* code_object.size */
	{ 280, 112 },     /* code_object.filename */
	{ 288, 120 },     /* code_object.name */
	{ 296, 128 },     /* code_object.qualname */
	{ 304, 136 },     /* code_object.linetable */
	{ 312, 68 },      /* code_object.firstlineno */
	{ 320, 52 },      /* code_object.argcount */
	{ 328, 96 },      /* code_object.localsplusnames */
	{ 336, 104 },     /* code_object.localspluskinds */
	{ 344, 200 },     /* code_object.co_code_adaptive */
	{ 352, 16 },      /* pyobject.size */
	{ 360, 8 },       /* pyobject.ob_type */
	{ 368, 416 },     /* type_object.size */
	{ 376, 24 },      /* type_object.tp_name */
	{ 384, 88 },      /* type_object.tp_repr */
	{ 392, 168 },     /* type_object.tp_flags */
	{ 400, 32 },      /* tuple_object.size */
	{ 408, 24 },      /* tuple_object.ob_item */
	{ 416, 16 },      /* tuple_object.ob_size */
	{ 424, 40 },      /* list_object.size */
	{ 432, 24 },      /* list_object.ob_item */
	{ 440, 16 },      /* list_object.ob_size */
	{ 448, 48 },      /* dict_object.size */
	{ 456, 32 },      /* dict_object.ma_keys */
	{ 464, 40 },      /* dict_object.ma_values */
	{ 472, 24 },      /* float_object.size */
	{ 480, 16 },      /* float_object.ob_fval */
	{ 488, 32 },      /* long_object.size */
	{ 496, 16 },      /* long_object.lv_tag */
	{ 504, 24 },      /* long_object.ob_digit */
	{ 512, 40 },      /* bytes_object.size */
	{ 520, 16 },      /* bytes_object.ob_size */
	{ 528, 32 },      /* bytes_object.ob_sval */
	{ 536, 64 },      /* unicode_object.size */
	{ 544, 32 },      /* unicode_object.state */
	{ 552, 16 },      /* unicode_object.length */
	{ 560, 40 },      /* unicode_object.asciiobject_size */
	{ 568, 240 },     /* gc.size */
	{ 576, 200 },     /* gc.collecting */
};

/* The overlaid fields and where the test expects layout.c to take each from. */
#define DF(field, p) { #field, offsetof(struct pyoffsets, field), p }
static const struct {
	const char *name;
	size_t off;
	uint16_t pos;
} overlaid[] = {
	DF(rt_size, 24),	DF(rt_interp_head, 40),	     DF(is_size, 48),
	DF(is_id, 56),		DF(is_next, 64),	     DF(is_threads_head, 72),
	DF(is_gc, 80),		DF(is_modules, 88),	     DF(is_sysdict, 96),
	DF(is_builtins, 104),	DF(ts_size, 152),	     DF(ts_prev, 160),
	DF(ts_next, 168),	DF(ts_interp, 176),	     DF(ts_frame, 184),
	DF(ts_thread_id, 192),	DF(ts_native_thread_id, 200), DF(code_size, 272),
	DF(co_code_adaptive, 344), DF(ob_type, 360),	     DF(type_size, 368),
	DF(tp_name, 376),	DF(tp_flags, 392),	     DF(tuple_item, 408),
	DF(ob_size, 416),	DF(list_item, 432),	     DF(dict_size, 448),
	DF(dict_keys, 456),	DF(dict_values, 464),	     DF(float_val, 480),
	DF(long_tag, 496),	DF(long_digit, 504),	     DF(bytes_sval, 528),
	DF(unicode_size, 536),	DF(str_state, 544),	     DF(str_length, 552),
	DF(ascii_size, 560),	DF(gc_state_size, 568),	     DF(gc_collecting, 576),
	DF(is_ceval_gil, 112),	DF(if_size, 224),	     DF(if_previous, 232),
	DF(if_code, 240),	DF(if_instr, 248),	     DF(if_owner, 264),
	DF(co_filename, 280),	DF(co_name, 288),	     DF(co_linetable, 304),
	DF(co_firstlineno, 312),
};
#undef DF

static void put(uint8_t *buf, size_t pos, uint64_t v)
{
	memcpy(buf + pos, &v, sizeof v);
}

static uint64_t get(const uint8_t *buf, size_t pos)
{
	uint64_t v;

	memcpy(&v, buf + pos, sizeof v);
	return v;
}

static int32_t field(const struct pyoffsets *o, size_t off)
{
	int32_t v;

	memcpy(&v, (const char *)o + off, sizeof v);
	return v;
}

static void build_313(uint8_t buf[DO_LEN])
{
	memset(buf, 0, DO_LEN);
	memcpy(buf, "xdebugpy", 8);
	for (size_t i = 0; i < PC_ARRAY_LEN(do_3130); i++)
		put(buf, do_3130[i].pos, do_3130[i].v);
}

static void lookup_313(struct pylayout *l)
{
	struct pc_err e = { 0 };

	cr_assert_eq(layout_lookup(3, 13, l, &e), 0, "%s", e.detail);
}

/* The cross-check: the 3.13.0 build's own debug offsets agree with its generated table. */
Test(layout_debug_offsets, real_3_13_0_values_match_generated_table)
{
	uint8_t buf[DO_LEN];
	struct pc_err e = { 0 };
	struct pylayout l;

	build_313(buf);
	lookup_313(&l);
	cr_assert_eq(layout_overlay_debug_offsets(&l, buf, sizeof buf, PY313_HEX, &e), 0, "%s",
		     e.detail);
	cr_expect(l.debug_offsets);
	for (size_t i = 0; i < PC_ARRAY_LEN(overlaid); i++) {
		int32_t gen = field(&table(13)->off, overlaid[i].off);

		cr_expect_eq((uint64_t)gen, get(buf, overlaid[i].pos), "%s: table %d, debug %llu",
			     overlaid[i].name, gen,
			     (unsigned long long)get(buf, overlaid[i].pos));
	}
	cr_expect_eq(memcmp(&l.off, &table(13)->off, sizeof l.off), 0);
}

Test(layout_debug_offsets, overlays_the_targets_values)
{
	uint8_t buf[DO_LEN];
	struct pc_err e = { 0 };
	struct pylayout l;

	build_313(buf);
	/* A build with other offsets: move every field by 4096 and grow every struct by twice
	 * that, then shift each overlaid value by a distinct amount so a mix-up shows. */
	static const uint16_t group_sizes[] = { 24,  48,  152, 224, 272, 352, 368, 400,
						424, 448, 472, 488, 512, 536, 568 };
	for (uint16_t p = 24; p < DO_LEN; p += 8)
		put(buf, p, get(buf, p) + 4096);
	for (size_t i = 0; i < PC_ARRAY_LEN(group_sizes); i++)
		put(buf, group_sizes[i], get(buf, group_sizes[i]) + 4096);
	for (size_t i = 0; i < PC_ARRAY_LEN(overlaid); i++)
		put(buf, overlaid[i].pos, get(buf, overlaid[i].pos) + 8 * (i + 1));
	lookup_313(&l);
	cr_assert_eq(layout_overlay_debug_offsets(&l, buf, sizeof buf, PY313_HEX, &e), 0, "%s",
		     e.detail);
	for (size_t i = 0; i < PC_ARRAY_LEN(overlaid); i++)
		cr_expect_eq((uint64_t)field(&l.off, overlaid[i].off), get(buf, overlaid[i].pos),
			     "%s", overlaid[i].name);
	/* Fields the debug offsets lack keep the generated values. */
	cr_expect_eq(l.off.is_obmalloc, 10800);
	cr_expect_eq(l.off.tp_basicsize, 32);
	cr_expect_eq(l.off.heaptype_size, 928);
	cr_expect_eq(l.off.gc_generations, 24);
	cr_expect(l.debug_offsets);
}

/* Runs the overlay on a corrupted copy and checks the refusal leaves the layout untouched. */
static void expect_refused(const uint8_t *buf, size_t len, uint32_t hex, enum pc_code code,
			   const char *what)
{
	struct pc_err e = { 0 };
	struct pylayout l, before;

	lookup_313(&l);
	before = l;
	cr_expect_eq(layout_overlay_debug_offsets(&l, buf, len, hex, &e), -1, "%s accepted", what);
	cr_expect_eq(e.code, code, "%s: code %s, detail %s", what, pc_code_name(e.code), e.detail);
	cr_expect_neq(e.detail[0], '\0', "%s: no detail", what);
	cr_expect_eq(memcmp(&l, &before, sizeof l), 0, "%s: layout changed", what);
}

Test(layout_debug_offsets, refuses_bad_input)
{
	uint8_t buf[DO_LEN];

	build_313(buf);
	buf[7] = 'Y';
	expect_refused(buf, sizeof buf, PY313_HEX, PC_ELAYOUT, "wrong cookie");

	build_313(buf);
	expect_refused(buf, sizeof buf, 0x030d01f0u, PC_ELAYOUT, "version_hex 3.13.1 vs 3.13.0");
	put(buf, 8, 0x030c01f0u);
	expect_refused(buf, sizeof buf, PY313_HEX, PC_ELAYOUT, "debug version 3.12.1");
	expect_refused(buf, sizeof buf, 0x030c01f0u, PC_ELAYOUT, "3.12 hex on a 3.13 layout");

	build_313(buf);
	expect_refused(buf, DO_LEN - 1, PY313_HEX, PC_ELAYOUT, "truncated by one byte");
	expect_refused(buf, 100, PY313_HEX, PC_ELAYOUT, "truncated to 100");
	expect_refused(buf, 4, PY313_HEX, PC_ELAYOUT, "truncated inside the cookie");
	expect_refused(buf, 0, PY313_HEX, PC_ELAYOUT, "empty");

	build_313(buf);
	put(buf, 80, 1u << 20); /* interpreter_state.gc */
	expect_refused(buf, sizeof buf, PY313_HEX, PC_ELAYOUT, "gc offset of 1 MiB");
	build_313(buf);
	put(buf, 80, UINT64_MAX);
	expect_refused(buf, sizeof buf, PY313_HEX, PC_ELAYOUT, "gc offset of 2^64-1");
	build_313(buf);
	put(buf, 576, 240); /* gc.collecting == gc.size */
	expect_refused(buf, sizeof buf, PY313_HEX, PC_ELAYOUT, "offset past its struct");
	build_313(buf);
	put(buf, 232, get(buf, 224) - 7); /* interpreter_frame.previous: a pointer 7 bytes from the end */
	expect_refused(buf, sizeof buf, PY313_HEX, PC_ELAYOUT, "pointer straddling its struct's end");
	build_313(buf);
	put(buf, 312, get(buf, 272) - 3); /* code_object.firstlineno: an int 3 bytes from the end */
	expect_refused(buf, sizeof buf, PY313_HEX, PC_ELAYOUT, "int straddling its struct's end");
	build_313(buf);
	put(buf, 80, get(buf, 48) - 8); /* interpreter_state.gc: the GC state runs past the end */
	expect_refused(buf, sizeof buf, PY313_HEX, PC_ELAYOUT, "GC state past the interpreter");
	build_313(buf);
	put(buf, 48, 1ull << 32); /* interpreter_state.size */
	expect_refused(buf, sizeof buf, PY313_HEX, PC_ELAYOUT, "interpreter size 4 GiB");
	build_313(buf);
	put(buf, 560, 0); /* unicode_object.asciiobject_size */
	expect_refused(buf, sizeof buf, PY313_HEX, PC_ELAYOUT, "zero size");

	build_313(buf);
	put(buf, 16, 1);
	expect_refused(buf, sizeof buf, PY313_HEX, PC_EUNSUPPORTED, "free-threaded");
}

Test(layout_debug_offsets, free_threaded_message)
{
	uint8_t buf[DO_LEN];
	struct pc_err e = { 0 };
	struct pylayout l;

	build_313(buf);
	put(buf, 16, 1);
	lookup_313(&l);
	cr_assert_eq(layout_overlay_debug_offsets(&l, buf, sizeof buf, PY313_HEX, &e), -1);
	cr_expect(strstr(e.detail, "free-threaded build") != NULL, "%s", e.detail);
}

Test(layout_debug_offsets, not_before_3_13)
{
	uint8_t buf[DO_LEN];
	struct pc_err e = { 0 };
	struct pylayout l;

	build_313(buf);
	cr_assert_eq(layout_lookup(3, 12, &l, &e), 0);
	cr_expect_eq(layout_overlay_debug_offsets(&l, buf, sizeof buf, 0x030c01f0u, &e), -1);
	cr_expect_neq(e.code, PC_EOK);
	cr_expect_not(l.debug_offsets);
}

/* The same cross-check on the real bytes: _PyRuntime (3.13 puts it in its own .PyRuntime
 * section, initialised data) starts with _Py_DebugOffsets, so the file holds them. */
static bool read_pyruntime(const char *path, uint8_t *out, size_t len)
{
	FILE *f = fopen(path, "rb");
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strsh;
	bool ok = false;

	if (!f)
		return false;
	if (fread(&eh, sizeof eh, 1, f) != 1 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof sh)
		goto out;
	if (fseek(f, (long)(eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof sh), SEEK_SET) != 0 ||
	    fread(&strsh, sizeof strsh, 1, f) != 1)
		goto out;
	for (unsigned i = 0; i < eh.e_shnum && !ok; i++) {
		char name[16] = { 0 };

		if (fseek(f, (long)(eh.e_shoff + (uint64_t)i * sizeof sh), SEEK_SET) != 0 ||
		    fread(&sh, sizeof sh, 1, f) != 1)
			goto out;
		if (fseek(f, (long)(strsh.sh_offset + sh.sh_name), SEEK_SET) != 0 ||
		    fread(name, 1, sizeof name - 1, f) == 0)
			goto out;
		if (strcmp(name, ".PyRuntime") != 0 || sh.sh_type != SHT_PROGBITS || sh.sh_size < len)
			continue;
		ok = fseek(f, (long)sh.sh_offset, SEEK_SET) == 0 && fread(out, 1, len, f) == len;
	}
out:
	fclose(f);
	return ok;
}

Test(layout_debug_offsets, real_bytes_of_libpython_3_13_0)
{
	const char *lib = getenv("PYCENSUS_LIBPYTHON313");
	uint8_t buf[DO_LEN];
	struct pc_err e = { 0 };
	struct pylayout l;

	if (!lib)
		lib = "/root/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0";
	if (!read_pyruntime(lib, buf, sizeof buf))
		cr_skip_test("no readable .PyRuntime section in %s", lib);
	lookup_313(&l);
	cr_assert_eq(layout_overlay_debug_offsets(&l, buf, sizeof buf, PY313_HEX, &e), 0, "%s",
		     e.detail);
	cr_expect_eq(memcmp(&l.off, &table(13)->off, sizeof l.off), 0,
		     "the 3.13.0 debug offsets disagree with the generated 3.13 table");
	for (size_t i = 0; i < PC_ARRAY_LEN(do_3130); i++)
		cr_expect_eq(get(buf, do_3130[i].pos), do_3130[i].v, "u64 at %u",
			     do_3130[i].pos);
}

/* ---- every build's own _Py_DebugOffsets against its own table (3.13, 3.14, 3.15) ---- */

static const struct pylayout_gen *table_named(const char *source)
{
	for (size_t i = 0; i < pylayout_ntables; i++)
		if (strcmp(pylayout_tables[i]->source, source) == 0)
			return pylayout_tables[i];
	return NULL;
}

/* A file under the provision prefix ($PYCENSUS_PROVISION, default ~/.cache/pycensus/pythons). */
static bool in_prefix(const char *rel, char *path, size_t len)
{
	const char *top = getenv("PYCENSUS_PROVISION"), *home = getenv("HOME");
	char dflt[256];

	if (!top) {
		snprintf(dflt, sizeof dflt, "%s/.cache/pycensus/pythons", home ? home : "/root");
		top = dflt;
	}
	snprintf(path, len, "%s/%s", top, rel);
	return access(path, R_OK) == 0;
}

/* The builds tools/provision-pythons installs (Debian's: static, stripped, .PyRuntime kept). */
static bool provisioned(const char *minor, char *path, size_t len)
{
	char rel[64];

	snprintf(rel, sizeof rel, "3.%s/usr/bin/python3.%s", minor, minor);
	return in_prefix(rel, path, len);
}

struct real_build {
	const char *minor, *source;
	uint32_t hex;
};

/* Parses the file's own bytes: every field the debug offsets carry equals the build's DWARF
 * table, the ranking puts that table first, and the overlay changes nothing. */
static void check_own_bytes(const char *path, const struct real_build *b)
{
	uint8_t buf[1024];
	size_t len = layout_debug_offsets_len(b->hex);
	const struct pylayout_gen *own = table_named(b->source), *cand[8];
	struct pc_err e = { 0 };
	struct pylayout l;
	char first[160];
	bool newer;

	cr_assert_not_null(own, "no table %s", b->source);
	cr_assert(len > 0 && len <= sizeof buf);
	cr_assert(read_pyruntime(path, buf, len), "no .PyRuntime in %s", path);
	cr_expect_eq(get(buf, 8), b->hex, "%s: version %#llx", path, (unsigned long long)get(buf, 8));
	cr_expect_eq(layout_debug_offsets_mismatches(own, buf, len, b->hex, first, sizeof first), 0,
		     "%s: %s", b->source, first);
	size_t n = layout_ranked(3, atoi(b->minor), b->hex, buf, len, cand, PC_ARRAY_LEN(cand), &newer, &e);
	cr_assert(n >= 1, "%s", e.detail);
	cr_expect_not(newer);
	cr_expect_str_eq(cand[0]->source, b->source);
	layout_from_table(own, &l);
	cr_assert_eq(layout_overlay_debug_offsets(&l, buf, len, b->hex, &e), 0, "%s: %s", b->source, e.detail);
	cr_expect_eq(memcmp(&l.off, &own->off, sizeof l.off), 0, "%s: overlay changed the table", b->source);
}

Test(layout_debug_offsets, every_provisioned_build_matches_its_table)
{
	static const struct real_build builds[] = {
		{ "13", "3.13.18-debian", 0x030d12f0u },
		{ "14", "3.14.10-debian", 0x030e0af0u },
		{ "15", "3.15.2-debian", 0x030f02f0u },
	};
	char path[512];
	unsigned checked = 0;

	for (size_t i = 0; i < PC_ARRAY_LEN(builds); i++) {
		if (!provisioned(builds[i].minor, path, sizeof path)) {
			fprintf(stderr, "layout_debug_offsets: %s not provisioned (tools/provision-pythons): skipped\n",
				builds[i].source);
			continue;
		}
		check_own_bytes(path, &builds[i]);
		checked++;
	}
	if (!checked)
		cr_skip_test("no provisioned interpreter");
}

/* The free-threaded tables against the _Py_DebugOffsets of their build: 3.13.15t's (DWARF) against
 * libpython3.13t.so's own bytes; 3.14t's and 3.15t's (from the headers, through gdb and
 * layout_fields.def) against the .PyRuntime of tools/ft-layouts' probe, which CPython's own
 * initialiser (_Py_DebugOffsets_INIT: offsetof on the same headers) fills. Each says
 * free-threaded, ranks its table first, and every field it carries equals the table's.
 * (tools/ft-layouts --check shows the probe's bytes equal the real builds' where they exist:
 * 3.13.15t, and 3.14.10 and 3.15.2 with the GIL.) */
Test(free_threaded, tables_match_their_debug_offsets)
{
	static const struct {
		const char *file, *by;
		struct real_build b;
	} builds[] = {
		{ "3.13t/lib/libpython3.13t.so.1.0", "tools/build-freethreaded", { "13", "3.13.15-ft", 0x030d0ff0u } },
		{ "ft-headers/3.14/ftprobe", "tools/ft-layouts", { "14", "3.14.10-ft-headers", 0x030e0af0u } },
		{ "ft-headers/3.15/ftprobe", "tools/ft-layouts", { "15", "3.15.2-ft-headers", 0x030f02f0u } },
	};
	uint8_t buf[1024];
	char path[512];
	unsigned checked = 0;

	for (size_t i = 0; i < PC_ARRAY_LEN(builds); i++) {
		const struct real_build *b = &builds[i].b;
		size_t len = layout_debug_offsets_len(b->hex);

		if (!in_prefix(builds[i].file, path, sizeof path)) {
			fprintf(stderr, "free_threaded: %s: no %s (%s): skipped\n", b->source, path, builds[i].by);
			continue;
		}
		check_own_bytes(path, b);
		cr_assert(read_pyruntime(path, buf, len));
		cr_expect_eq(py_free_threaded(buf, len, b->hex), PY_BUILD_FREE_THREADED, "%s", path);
		checked++;
	}
	if (!checked)
		cr_skip_test("no free-threaded build or probe at hand");
}

/* Upstream 3.13.0 and Debian's 3.13.18 differ (PyGC_Head alignment): each build's bytes rank its
 * own table first, so a target picks right before any memory is validated. */
Test(layout_debug_offsets, upstream_3_13_ranks_its_own_table_first)
{
	const char *lib = getenv("PYCENSUS_LIBPYTHON313");
	uint8_t buf[DO_LEN];
	const struct pylayout_gen *cand[8];
	struct pc_err e = { 0 };
	bool newer;

	if (!lib)
		lib = "/root/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0";
	if (!read_pyruntime(lib, buf, sizeof buf))
		cr_skip_test("no readable .PyRuntime section in %s", lib);
	cr_assert_geq(layout_ranked(3, 13, PY313_HEX, buf, sizeof buf, cand, 8, &newer, &e), 2);
	cr_expect_str_eq(cand[0]->source, "3.13.0");
	cr_expect_str_eq(cand[1]->source, "3.13.18-debian");
}

/* A version newer than every table (a 3.16 alpha): the newest minor's tables, marked newer, and
 * its debug offsets read with the newest positions; versions before 3.13 never. */
Test(layout_debug_offsets, newer_version_uses_newest_tables)
{
	uint8_t buf[1024];
	const struct pylayout_gen *cand[8];
	struct pc_err e = { 0 };
	struct pylayout l;
	char path[512];
	bool newer;
	uint32_t hex316 = 0x031000a1u;

	cr_expect_eq(layout_candidates(3, 16, cand, 8, &newer, &e), 1);
	cr_expect(newer);
	cr_expect_str_eq(cand[0]->source, "3.15.2-debian");
	cr_expect_eq(layout_candidates(3, 7, cand, 8, &newer, &e), 0);
	cr_expect_eq(e.code, PC_EUNSUPPORTED);
	cr_expect_eq(layout_candidates(4, 0, cand, 8, &newer, &e), 0);
	cr_expect_eq(layout_debug_offsets_len(hex316), 888);
	if (!provisioned("15", path, sizeof path) || !read_pyruntime(path, buf, 888))
		cr_skip_test("3.15 not provisioned");
	put(buf, 8, hex316);
	layout_from_table(cand[0], &l);
	cr_expect_eq(layout_overlay_debug_offsets(&l, buf, 888, hex316, &e), -1, "accepted without newer");
	cr_expect_eq(layout_candidates(3, 16, cand, 8, &newer, &e), 1);
	layout_from_table(cand[0], &l);
	l.newer = newer;
	cr_expect_eq(layout_overlay_debug_offsets(&l, buf, 888, hex316, &e), 0, "%s", e.detail);
	cr_expect(l.debug_offsets);
}

/* A 3.14.0-3.14.4 target (the incremental GC: a 240-byte GC state where 3.14.5+ has 264, docs/cpython.md
 * 9.2) is told apart from the 3.14.10 table by its own debug offsets, and the difference named. */
Test(layout_debug_offsets, a_moved_field_is_named)
{
	uint8_t buf[1024];
	char path[512], first[160];
	const struct pylayout_gen *t = table_named("3.14.10-debian");

	if (!provisioned("14", path, sizeof path) || !read_pyruntime(path, buf, 760))
		cr_skip_test("3.14 not provisioned");
	put(buf, 648, 240); /* gc.size */
	put(buf, 656, 184); /* gc.collecting, inside it */
	cr_expect_eq(layout_debug_offsets_mismatches(t, buf, 760, 0x030e0af0u, first, sizeof first), 2);
	cr_expect(strstr(first, "gc is 240 in the target, 264 in 3.14.10-debian") != NULL, "%s", first);
}

/* ---- free-threaded builds (Py_GIL_DISABLED), told from the target's _Py_DebugOffsets ---- */

/* A _Py_DebugOffsets of minor version `minor` holding only what py_free_threaded reads: the
 * cookie, the version, the free_threaded flag and pyobject.size/ob_type (positions per minor:
 * 352/360 in 3.13, 400/408 in 3.14, 464/472 in 3.15, from each version's DWARF). */
static size_t build_ft(uint8_t *buf, size_t cap, int minor, uint64_t flag, uint64_t size, uint64_t ob_type)
{
	static const uint16_t obj_pos[] = { 352, 400, 464 };
	uint32_t hex = 0x03000000u | (uint32_t)minor << 16 | 0xf0u;
	size_t len = layout_debug_offsets_len(hex);

	cr_assert(len > 0 && len <= cap);
	memset(buf, 0, cap);
	memcpy(buf, "xdebugpy", 8);
	put(buf, 8, hex);
	put(buf, 16, flag);
	put(buf, obj_pos[minor - 13], size);
	put(buf, obj_pos[minor - 13] + 8, ob_type);
	return len;
}

Test(free_threaded, flag_and_header_decide_on_every_minor)
{
	uint8_t buf[1024];

	for (int minor = 13; minor <= 15; minor++) {
		uint32_t hex = 0x03000000u | (uint32_t)minor << 16 | 0xf0u;
		size_t len = build_ft(buf, sizeof buf, minor, 1, 32, 24);

		cr_expect_eq(py_free_threaded(buf, len, hex), PY_BUILD_FREE_THREADED, "3.%d", minor);
		len = build_ft(buf, sizeof buf, minor, 0, 16, 8);
		cr_expect_eq(py_free_threaded(buf, len, hex), PY_BUILD_GIL, "3.%d", minor);
		/* flag and header disagree: garbage, neither build is named */
		len = build_ft(buf, sizeof buf, minor, 1, 16, 8);
		cr_expect_eq(py_free_threaded(buf, len, hex), PY_BUILD_UNKNOWN, "3.%d", minor);
		len = build_ft(buf, sizeof buf, minor, 0, 32, 24);
		cr_expect_eq(py_free_threaded(buf, len, hex), PY_BUILD_UNKNOWN, "3.%d", minor);
		len = build_ft(buf, sizeof buf, minor, 1, 32, 8);
		cr_expect_eq(py_free_threaded(buf, len, hex), PY_BUILD_UNKNOWN, "3.%d", minor);
		len = build_ft(buf, sizeof buf, minor, 2, 32, 24);
		cr_expect_eq(py_free_threaded(buf, len, hex), PY_BUILD_UNKNOWN, "3.%d", minor);
	}
}

Test(free_threaded, unknown_without_whole_debug_offsets)
{
	uint8_t buf[1024];
	size_t len = build_ft(buf, sizeof buf, 13, 1, 32, 24);

	cr_expect_eq(py_free_threaded(buf, len - 1, PY313_HEX), PY_BUILD_UNKNOWN, "short copy");
	cr_expect_eq(py_free_threaded(NULL, len, PY313_HEX), PY_BUILD_UNKNOWN, "no copy");
	cr_expect_eq(py_free_threaded(buf, len, 0x030c01f0u), PY_BUILD_UNKNOWN, "3.12 has none");
	cr_expect_eq(py_free_threaded(buf, len, 0), PY_BUILD_UNKNOWN, "version unknown");
	buf[0] = 'X';
	cr_expect_eq(py_free_threaded(buf, len, PY313_HEX), PY_BUILD_UNKNOWN, "no cookie");
}

/* The overlay refuses any build whose flag says free-threaded and says why, with the fix. */
Test(free_threaded, overlay_refuses_with_the_reason)
{
	uint8_t buf[1024];
	size_t len = build_ft(buf, sizeof buf, 13, 1, 32, 24);
	struct pc_err e = { 0 };
	struct pylayout l;

	lookup_313(&l);
	cr_assert_eq(layout_overlay_debug_offsets(&l, buf, len, PY313_HEX, &e), -1);
	cr_expect_eq(e.code, PC_EUNSUPPORTED);
	cr_expect(strstr(e.detail, "free-threaded build of CPython 3.13") != NULL, "%s", e.detail);
	cr_expect(strstr(e.detail, "python3.Xt") != NULL, "%s", e.detail);
	cr_expect(strstr(e.detail, "mimalloc") != NULL, "%s", e.detail);
	cr_expect_not(l.debug_offsets);
}

/* The real bytes: every GIL build at hand says GIL; tools/build-freethreaded's 3.13t says
 * free-threaded (its libpython3.13t.so keeps _PyRuntime in .PyRuntime like the others). */
Test(free_threaded, real_builds)
{
	const char *top = getenv("PYCENSUS_PROVISION"), *home = getenv("HOME");
	const char *lib313 = "/root/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0";
	static const char *const minors[] = { "13", "14", "15" };
	uint8_t buf[1024];
	char path[512], dflt[256];
	unsigned checked = 0;

	for (size_t i = 0; i < PC_ARRAY_LEN(minors); i++) {
		uint32_t hex;
		if (!provisioned(minors[i], path, sizeof path) || !read_pyruntime(path, buf, 24)) {
			fprintf(stderr, "free_threaded: 3.%s not provisioned (tools/provision-pythons): skipped\n", minors[i]);
			continue;
		}
		hex = (uint32_t)get(buf, 8);
		cr_assert(read_pyruntime(path, buf, layout_debug_offsets_len(hex)));
		cr_expect_eq(py_free_threaded(buf, layout_debug_offsets_len(hex), hex), PY_BUILD_GIL, "%s", path);
		checked++;
	}
	if (read_pyruntime(lib313, buf, DO_LEN)) {
		cr_expect_eq(py_free_threaded(buf, DO_LEN, PY313_HEX), PY_BUILD_GIL, "%s", lib313);
		checked++;
	}
	if (!top) {
		snprintf(dflt, sizeof dflt, "%s/.cache/pycensus/pythons", home ? home : "/root");
		top = dflt;
	}
	snprintf(path, sizeof path, "%s/3.13t/lib/libpython3.13t.so.1.0", top);
	if (!read_pyruntime(path, buf, DO_LEN)) {
		fprintf(stderr, "free_threaded: 3.13t not built (tools/build-freethreaded): skipped\n");
	} else {
		uint32_t hex = (uint32_t)get(buf, 8);
		cr_expect_eq(hex >> 16, 0x030du, "%s: version %#x", path, hex);
		cr_expect_eq(py_free_threaded(buf, DO_LEN, hex), PY_BUILD_FREE_THREADED, "%s", path);
		checked++;
	}
	if (!checked)
		cr_skip_test("no interpreter with _Py_DebugOffsets at hand");
}
