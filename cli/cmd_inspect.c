/* cmd_inspect.c: `pycensus inspect PID|FILE`: where memory is wasted and what to change: one census with
 * its object graph (cli/graphtake.h) and the values and containers the inspections need
 * (census/inspect.h), reported by bytes to save (report/inspect.h). */
#include "common/compat.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "cli/graphtake.h"
#include "cli/target.h"
#include "census/inspect.h"
#include "report/inspect.h"
#include "report/output.h"

struct inspect_args {
	const char *target; /* a PID or a file (cli/target.h) */
	const char *output;
	int format; /* 0 text, 1 csv, 2 json */
	bool quiet;
	struct inspect_opts io;
	struct snapshot_opts opts;
};

static void inspect_help(FILE *out)
{
	fprintf(out,
		"usage: pycensus inspect [options] PID\n"
		"       pycensus inspect [options] DUMP   (a file from 'pycensus dump', a capture or a core file)\n"
		"\n"
		"Where memory is wasted, and what to change: takes one census of process PID (or of the\n"
		"process a file holds, as it was then) with its object graph and reports, each with the bytes a fix would save and the path from the roots that\n"
		"holds most of its objects (as 'pycensus why' prints it):\n"
		"  duplicate      equal str and bytes values held as distinct objects (all copies but one\n"
		"                 could go: sys.intern, a cache dict, json.loads' object_hook); found by\n"
		"                 hashing every value in the census, confirmed by reading the copies\n"
		"  slots          classes with many instances that all have the same attributes: their\n"
		"                 bytes now (instance, __dict__, values) and with __slots__ (from the\n"
		"                 layout), and the __slots__ line to paste; classes whose instances differ\n"
		"                 are left out, with the reason\n"
		"  overallocated  lists, dicts and sets whose storage is far above their length\n"
		"  empty, single  empty and one-item lists, dicts and sets, by the kind that holds them\n"
		"  boxed          equal int and float values held as distinct objects\n"
		"  held           objects whose refcount exceeds the references found (held from C)\n"
		"The summary ranks every finding by bytes to save.\n"
		"\n"
		"options:\n"
		"  -n, --top N             findings per inspection (default 10)\n"
		"      --min-instances N   classes with fewer instances are not advised (default 100)\n"
		"  -f, --format text|csv|json\n"
		"                          output format (default text); csv has one row per finding,\n"
		"                          json the inspect document of docs/schema/pycensus.json\n"
		"  -o, --output FILE       write to FILE instead of standard output\n"
		"      --pause copy|census how long the target stays stopped (default copy)\n"
		"      --max-memory SIZE|none  the most memory the copy of the arenas may take (default\n"
		"                          256M; see 'pycensus snap --help'), and when given, the\n"
		"                          most the object graph may take (48 bytes per object, 8 per\n"
		"                          reference; else the memory left): past it, exit 20\n"
		"  -q, --quiet             no progress on the terminal\n"
		TARGET_HELP
		"  -h, --help              this help\n"
		"\n"
		"needs: ptrace permission over PID, as 'pycensus snap'; a file, only to be readable.\n\n");
	cli_print_exit_codes(out);
}

static int parse_args(int argc, char **argv, struct inspect_args *a, struct pc_err *e)
{
	static const struct option longopts[] = {
		{ "top", required_argument, NULL, 'n' }, { "min-instances", required_argument, NULL, 'm' },
		{ "format", required_argument, NULL, 'f' }, { "output", required_argument, NULL, 'o' },
		{ "pause", required_argument, NULL, 'P' }, { "max-memory", required_argument, NULL, 'Y' }, { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' }, TARGET_LONGOPTS, { 0, 0, 0, 0 },
	};
	static const char *const formats[] = { "text", "csv", "json" };
	unsigned long k;
	int c, f;

	*a = (struct inspect_args){ .io = { .top = 10, .min_instances = 100 } };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+n:f:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_count(optarg, "--top", "findings", &k, e) < 0)
				return -1;
			a->io.top = k;
			break;
		case 'm':
			if (cli_parse_count(optarg, "--min-instances", "instances", &k, e) < 0)
				return -1;
			a->io.min_instances = k;
			break;
		case 'f':
			if ((f = cli_parse_choice(optarg, formats, 3, "--format", e)) < 0)
				return -1;
			a->format = f;
			break;
		case 'o': a->output = optarg; break;
		case 'P': if (cli_parse_pause(optarg, &a->opts.pause, e) < 0) return -1; break;
		case 'Y': if (cli_parse_memory(optarg, &a->opts.max_memory, e) < 0) return -1; break;
		case 'q': a->quiet = true; break;
		case 'h': inspect_help(stdout); exit(0);
		case TARGET_OPT_EXE: case TARGET_OPT_SYSROOT: target_option(c, optarg); break;
		default:
			return pc_fail(e, PC_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return pc_fail(e, PC_EUSAGE, optind >= argc ? "inspect needs a PID or a file" : "inspect takes one PID or file");
	if (output_check_path(a->output, e) < 0)
		return -1;
	a->target = argv[optind];
	return 0;
}

static int write_report(const struct inspect_args *a, const struct graph_take *gt, const struct inspection *r,
			struct pc_err *e)
{
	FILE *out = output_open(a->output, e);
	int rc;

	if (!out)
		return -1;
	if (a->format == 1)
		rc = report_inspect_csv(out, &gt->c, r, e);
	else if (a->format == 2)
		rc = report_inspect_json(out, &gt->c, &gt->og, r, &a->io, e);
	else
		rc = report_inspect_text(out, &gt->c, &gt->og, r, &a->io, e);
	return rc < 0 ? (output_close(out, NULL), -1) : output_close(out, e);
}

/* The inspections, then their holder paths. Retained bytes order a path's steps, which decides a
 * main path only where objects through tie on it (5 findings on Sphinx): only then are they
 * computed, for those findings' sampled objects alone, and the tied findings merged again. */
static void inspect_all(const struct inspect_args *a, struct pyproc *p, struct graph_take *gt, struct inspect_scan *scan,
			struct inspection *r)
{
	uint64_t *retained;

	progress_phase(&gt->pr, "inspecting");
	inspect_run(p, &gt->c, &gt->og, scan, &a->io, r);
	if (inspect_paths(p, &gt->c, &gt->og, NULL, r)) {
		if (!(retained = inspect_sample_retained(&gt->og, r))) {
			graph_take_dominators(gt);
			retained = gt->ret_bytes;
		}
		inspect_paths(p, &gt->c, &gt->og, retained, r);
		if (retained != gt->ret_bytes)
			free(retained);
	}
	progress_phase(&gt->pr, NULL);
}

int cmd_inspect(int argc, char **argv)
{
	struct pc_err e = { 0 };
	struct inspect_args a;
	struct graph_take gt = { 0 };
	struct inspect_scan scan = { 0 };
	struct inspection r = { 0 };
	struct copybuf copy = { 0 };
	struct pyproc *p;
	int rc;

	if (parse_args(argc, argv, &a, &e) < 0)
		return cli_fail(&e);
	a.opts.inspect = &scan;
	/* the values, attribute names and labels the inspections read lie mostly in the arenas: read
	 * from the census's copy they cost no syscall each, and are the values the census hashed */
	a.opts.hold_copy = &copy;
	rc = graph_take_census(a.target, &a.opts, a.quiet, &gt, &e);
	if (rc == 0 && !(p = graph_take_reader(&gt))) {
		progress_phase(&gt.pr, NULL);
		rc = pc_fail(&e, PC_EEXITED, "the process exited before its values were read");
	}
	if (rc == 0) {
		copybuf_serve(&copy, &p->mem);
		inspect_all(&a, p, &gt, &scan, &r);
		rc = write_report(&a, &gt, &r, &e);
	}
	inspection_release(&r);
	inspect_scan_release(&scan);
	graph_take_release(&gt);
	copybuf_release(&copy);
	return rc < 0 ? cli_fail(&e) : 0;
}
