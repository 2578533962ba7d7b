/* test_sizes.c: the sys.getsizeof formulas of objects/sizes.h with the real layouts, against
 * sys.getsizeof values printed by the pyenv interpreters 3.8.18, 3.9.18, 3.10.13, 3.11.7,
 * 3.12.1, 3.13.0 (and Debian's /usr/bin/python3.11, which agrees with 3.11.7), the free-threaded
 * 3.13.15t, e.g.
 *   python3 -c "import sys; print(sys.getsizeof(0), sys.getsizeof(2**100), sys.getsizeof('hello'))"
 * getsizeof = __sizeof__ + the pre-header: 16 for GC objects (tuple, list, dict, set, frozenset,
 * type), 0 for int, str, bytes and float (docs/cpython.md 5.1, 5.2). */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "objects/numpy.h"
#include "objects/sizes.h"
#include "python/layout.h"

/* Table i of those measured on a running build: tables from the headers alone (3.14t, 3.15t) have
 * no interpreter to print getsizeof values, and are left out (named by table_covers_every_layout). */
static const struct pylayout_gen *measured(size_t i)
{
	for (size_t t = 0; t < pylayout_ntables; t++)
		if (!layout_table_from_headers(pylayout_tables[t]) && i-- == 0)
			return pylayout_tables[t];
	return NULL;
}

/* The layout of measured table i (one row of versions[] per such table, in table order). */
static struct pylayout layout_at(size_t i)
{
	struct pylayout L;

	cr_assert_not_null(measured(i));
	layout_from_table(measured(i), &L);
	return L;
}

static struct pylayout layout(int minor)
{
	struct pylayout L;
	struct pc_err e = { 0 };

	cr_assert_eq(layout_lookup(3, minor, &L, &e), 0, "%s", e.detail);
	return L;
}

/* The pre-header of an instance of a (non-type) GC type, or 0 for a non-GC one. */
static uint64_t pre(const struct pylayout *L, enum size_rule rule, unsigned bytes)
{
	struct pytype ty;

	memset(&ty, 0, sizeof ty);
	ty.rule = rule;
	ty.pre = bytes;
	return size_preheader(L, &ty, false);
}

/* One row per version: sys.getsizeof of each expression, as printed by that interpreter. */
struct expected {
	int minor;
	uint64_t int_0, int_1, int_2p30, int_2p100, int_neg_1;
	uint64_t s_empty, s_hello, s_hello_latin1, s_nihon, s_emoji; /* '', 'hello', 'héllo', '日本', '😀' */
	uint64_t list_123, list_123_allocated;                         /* [1,2,3] literal */
	uint64_t dict_ab, dict_12;                                     /* {'a':1,'b':2}, {1:1,2:2} */
	uint64_t type_int, heap_type;                                  /* int, type('C', (), {}) */
};

static const struct expected versions[] = {
	{ 8, 24, 28, 32, 40, 28, 49, 54, 78, 78, 80, 80, 3, 232, 232, 416, 1064 },
	{ 9, 24, 28, 32, 40, 28, 49, 54, 78, 78, 80, 120, 8, 232, 232, 408, 1064 },
	{ 10, 24, 28, 32, 40, 28, 49, 54, 78, 78, 80, 88, 4, 232, 232, 408, 1072 },
	{ 11, 28, 28, 32, 40, 28, 49, 54, 78, 78, 80, 88, 4, 184, 224, 424, 1688 },
	{ 12, 28, 28, 32, 40, 28, 41, 46, 62, 62, 64, 88, 4, 184, 224, 432, 1704 },
	{ 13, 28, 28, 32, 40, 28, 41, 46, 62, 62, 64, 88, 4, 184, 224, 416, 1712 },
	/* 3.13.15 free-threaded (tools/build-freethreaded): a 32-byte header, no GC pre-header */
	{ 13, 44, 44, 48, 56, 44, 57, 62, 78, 78, 80, 88, 4, 184, 224, 432, 1712 },
	/* Debian's 3.13.18, 3.14.10, 3.15.2 (printed by them) */
	{ 13, 28, 28, 32, 40, 28, 41, 46, 62, 62, 64, 88, 4, 184, 224, 416, 1712 },
	{ 14, 28, 28, 32, 40, 28, 41, 46, 62, 62, 64, 88, 4, 184, 224, 416, 1720 },
	{ 15, 28, 28, 32, 40, 28, 41, 46, 62, 62, 64, 88, 4, 184, 224, 424, 1728 },
};

Test(sizes, table_covers_every_layout)
{
	for (size_t t = 0; t < pylayout_ntables; t++)
		if (layout_table_from_headers(pylayout_tables[t]))
			fprintf(stderr, "sizes: %s: from the headers only, no getsizeof printed: skipped\n",
				pylayout_tables[t]->source);
	for (size_t i = 0; i < PC_ARRAY_LEN(versions); i++)
		cr_assert_eq(versions[i].minor, measured(i)->minor);
	cr_assert_null(measured(PC_ARRAY_LEN(versions)), "a measured table without a versions[] row");
}

/* int: 24 + 4 per 30-bit digit; 0 has no digit up to 3.10 and counts one from 3.11. */
Test(sizes, int_per_version)
{
	for (size_t i = 0; i < PC_ARRAY_LEN(versions); i++) {
		const struct expected *x = &versions[i];
		struct pylayout L = layout_at(i);
		uint64_t p = pre(&L, RULE_INT, 0);

		cr_assert_eq(p, 0);
		cr_assert_eq(size_int(&L, 0) + p, x->int_0, "3.%d getsizeof(0)", x->minor);
		cr_assert_eq(size_int(&L, 1) + p, x->int_1, "3.%d getsizeof(1)", x->minor);
		cr_assert_eq(size_int(&L, 1) + p, x->int_neg_1, "3.%d getsizeof(-1)", x->minor);
		cr_assert_eq(size_int(&L, 2) + p, x->int_2p30, "3.%d getsizeof(2**30)", x->minor);
		cr_assert_eq(size_int(&L, 4) + p, x->int_2p100, "3.%d getsizeof(2**100)", x->minor);
	}
}

/* ndigits from the object bytes: |ob_size| up to 3.11, lv_tag >> 3 from 3.12. */
Test(sizes, int_ndigits_from_object_bytes)
{
	for (size_t i = 0; i < PC_ARRAY_LEN(versions); i++) {
		struct pylayout L = layout_at(i);
		uint8_t obj[64];

		memset(obj, 0, sizeof obj);
		if (L.minor >= 12) {
			uint64_t tag = (4u << 3) | 2; /* -(2**100): 4 digits, sign bits 2 (negative) */
			cr_assert_eq(L.off.long_tag, L.free_threaded ? 32 : 16);
			memcpy(obj + L.off.long_tag, &tag, 8);
			cr_assert_eq(size_int_ndigits(&L, obj), 4);
			tag = 1; /* 0: no digit, sign bits 1 (zero) */
			memcpy(obj + L.off.long_tag, &tag, 8);
			cr_assert_eq(size_int_ndigits(&L, obj), 0);
			cr_assert_eq(size_int(&L, size_int_ndigits(&L, obj)), versions[i].int_0);
		} else {
			int64_t ob_size = -4;
			cr_assert_eq(L.off.long_tag, -1);
			memcpy(obj + L.off.ob_size, &ob_size, 8);
			cr_assert_eq(size_int_ndigits(&L, obj), 4);
			ob_size = 2;
			memcpy(obj + L.off.ob_size, &ob_size, 8);
			cr_assert_eq(size_int_ndigits(&L, obj), 2);
			ob_size = 0;
			memcpy(obj + L.off.ob_size, &ob_size, 8);
			cr_assert_eq(size_int(&L, size_int_ndigits(&L, obj)), versions[i].int_0);
		}
	}
}

/* str: compact ASCII = sizeof(PyASCIIObject) + len + 1 (48 up to 3.11, 40 after); compact
 * non-ASCII = sizeof(PyCompactUnicodeObject) + (len + 1) * kind (72 / 56). */
Test(sizes, str_compact_per_version)
{
	for (size_t i = 0; i < PC_ARRAY_LEN(versions); i++) {
		const struct expected *x = &versions[i];
		struct pylayout L = layout_at(i);
		uint64_t p = pre(&L, RULE_STR, 0);

		unsigned header = L.free_threaded ? 16 : 0; /* the free-threaded PyObject's extra words */

		cr_assert_eq(L.off.ascii_size, (x->minor <= 11 ? 48 : 40) + header);
		cr_assert_eq(L.off.compact_size, (x->minor <= 11 ? 72 : 56) + header);
		cr_assert_eq(size_str(&L, 0, 1, true, true, true, 0, 0) + p, x->s_empty, "3.%d ''", x->minor);
		cr_assert_eq(size_str(&L, 5, 1, true, true, true, 0, 0) + p, x->s_hello, "3.%d 'hello'", x->minor);
		cr_assert_eq(size_str(&L, 5, 1, true, false, true, 0, 0) + p, x->s_hello_latin1, "3.%d 'héllo'",
			     x->minor);
		cr_assert_eq(size_str(&L, 2, 2, true, false, true, 0, 0) + p, x->s_nihon, "3.%d '日本'", x->minor);
		cr_assert_eq(size_str(&L, 1, 4, true, false, true, 0, 0) + p, x->s_emoji, "3.%d emoji", x->minor);
	}
}

/* The extras: a separate UTF-8 buffer (utf8_length + 1) and, up to 3.11, a wstr copy; legacy
 * (non-compact) strings use sizeof(PyUnicodeObject) (80 up to 3.11, 64 after) plus their data. */
Test(sizes, str_extras_and_legacy)
{
	struct pylayout L11 = layout(11), L12 = layout(12);

	/* 'héllo' with a separate UTF-8 copy (utf8_length 6): 78 + 6 + 1 on 3.11, 62 + 7 on 3.12 */
	cr_assert_eq(size_str(&L11, 5, 1, true, false, true, 7, 0), 85);
	cr_assert_eq(size_str(&L12, 5, 1, true, false, true, 7, 0), 69);
	/* 'hello' with a wstr copy on 3.11: 54 + (5 + 1) * 4 */
	cr_assert_eq(size_str(&L11, 5, 1, true, true, true, 0, 24), 78);
	/* a str subclass instance (legacy string) holding 'abc': 80 / 64 + 4; '日本語': 64 + 4 * 2. These
	 * are getsizeof(S('abc')) 116 / 100 and getsizeof(S('日本語')) 104 on 3.12 minus the 32-byte
	 * pre-header (GC + managed dict) of a str subclass instance. */
	cr_assert_eq(L11.off.unicode_size, 80);
	cr_assert_eq(L12.off.unicode_size, 64);
	cr_assert_eq(size_str(&L11, 3, 1, false, false, true, 0, 0), 84);
	cr_assert_eq(size_str(&L12, 3, 2, false, false, true, 0, 0), 72);
	cr_assert_eq(size_str(&L12, 3, 1, false, false, false, 0, 0), 64, "no data buffer yet");
}

/* The default rule: basicsize + ob_size * itemsize, ob_size ignored for fixed-size types. */
Test(sizes, var_tuple_bytes_float)
{
	for (size_t i = 0; i < PC_ARRAY_LEN(versions); i++) {
		struct pylayout L = layout_at(i);
		uint64_t gc = pre(&L, RULE_TUPLE, 16), nogc = pre(&L, RULE_BYTES, 0);

		cr_assert_eq(gc, 16);
		cr_assert_eq(size_var(24, 8, 3) + gc, 64, "getsizeof((1,2,3))");
		cr_assert_eq(size_var(24, 8, 1) + gc, 48, "getsizeof((1,))");
		cr_assert_eq(size_var(24, 8, 0) + gc, 40, "getsizeof(())");
		cr_assert_eq(size_var(33, 1, 3) + nogc, 36, "getsizeof(b'abc')");
		cr_assert_eq(size_var(33, 1, 0) + nogc, 33, "getsizeof(b'')");
		cr_assert_eq(size_var(24, 0, 0) + pre(&L, RULE_FLOAT, 0), 24, "getsizeof(1.0)");
	}
	cr_assert_eq(size_var(24, 0, 12345), 24, "itemsize 0 ignores ob_size");
	cr_assert_eq(size_var(24, 4, -3), 24, "negative ob_size counts as 0");
}

/* list: 40 + 8 * allocated (the literal [1,2,3] over-allocates differently per version). */
Test(sizes, list_per_version)
{
	for (size_t i = 0; i < PC_ARRAY_LEN(versions); i++) {
		const struct expected *x = &versions[i];
		struct pylayout L = layout_at(i);
		uint64_t p = pre(&L, RULE_LIST, 16);

		cr_assert_eq(size_list(40, x->list_123_allocated) + p, x->list_123, "3.%d [1,2,3]", x->minor);
		cr_assert_eq(size_list(40, 0) + p, 56, "3.%d []", x->minor);
		cr_assert_eq(size_list(40, 10) + p, 136, "3.%d list(range(10))", x->minor);
	}
}

/* set: 200, plus 16 * (mask + 1) once the table left the 8-slot smalltable. */
Test(sizes, set_small_and_external_table)
{
	for (size_t i = 0; i < PC_ARRAY_LEN(versions); i++) {
		struct pylayout L = layout_at(i);
		uint64_t p = pre(&L, RULE_SET, 16);

		cr_assert_eq(size_set(200, false, 7) + p, 216, "getsizeof({1,2})");
		cr_assert_eq(size_set(200, false, 7) + p, 216, "getsizeof(set())");
		cr_assert_eq(size_set(200, true, 31) + p, 728, "getsizeof(frozenset(range(10)))");
	}
}

/* {'a':1,'b':2}: 8 slots, 5 usable, 1-byte indexes. 3.8-3.10: 48 + (40 + 8 + 5*24) + 16 = 232;
 * 3.11+: unicode-keyed entries are 16 bytes: 48 + (32 + 8 + 5*16) + 16 = 184, while
 * {1:1,2:2} keeps 24-byte entries: 224. */
Test(sizes, dict_combined)
{
	for (size_t i = 0; i < PC_ARRAY_LEN(versions); i++) {
		const struct expected *x = &versions[i];
		struct pylayout L = layout_at(i);
		uint64_t p = pre(&L, RULE_DICT, 16), kab, k12;

		if (x->minor <= 10) {
			cr_assert_eq(L.off.dk_header_size, 40);
			kab = size_dict_keys(&L, 8, 8 * 1, 24);
			k12 = size_dict_keys(&L, 8, 8 * 1, 24);
			cr_assert_eq(kab, 168);
		} else {
			cr_assert_eq(L.off.dk_header_size, 32);
			kab = size_dict_keys(&L, 1u << 3, 1u << 3, 16);
			k12 = size_dict_keys(&L, 1u << 3, 1u << 3, 24);
			cr_assert_eq(kab, 120);
		}
		cr_assert_eq(size_dict(&L, 48, false, 0, true, kab) + p, x->dict_ab, "3.%d {'a':1,'b':2}", x->minor);
		cr_assert_eq(size_dict(&L, 48, false, 0, true, k12) + p, x->dict_12, "3.%d {1:1,2:2}", x->minor);
		/* keys shared with another owner (dk_refcnt > 1) are not charged */
		cr_assert_eq(size_dict(&L, 48, false, 0, false, kab) + p, 64);
	}
}

/* 3.8-3.10 split instance dict of `class P: def __init__(s): s.a=1; s.b=2`: its own values array
 * (USABLE_FRACTION(8) = 5 slots), keys shared with the class: 48 + 8*5 + 16 = 104. */
Test(sizes, dict_split_instance_3_8_to_3_10)
{
	for (int minor = 8; minor <= 10; minor++) {
		struct pylayout L = layout(minor);
		uint64_t keys = size_dict_keys(&L, 8, 8, 24);

		cr_assert_eq(size_dict(&L, 48, true, 2 * 8 / 3, false, keys) + pre(&L, RULE_DICT, 16), 104);
	}
}

/* Type objects: getsizeof(int) = sizeof(PyTypeObject) + 16 on 3.11 and 3.12 only;
 * getsizeof(type('C', (), {})) = sizeof(PyHeapTypeObject) + its cached keys + 16, the keys being
 * PyDict_MINSIZE (8 slots) up to 3.10 and 64 slots (log2 6, unicode entries) from 3.11. */
Test(sizes, type_objects)
{
	for (size_t i = 0; i < PC_ARRAY_LEN(versions); i++) {
		const struct expected *x = &versions[i];
		struct pylayout L = layout_at(i);
		struct pytype type_type;
		uint64_t keys;

		memset(&type_type, 0, sizeof type_type);
		type_type.rule = RULE_TYPE;
		type_type.pre = layout_preheader(&L, PC_TPFLAGS_HAVE_GC); /* 0 free-threaded */
		cr_assert_eq((uint64_t)L.off.type_size + size_preheader(&L, &type_type, false), x->type_int,
			     "3.%d getsizeof(int)", x->minor);
		keys = x->minor <= 10 ? size_dict_keys(&L, 8, 8, 24) : size_dict_keys(&L, 64, 64, 16);
		cr_assert_eq((uint64_t)L.off.heaptype_size + keys + size_preheader(&L, &type_type, true),
			     x->heap_type, "3.%d getsizeof(type('C', (), {}))", x->minor);
	}
}

/* size_preheader: a static type object gets its metatype's 16 bytes only on 3.11 and 3.12; a
 * heap type always; any other object gets its type's pre. */
Test(sizes, preheader_rules)
{
	static const struct {
		int minor;
		uint64_t static_type;
	} rows[] = { { 8, 0 }, { 9, 0 }, { 10, 0 }, { 11, 16 }, { 12, 16 }, { 13, 0 } };

	for (size_t i = 0; i < PC_ARRAY_LEN(rows); i++) {
		struct pylayout L = layout(rows[i].minor);
		struct pytype ty;

		memset(&ty, 0, sizeof ty);
		ty.rule = RULE_TYPE;
		ty.pre = 16;
		cr_assert_eq(size_preheader(&L, &ty, false), rows[i].static_type, "3.%d static type", rows[i].minor);
		cr_assert_eq(size_preheader(&L, &ty, true), 16, "3.%d heap type", rows[i].minor);
		ty.rule = RULE_DICT;
		cr_assert_eq(size_preheader(&L, &ty, false), 16, "3.%d dict", rows[i].minor);
		ty.rule = RULE_DEFAULT;
		ty.pre = 32; /* 3.11+ instance with a managed dict */
		cr_assert_eq(size_preheader(&L, &ty, false), 32);
		cr_assert_eq(size_preheader(&L, &ty, true), 32, "the heap-type flag only matters for types");
		ty.rule = RULE_INT;
		ty.pre = 0;
		cr_assert_eq(size_preheader(&L, &ty, false), 0);
	}
}

/* numpy's array_sizeof, as numpy 1.24.2 (Debian's python3.11) and 2.4.6 (3.14.10) print it:
 * np.zeros(10) 192, np.zeros(()) 104, np.zeros(10)[2:] (a view) 112, np.zeros((3, 4), 'i4') 176;
 * and what numpy allocated for the data (the element size for an empty array) and dimensions. */
Test(sizes, numpy_arrays)
{
	struct numpy_array owning = { .data = 0x1000, .dims = 0x2000, .elsize = 8, .nbytes = 80, .nd = 1, .owns = true };
	struct numpy_array zero_d = { .data = 0x1000, .elsize = 8, .nbytes = 8, .nd = 0, .owns = true };
	struct numpy_array view = { .data = 0x1010, .dims = 0x3000, .elsize = 8, .nbytes = 64, .nd = 1, .owns = false };
	struct numpy_array two_d = { .data = 0x1000, .dims = 0x2000, .elsize = 4, .nbytes = 48, .nd = 2, .owns = true };
	struct numpy_array empty = { .data = 0x1000, .dims = 0x2000, .elsize = 4, .nbytes = 0, .nd = 2, .owns = true };

	cr_expect_eq(numpy_array_sizeof(96, &owning), 192);
	cr_expect_eq(numpy_array_sizeof(96, &zero_d), 104);
	cr_expect_eq(numpy_array_sizeof(96, &view), 112);
	cr_expect_eq(numpy_array_sizeof(96, &two_d), 176);
	cr_expect_eq(numpy_data_request(&owning), 80);
	cr_expect_eq(numpy_data_request(&view), 0);
	cr_expect_eq(numpy_data_request(&empty), 4);
	cr_expect_eq(numpy_dims_request(&zero_d), 0);
	cr_expect_eq(numpy_dims_request(&two_d), 32);
}
