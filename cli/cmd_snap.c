/* cmd_snap.c: `pycensus snap PID`: one census, printed as guppy3's partition or CSV. */
#include "common/compat.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "heap/census.h"
#include "heap/snapshot.h"
#include "report/csv.h"
#include "report/output.h"
#include "report/partition.h"
#include "report/text.h"

struct snap_args {
	int pid;
	const char *format, *output, *by;
	size_t limit;
	bool no_header;
	struct snapshot_opts opts;
};

static void snap_help(FILE *out)
{
	fprintf(out,
		"usage: pycensus snap [options] PID\n"
		"\n"
		"Stops process PID briefly, copies its pymalloc arenas and the objects on its GC lists,\n"
		"resumes it, and prints how many objects of each kind live in its heap and their size\n"
		"(sys.getsizeof semantics), largest first, in guppy3's partition layout.\n"
		"\n"
		"options:\n"
		"  -f, --format text|csv   output format (default text; csv has every row)\n"
		"  -o, --output FILE       write to FILE instead of standard output\n"
		"  -n, --rows N            text rows to show (default 20; 0 shows all)\n"
		"      --by kind|size      partition by kind (default) or by pymalloc size class\n"
		"                          (allocated blocks per block size, as sys._debugmallocstats counts them)\n"
		"      --arenas auto|symbols|scan\n"
		"                          how to find pymalloc's arenas: the arena table (needs symbols,\n"
		"                          absent from stripped builds), a scan of anonymous memory for pool\n"
		"                          headers, or the table when available and the scan otherwise (default)\n"
		"      --nonblocking       read while the target runs, never stopping it: the census can meet\n"
		"                          structures mid-update; it skips them and says how many (a warning)\n"
		"      --no-header         text: print the partition only\n"
		"  -h, --help              this help\n"
		"\n"
		"needs: ptrace permission over PID (same user and kernel.yama.ptrace_scope <= 1 for a child,\n"
		"0 otherwise, or CAP_SYS_PTRACE / root).\n\n");
	cli_print_exit_codes(out);
}

static int parse_choice(const char *v, const char *const *choices, size_t n, const char *opt, struct pc_err *e)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v, choices[i]) == 0)
			return (int)i;
	return pc_fail(e, PC_EUSAGE, "%s must be one of %s%s%s, not '%s'", opt, choices[0], n > 2 ? ", " : " or ",
		       n > 2 ? "..." : choices[1], v);
}

static int parse_args(int argc, char **argv, struct snap_args *a, struct pc_err *e)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' }, { "output", required_argument, NULL, 'o' },
		{ "rows", required_argument, NULL, 'n' },   { "by", required_argument, NULL, 'b' },
		{ "arenas", required_argument, NULL, 'a' }, { "no-header", no_argument, NULL, 'H' },
		{ "nonblocking", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },         { 0, 0, 0, 0 },
	};
	static const char *const formats[] = { "text", "csv" }, *const bys[] = { "kind", "size" },
			       *const modes[] = { "auto", "symbols", "scan" };
	int c;
	char *end;

	*a = (struct snap_args){ .format = "text", .by = "kind", .limit = 20 };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:o:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': if (parse_choice(optarg, formats, 2, "--format", e) < 0) return -1; a->format = optarg; break;
		case 'o': a->output = optarg; break;
		case 'n':
			a->limit = strtoul(optarg, &end, 10);
			if (*end || !*optarg || optarg[0] == '-')
				return pc_fail(e, PC_EUSAGE, "-n needs a number of rows, not '%s'", optarg);
			break;
		case 'b': if (parse_choice(optarg, bys, 2, "--by", e) < 0) return -1; a->by = optarg; break;
		case 'a': {
			int m = parse_choice(optarg, modes, 3, "--arenas", e);
			if (m < 0)
				return -1;
			a->opts.arenas = (enum arena_mode)m;
			break;
		}
		case 'H': a->no_header = true; break;
		case 'B': a->opts.nonblocking = true; break;
		case 'h': snap_help(stdout); exit(0);
		default:
			return pc_fail(e, PC_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return pc_fail(e, PC_EUSAGE, optind >= argc ? "snap needs a PID" : "snap takes one PID");
	return cli_parse_pid(argv[optind], &a->pid, e);
}

static int write_report(const struct snap_args *a, const struct census *c, struct pc_err *e)
{
	struct partition p;
	FILE *out = output_open(a->output, e);
	int rc;

	if (!out)
		return -1;
	if (strcmp(a->by, "size") == 0)
		partition_by_size_class(c, &p);
	else
		partition_by_kind(c, &p);
	if (strcmp(a->format, "csv") == 0)
		rc = report_csv(out, &p, e);
	else
		rc = report_text(out, c, &p, a->limit, !a->no_header, e);
	partition_release(&p);
	if (rc < 0) {
		output_close(out, NULL);
		return -1;
	}
	return output_close(out, e);
}

int cmd_snap(int argc, char **argv)
{
	struct pc_err e = { 0 };
	struct snap_args a;
	struct census c;
	int rc;

	if (parse_args(argc, argv, &a, &e) < 0)
		return cli_fail(&e);
	census_init(&c);
	rc = snapshot_take(a.pid, &a.opts, &c, &e);
	if (rc == 0)
		rc = write_report(&a, &c, &e);
	census_release(&c);
	return rc < 0 ? cli_fail(&e) : 0;
}
