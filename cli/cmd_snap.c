/* cmd_snap.c: `pycensus snap PID`: one census, printed as guppy3's partition, CSV or pprof. */
#include "common/compat.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "attach/procfs.h"
#include "attach/stop.h"
#include "cli/commands.h"
#include "cli/pace.h"
#include "cli/sampling.h"
#include "cli/target.h"
#include "cli/tree.h"
#include "model/census.h"
#include "census/snapshot.h"
#include "report/csv.h"
#include "report/html.h"
#include "report/json_docs.h"
#include "report/output.h"
#include "report/partition.h"
#include "report/pprof.h"
#include "report/stacks.h"
#include "report/text.h"
#include "report/tree.h"

struct snap_args {
	int pid;
	const char *file;  /* a dump (or captured image) instead of a PID: cli/target.h */
	const char *format, *output, *by;
	size_t limit;
	bool no_header, quiet, stacks;
	bool subprocesses; /* the process tree under PID, each process in turn */
	bool nonblocking;  /* read while the target runs (no ptrace stop) */
	double interval;   /* -i: > 0 samples repeatedly */
	double budget;     /* --max-overhead, a fraction (cli/pace.h) */
	bool budget_set;
	int64_t taken_ns;  /* -f pprof's time_nanos: the wall clock as the census began */
	unsigned long count; /* -c: samples to take (0: until interrupted or the process ends) */
	struct snapshot_opts opts;
};

static void snap_help(FILE *out)
{
	fprintf(out,
		"usage: pycensus snap [options] PID\n"
		"       pycensus snap [options] DUMP        (a file from 'pycensus dump': the process as it was)\n"
		"\n"
		"Stops process PID briefly, copies its pymalloc arenas, resumes it, finds every object in the\n"
		"copies and those outside pymalloc, and prints how many objects of each kind live in its heap\n"
		"and their size (sys.getsizeof semantics), largest first, in guppy3's partition layout.\n"
		"\n"
		"options:\n"
		"  -f, --format text|csv|json|html|pprof\n"
		"                          output format (default text; csv and json have every row; with -i a\n"
		"                          time series as for 'pycensus run'; html: a self-contained page with a\n"
		"                          sortable, searchable table and an icicle of bytes by module -> type\n"
		"                          -> kind (with -i: the largest kinds over time), for -o FILE; pprof: a gzipped profile.proto for go tool\n"
		"                          pprof, Pyroscope, Parca, a sample per kind with the stack module ->\n"
		"                          kind; needs -o or a pipe)\n"
		"  -o, --output FILE       write to FILE instead of standard output\n"
		"  -n, --rows N            text rows to show (default 20; 0 shows all)\n"
		"      --by kind|type|module|size\n"
		"                          partition by kind (default: guppy3's, instance dicts as 'dict of X'),\n"
		"                          by type (every dict is 'dict'), by the module that defines each type,\n"
		"                          or by pymalloc size class (allocated blocks per block size, as\n"
		"                          sys._debugmallocstats counts them)\n"
		"      --size getsizeof|alloc\n"
		"                          what Size means: sys.getsizeof of each object (default), or its\n"
		"                          allocator footprint: its pymalloc block (or malloc request) plus the\n"
		"                          buffers it owns (list items, dict keys and values, set table, str\n"
		"                          UTF-8 copy, bytearray buffer); static objects count 0 bytes, and\n"
		"                          pymalloc blocks no object claims get a row of their own\n"
		"      --arenas auto|symbols|scan\n"
		"                          how to find pymalloc's arenas: the arena table (needs symbols,\n"
		"                          absent from stripped builds), a scan of anonymous memory for pool\n"
		"                          headers, or the table when available and the scan otherwise (default)\n"
		"      --nonblocking       read while the target runs, never stopping it: the census can meet\n"
		"                          structures mid-update; it skips them and says how many (a warning)\n");
	fputs(cli_pause_help, out);
	fputs(cli_memory_help, out);
	fprintf(out,
		"      --no-header         text: print the partition only\n"
		"      --stacks            text: add every thread's Python frames at the moment of the census\n"
		"                          (as 'pycensus stacks' prints them)\n"
		"      --subprocesses      the process tree under PID too (gunicorn workers, multiprocessing\n"
		"                          pools, Celery): each process censused in turn (one stopped at a\n"
		"                          time), a line each (role, objects, bytes; non-Python and\n"
		"                          untraceable ones named with the reason) and the kinds summed;\n"
		"                          csv: every process's rows and the sum's, with a process column\n"
		"  -i, --interval SECONDS  sample every SECONDS until -c samples, Ctrl-C or the process ends:\n"
		"                          a time series, reported as for 'pycensus run' (csv: written as\n"
		"                          samples are taken; text: final partition and what grew most)\n"
		"  -c, --count N           with -i: stop after N samples\n");
	fputs(pace_help, out);
	fprintf(out,
		"  -q, --quiet             no progress on stderr\n"
		TARGET_HELP
		"  -h, --help              this help\n"
		"\n"
		"needs: ptrace permission over PID (same user and kernel.yama.ptrace_scope <= 1 for a child,\n"
		"0 otherwise, or CAP_SYS_PTRACE / root).\n"
		"\n"
		"Exit 15 (partial): the report was written, but the census dropped objects that changed while\n"
		"read or failed validation (with -i: in any sample); its warnings, and in CSV its '# dropped'\n"
		"lines, name their kinds and counts.\n\n");
	cli_print_exit_codes(out);
}

/* The wall clock in ns since the epoch: when a census began, for -f pprof's time_nanos. */
static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* -f pprof: one census by kind (its stacks are module -> kind), a binary file never sent to a
 * terminal. */
static int check_pprof(const struct snap_args *a, struct pc_err *e)
{
	if (a->interval > 0)
		return pc_fail(e, PC_EUSAGE, "-f pprof is one census: no -i (use -f csv or json for a series)");
	if (strcmp(a->by, "kind") != 0)
		return pc_fail(e, PC_EUSAGE, "-f pprof is by kind under its module (pprof -top -cum sums the modules): no --by");
	if ((!a->output || strcmp(a->output, "-") == 0) && isatty(STDOUT_FILENO))
		return pc_fail(e, PC_EUSAGE, "-f pprof writes a gzipped binary profile: give -o FILE (e.g. -o heap.pb.gz) or a pipe, not a terminal");
	return 0;
}

static int parse_args(int argc, char **argv, struct snap_args *a, struct pc_err *e)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' }, { "output", required_argument, NULL, 'o' },
		{ "rows", required_argument, NULL, 'n' },   { "by", required_argument, NULL, 'b' },
		{ "arenas", required_argument, NULL, 'a' }, { "no-header", no_argument, NULL, 'H' },
		{ "stacks", no_argument, NULL, 'S' },       { "nonblocking", no_argument, NULL, 'B' },
		{ "size", required_argument, NULL, 's' },   { "help", no_argument, NULL, 'h' },
		{ "interval", required_argument, NULL, 'i' }, { "count", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },        { "pause", required_argument, NULL, 'P' },
		{ "subprocesses", no_argument, NULL, 'T' }, { "max-overhead", required_argument, NULL, 'M' },
		{ "max-memory", required_argument, NULL, 'Y' }, TARGET_LONGOPTS, { 0, 0, 0, 0 },
	};
	static const char *const formats[] = { "text", "csv", "json", "pprof", "html" }, *const bys[] = { "kind", "type", "module", "size" },
			       *const sizes[] = { "getsizeof", "alloc" },
			       *const modes[] = { "auto", "symbols", "scan" };
	int c;

	*a = (struct snap_args){ .format = "text", .by = "kind", .limit = 20, .budget = PACE_DEFAULT_BUDGET };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:o:n:hi:c:q", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': if (cli_parse_choice(optarg, formats, 5, "--format", e) < 0) return -1; a->format = optarg; break;
		case 'i': if (cli_parse_interval(optarg, &a->interval, e) < 0) return -1; break;
		case 'c': if (cli_parse_count(optarg, "-c", "samples", &a->count, e) < 0) return -1; break;
		case 'M': if (pace_parse(optarg, &a->budget, e) < 0) return -1; a->budget_set = true; break;
		case 'q': a->quiet = true; break;
		case 'o': a->output = optarg; break;
		case 'n': if (cli_parse_rows(optarg, &a->limit, e) < 0) return -1; break;
		case 'b': if (cli_parse_choice(optarg, bys, 4, "--by", e) < 0) return -1; a->by = optarg; break;
		case 's': {
			int m = cli_parse_choice(optarg, sizes, 2, "--size", e);
			if (m < 0)
				return -1;
			a->opts.size_alloc = m == 1;
			break;
		}
		case 'a': {
			int m = cli_parse_choice(optarg, modes, 3, "--arenas", e);
			if (m < 0)
				return -1;
			a->opts.arenas = (enum arena_mode)m;
			break;
		}
		case 'H': a->no_header = true; break;
		case 'S': a->stacks = true; break;
		case 'T': a->subprocesses = true; break;
		case 'B': a->nonblocking = true; break;
		case 'P': if (cli_parse_pause(optarg, &a->opts.pause, e) < 0) return -1; break;
		case 'Y': if (cli_parse_memory(optarg, &a->opts.max_memory, e) < 0) return -1; break;
		case 'h': snap_help(stdout); exit(0);
		case TARGET_OPT_EXE: case TARGET_OPT_SYSROOT: target_option(c, optarg); break;
		default:
			return pc_fail(e, PC_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return pc_fail(e, PC_EUSAGE, optind >= argc ? "snap needs a PID" : "snap takes one PID");
	if (a->stacks && (strcmp(a->format, "text") != 0 || a->interval > 0))
		return pc_fail(e, PC_EUSAGE, "--stacks goes with one census in the text format (use 'pycensus stacks -f json' for data)");
	if (a->subprocesses && (a->stacks || a->interval > 0))
		return pc_fail(e, PC_EUSAGE, "--subprocesses takes one census of the tree: no --stacks or -i (use 'pycensus run --subprocesses' for a series)");
	if (a->subprocesses && (strcmp(a->format, "json") == 0 || strcmp(a->format, "html") == 0))
		return pc_fail(e, PC_EUSAGE, "--subprocesses writes text, csv or pprof; -f %s takes one process", a->format);
	if (strcmp(a->format, "pprof") == 0 && check_pprof(a, e) < 0)
		return -1;
	if (strcmp(a->format, "html") == 0 && (!a->output || strcmp(a->output, "-") == 0) && isatty(STDOUT_FILENO))
		return pc_fail(e, PC_EUSAGE, "-f html writes a page for a browser: give -o FILE (e.g. -o report.html)");
	if ((a->count || a->budget_set) && a->interval == 0)
		return pc_fail(e, PC_EUSAGE, "%s needs -i SECONDS", a->count ? "-c" : "--max-overhead");
	if (output_check_path(a->output, e) < 0)
		return -1;
	if (target_is_file(argv[optind])) {
		a->file = argv[optind];
		if (a->interval > 0 || a->subprocesses || a->nonblocking || a->stacks)
			return pc_fail(e, PC_EUSAGE, "a dump is one moment of one process: no -i, --subprocesses, --nonblocking or "
				       "--stacks (use 'pycensus stacks %s')", a->file);
		return 0;
	}
	return cli_parse_pid(argv[optind], &a->pid, e);
}

static partition_fn partition_of(const char *by)
{
	if (strcmp(by, "size") == 0)
		return partition_by_size_class;
	if (strcmp(by, "type") == 0)
		return partition_by_type;
	if (strcmp(by, "module") == 0)
		return partition_by_module;
	return partition_by_kind;
}

static int write_report(const struct snap_args *a, const struct census *c, const struct stacks *st, struct pc_err *e)
{
	struct partition p;
	FILE *out = output_open(a->output, e);
	int rc;

	if (!out)
		return -1;
	if (strcmp(a->format, "text") == 0) /* only the rows shown are sorted */
		partition_top(partition_of(a->by), c, &p, a->limit);
	else
		partition_of(a->by)(c, &p);
	if (strcmp(a->format, "csv") == 0)
		rc = report_csv(out, c, &p, e);
	else if (strcmp(a->format, "pprof") == 0)
		rc = report_pprof(out, c, cli_version, a->taken_ns, e);
	else if (strcmp(a->format, "json") == 0)
		rc = report_snap_json(out, c, &p, a->by, e);
	else if (strcmp(a->format, "html") == 0)
		rc = report_html_snap(out, c, &p, a->by, e);
	else
		rc = report_text(out, c, &p, a->limit, !a->no_header, e);
	if (rc == 0 && st) {
		fputs("\nThreads at the moment of the census:\n", out);
		rc = report_stacks_text(out, st, e);
	}
	partition_release(&p);
	if (rc < 0) {
		output_close(out, NULL);
		return -1;
	}
	return output_close(out, e);
}

/* --subprocesses: the tree under PID, one process at a time. */
static int snap_tree(struct snap_args *a, struct pc_err *e)
{
	struct tree t;
	FILE *out;
	int rc;

	tree_init(&t, a->pid);
	a->taken_ns = wall_ns();
	rc = tree_take(a->pid, &a->opts, a->nonblocking ? SOURCE_NONBLOCKING : 0, &t, e);
	if (rc == 0 && (out = output_open(a->output, e))) {
		if (strcmp(a->format, "csv") == 0)
			rc = report_tree_csv(out, &t, partition_of(a->by), e);
		else if (strcmp(a->format, "pprof") == 0)
			rc = report_tree_pprof(out, &t, cli_version, a->taken_ns, e);
		else
			rc = report_tree_text(out, &t, partition_of(a->by), a->limit, e);
		rc = rc < 0 ? (output_close(out, NULL), -1) : output_close(out, e);
	} else if (rc == 0) {
		rc = -1;
	}
	if (rc == 0 && t.partial) /* written, but some process's census dropped objects: exit 15 */
		rc = pc_fail(e, PC_EPARTIAL, "the censuses of %zu of the %zu processes dropped objects", t.partial,
			     t.censused);
	tree_release(&t);
	return rc;
}

/* One census of the PID (or the dump). */
static int take(struct snap_args *a, struct census *c, struct pc_err *e)
{
	struct target t;
	char pid[24];
	int rc;

	snprintf(pid, sizeof pid, "%d", a->pid);
	if (target_open(&t, a->file ? a->file : pid, a->nonblocking ? SOURCE_NONBLOCKING : 0, e) < 0)
		return -1;
	rc = snapshot_take(&t.src, &a->opts, c, e);
	target_note(&t, c);
	target_close(&t);
	return rc;
}

/* Sleeps until `when` (monotonic); false when a signal asked to stop. */
static bool sleep_until(double when, volatile sig_atomic_t *stop)
{
	while (!*stop) {
		double left = when - mono_now();
		struct timespec ts;

		if (left <= 0)
			return true;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if (nanosleep(&ts, NULL) == 0)
			return !*stop;
	}
	return false;
}

/* Sleeps until the next sample is due (cli/pace.h: later when the heap grew); false when a signal
 * asked to stop. */
static bool wait_due(struct pace *p, pid_t pid, volatile sig_atomic_t *stop)
{
	while (sleep_until(p->next, stop))
		if (pace_due(p, mono_now(), proc_rss(pid)))
			return true;
	return false;
}

/* -i: censuses every interval into a time series, until -c samples, a signal, or the end. */
static int sample_loop(struct snap_args *a, struct pc_err *e)
{
	static volatile sig_atomic_t stop;
	struct pace pace = { .interval = a->interval, .budget = a->budget, .next = mono_now() };
	struct sampling sm = { .format = a->format, .output = a->output, .limit = a->limit, .partial_fails = true,
			       .pace = &pace };
	struct copybuf keep = { 0 };
	int rc = 0;

	progress_init(&sm.prog, a->quiet, a->pid);
	a->opts.progress = progress_phase;
	a->opts.progress_arg = &sm.prog;
	a->opts.keep_copy = &keep;
	stop_on_interrupt(&stop);
	if (sampling_begin(&sm, e) < 0) {
		sampling_release(&sm);
		return -1;
	}
	for (unsigned long k = 0; !a->count || k < a->count; k++) {
		struct census c;

		if (k && !wait_due(&pace, a->pid, &stop))
			break;
		census_init(&c);
		rc = take(a, &c, e);
		if (stop) { /* the target was resumed in the middle of this census: keep what came before */
			census_release(&c);
			pc_err_clear(e);
			rc = 0;
			break;
		}
		if (rc == 0)
			rc = sampling_add(&sm, &c, mono_now() - c.wall_s, proc_rss(a->pid), false, e);
		census_release(&c);
		/* the process ending is the end of the series, not a failure, once there are samples */
		if (rc < 0 && sm.s.n && (e->code == PC_EEXITED || e->code == PC_ENOPROC)) {
			pc_err_clear(e);
			rc = 0;
			stop = 1;
		}
		if (rc < 0 || stop)
			break;
	}
	if (rc == 0)
		rc = sampling_end(&sm, e);
	sampling_release(&sm);
	copybuf_release(&keep);
	stop_on_interrupt(NULL);
	return rc;
}

int cmd_snap(int argc, char **argv)
{
	struct pc_err e = { 0 };
	struct snap_args a;
	struct census c;
	struct stacks st;
	struct progress prog;
	int rc;

	if (parse_args(argc, argv, &a, &e) < 0)
		return cli_fail(&e);
	if (a.interval > 0)
		return sample_loop(&a, &e) < 0 ? cli_fail(&e) : 0;
	if (a.subprocesses)
		return snap_tree(&a, &e) < 0 ? cli_fail(&e) : 0;
	progress_init(&prog, a.quiet, a.pid);
	a.opts.progress = progress_phase;
	a.opts.progress_arg = &prog;
	census_init(&c);
	stacks_init(&st);
	if (a.stacks)
		a.opts.stacks = &st;
	a.taken_ns = wall_ns();
	rc = take(&a, &c, &e);
	st.pause_s = c.pause_s; /* the stacks were read inside the census's stop */
	if (rc == 0)
		rc = write_report(&a, &c, a.stacks ? &st : NULL, &e);
	if (rc == 0 && census_partial(&c)) /* written, but not the whole heap: exit 15 says so */
		rc = pc_fail(&e, PC_EPARTIAL, "%llu objects of %zu kinds dropped%s", (unsigned long long)c.dropped_objects,
			     c.ndropped, c.dropped_pools ? ", and pools that failed validation" : "");
	stacks_release(&st);
	census_release(&c);
	return rc < 0 ? cli_fail(&e) : 0;
}
