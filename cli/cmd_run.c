/* cmd_run.c: `pycensus run -- CMD...`: start a Python program, take a census every interval and
 * one as it ends, and exit with its status. */
#include "common/compat.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "attach/hwbreak.h"
#include "attach/launch.h"
#include "attach/procfs.h"
#include "attach/stop.h"
#include "cli/commands.h"
#include "cli/pace.h"
#include "cli/runtree.h"
#include "cli/sampling.h"
#include "source/pyready.h"
#include "census/snapshot.h"
#include "source/source.h"

/* Until the interpreter is ready it is probed this often (reads only, no stop). */
#define READY_POLL_MS 5

struct run {
	struct pace pace;      /* -i and --max-overhead: when the next sample is due */
	bool quiet;
	char **argv;
	struct snapshot_opts opts;
	struct copybuf keep;   /* the arena copy's buffer, kept from one census to the next */
	struct sampling sm;
	struct launch l;
	struct pyready ready;
	struct hwbreak hw;     /* at the finalisation entry points, once the interpreter is ready */
	bool is_ready, final_done, hw_armed, gave_up;
	struct pc_err last;    /* the latest census failure */
	unsigned failures;
	bool subprocesses;     /* the program's children too (cli/runtree.h) */
	struct runtree rt;
};

static void run_help(FILE *out)
{
	fprintf(out,
		"usage: pycensus run [options] -- CMD [ARGS...]\n"
		"\n"
		"Starts CMD (python3 app.py, ./script.py with a shebang, env python3 ..., a venv's script),\n"
		"follows its execs to the interpreter, waits until the interpreter is initialised, then takes\n"
		"a census every interval and one more as the program ends (before finalisation tears the heap\n"
		"down, whether by return, sys.exit, an uncaught exception or a signal; before finalisation\n"
		"needs a hardware breakpoint, which some virtual machines never raise: pycensus tests for it\n"
		"and warns, and a program that finalises there has no census at exit). CMD keeps the terminal\n"
		"and its standard streams; SIGINT/SIGTERM/SIGHUP sent to pycensus are passed on to it.\n"
		"pycensus exits with CMD's status (128 + N when a signal N killed it).\n"
		"\n"
		"options:\n"
		"  -i, --interval SECONDS  time between censuses (default 1; fractions allowed), the shortest\n"
		"                          under --max-overhead\n"
		"  -f, --format text|csv|json|html\n"
		"                          text (default): the final partition and the kinds that grew most\n"
		"                          since the first sample; csv: time_s,sample,kind,count,size per\n"
		"                          sample and kind, plus [rss] and [pymalloc] rows, written as samples\n"
		"                          are taken; json: sample totals, final kinds, growth; html: a page\n"
		"                          with the largest kinds over time, the growth and the final kinds\n"
		"                          (needs -o FILE)\n"
		"  -o, --output FILE       write the report to FILE (default standard output)\n"
		"  -n, --rows N            text rows to show (default 20; 0 shows all)\n"
		"      --arenas auto|symbols|scan   as for snap\n"
		"      --subprocesses      the processes CMD starts too (multiprocessing pools, prefork\n"
		"                          workers, subprocesses running Python): found at every sample,\n"
		"                          censused one at a time after CMD; text adds a line per child and\n"
		"                          the kinds summed over all; csv/json write each child's series to a\n"
		"                          file named after -o's (series.csv -> series.PID.csv); a Python\n"
		"                          child is traced (never its forks) and censused once more as it\n"
		"                          ends; --max-overhead then bounds the tree's summed pauses\n");
	fputs(pace_help, out);
	fputs(cli_pause_help, out);
	fputs(cli_memory_help, out);
	fprintf(out,
		"                          (the census at exit always keeps the program stopped to the end)\n"
		"  -q, --quiet             no progress line on stderr\n"
		"  -h, --help              this help\n"
		"\n"
		"If no census at all could be taken (CMD is not CPython, or an unsupported one), the error is\n"
		"printed and pycensus exits with its code instead. A partial census (objects dropped, exit 15\n"
		"for 'snap') is said in its sample's warnings and its CSV or JSON, but never changes the exit\n"
		"status, which stays CMD's.\n\n");
	cli_print_exit_codes(out);
}

static int parse_args(int argc, char **argv, struct run *r, struct pc_err *e)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' }, { "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },   { "rows", required_argument, NULL, 'n' },
		{ "arenas", required_argument, NULL, 'a' },   { "quiet", no_argument, NULL, 'q' },
		{ "pause", required_argument, NULL, 'P' },    { "help", no_argument, NULL, 'h' },
		{ "subprocesses", no_argument, NULL, 'T' },   { "max-overhead", required_argument, NULL, 'M' },
		{ "max-memory", required_argument, NULL, 'Y' }, { 0, 0, 0, 0 },
	};
	int c;

	r->pace = (struct pace){ .interval = 1.0, .budget = PACE_DEFAULT_BUDGET };
	r->sm.format = "text";
	r->sm.limit = 20;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+i:f:o:n:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': if (cli_parse_interval(optarg, &r->pace.interval, e) < 0) return -1; break;
		case 'M': if (pace_parse(optarg, &r->pace.budget, e) < 0) return -1; break;
		case 'f':
			if (cli_parse_format(optarg, CLI_FMT(TEXT) | CLI_FMT(CSV) | CLI_FMT(JSON) | CLI_FMT(HTML), e) < 0)
				return -1;
			r->sm.format = optarg;
			break;
		case 'o': r->sm.output = optarg; break;
		case 'n': if (cli_parse_rows(optarg, &r->sm.limit, e) < 0) return -1; break;
		case 'a': if (cli_parse_arenas(optarg, &r->opts.arenas, e) < 0) return -1; break;
		case 'q': r->quiet = true; break;
		case 'T': r->subprocesses = true; break;
		case 'P': if (cli_parse_pause(optarg, &r->opts.pause, e) < 0) return -1; break;
		case 'Y': if (cli_parse_memory(optarg, &r->opts.max_memory, e) < 0) return -1; break;
		case 'h': run_help(stdout); exit(0);
		default:
			return pc_fail(e, PC_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return pc_fail(e, PC_EUSAGE, "run needs a command: pycensus run [options] -- python3 app.py");
	r->argv = argv + optind;
	if (strcmp(r->sm.format, "html") == 0 && (r->subprocesses || !r->sm.output || strcmp(r->sm.output, "-") == 0))
		return pc_fail(e, PC_EUSAGE, "-f html is one page of one process: give -o FILE, and no --subprocesses");
	return r->subprocesses ? runtree_check(r->sm.format, r->sm.output, e) : 0;
}

/* A census failure is reported once per distinct cause; sampling goes on. */
static void census_failed(struct run *r, const struct pc_err *e, const char *when)
{
	r->failures++;
	if (strcmp(r->last.detail, e->detail) != 0) {
		progress_clear(&r->sm.prog);
		fprintf(stderr, "pycensus: warning: %s: %s: %s\n", when, pc_code_message(e->code), e->detail);
	}
	r->last = *e;
}

/* Tests: a delay before each sample's stop, so that the program reaches its exit or finalisation
 * stop while a sample is on its way (the stop-all must then leave that stop to the exit census). */
static void test_delay(void)
{
	const char *s = getenv("PYCENSUS_TEST_SAMPLE_DELAY_MS");

	if (s)
		usleep((useconds_t)atoi(s) * 1000);
}

/* Whether the interpreter had begun finalising by now (Py_IsInitialized() 0 after it was ready):
 * without a breakpoint at its finalisation, samples go on into it and would count a heap being
 * torn down (Grow 0 of 4000 seen). Read after the census: 1 then means it was still 1 at the stop. */
static bool finalising(struct run *r)
{
	return r->ready.have_elf && pyready_probe(&r->ready, r->l.pid, &(struct pc_err){ 0 }) == 0;
}

static void warn_finalised(struct run *r)
{
	progress_clear(&r->sm.prog);
	fprintf(stderr, "pycensus: warning: no census at exit: the interpreter had finalised (its heap torn down); "
		"the series ends with its last sample\n");
}

/* Stops every thread, takes a census through `tid` (0: any stopped thread), resumes (with
 * --pause=copy as soon as the copy is done). At exit the program stays stopped to the end
 * (SOURCE_HOLD): finalisation would tear down what is still to be read. */
static void sample(struct run *r, pid_t tid, bool at_exit)
{
	struct pc_err e = { 0 };
	struct source src;
	struct census c;
	double t;
	int rc;

	r->opts.keep_copy = &r->keep;
	test_delay();
	t = mono_now();
	source_open_launched(&src, &r->l, tid, at_exit ? SOURCE_HOLD : 0);
	census_init(&c);
	rc = snapshot_take(&src, &r->opts, &c, &e);
	if (rc == 0 && !at_exit && !r->hw_armed) {
		struct pc_err he = { 0 };
		r->hw_armed = true; /* tried once per exec: a refusal is reported, not retried */
		if (hwbreak_set(&r->hw, r->l.pid, r->ready.finalize, PYREADY_NFINAL, &he) < 0) {
			progress_clear(&r->sm.prog);
			fprintf(stderr, "pycensus: warning: no census at finalisation, only at exit (none if the "
				"program finalises first): %s\n", he.detail);
		}
	}
	if (at_exit)
		hwbreak_clear(&r->hw);
	c.pause_s = source_paused(&src);
	source_close(&src);
	/* the children's pauses count in this sample's: the budget holds for the tree (runtree.h) */
	if (r->subprocesses && (rc == 0 || r->sm.s.n))
		c.pause_s += runtree_sample(&r->rt, r->l.pid, &r->opts, t);
	if (!at_exit && finalising(r)) { /* its census, or its failure, is of a heap torn down */
		r->final_done = true; /* no sample from here on: the exit has nothing to read either */
		warn_finalised(r);
		census_release(&c);
		return;
	}
	if (rc == 0 && sampling_add(&r->sm, &c, t, proc_rss(src.via), at_exit, &e) < 0)
		rc = -1;
	else if (rc < 0 && !at_exit) /* a failed census paused the target too: the next one waits as long */
		pace_sampled(&r->pace, t, c.pause_s, mono_now(), 0);
	if (rc < 0)
		census_failed(r, &e, at_exit ? "exit census failed" : "census failed");
	census_release(&c);
}

/* Before the first census: is the interpreter up? */
static void probe(struct run *r)
{
	struct pc_err e = { 0 };
	int rc = pyready_probe(&r->ready, r->l.pid, &e);

	if (rc < 0 && !r->gave_up) {
		r->gave_up = true; /* e.g. Python 3.7: nothing to sample, the program still runs */
		census_failed(r, &e, "cannot sample this program");
	}
	if (rc <= 0)
		return;
	r->is_ready = true;
	r->pace.next = mono_now();
	sample(r, 0, false);
}

static int timeout_ms(const struct run *r)
{
	double left;

	if (r->gave_up || r->final_done)
		return -1;
	if (!r->is_ready)
		return READY_POLL_MS;
	left = r->pace.next - mono_now();
	return left > 0 ? (int)(left * 1000) + 1 : 0;
}

static void on_timeout(struct run *r)
{
	if (r->gave_up || r->final_done)
		return;
	if (!r->is_ready) {
		probe(r);
		return;
	}
	if (!pace_due(&r->pace, mono_now(), proc_rss(r->l.pid)))
		return; /* the heap grew: its pause needs a longer wait (r->pace.next moved) */
	sample(r, 0, false); /* sets r->pace.next (cli/pace.h) */
	if (r->pace.next < mono_now()) /* the children's censuses took longer: no burst to catch up */
		r->pace.next = mono_now() + r->pace.interval;
}

/* The program is about to finalise (hardware breakpoint) or exit: the heap as it is now. At its
 * exit the interpreter may have finalised already (no breakpoint, or it did not fire): a heap
 * being torn down is no census (source/pyready.h: Py_IsInitialized() 0). */
static void final_census(struct run *r, pid_t tid, bool at_break)
{
	if (r->is_ready && !r->final_done && !at_break && finalising(r))
		warn_finalised(r);
	else if (r->is_ready && !r->final_done)
		sample(r, tid, true);
	r->final_done = true;
}

static void on_exec(struct run *r)
{
	pyready_release(&r->ready);
	hwbreak_clear(&r->hw);
	r->is_ready = r->hw_armed = r->gave_up = false;
}

static int event_loop(struct run *r, struct pc_err *e)
{
	struct levent ev;

	for (;;) {
		if (launch_wait(&r->l, timeout_ms(r), &ev, e) < 0)
			return -1;
		if (ev.who && ev.who != &r->l) { /* a traced child's */
			runtree_event(&r->rt, &ev, &r->opts);
			continue;
		}
		switch (ev.kind) {
		case LE_TIMEOUT: on_timeout(r); break;
		case LE_EXEC: on_exec(r); break;
		case LE_HWBREAK:
			final_census(r, ev.tid, true);
			hwbreak_clear(&r->hw);
			launch_resume_all(&r->l);
			break;
		case LE_EXIT:
			if (ev.group)
				final_census(r, ev.tid, false);
			launch_resume_all(&r->l);
			break;
		case LE_SIGNAL:
			/* Ctrl-C reached the whole foreground group, CMD included; a kill(1) reached us only */
			if (!ev.from_tty)
				launch_kill(&r->l, ev.sig);
			break;
		case LE_GONE: return 0;
		}
	}
}

/* --subprocesses with text: the children's section after the program's report. */
static int children_text(FILE *out, void *arg, struct pc_err *e)
{
	struct run *r = arg;

	return runtree_end(&r->rt, out, &r->sm.s.last, r->sm.limit, e);
}

static int finish(struct run *r, int rc, struct pc_err *e)
{
	int code;

	if (rc < 0)
		return cli_fail(e);
	if (r->sm.s.n == 0) {
		sampling_end(&r->sm, NULL);
		if (r->last.code != PC_EOK)
			return cli_fail(&r->last);
		pc_fail(e, PC_ENOTPYTHON, "'%s' ended before a CPython interpreter was ready in it", r->argv[0]);
		return cli_fail(e);
	}
	code = launch_exit_code(r->l.status);
	if (r->subprocesses && strcmp(r->sm.format, "text") != 0 && runtree_end(&r->rt, NULL, NULL, 0, e) < 0)
		return cli_fail(e);
	if (sampling_end(&r->sm, e) < 0)
		return cli_fail(e);
	return code;
}

int cmd_run(int argc, char **argv)
{
	struct pc_err e = { 0 };
	struct run r;
	int rc;

	memset(&r, 0, sizeof r);
	pyready_init(&r.ready);
	hwbreak_init(&r.hw);
	if (parse_args(argc, argv, &r, &e) < 0)
		return cli_fail(&e);
	r.rt.format = r.sm.format;
	r.rt.output = r.sm.output;
	r.rt.group = &r.l;
	if (r.subprocesses && strcmp(r.sm.format, "text") == 0) {
		r.sm.after = children_text;
		r.sm.after_arg = &r;
	}
	r.sm.pace = &r.pace;
	progress_init(&r.sm.prog, r.quiet, 0);
	r.opts.progress = progress_phase;
	r.opts.progress_arg = &r.sm.prog;
	if (sampling_begin(&r.sm, &e) < 0 || launch_start(&r.l, r.argv, &e) < 0) {
		launch_release(&r.l);
		sampling_release(&r.sm);
		return cli_fail(&e);
	}
	snprintf(r.sm.prog.what, sizeof r.sm.prog.what, "census of %d", (int)r.l.pid);
	rc = event_loop(&r, &e);
	rc = finish(&r, rc, &e);
	runtree_release(&r.rt); /* before the launch its children are traced on */
	hwbreak_clear(&r.hw);
	launch_release(&r.l);
	pyready_release(&r.ready);
	sampling_release(&r.sm);
	copybuf_release(&r.keep);
	return rc;
}
