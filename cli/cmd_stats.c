/* cmd_stats.c: `pycensus stats PID`: pymalloc's accounting (as sys._debugmallocstats() prints it)
 * with fragmentation, the GC's state and the process's memory, as text, CSV, JSON or HTML. */
#include "common/compat.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "cli/target.h"
#include "cli/tree.h"
#include "stats/stats.h"
#include "source/source.h"
#include "report/output.h"
#include "report/html.h"
#include "report/stats.h"

struct stats_args {
	int pid;
	const char *target; /* the PID as given, or a dump (cli/target.h) */
	int format; /* index into formats */
	const char *output;
	bool subprocesses; /* every process of the tree under PID */
	struct stats_opts opts;
};

static const char *const formats[] = { "text", "csv", "json", "html" };

static void stats_help(FILE *out)
{
	fprintf(out,
		"usage: pycensus stats [options] PID\n"
		"       pycensus stats [options] DUMP        (a file from 'pycensus dump': the process as it was)\n"
		"\n"
		"Stops process PID while it copies pymalloc's arenas and reads the GC state and /proc, resumes\n"
		"it, and prints:\n"
		"  pymalloc       what sys._debugmallocstats() prints: per size class the pools, blocks in use\n"
		"                 and available blocks; arenas allocated in total, reclaimed, highwater and\n"
		"                 current; bytes in allocated and available blocks, unused pools, pool headers,\n"
		"                 quantization and arena alignment. On a stripped build (no symbol table,\n"
		"                 e.g. Debian's /usr/bin/python3.11) the arena counters are file statics that\n"
		"                 cannot be found, and the scan that finds the arenas does not tell their\n"
		"                 alignment: those figures are printed as 'unavailable' with the reason.\n"
		"  fragmentation  pinned arenas: arenas holding at least one live block whose live blocks fill\n"
		"                 at most %d%% of the arena (bytes in allocated blocks <= ARENA_SIZE * %d / 100).\n"
		"                 pymalloc returns an arena to the OS only when all its pools are empty, so\n"
		"                 these few blocks keep the whole arena mapped. Also: their bytes, the live\n"
		"                 blocks pinning them, and arenas without any live block.\n"
		"  gc             per generation gc.get_count(), gc.get_threshold() and gc.get_stats()\n"
		"                 (collections, collected, uncollectable); gc.isenabled(); whether a\n"
		"                 collection is running; gc.get_freeze_count() (the permanent generation).\n"
		"  memory         VmRSS, VmHWM, RssAnon, RssFile, RssShmem (/proc/PID/status); Pss, Uss\n"
		"                 (Private_Clean + Private_Dirty), Swap (smaps_rollup); the resident set split\n"
		"                 into pymalloc arenas (pagemap), other anonymous memory, file-backed.\n"
		"\n"
		"options:\n"
		"  -f, --format text|csv|json|html\n"
		"                              output format (default text; csv is metric,value rows; html\n"
		"                              a page with the size classes and arenas as bar charts)\n"
		"  -o, --output FILE           write to FILE instead of standard output\n"
		"      --arenas auto|symbols|scan\n"
		"                              how to find pymalloc's arenas (see 'pycensus snap --help')\n"
		"      --max-memory SIZE|none  the most memory the copy of the arenas may take (default 256M):\n"
		"                              larger ones are tallied a window at a time, the target stopped\n"
		"      --subprocesses          every process of the tree under PID, one stopped at a time,\n"
		"                              each under a line naming it and its role (text only)\n"
		TARGET_HELP
		"  -h, --help                  this help\n"
		"\n"
		"needs: ptrace permission over PID (as for snap).\n\n",
		MALLOCSTATS_PINNED_PERCENT, MALLOCSTATS_PINNED_PERCENT);
	cli_print_exit_codes(out);
}

static int parse_args(int argc, char **argv, struct stats_args *a, struct pc_err *e)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' }, { "output", required_argument, NULL, 'o' },
		{ "arenas", required_argument, NULL, 'a' }, { "help", no_argument, NULL, 'h' },
		{ "subprocesses", no_argument, NULL, 'T' }, { "max-memory", required_argument, NULL, 'Y' },
		TARGET_LONGOPTS, { 0, 0, 0, 0 },
	};
	static const char *const modes[] = { "auto", "symbols", "scan" };
	int c, m;

	*a = (struct stats_args){ .format = 0 };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if ((a->format = cli_parse_choice(optarg, formats, 4, "--format", e)) < 0)
				return -1;
			break;
		case 'o': a->output = optarg; break;
		case 'T': a->subprocesses = true; break;
		case 'Y': if (cli_parse_memory(optarg, &a->opts.max_memory, e) < 0) return -1; break;
		case 'a':
			if ((m = cli_parse_choice(optarg, modes, 3, "--arenas", e)) < 0)
				return -1;
			a->opts.arenas = (enum arena_mode)m;
			break;
		case 'h': stats_help(stdout); exit(0);
		case TARGET_OPT_EXE: case TARGET_OPT_SYSROOT: target_option(c, optarg); break;
		default:
			return pc_fail(e, PC_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return pc_fail(e, PC_EUSAGE, optind >= argc ? "stats needs a PID" : "stats takes one PID");
	if (a->subprocesses && a->format != 0)
		return pc_fail(e, PC_EUSAGE, "--subprocesses prints text; -f csv, json and html take one process");
	if (strcmp(formats[a->format], "html") == 0 && cli_check_html_output(a->output, e) < 0)
		return -1;
	if (output_check_path(a->output, e) < 0)
		return -1;
	a->target = argv[optind];
	if (target_is_file(a->target)) {
		if (a->subprocesses)
			return pc_fail(e, PC_EUSAGE, "a dump holds one process: no --subprocesses");
		return 0;
	}
	return cli_parse_pid(argv[optind], &a->pid, e);
}

static int write_report(const struct stats_args *a, const struct stats *st, struct pc_err *e)
{
	static int (*const writers[])(FILE *, const struct stats *, struct pc_err *) = {
		report_stats_text, report_stats_csv, report_stats_json, report_stats_html,
	};
	FILE *out = output_open(a->output, e);

	if (!out)
		return -1;
	if (writers[a->format](out, st, e) < 0) {
		output_close(out, NULL);
		return -1;
	}
	return output_close(out, e);
}

/* --subprocesses: one process of the tree. */
static int tree_stats(FILE *out, pid_t pid, void *arg, struct pc_err *pe)
{
	struct stats_args *a = arg;
	struct source src;
	struct stats st;
	int rc = -1;

	stats_init(&st);
	if (source_open_pid(&src, pid, 0, pe) == 0) {
		rc = stats_take(&src, &a->opts, &st, pe);
		source_close(&src);
	}
	if (rc == 0)
		rc = report_stats_text(out, &st, pe);
	stats_release(&st);
	return rc;
}

int cmd_stats(int argc, char **argv)
{
	struct pc_err e = { 0 };
	struct stats_args a;
	struct target t;
	struct stats st;
	int rc;

	if (parse_args(argc, argv, &a, &e) < 0)
		return cli_fail(&e);
	if (a.subprocesses)
		return tree_each(a.pid, a.output, tree_stats, &a, &e) < 0 ? cli_fail(&e) : 0;
	if (target_open(&t, a.target, 0, &e) < 0)
		return cli_fail(&e);
	stats_init(&st);
	rc = stats_take(&t.src, &a.opts, &st, &e);
	target_note(&t, &st.meta);
	target_close(&t);
	if (rc == 0)
		rc = write_report(&a, &st, &e);
	stats_release(&st);
	return rc < 0 ? cli_fail(&e) : 0;
}
