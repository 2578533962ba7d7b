/* test_cli.c: the option parsers every subcommand shares (cli/common.c) take what they say and
 * refuse everything else with a usage error (exit 2). */
#include "common/compat.h"

#include <criterion/criterion.h>
#include "cli/commands.h"

Test(cli, rows_take_decimal_digits_only)
{
	static const char *const bad[] = { "", "abc", "-1", " 5", "5x", "+3", "0x10", "99999999999999999999999" };
	struct pc_err e = { 0 };
	size_t n = 7;

	cr_expect_eq(cli_parse_rows("0", &n, &e), 0);
	cr_expect_eq(n, 0);
	cr_expect_eq(cli_parse_rows("25", &n, &e), 0);
	cr_expect_eq(n, 25);
	for (size_t i = 0; i < PC_ARRAY_LEN(bad); i++) {
		pc_err_clear(&e);
		cr_expect_eq(cli_parse_rows(bad[i], &n, &e), -1, "'%s' was taken", bad[i]);
		cr_expect_eq(e.code, PC_EUSAGE, "'%s'", bad[i]);
	}
}

Test(cli, counts_are_positive)
{
	struct pc_err e = { 0 };
	unsigned long n = 0;

	cr_expect_eq(cli_parse_count("3", "-c", "samples", &n, &e), 0);
	cr_expect_eq(n, 3);
	cr_expect_eq(cli_parse_count("0", "-c", "samples", &n, &e), -1);
	cr_expect(strstr(e.detail, "-c needs a number of samples") != NULL, "%s", e.detail);
	cr_expect_eq(cli_parse_count("-2", "-c", "samples", &n, &e), -1);
}

Test(cli, pids_and_intervals)
{
	struct pc_err e = { 0 };
	double v = 0;
	int pid = 0;

	cr_expect_eq(cli_parse_pid("1234", &pid, &e), 0);
	cr_expect_eq(pid, 1234);
	cr_expect_eq(cli_parse_pid("0", &pid, &e), -1);
	cr_expect_eq(cli_parse_pid("12a", &pid, &e), -1);
	cr_expect_eq(cli_parse_interval("0.5", &v, &e), 0);
	cr_expect_float_eq(v, 0.5, 1e-12);
	cr_expect_eq(cli_parse_interval("0", &v, &e), -1);
	cr_expect_eq(cli_parse_interval("nan", &v, &e), -1);
	cr_expect_eq(cli_parse_interval("1e9", &v, &e), -1);
}
