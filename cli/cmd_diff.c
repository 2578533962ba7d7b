/* cmd_diff.c: `pycensus diff A.csv B.csv` (or one time series): what changed, per kind. */
#include "common/compat.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "report/csvread.h"
#include "report/diff.h"
#include "report/output.h"

struct diff_args {
	const char *format, *output, *a, *b;
	size_t limit;
};

static void diff_help(FILE *out)
{
	fprintf(out,
		"usage: pycensus diff [options] A.csv B.csv\n"
		"       pycensus diff [options] SERIES.csv\n"
		"\n"
		"Compares two censuses written by 'pycensus snap -f csv' (a time series written by\n"
		"'pycensus run -f csv' or 'snap -i' stands for its last sample), or the first and the last\n"
		"sample of one time series. Prints, per kind, the count and size before and after and their\n"
		"deltas, largest size growth first.\n"
		"\n"
		"options:\n"
		"  -f, --format text|csv   output format (default text; csv has every row:\n"
		"                          kind,count_before,count_after,count_delta,size_before,size_after,size_delta)\n"
		"  -o, --output FILE       write to FILE instead of standard output\n"
		"  -n, --rows N            text rows to show (default 20; 0 shows all)\n"
		"  -h, --help              this help\n\n");
	cli_print_exit_codes(out);
}

static int parse_args(int argc, char **argv, struct diff_args *a, struct pc_err *e)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' }, { "output", required_argument, NULL, 'o' },
		{ "rows", required_argument, NULL, 'n' },   { "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c;

	*a = (struct diff_args){ .format = "text", .limit = 20 };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:o:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': if (cli_parse_format(optarg, false, e) < 0) return -1; a->format = optarg; break;
		case 'o': a->output = optarg; break;
		case 'n': if (cli_parse_rows(optarg, &a->limit, e) < 0) return -1; break;
		case 'h': diff_help(stdout); exit(0);
		default:
			return pc_fail(e, PC_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return pc_fail(e, PC_EUSAGE, "diff takes two CSV files, or one time series");
	a->a = argv[optind];
	a->b = argc - optind == 2 ? argv[optind + 1] : NULL;
	return 0;
}

static int write_diff(const struct diff_args *a, const struct diff *d, struct pc_err *e)
{
	FILE *out = output_open(a->output, e);
	int rc;

	if (!out)
		return -1;
	rc = strcmp(a->format, "csv") == 0 ? report_diff_csv(out, d, e) : report_diff_text(out, d, a->limit, e);
	if (rc < 0) {
		output_close(out, NULL);
		return -1;
	}
	return output_close(out, e);
}

int cmd_diff(int argc, char **argv)
{
	struct pc_err e = { 0 };
	struct diff_args a;
	struct csvcensus x, y;
	struct diff d;
	int rc;

	memset(&y, 0, sizeof y);
	if (parse_args(argc, argv, &a, &e) < 0 || csvread_file(a.a, &x, &e) < 0)
		return cli_fail(&e);
	if (!a.b && !x.series) {
		csvcensus_release(&x);
		pc_fail(&e, PC_EUSAGE, "%s is one census, not a time series: give a second file to compare with", a.a);
		return cli_fail(&e);
	}
	if (a.b && csvread_file(a.b, &y, &e) < 0) {
		csvcensus_release(&x);
		return cli_fail(&e);
	}
	diff_build(a.b ? &x.last : &x.first, a.b ? &y.last : &x.last, &d);
	rc = write_diff(&a, &d, &e);
	diff_release(&d);
	csvcensus_release(&x);
	csvcensus_release(&y);
	return rc < 0 ? cli_fail(&e) : 0;
}
