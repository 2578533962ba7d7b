/* cmd_diff.c: `pycensus diff A.csv B.csv` (or one time series): what changed, per kind. */
#include "common/compat.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "report/csvread.h"
#include "report/diff.h"
#include "report/json_docs.h"
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
		"deltas, largest size growth first. A file whose census dropped objects (its '# dropped'\n"
		"lines) is named in a note before the rows (csv: '# warning:' lines after them); the exit\n"
		"status stays 0. A file cut short, or with a line that is not pycensus CSV, is refused with\n"
		"its name and line (exit 2).\n"
		"\n"
		"options:\n"
		"  -f, --format text|csv|json\n"
		"                          output format (default text; csv has every row:\n"
		"                          kind,count_before,count_after,count_delta,size_before,size_after,size_delta;\n"
		"                          json the same rows, the totals and the notes)\n"
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
		case 'f': if (cli_parse_format(optarg, CLI_FMT(TEXT) | CLI_FMT(CSV) | CLI_FMT(JSON), e) < 0) return -1; a->format = optarg; break;
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

/* What was partial on either side: the lines diff prints before its rows. */
struct notes {
	char v[4][480];
	const char *p[4];
	size_t n;
};

/* One side (census c of file name, `which` sample of a series) when it dropped objects. */
static void note_side(struct notes *ns, const char *name, const char *which, const struct census *c)
{
	char line[400];

	census_dropped_line(c, 8, line, sizeof line);
	if (line[0] && ns->n < PC_ARRAY_LEN(ns->v))
		snprintf(ns->v[ns->n++], sizeof ns->v[0], "%s%s: %s; the deltas of those kinds may not be real", name,
			 which, line);
}

/* Samples of a series that were partial beyond the compared ones. */
static void note_series(struct notes *ns, const char *name, const struct csvcensus *x)
{
	if (x->series && x->npartial && ns->n < PC_ARRAY_LEN(ns->v))
		snprintf(ns->v[ns->n++], sizeof ns->v[0], "%s: %u of %u samples were partial", name, x->npartial,
			 x->nsamples);
}

static void gather_notes(struct notes *ns, const struct diff_args *a, const struct csvcensus *x,
			 const struct csvcensus *y)
{
	ns->n = 0;
	if (a->b) {
		note_side(ns, a->a, x->series ? " (its last sample)" : "", &x->last);
		note_side(ns, a->b, y->series ? " (its last sample)" : "", &y->last);
		note_series(ns, a->a, x);
		note_series(ns, a->b, y);
	} else {
		note_side(ns, a->a, " (its first sample)", &x->first);
		note_side(ns, a->a, " (its last sample)", &x->last);
		note_series(ns, a->a, x);
	}
	for (size_t i = 0; i < ns->n; i++)
		ns->p[i] = ns->v[i];
}

/* -f json names the compared censuses as the notes do. */
static int write_json(FILE *out, const struct diff_args *a, const struct csvcensus *x, const struct csvcensus *y,
		      const struct diff *d, const struct notes *ns, struct pc_err *e)
{
	char before[600], after[600];

	snprintf(before, sizeof before, "%s%s", a->a, a->b ? (x->series ? " (its last sample)" : "") : " (its first sample)");
	snprintf(after, sizeof after, "%s%s", a->b ? a->b : a->a, (a->b ? y->series : true) ? " (its last sample)" : "");
	return report_diff_json(out, d, before, after, ns->p, ns->n, e);
}

static int write_diff(const struct diff_args *a, const struct csvcensus *x, const struct csvcensus *y,
		      const struct diff *d, const struct notes *ns, struct pc_err *e)
{
	FILE *out = output_open(a->output, e);
	int rc;

	if (!out)
		return -1;
	if (strcmp(a->format, "json") == 0)
		rc = write_json(out, a, x, y, d, ns, e);
	else
		rc = strcmp(a->format, "csv") == 0 ? report_diff_csv(out, d, ns->p, ns->n, e)
						   : report_diff_text(out, d, ns->p, ns->n, a->limit, e);
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
	struct notes ns;
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
	gather_notes(&ns, &a, &x, &y);
	rc = write_diff(&a, &x, &y, &d, &ns, &e);
	diff_release(&d);
	csvcensus_release(&x);
	csvcensus_release(&y);
	return rc < 0 ? cli_fail(&e) : 0;
}
