/* cmd_stacks.c: `pycensus stacks [--native] PID`: where every thread is. */
#include "common/compat.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "cli/target.h"
#include "cli/tree.h"
#include "frames/stacks.h"
#include "source/source.h"
#include "report/output.h"
#include "report/stacks.h"

struct stacks_args {
	int pid;
	const char *target; /* the PID as given, or a dump (cli/target.h) */
	bool native, json;
	bool subprocesses; /* every process of the tree under PID */
	const char *output;
};

static void stacks_help(FILE *out)
{
	fprintf(out,
		"usage: pycensus stacks [options] PID\n"
		"       pycensus stacks [options] DUMP        (a file from 'pycensus dump': the process as it was)\n"
		"\n"
		"Stops process PID briefly and prints, for every thread of its main interpreter, the native\n"
		"thread id, the name the threading module gives it, whether it holds the GIL, and its Python\n"
		"frames (function, file, line), innermost first. CPython 3.8-3.15.\n"
		"\n"
		"options:\n"
		"      --native            also unwind every thread's native stack (libunwind) and merge it:\n"
		"                          each interpreter evaluation frame (_PyEval_EvalFrameDefault) is\n"
		"                          replaced by the Python frames it runs; threads without a Python\n"
		"                          thread state are listed too\n"
		"  -f, --format text|json  output format (default text)\n"
		"  -o, --output FILE       write to FILE instead of standard output\n"
		"      --subprocesses      every process of the tree under PID, one stopped at a time, each\n"
		"                          under a line naming it and its role (text only)\n"
		TARGET_HELP
		"  -h, --help              this help\n"
		"\n"
		"Native frames are named from each file's .symtab, else its .dynsym (stripped builds such as\n"
		"Debian's /usr/bin/python3.11: functions it does not export show as [object] +offset).\n"
		"\n"
		"needs: ptrace permission over PID (same user and kernel.yama.ptrace_scope <= 1 for a child,\n"
		"0 otherwise, or CAP_SYS_PTRACE / root).\n\n");
	cli_print_exit_codes(out);
}

static int parse_args(int argc, char **argv, struct stacks_args *a, struct pc_err *e)
{
	static const struct option longopts[] = {
		{ "native", no_argument, NULL, 'N' }, { "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
		{ "subprocesses", no_argument, NULL, 'T' }, TARGET_LONGOPTS, { 0, 0, 0, 0 },
	};
	int c;

	*a = (struct stacks_args){ 0 };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'N': a->native = true; break;
		case 'f':
			if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0)
				return pc_fail(e, PC_EUSAGE, "--format must be text or json, not '%s'", optarg);
			a->json = strcmp(optarg, "json") == 0;
			break;
		case 'o': a->output = optarg; break;
		case 'T': a->subprocesses = true; break;
		case 'h': stacks_help(stdout); exit(0);
		case TARGET_OPT_EXE: case TARGET_OPT_SYSROOT: target_option(c, optarg); break;
		default:
			return pc_fail(e, PC_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return pc_fail(e, PC_EUSAGE, optind >= argc ? "stacks needs a PID" : "stacks takes one PID");
	if (a->subprocesses && a->json)
		return pc_fail(e, PC_EUSAGE, "--subprocesses prints text; -f json takes one process");
	if (output_check_path(a->output, e) < 0)
		return -1;
	a->target = argv[optind];
	if (target_is_file(a->target)) {
		if (a->native || a->subprocesses)
			return pc_fail(e, PC_EUSAGE, "a dump holds the Python frames of one process: no --native or --subprocesses");
		return 0;
	}
	return cli_parse_pid(argv[optind], &a->pid, e);
}

static int write_report(const struct stacks_args *a, const struct stacks *s, struct pc_err *e)
{
	FILE *out = output_open(a->output, e);
	int rc;

	if (!out)
		return -1;
	rc = a->json ? report_stacks_json(out, s, e) : report_stacks_text(out, s, e);
	if (rc < 0) {
		output_close(out, NULL);
		return -1;
	}
	return output_close(out, e);
}

/* --subprocesses: one process of the tree. */
static int tree_stacks(FILE *out, pid_t pid, void *arg, struct pc_err *pe)
{
	const struct stacks_args *a = arg;
	struct source src;
	struct stacks s;
	int rc = -1;

	stacks_init(&s);
	if (source_open_pid(&src, pid, 0, pe) == 0) {
		rc = stacks_take(&src, a->native, &s, pe);
		source_close(&src);
	}
	if (rc == 0)
		rc = report_stacks_text(out, &s, pe);
	stacks_release(&s);
	return rc;
}

int cmd_stacks(int argc, char **argv)
{
	struct pc_err e = { 0 };
	struct stacks_args a;
	struct target t;
	struct stacks s;
	int rc;

	if (parse_args(argc, argv, &a, &e) < 0)
		return cli_fail(&e);
	if (a.subprocesses)
		return tree_each(a.pid, a.output, tree_stacks, &a, &e) < 0 ? cli_fail(&e) : 0;
	if (target_open(&t, a.target, 0, &e) < 0)
		return cli_fail(&e);
	stacks_init(&s);
	rc = stacks_take(&t.src, a.native, &s, &e);
	snprintf(s.origin, sizeof s.origin, "%s", t.origin);
	if (t.file)
		s.pause_s = t.d.meta.pause_s; /* the dump's own pause: reading the file stops nothing */
	target_close(&t);
	if (rc == 0)
		rc = write_report(&a, &s, &e);
	stacks_release(&s);
	return rc < 0 ? cli_fail(&e) : 0;
}
