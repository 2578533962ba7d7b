/* test_runexit.c: `run --subprocesses` traces the program's Python children and censuses each as
 * it ends (workloads/runexit.py). Each child keeps a known number of Work objects; its series
 * file must end with a sample marked at exit ("# sample K at_exit") holding exactly that many:
 *   pool        a multiprocessing pool of two workers, fork (they end by os._exit, read at their
 *               exit stop) or spawn (sys.exit, read at the entry of their finalisation);
 *   forkserver  the same pool forked by multiprocessing's fork server, itself a Python child whose
 *               series ends with its own census at exit (the program stops it; no Work in it);
 *   prefork     a gunicorn-like master's os.fork workers serving a socket: one ends by os._exit
 *               when asked over the socket, the other by the master's SIGTERM, and the master
 *               reaps both with their own statuses;
 *   other       a subprocess running another interpreter version (ends by finalisation).
 * Signals are counted in C (fixtures/sigcount.c): real-time signals the test queues to each child
 * while it is traced, and to the program while its children are traced, must all be delivered,
 * once each. interrupt: SIGINT or SIGTERM sent to pycensus while it traces two prefork workers
 * and their signals are in flight: pycensus passes it to the program and exits with its status
 * (128 + N), the workers are left running, untraced and not stopped, every signal reaches them,
 * and every series written is whole (`pycensus diff` reads it).
 * The pool runs on every interpreter found, one start method in turn; forkserver, prefork and
 * other in turn over the core set (harness.h), and interrupt with its two signals in turn;
 * PYCENSUS_TEST_FULL=1 runs every variant on every interpreter. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/integration/harness.h"

#define SIGNALS 200
#define WAIT_S 120
#define MAX_KIDS 4

/* The Work count of the last sample of a series CSV, and whether that sample is marked at exit. */
static long long last_work(const char *path, bool *at_exit)
{
	char line[512], kind[256];
	long long sample, count, work = -1, cur = -1;
	unsigned k;
	int end;
	FILE *f = fopen(path, "r");

	*at_exit = false;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		end = 0; /* set only when " at_exit" matched too: sscanf counts the %u alone */
		if (sscanf(line, "# sample %u at_exit%n", &k, &end) == 1 && end > 0 && (long long)k == cur)
			*at_exit = true;
		if (line[0] == '#' || sscanf(line, "%*[^,],%lld,%255[^,],%lld,", &sample, kind, &count) != 3)
			continue;
		if (sample != cur) {
			cur = sample;
			work = 0;
			*at_exit = false;
		}
		if (strcmp(kind, "__main__.Work") == 0 || strcmp(kind, "__mp_main__.Work") == 0)
			work += count;
	}
	fclose(f);
	return work;
}

/* Until pycensus has written a whole first sample of the child (it is traced and its finalisation
 * breakpoint armed by then): the test goes on from what it sees, not after a sleep. */
static bool first_sample(const char *path)
{
	char line[512];

	for (int i = 0; i < WAIT_S * 100; i++) {
		FILE *f = fopen(path, "r");
		bool seen = false;
		while (f && !seen && fgets(line, sizeof line, f))
			seen = strncmp(line, "# sample 0 end,", 15) == 0;
		if (f)
			fclose(f);
		if (seen)
			return true;
		usleep(10000);
	}
	return false;
}

/* The start of pycensus's stderr, for a failure's message. */
static const char *err_text(const struct proc *p)
{
	static char buf[2048];
	FILE *f = fopen(p->errpath, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

static bool queue_signals(int pid, int signo)
{
	for (int i = 0; i < SIGNALS; i++) {
		union sigval v = { .sival_int = i };
		while (sigqueue(pid, signo, v) < 0)
			if (errno != EAGAIN)
				return false;
	}
	return true;
}

/* TracerPid from /proc/PID/status, or -1 when it is gone. */
static int tracer_of(int pid)
{
	char path[64], line[256];
	int tracer = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

struct kid {
	int pid, ppid;
	long long n;    /* the Work it built */
};

/* One run of `pycensus run --subprocesses -f csv` on the workload, and what its lines said. */
struct tree {
	const struct python *py;
	const char *mode;
	char tmp[40];
	struct proc p;
	int mainpid;
	size_t want, n, counted; /* children the program starts, reported traced, done counting */
	bool later;              /* the children's signals are queued once all are traced, not before */
	struct kid k[MAX_KIDS];
};

static void series_path(const struct tree *t, int pid, char *out, size_t len)
{
	if (pid)
		snprintf(out, len, "%s/series.%d.csv", t->tmp, pid);
	else
		snprintf(out, len, "%s/series.csv", t->tmp);
}

/* Starts the run (other: the leaf's interpreter for mode "other") and reads "main PID N". */
static void start(struct tree *t, const struct python *py, const char *mode, const struct python *other)
{
	const char *dir = getenv("PYCENSUS_WORKLOADS"), *bin = getenv("PYCENSUS"), *fix = getenv("PYCENSUS_FIXTURES");
	char wl[512], lib[512], nsig[16], out[600], line[256];

	memset(t, 0, sizeof *t);
	t->py = py;
	t->mode = mode;
	snprintf(t->tmp, sizeof t->tmp, "/tmp/pycensus-runexit-XXXXXX");
	cr_assert(mkdtemp(t->tmp));
	snprintf(wl, sizeof wl, "%s/runexit.py", dir ? dir : "tests/integration/workloads");
	snprintf(lib, sizeof lib, "%s/sigcount.so", fix ? fix : "build/fixtures");
	snprintf(nsig, sizeof nsig, "%d", SIGNALS);
	series_path(t, 0, out, sizeof out);
	/* off: a sample every 0.3 s finds the second worker soon (the tree's pauses would stretch it) */
	char *argv[] = { (char *)(bin ? bin : "./pycensus"), "run", "-q", "-i", "0.3", "--max-overhead", "off",
			 "--subprocesses", "-f", "csv", "-o", out, "--", (char *)py->path, wl, (char *)mode, lib, nsig,
			 other ? (char *)other->path : NULL, NULL };
	cr_assert(h_spawn(&t->p, argv), "cannot start run");
	/* unbuffered: the last lines may come together, and h_wait_line polls the pipe, not the buffer */
	setvbuf(t->p.out, NULL, _IONBF, 0);
	cr_assert(h_wait_line(&t->p, "main ", line, sizeof line, WAIT_S) &&
			  sscanf(line, "main %d %zu", &t->mainpid, &t->want) == 2 && t->want <= MAX_KIDS,
		  "%s %s: the program did not start: %s", py->label, mode, err_text(&t->p));
}

/* One "child " line: a child traced (its first sample is awaited, then its signals queued; the
 * program's once every child is), or a child's count of its signals. */
static void child_line(struct tree *t, const char *line, bool signal_main)
{
	char path[700];
	long long got;
	struct kid *k = &t->k[t->n];
	int pid;

	if (sscanf(line, "child %d got %lld", &pid, &got) == 2) {
		t->counted++;
		cr_expect_eq(got, SIGNALS, "%s %s: child %d got %lld of %d signals sent while traced", t->py->label,
			     t->mode, pid, got, SIGNALS);
		return;
	}
	cr_assert(t->n < t->want && sscanf(line, "child %d %lld %d", &k->pid, &k->n, &k->ppid) == 3,
		  "%s %s: unexpected line '%s'", t->py->label, t->mode, line);
	series_path(t, k->pid, path, sizeof path);
	cr_assert(first_sample(path), "%s %s: no sample of traced child %d in %s: %s", t->py->label, t->mode, k->pid,
		  path, err_text(&t->p));
	cr_assert(t->later || queue_signals(k->pid, SIGRTMIN + 1), "%s %s: sigqueue to child %d", t->py->label,
		  t->mode, k->pid);
	if (++t->n == t->want && signal_main)
		cr_assert(queue_signals(t->mainpid, SIGRTMIN + 1), "%s %s: sigqueue to the program", t->py->label,
			  t->mode);
}

/* Reads the children's lines until every one is traced (and, with counts, has counted). */
static void take_children(struct tree *t, bool counts)
{
	char line[256];

	while ((t->n < t->want || (counts && t->counted < t->want)) &&
	       h_wait_line(&t->p, "child ", line, sizeof line, WAIT_S))
		child_line(t, line, counts);
	cr_assert_eq(counts ? t->counted : t->n, t->want, "%s %s: %zu of %zu children %s; pycensus said: %s",
		     t->py->label, t->mode, counts ? t->counted : t->n, t->want, counts ? "counted their signals" : "traced",
		     err_text(&t->p));
}

/* pid's series (0: the program's) ends with a census at exit holding n Work. One that `finalises`
 * (sys.exit, the end of its script, KeyboardInterrupt) is read at the entry of its finalisation,
 * through a hardware breakpoint: where none fires, its series ends with a sample, not with a
 * census of its heap torn down. */
static void expect_exit_census(const struct tree *t, int pid, long long n, const char *who, bool finalises)
{
	char path[700], label[200];
	bool at_exit;
	long long got;

	series_path(t, pid, path, sizeof path);
	got = last_work(path, &at_exit);
	if (finalises && !h_hwbreak_fires()) {
		snprintf(label, sizeof label, "%s %s: %s %d", t->py->label, t->mode, who, pid);
		h_skip_finalisation(label);
		cr_expect(!at_exit, "%s: its series (%s) ends with a census at exit of a finalised heap", label, path);
		cr_expect(got >= 0 && got <= n, "%s built %lld Work; its last sample says %lld", label, n, got);
		return;
	}
	cr_expect(at_exit, "%s %s: %s %d: its series (%s) does not end with a census at exit", t->py->label, t->mode,
		  who, pid, path);
	cr_expect_eq(got, n, "%s %s: %s %d built %lld Work; its census at exit says %lld", t->py->label, t->mode, who,
		     pid, n, got);
}

static void finish(struct tree *t)
{
	char cmd[100];

	h_kill(&t->p);
	snprintf(cmd, sizeof cmd, "rm -rf %s", t->tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "runexit: could not remove %s\n", t->tmp);
}

/* prefork: the master reaped one worker that exited 0 (asked over the socket), one SIGTERM killed. */
static void expect_reaped(struct tree *t)
{
	char line[256], how[16];
	int pid, code, exits = 0, terms = 0;

	for (int i = 0; i < 2 && h_wait_line(&t->p, "reaped ", line, sizeof line, WAIT_S); i++)
		if (sscanf(line, "reaped %d %15s %d", &pid, how, &code) == 3 && (pid == t->k[0].pid || pid == t->k[1].pid)) {
			exits += strcmp(how, "exit") == 0 && code == 0;
			terms += strcmp(how, "signal") == 0 && code == SIGTERM;
		}
	cr_expect(exits == 1 && terms == 1, "%s prefork: the master reaped %d worker(s) exiting 0 and %d killed by "
		  "SIGTERM, not 1 and 1", t->py->label, exits, terms);
}

static void one_run(const struct python *py, const char *mode, const struct python *other)
{
	char line[256];
	long long got;
	int status, server = 0;
	struct tree t;

	start(&t, py, mode, other);
	take_children(&t, true);
	if (strcmp(mode, "prefork") == 0)
		expect_reaped(&t);
	cr_assert(h_wait_line(&t.p, "main got ", line, sizeof line, WAIT_S) && sscanf(line, "main got %lld", &got) == 1,
		  "%s %s: the program did not count its signals", py->label, mode);
	cr_expect_eq(got, SIGNALS, "%s %s: the program got %lld of %d signals sent while its children were traced",
		     py->label, mode, got, SIGNALS);
	cr_assert_eq(waitpid(t.p.pid, &status, 0), t.p.pid);
	t.p.pid = 0;
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s %s: run status 0x%x", py->label, mode, status);
	for (size_t k = 0; k < t.n; k++) {
		/* spawn children and another interpreter's end by finalisation; forked ones by os._exit */
		expect_exit_census(&t, t.k[k].pid, t.k[k].n, "child", strcmp(mode, "spawn") == 0 || other);
		if (t.k[k].ppid != t.mainpid) /* forkserver: the workers' parent, a Python child of its own */
			server = t.k[k].ppid;
	}
	if (strcmp(mode, "forkserver") == 0) {
		cr_expect(server != 0, "%s forkserver: the workers' parent is the program", py->label);
		expect_exit_census(&t, server, 0, "fork server", true);
	}
	fprintf(stderr, "runexit: %s %s%s%s: %zu children%s censused at exit with their Work exact; %d signals each to "
		"them and the program delivered\n", py->label, mode, other ? " on " : "", other ? other->label : "", t.n,
		server ? " and their fork server" : "", SIGNALS);
	finish(&t);
}

/* The interrupted tree: sig to pycensus while its two traced workers take their signals. */
static void one_interrupt(const struct python *py, int sig)
{
	const char *name = sig == SIGINT ? "SIGINT" : "SIGTERM";
	char path[700], err[4096];
	int status;
	struct tree t;

	start(&t, py, "hold", NULL);
	t.mode = name; /* the failures name the signal */
	t.later = true;
	take_children(&t, false);
	/* the workers' signals in flight, their stops for pycensus still to come, when sig lands */
	for (size_t k = 0; k < t.n; k++)
		cr_assert(tracer_of(t.k[k].pid) == t.p.pid && queue_signals(t.k[k].pid, SIGRTMIN + 1),
			  "%s %s: worker %d is not traced by pycensus, or sigqueue failed", py->label, name, t.k[k].pid);
	cr_assert_eq(kill(t.p.pid, sig), 0);
	cr_assert_eq(waitpid(t.p.pid, &status, 0), t.p.pid);
	t.p.pid = 0;
	/* passed on to the program, which ends by it: pycensus exits with its status, 128 + N */
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 128 + sig, "%s %s: run status 0x%x, not exit %d: %s",
		  py->label, name, status, 128 + sig, err_text(&t.p));
	take_children(&t, true); /* the workers' counts, now that pycensus has let them go */
	for (size_t k = 0; k < t.n; k++) {
		char st = h_state(t.k[k].pid);
		cr_expect(st != 't' && st != 'T' && st != '?' && tracer_of(t.k[k].pid) == 0, "%s %s: worker %d left in "
			  "state %c, TracerPid %d", py->label, name, t.k[k].pid, st, tracer_of(t.k[k].pid));
		kill(t.k[k].pid, SIGKILL);
	}
	for (size_t k = 0; k <= t.n; k++) { /* every series written, the program's too, is whole */
		const char *args[] = { "diff", "-f", "csv", path, NULL };
		series_path(&t, k < t.n ? t.k[k].pid : 0, path, sizeof path);
		cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 0, "%s %s: %s is not a whole series: %s",
			     py->label, name, path, err);
	}
	expect_exit_census(&t, 0, 0, "the program", sig == SIGINT); /* KeyboardInterrupt finalises; SIGTERM kills */
	fprintf(stderr, "runexit: %s %s to run: exit %d, %zu workers left running untraced with their %d signals each, "
		"%zu whole series\n", py->label, name, 128 + sig, t.n, SIGNALS, t.n + 1);
	finish(&t);
}

static bool full(void)
{
	const char *v = getenv("PYCENSUS_TEST_FULL");

	return v && strcmp(v, "1") == 0;
}

/* py's place among the interpreters found (core: the core set): the variants rotate with it. */
static size_t place_of(const struct python *py, bool core, struct python *all, size_t *n)
{
	size_t me = 0;

	*n = core ? h_find_pythons_core(all, H_MAX_PYTHONS) : h_find_pythons(all, H_MAX_PYTHONS);
	for (size_t i = 0; i < *n; i++)
		if (strcmp(all[i].path, py->path) == 0)
			me = i;
	return me;
}

static struct criterion_test_params pythons(bool core)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = core ? h_find_pythons_core(found, H_MAX_PYTHONS) : h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTestParameters(runexit, pool)
{
	return pythons(!full());
}

ParameterizedTest(struct python *py, runexit, pool, .timeout = 300)
{
	static const char *const modes[] = { "fork", "spawn" };
	struct python all[H_MAX_PYTHONS];
	size_t n, me = place_of(py, !full(), all, &n);

	if (full()) {
		one_run(py, "fork", NULL);
		one_run(py, "spawn", NULL);
	} else {
		one_run(py, modes[me % 2], NULL);
	}
}

ParameterizedTestParameters(runexit, tree)
{
	return pythons(true);
}

/* One of forkserver, prefork and a leaf on the nearest interpreter of another version (before py
 * among those found, else after it) in turn over the core set; all three with FULL. */
ParameterizedTest(struct python *py, runexit, tree, .timeout = 300)
{
	static const char *const modes[] = { "forkserver", "prefork", "other" };
	struct python core[H_MAX_PYTHONS], all[H_MAX_PYTHONS];
	size_t nc, me = place_of(py, true, core, &nc), n, at = place_of(py, false, all, &n), o = n;

	for (size_t i = at; o == n && i-- > 0;)
		o = all[i].minor != py->minor ? i : n;
	for (size_t i = at + 1; o == n && i < n; i++)
		o = all[i].minor != py->minor ? i : n;
	for (size_t m = 0; m < PC_ARRAY_LEN(modes); m++) {
		if (!full() && m != me % PC_ARRAY_LEN(modes))
			continue;
		if (m < 2)
			one_run(py, modes[m], NULL);
		else if (o < n)
			one_run(py, modes[m], &all[o]);
		else /* said, not skipped: the runs before count */
			fprintf(stderr, "runexit: %s other: not run, no interpreter of another version found\n", py->label);
	}
}

ParameterizedTestParameters(runexit, interrupt)
{
	return pythons(true);
}

ParameterizedTest(struct python *py, runexit, interrupt, .timeout = 300)
{
	struct python all[H_MAX_PYTHONS];
	size_t n, me = place_of(py, true, all, &n);

	if (full() || me % 2 == 0)
		one_interrupt(py, SIGINT);
	if (full() || me % 2 == 1)
		one_interrupt(py, SIGTERM);
}
