/* test_rules.c: the version questions of python/rules.h, answered per version. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <string.h>

#include "common/error.h"
#include "python/rules.h"

static struct pylayout at(int minor)
{
	struct pylayout l;
	struct pc_err e = { 0 };

	cr_assert_eq(layout_lookup(3, minor, &l, &e), 0, "%s", e.detail);
	return l;
}

Test(rules, versions_supported)
{
	char why[160];

	for (int minor = 8; minor <= 15; minor++)
		cr_expect(py_version_supported(3, minor, why, sizeof why), "3.%d", minor);
	cr_expect(py_version_supported(3, 16, why, sizeof why), "3.16: newer, read by its debug offsets");
	cr_expect_not(py_version_supported(3, 7, why, sizeof why));
	cr_expect(strstr(why, "3.8-3.15") != NULL, "%s", why);
	cr_expect_not(py_version_supported(2, 7, why, sizeof why));
}

Test(rules, frame_shims)
{
	struct pylayout l11 = at(11), l12 = at(12), l13 = at(13), l14 = at(14), l15 = at(15);

	cr_expect_not(py_frame_is_shim(&l11, 3));
	cr_expect(py_frame_is_shim(&l12, 3));
	cr_expect(py_frame_is_shim(&l13, 3));
	cr_expect(py_frame_is_shim(&l14, 3), "3.14: FRAME_OWNED_BY_INTERPRETER, the entry frame");
	cr_expect_not(py_frame_is_shim(&l14, 2));
	cr_expect(py_frame_is_shim(&l14, 4));
	cr_expect_not(py_frame_is_shim(&l15, 4), "3.15 has no FRAME_OWNED_BY_CSTACK");
	cr_expect(py_frame_is_shim(&l15, 3));
	cr_expect(py_gen_frame_suspended(&l14, -2));
	cr_expect_not(py_gen_frame_suspended(&l14, 0));
	cr_expect(py_gen_frame_suspended(&l15, 1));
	cr_expect_not(py_gen_frame_suspended(&l15, 4));
	cr_expect_not(py_gen_frame_suspended(&l15, 5));
}

Test(rules, stack_references)
{
	struct pylayout l13 = at(13), l14 = at(14);

	cr_expect_eq(py_stackref_object(&l13, 0x7f0000001001ULL), 0x7f0000001001ULL);
	cr_expect_eq(py_stackref_object(&l14, 0x7f0000001001ULL), 0x7f0000001000ULL, "deferred bit");
	cr_expect_eq(py_stackref_object(&l14, 0x7f0000001000ULL), 0x7f0000001000ULL);
	cr_expect_eq(py_stackref_object(&l14, (42ULL << 2) | 3), 0, "tagged int: no object");
}

Test(rules, refcounts)
{
	struct pylayout l11 = at(11), l12 = at(12), l14 = at(14);
	const uint64_t ptr = 0x00007f12345678a0ULL, text = 0x6f6c6c6568ULL;

	cr_expect(py_refcnt_plausible(&l11, 1));
	cr_expect_not(py_refcnt_plausible(&l11, 0xffffffffULL), "no immortals before 3.12");
	cr_expect(py_refcnt_plausible(&l12, 0xffffffffULL));
	cr_expect_not(py_refcnt_plausible(&l12, 3ULL << 30));
	/* 3.14: _Py_IMMORTAL_INITIAL_REFCNT, and a static object's flags in the top 16 bits */
	cr_expect(py_refcnt_plausible(&l14, 3ULL << 30));
	cr_expect(py_refcnt_plausible(&l14, (3ULL << 30) | (0xcULL << 48)));
	cr_expect(py_refcnt_plausible(&l14, 7));
	for (int minor = 11; minor <= 14; minor += 3) {
		struct pylayout l = at(minor);
		cr_expect_not(py_refcnt_plausible(&l, 0), "3.%d: 0", minor);
		cr_expect_not(py_refcnt_plausible(&l, ptr), "3.%d: a pointer", minor);
		cr_expect_not(py_refcnt_plausible(&l, text), "3.%d: text", minor);
	}
}

Test(rules, managed_dicts)
{
	struct pylayout l10 = at(10), l11 = at(11), l12 = at(12), l13 = at(13), l14 = at(14);
	const uint64_t flags = PC_TPFLAGS_MANAGED_DICT | PC_TPFLAGS_INLINE_VALUES;
	uint64_t pre[2] = { 0x1000, 0x2000 - 1 };

	cr_expect_not(py_has_managed_dict(&l10, flags));
	cr_expect(py_has_managed_dict(&l11, flags));
	cr_expect_eq(py_managed_values(&l11, pre), 0x1000);
	cr_expect_eq(py_managed_values(&l12, pre), 0x2000, "tagged: values + 1");
	cr_expect_not(py_managed_word_is_dict(&l12, pre[1]));
	cr_expect(py_managed_word_is_dict(&l13, 0x2000));
	cr_expect_eq(py_managed_values(&l13, pre), 0);
	cr_expect(py_inline_values(&l13, flags));
	cr_expect(py_inline_values(&l14, flags));
	cr_expect_not(py_inline_values(&l12, flags));
}

Test(rules, sizes)
{
	struct pylayout l10 = at(10), l11 = at(11), l12 = at(12), l13 = at(13);

	cr_expect_eq(py_split_values_slots(&l10, 8, 3, 2), 5);
	cr_expect_eq(py_split_values_slots(&l11, 8, 3, 2), 5);
	cr_expect_eq(py_split_values_slots(&l10, 32, 3, 2), 21);
	cr_expect_eq(py_split_values_slots(&l11, 32, 3, 2), 5);
	cr_expect_eq(py_int_sizeof_digits(&l10, 0), 0);
	cr_expect_eq(py_int_sizeof_digits(&l11, 0), 1);
	cr_expect_eq(py_int_sizeof_digits(&l11, 3), 3);
	cr_expect_not(py_static_type_sizeof_has_preheader(&l10));
	cr_expect(py_static_type_sizeof_has_preheader(&l11));
	cr_expect(py_static_type_sizeof_has_preheader(&l12));
	cr_expect_not(py_static_type_sizeof_has_preheader(&l13));
}

Test(rules, releases_refused)
{
	for (int micro = 0; micro <= 4; micro++)
		cr_expect_not_null(py_release_refused(3, 14, micro), "3.14.%d: incremental GC", micro);
	cr_expect_null(py_release_refused(3, 14, 5));
	cr_expect_null(py_release_refused(3, 14, 10));
	cr_expect_null(py_release_refused(3, 13, 2));
	cr_expect_null(py_release_refused(3, 15, 0));
}

Test(rules, eval_function)
{
	cr_expect(py_is_eval_function("_PyEval_EvalFrameDefault"));
	cr_expect(py_is_eval_function("_PyEval_EvalFrameDefault.cold"), "GCC's cold part (Debian 3.14)");
	cr_expect_not(py_is_eval_function("_PyEval_EvalFrameDefaultX"));
	cr_expect_not(py_is_eval_function("_PyEval_EvalFrame"));
	cr_expect_not(py_is_eval_function(NULL));
}

Test(rules, types_aliases)
{
	struct pylayout l9 = at(9), l10 = at(10);

	cr_expect_str_eq(py_types_alias(&l9, "code"), "types.CodeType");
	cr_expect_null(py_types_alias(&l9, "NoneType"));
	cr_expect_str_eq(py_types_alias(&l10, "NoneType"), "types.NoneType");
	cr_expect_null(py_types_alias(&l10, "dict"));
}

/* bytearray.__sizeof__ beyond tp_basicsize, as printed by 3.14.10 and 3.15.2: bytearray(1000)
 * 56 + 1001 and 64 + 1033 (ob_alloc 1001 and 1000), bytearray() 56 and 64 (ob_alloc 0). */
Test(rules, bytearray_buffer)
{
	struct pylayout l14 = at(14), l15 = at(15);

	cr_expect_eq(py_bytearray_buffer_bytes(&l14, 1001), 1001);
	cr_expect_eq(py_bytearray_buffer_bytes(&l14, 0), 0);
	cr_expect_eq(py_bytearray_buffer_bytes(&l15, 1000), 1033);
	cr_expect_eq(py_bytearray_buffer_bytes(&l15, 0), 0);
}

/* The bytes object that holds a 3.15 bytearray's buffer, which the census must not count again. */
Test(rules, bytearray_buffer_object)
{
	struct pylayout l14 = at(14), l15 = at(15);
	uint8_t ob[128] = { 0 };
	uint64_t alloc = 1000, holder = 0x7f0012345670;

	cr_assert(l15.off.bytearray_object > 0 && (size_t)l15.off.bytearray_object + 8 <= sizeof ob);
	memcpy(ob + l15.off.bytearray_alloc, &alloc, 8);
	memcpy(ob + l15.off.bytearray_object, &holder, 8);
	cr_expect_eq(py_bytearray_buffer_object(&l15, ob, sizeof ob), holder);
	cr_expect_eq(py_bytearray_buffer_object(&l15, ob, (size_t)l15.off.bytearray_object), 0, "beyond what was read");
	cr_expect_eq(py_bytearray_buffer_object(&l14, ob, sizeof ob), 0, "3.14 keeps a malloc'd buffer");
	alloc = 0;
	memcpy(ob + l15.off.bytearray_alloc, &alloc, 8);
	cr_expect_eq(py_bytearray_buffer_object(&l15, ob, sizeof ob), 0, "an empty bytearray holds the shared empty bytes");
}

/* code.__sizeof__'s opcache: 3.8.18 prints 371 for a function of 70 bytes of bytecode and 5
 * LOAD_GLOBALs after 1100 calls (176 + 35 + 5 * 32), 176 before its 1024th; 3.10.13 prints 248
 * for `return len(x) + abs(1)` (16 bytes, 2 LOAD_GLOBALs: 176 + 8 + 2 * 32); none from 3.11. */
Test(rules, code_opcache)
{
	struct pylayout l8 = at(8), l10 = at(10), l11 = at(11);

	cr_expect_eq(py_code_opcache_bytes(&l8, 0x7f0000001000, 5, 70), 195);
	cr_expect_eq(py_code_opcache_bytes(&l8, 0, 5, 70), 0);
	cr_expect_eq(py_code_opcache_bytes(&l10, 0x7f0000001000, 2, 16), 72);
	cr_expect_eq(py_code_opcache_bytes(&l11, 0x7f0000001000, 5, 70), 0);
}
