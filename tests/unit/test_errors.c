/* test_errors.c: the error table (common/errors.def, expanded here once more) and the pc_err
 * record: root cause kept, context chained with "; ", bounded detail, one-line printing. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

static const struct row {
	enum pc_code code;
	const char *name;
	int exit;
	const char *msg, *fix;
} rows[] = {
#define X(name, code, msg, fix) { PC_E##name, #name, code, msg, fix },
#include "common/errors.def"
#undef X
};

Test(errors, table_matches_enum)
{
	cr_assert_eq(PC_ARRAY_LEN(rows), PC_E_COUNT);
	cr_assert_eq(PC_E_COUNT, 21);
	for (size_t i = 0; i < PC_ARRAY_LEN(rows); i++)
		cr_assert_eq(rows[i].code, (enum pc_code)i, "%s out of order", rows[i].name);
	cr_assert_eq(PC_EOK, 0);
	cr_assert_eq(rows[PC_EOK].exit, 0);
}

Test(errors, exit_codes_distinct_and_valid)
{
	for (size_t i = 0; i < PC_ARRAY_LEN(rows); i++) {
		cr_assert(rows[i].exit >= 0 && rows[i].exit <= 125, "%s: exit %d", rows[i].name, rows[i].exit);
		for (size_t j = i + 1; j < PC_ARRAY_LEN(rows); j++)
			cr_assert_neq(rows[i].exit, rows[j].exit, "%s and %s share exit code %d", rows[i].name,
				      rows[j].name, rows[i].exit);
	}
}

/* Messages: non-empty, lowercase first letter, no final full stop (STYLE.md 7); a fix for every
 * failure. */
Test(errors, messages_and_fixes)
{
	for (size_t i = 0; i < PC_ARRAY_LEN(rows); i++) {
		const char *m = rows[i].msg;
		size_t n = strlen(m);

		cr_assert_gt(n, 0, "%s: empty message", rows[i].name);
		cr_assert(islower((unsigned char)m[0]), "%s: '%s' starts uppercase", rows[i].name, m);
		cr_assert_neq(m[n - 1], '.', "%s: '%s' ends with a full stop", rows[i].name, m);
		cr_assert(!strchr(m, '\n'), "%s: message spans lines", rows[i].name);
		if (rows[i].code != PC_EOK)
			cr_assert_gt(strlen(rows[i].fix), 0, "%s: no fix", rows[i].name);
		for (size_t j = i + 1; j < PC_ARRAY_LEN(rows); j++)
			cr_assert_str_neq(m, rows[j].msg, "%s and %s share a message", rows[i].name, rows[j].name);
	}
}

Test(errors, accessors_agree_with_table)
{
	for (size_t i = 0; i < PC_ARRAY_LEN(rows); i++) {
		cr_assert_eq(pc_exit_code(rows[i].code), rows[i].exit, "%s", rows[i].name);
		cr_assert_str_eq(pc_code_message(rows[i].code), rows[i].msg);
		cr_assert_str_eq(pc_code_fix(rows[i].code), rows[i].fix);
		cr_assert_str_eq(pc_code_name(rows[i].code), rows[i].name);
	}
	cr_assert_eq(pc_exit_code(PC_ENOPROC), 3);
	cr_assert_eq(pc_exit_code(PC_EPERM), 4);
	cr_assert_eq(pc_exit_code(PC_ETARGETMEM), 10);
	cr_assert_str_eq(pc_code_message(PC_ENOPROC), "no such process");
}

/* Codes outside the table read as INTERNAL rather than past the array. */
Test(errors, out_of_range_code_is_internal)
{
	cr_assert_eq(pc_exit_code(PC_E_COUNT), 1);
	cr_assert_eq(pc_exit_code((enum pc_code)1000), 1);
	cr_assert_eq(pc_exit_code((enum pc_code)-1), 1);
	cr_assert_str_eq(pc_code_name(PC_E_COUNT), "INTERNAL");
	cr_assert_str_eq(pc_code_message((enum pc_code)-5), "internal error in pycensus");
}

Test(errors, fail_keeps_root_and_chains_context)
{
	struct pc_err e = { 0 };

	cr_assert_eq(e.code, PC_EOK);
	cr_assert_eq(pc_fail(&e, PC_ENOPROC, "no process %d", 4242), -1);
	cr_assert_eq(e.code, PC_ENOPROC);
	cr_assert_str_eq(e.detail, "no process 4242");
	cr_assert_eq(pc_fail(&e, PC_ETARGETMEM, "reading %s at %#x", "PyInterpreterState", 0x1000), -1);
	cr_assert_eq(e.code, PC_ENOPROC, "the root cause's code stays");
	cr_assert_str_eq(e.detail, "no process 4242; reading PyInterpreterState at 0x1000");
	cr_assert_eq(pc_fail(&e, PC_EINTERNAL, "taking the census"), -1);
	cr_assert_eq(e.code, PC_ENOPROC);
	cr_assert_str_eq(e.detail, "no process 4242; reading PyInterpreterState at 0x1000; taking the census");

	pc_err_clear(&e);
	cr_assert_eq(e.code, PC_EOK);
	cr_assert_str_eq(e.detail, "");
	pc_fail(&e, PC_EPERM, "attach");
	cr_assert_eq(e.code, PC_EPERM);
	cr_assert_str_eq(e.detail, "attach");

	cr_assert_eq(pc_fail(NULL, PC_EPERM, "nobody listens"), -1);
}

/* 100 long contexts never overflow detail; the root and the first contexts survive whole. */
Test(errors, detail_never_overflows)
{
	struct {
		struct pc_err e;
		char canary[64];
	} s;
	char longs[1000];

	memset(&s, 0, sizeof s);
	memset(s.canary, 'C', sizeof s.canary);
	memset(longs, 'L', sizeof longs - 1);
	longs[sizeof longs - 1] = '\0';

	pc_fail(&s.e, PC_ELAYOUT, "root %d", 0);
	for (int i = 1; i < 100; i++) {
		pc_fail(&s.e, PC_EOUTPUT, "ctx %d %s", i, longs + (size_t)i * 9);
		cr_assert_lt(strlen(s.e.detail), sizeof s.e.detail, "after %d calls", i);
	}
	cr_assert_eq(s.e.code, PC_ELAYOUT);
	cr_assert_eq(strncmp(s.e.detail, "root 0; ctx 1 LLL", 17), 0, "%.40s", s.e.detail);
	cr_assert_eq(strlen(s.e.detail), sizeof s.e.detail - 1, "filled to the last byte");
	for (size_t i = 0; i < sizeof s.canary; i++)
		cr_assert_eq(s.canary[i], 'C', "canary byte %zu overwritten", i);

	/* a root longer than detail is cut, still terminated */
	pc_err_clear(&s.e);
	pc_fail(&s.e, PC_EUSAGE, "%s%s", longs, longs);
	cr_assert_eq(strlen(s.e.detail), sizeof s.e.detail - 1);
	cr_assert_eq(s.e.code, PC_EUSAGE);
	pc_fail(&s.e, PC_EUSAGE, "more");
	cr_assert_eq(strlen(s.e.detail), sizeof s.e.detail - 1, "a full detail takes nothing more");
	for (size_t i = 0; i < sizeof s.canary; i++)
		cr_assert_eq(s.canary[i], 'C');

	/* almost full: the context is cut to fit after "; " */
	pc_err_clear(&s.e);
	pc_fail(&s.e, PC_EUSAGE, "%.*s", (int)sizeof s.e.detail - 6, longs);
	pc_fail(&s.e, PC_EUSAGE, "abcdef");
	cr_assert_eq(strlen(s.e.detail), sizeof s.e.detail - 1);
	cr_assert_str_eq(s.e.detail + sizeof s.e.detail - 6, "; abc");
}

static char *print_to_string(const struct pc_err *e, char *buf, size_t n)
{
	FILE *f = fmemopen(buf, n, "w");

	cr_assert_not_null(f);
	pc_err_print(f, e);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

static size_t count_char(const char *s, char c)
{
	size_t k = 0;

	for (; *s; s++)
		k += *s == c;
	return k;
}

Test(errors, print_one_line)
{
	static char buf[4096];
	struct pc_err e = { 0 };

	pc_fail(&e, PC_ENOPROC, "pid %d", 99999);
	pc_fail(&e, PC_EINTERNAL, "attaching");
	print_to_string(&e, buf, sizeof buf);
	cr_assert_str_eq(buf, "pycensus: no such process: pid 99999; attaching (fix: check the PID with 'ps'; "
			      "the process may have exited)\n");

	/* every code: one line, prefixed, with its message and fix */
	for (size_t i = 1; i < PC_ARRAY_LEN(rows); i++) {
		pc_err_clear(&e);
		pc_fail(&e, rows[i].code, "detail of %s", rows[i].name);
		print_to_string(&e, buf, sizeof buf);
		cr_assert_eq(strncmp(buf, "pycensus: ", 10), 0, "%s", buf);
		cr_assert_eq(count_char(buf, '\n'), 1, "%s", buf);
		cr_assert_eq(buf[strlen(buf) - 1], '\n');
		cr_assert_not_null(strstr(buf, rows[i].msg));
		cr_assert_not_null(strstr(buf, rows[i].fix));
		cr_assert_not_null(strstr(buf, rows[i].name));
	}

	/* no detail: no ": " after the message */
	pc_err_clear(&e);
	e.code = PC_EEXITED;
	print_to_string(&e, buf, sizeof buf);
	cr_assert_str_eq(buf, "pycensus: process exited during the census (fix: take the census again while the "
			      "process is alive)\n");

	/* nothing recorded reads as an internal error, not "success" */
	pc_err_clear(&e);
	print_to_string(&e, buf, sizeof buf);
	cr_assert_eq(strncmp(buf, "pycensus: internal error in pycensus", 36), 0, "%s", buf);
}

Test(errors, exit_codes_print_one_line_per_row)
{
	static char buf[4096];
	FILE *f = fmemopen(buf, sizeof buf, "w");

	cr_assert_not_null(f);
	pc_exit_codes_print(f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(count_char(buf, '\n'), PC_E_COUNT);
	for (size_t i = 0; i < PC_ARRAY_LEN(rows); i++)
		cr_assert_not_null(strstr(buf, rows[i].msg), "%s missing", rows[i].name);
	cr_assert_not_null(strstr(buf, "   10  cannot read the target's memory\n"));
}

Test(errors, bug_aborts, .signal = SIGABRT)
{
	cr_assert_not_null(freopen("/dev/null", "w", stderr)); /* keep the expected message quiet */
	PC_BUG("test invariant");
}
