/* cmd_dump.c: `pycensus dump PID -o FILE`: a heap dump. One census of PID, as snap takes it (the
 * same pause), whose reads are streamed compressed to FILE (source/dump.h); snap, why, retained,
 * stacks and stats then analyse FILE as they would the process, on any machine. */
#include "common/compat.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "cli/progress.h"
#include "cli/tree.h"
#include "model/census.h"
#include "census/dumpsave.h"
#include "census/snapshot.h"
#include "frames/stacks.h"
#include "report/units.h"
#include "source/source.h"

struct dump_args {
	int pid;
	const char *output;
	bool quiet;
	bool subprocesses;  /* every Python process of the tree under PID, a file each */
	struct census_dump d;
	struct snapshot_opts opts;
};

static void dump_help(FILE *out)
{
	fprintf(out,
		"usage: pycensus dump [options] -o FILE PID\n"
		"\n"
		"A heap dump: takes one census of process PID as 'snap' does (the same pause: the target\n"
		"resumes once its arenas are copied) and writes what it read to FILE, zstd-compressed: the\n"
		"used part of every pymalloc pool, the objects outside pymalloc, the types, the interpreter and\n"
		"thread states with their Python frames, the maps, and the build's identity (version,\n"
		"build-id, _PyRuntime, _Py_DebugOffsets), with the PID, host and time. Free blocks are\n"
		"left out, so the file is smaller than the heap. Then, anywhere, later:\n"
		"  pycensus snap FILE, why --kind KIND FILE, retained FILE, stacks FILE, stats FILE\n"
		"print what they would have printed of the process then. The format: docs/dump-format.md.\n"
		"The file holds the process's heap (its strings, its data): share it as you would the data.\n"
		"\n"
		"options:\n"
		"  -o, --output FILE       the dump (needed; .pcheap by convention)\n"
		"  -l, --level N           zstd level, 1 (fastest) to 19 (smallest); default 3\n"
		"      --arenas auto|symbols|scan\n"
		"                          how to find pymalloc's arenas (as for snap)\n");
	fputs(cli_pause_help, out);
	fputs(cli_memory_help, out);
	fprintf(out,
		"      --subprocesses      every Python process of the tree under PID, one stopped at a time,\n"
		"                          each to a file of its own: FILE with .PID before its extension\n"
		"                          (app.pcheap: app.1234.pcheap, app.1240.pcheap, ...); a line per\n"
		"                          process on stdout, and the skipped ones with the reason\n"
		"  -q, --quiet             no progress on stderr\n"
		"  -h, --help              this help\n"
		"\n"
		"needs: ptrace permission over PID, as 'pycensus snap'.\n\n");
	cli_print_exit_codes(out);
}

static int parse_args(int argc, char **argv, struct dump_args *a, struct pc_err *e)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' }, { "level", required_argument, NULL, 'l' },
		{ "arenas", required_argument, NULL, 'a' }, { "pause", required_argument, NULL, 'P' }, { "max-memory", required_argument, NULL, 'Y' },
		{ "quiet", no_argument, NULL, 'q' },        { "help", no_argument, NULL, 'h' },
		{ "subprocesses", no_argument, NULL, 'T' }, { 0, 0, 0, 0 },
	};
	unsigned long level = 3;
	int c;

	*a = (struct dump_args){ 0 };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:l:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': a->output = optarg; break;
		case 'l':
			if (cli_parse_count(optarg, "--level", "levels", &level, e) < 0)
				return -1;
			if (level > 19)
				return pc_fail(e, PC_EUSAGE, "--level goes from 1 to 19, not %lu", level);
			break;
		case 'a': if (cli_parse_arenas(optarg, &a->opts.arenas, e) < 0) return -1; break;
		case 'P': if (cli_parse_pause(optarg, &a->opts.pause, e) < 0) return -1; break;
		case 'Y': if (cli_parse_memory(optarg, &a->opts.max_memory, e) < 0) return -1; break;
		case 'q': a->quiet = true; break;
		case 'T': a->subprocesses = true; break;
		case 'h': dump_help(stdout); exit(0);
		default: return pc_fail(e, PC_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return pc_fail(e, PC_EUSAGE, optind >= argc ? "dump needs a PID" : "dump takes one PID");
	if (!a->output || strcmp(a->output, "-") == 0)
		return pc_fail(e, PC_EUSAGE, "dump needs -o FILE (a file it can seek in: the table of contents is written last)");
	a->d.level = (int)level;
	return cli_parse_pid(argv[optind], &a->pid, e);
}

/* dump_progress_fn: the share of the regions written, on the census's progress line. */
static void write_progress(void *arg, uint64_t done, uint64_t total)
{
	char phase[64];

	snprintf(phase, sizeof phase, "writing the dump: %.0f%%", total ? 100.0 * (double)done / (double)total : 100.0);
	progress_phase(arg, phase);
}

/* One process to path; the one-line account to msg. */
static int dump_one(struct dump_args *a, pid_t pid, const char *path, FILE *msg, struct pc_err *e)
{
	struct progress prog;
	struct source src;
	struct stacks st;
	struct census c;
	char wrote[32], heap[32];
	int rc;

	if (source_open_pid(&src, pid, 0, e) < 0)
		return -1;
	progress_init(&prog, a->quiet, pid);
	a->d = (struct census_dump){ .level = a->d.level, .path = path, .writer = cli_version, .progress = write_progress,
				     .progress_arg = &prog };
	a->opts.dump = &a->d;
	a->opts.progress = progress_phase;
	a->opts.progress_arg = &prog;
	stacks_init(&st);
	a->opts.stacks = &st; /* the frames are read in the stop, so they are in the dump */
	/* no object graph: building it reads nothing the census has not (measured: why and retained
	 * of a dump equal the live ones), and would double the dump's time and memory */
	census_init(&c);
	rc = snapshot_take(&src, &a->opts, &c, e);
	source_close(&src);
	if (rc == 0) {
		report_bytes(wrote, sizeof wrote, a->d.out.file_bytes);
		report_bytes(heap, sizeof heap, c.arena_bytes);
		fprintf(msg, "pycensus: dumped pid %d to %s: %s (%llu objects; %s of arenas; %.1f MiB before "
			"compression); pause %.3f s", (int)pid, path, wrote, (unsigned long long)c.nobjects, heap,
			(double)a->d.out.raw_bytes / (1 << 20), c.pause_s);
		if (c.stream_windows) /* the pause covered reading, walking and compressing every window */
			fprintf(msg, " (arenas streamed in %u windows: over --max-memory; 'none' copies them at once)",
				c.stream_windows);
		fputc('\n', msg);
	}
	stacks_release(&st);
	census_release(&c);
	return rc;
}

/* --subprocesses: app.pcheap -> app.PID.pcheap (app -> app.PID). */
static void path_for(const char *output, pid_t pid, char *buf, size_t len)
{
	const char *slash = strrchr(output, '/'), *dot = strrchr(output, '.');

	if (!dot || (slash && dot < slash) || dot == (slash ? slash + 1 : output))
		snprintf(buf, len, "%s.%d", output, (int)pid);
	else
		snprintf(buf, len, "%.*s.%d%s", (int)(dot - output), output, (int)pid, dot);
}

static int tree_dump(FILE *out, pid_t pid, void *arg, struct pc_err *pe)
{
	char path[4096];

	path_for(((struct dump_args *)arg)->output, pid, path, sizeof path);
	return dump_one(arg, pid, path, out, pe);
}

int cmd_dump(int argc, char **argv)
{
	struct pc_err e = { 0 };
	struct dump_args a;

	if (parse_args(argc, argv, &a, &e) < 0)
		return cli_fail(&e);
	if (a.subprocesses)
		return tree_each(a.pid, NULL, tree_dump, &a, &e) < 0 ? cli_fail(&e) : 0;
	return dump_one(&a, a.pid, a.output, stderr, &e) < 0 ? cli_fail(&e) : 0;
}
