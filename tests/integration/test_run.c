/* test_run.c: `pycensus run` on every supported interpreter found: a workload that grows a known
 * class by a known number per step (workloads/grow.py), launched three ways (python3 script.py,
 * ./script.py through its shebang, env python3 script.py), ending three ways (sys.exit(3), an
 * uncaught exception, SIGTERM sent to pycensus). The workload is driven by the samples the test
 * sees in the CSV, never by sleeping. Also `snap -i -c` and `diff` on the series. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/integration/harness.h"

#define STEPS 4
#define PER_STEP 1000
#define FINAL_OBJECTS 12345
#define HANG_GUARD_S 120

enum style { PLAIN, SHEBANG, ENV };
enum ending { EXIT3, RAISE, TERM };

struct sample {
	long long grow, object;
	bool seen;
};

struct series {
	struct sample v[4096];
	unsigned n;           /* samples seen (highest sample number + 1) */
	bool complete;        /* the file ends with a whole sample ([pymalloc] row last) */
};

static const char *workload_dir(void)
{
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	return dir ? dir : "tests/integration/workloads";
}

static const char *pycensus(void)
{
	const char *p = getenv("PYCENSUS");
	return p ? p : "./pycensus";
}

/* Parses the long-form CSV: counts of __main__.Grow and object per sample. */
static bool read_series(const char *path, struct series *s)
{
	char line[512];
	FILE *f = fopen(path, "r");

	memset(s, 0, sizeof *s);
	if (!f)
		return false;
	if (!fgets(line, sizeof line, f) || strcmp(line, "time_s,sample,kind,count,size\n") != 0) {
		fclose(f);
		return false;
	}
	while (fgets(line, sizeof line, f)) {
		unsigned k;
		long long count, size;
		char kind[256];

		if (sscanf(line, "%*[^,],%u,%255[^,],%lld,%lld", &k, kind, &count, &size) != 4 || k >= 4096)
			continue;
		s->v[k].seen = true;
		if (strcmp(kind, "__main__.Grow") == 0)
			s->v[k].grow = count;
		if (strcmp(kind, "object") == 0)
			s->v[k].object = count;
		s->n = k + 1 > s->n ? k + 1 : s->n;
		s->complete = strcmp(kind, "[pymalloc]") == 0;
	}
	fclose(f);
	return true;
}

/* Waits until the series file holds `want` whole samples (the sampler runs every 20 ms). */
static bool wait_samples(const char *path, unsigned want)
{
	struct series *s = malloc(sizeof *s);
	bool ok = false;

	for (int i = 0; i < HANG_GUARD_S * 100 && !ok; i++) {
		ok = read_series(path, s) && s->complete && s->n >= want;
		if (!ok)
			usleep(10000);
	}
	free(s);
	return ok;
}

/* A temp dir with the script (shebang to the interpreter) and a `python3` link to it. */
static void make_dir(const struct python *py, char *dir, size_t len, char *script, size_t slen)
{
	char src[512], cmd[2048];

	snprintf(dir, len, "/tmp/pycensus-run-XXXXXX");
	cr_assert(mkdtemp(dir), "mkdtemp");
	snprintf(src, sizeof src, "%s/grow.py", workload_dir());
	snprintf(script, slen, "%s/grow.py", dir);
	snprintf(cmd, sizeof cmd, "(echo '#!%s'; cat '%s') > '%s' && chmod +x '%s' && ln -s '%s' '%s/python3'", py->path,
		 src, script, script, py->path, dir);
	cr_assert_eq(system(cmd), 0, "cannot prepare %s", dir);
}

static void remove_dir(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

/* pycensus run -q -i 0.02 --max-overhead off -f csv -o CSV -- <the command in the given style> MODE */
static bool start(struct proc *p, const struct python *py, enum style st, const char *mode, const char *dir,
		  const char *script, const char *csv)
{
	char *argv[20];
	size_t n = 0;
	char path_env[700];

	argv[n++] = (char *)pycensus();
	argv[n++] = "run";
	argv[n++] = "-q";
	argv[n++] = "-i";
	argv[n++] = "0.02";
	argv[n++] = "--max-overhead"; /* every 0.02 s: test_overhead.c tests the pace */
	argv[n++] = "off";
	argv[n++] = "-f";
	argv[n++] = "csv";
	argv[n++] = "-o";
	argv[n++] = (char *)csv;
	argv[n++] = "--";
	if (st == PLAIN) {
		argv[n++] = (char *)py->path;
		argv[n++] = (char *)script;
	} else if (st == SHEBANG) {
		argv[n++] = (char *)script;
	} else {
		argv[n++] = "/usr/bin/env";
		argv[n++] = "python3";
		argv[n++] = (char *)script;
		snprintf(path_env, sizeof path_env, "%s:/usr/bin:/bin", dir);
		setenv("PATH", path_env, 1); /* the forked pycensus inherits it; criterion runs each test alone */
	}
	argv[n++] = (char *)mode;
	argv[n] = NULL;
	return h_spawn(p, argv);
}

static int wait_exit(struct proc *p)
{
	int status;

	cr_assert_eq(waitpid(p->pid, &status, 0), p->pid);
	p->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Drives the steps: each SIGUSR1 only once a sample after the previous step is in the file.
 * Returns how many samples were complete before the final objects were built. */
static unsigned drive(struct proc *p, pid_t child, const char *csv, const char *label)
{
	char line[256];
	struct series *s = malloc(sizeof *s);
	unsigned before = 0;

	for (int k = 1; k <= STEPS + 1; k++) {
		cr_assert(read_series(csv, s), "%s: no series file", label);
		cr_assert(wait_samples(csv, s->n + 2), "%s: sampling stalled before step %d", label, k);
		cr_assert(read_series(csv, s) && s->complete);
		before = s->n;
		kill(child, SIGUSR1);
		cr_assert(h_wait_line(p, k <= STEPS ? "step" : "built", line, sizeof line, HANG_GUARD_S),
			  "%s: workload did not answer step %d", label, k);
	}
	free(s);
	return before;
}

/* `before`: samples taken before the last list was built (the baseline for its objects).
 * `extra`: plain objects the ending itself may create (3.13 prints an uncaught exception with the
 * traceback module, whose import makes a few object() sentinels: 5 measured). */
static void check_series(const char *csv, unsigned before, long long extra, bool at_exit, const char *label)
{
	struct series *s = malloc(sizeof *s);
	const struct sample *first, *last, *base;
	long long prev = 0;

	cr_assert(read_series(csv, s), "%s: no series", label);
	cr_assert(s->complete, "%s: the series file ends in the middle of a sample", label);
	cr_assert_geq(s->n, 2 * (STEPS + 1), "%s: %u samples", label, s->n);
	for (unsigned k = 0; k < s->n; k++) {
		cr_assert(s->v[k].seen, "%s: sample %u missing", label, k);
		/* a sample may land in the middle of a step: monotonic, not a multiple of PER_STEP */
		cr_expect(s->v[k].grow >= prev && s->v[k].grow <= STEPS * PER_STEP, "%s: Grow %lld at sample %u after %lld",
			  label, s->v[k].grow, k, prev);
		prev = s->v[k].grow;
	}
	first = &s->v[0];
	last = &s->v[s->n - 1];
	base = &s->v[before - 1];
	cr_expect_eq(first->grow, 0, "%s: first sample has %lld Grow", label, first->grow);
	if (!at_exit) { /* the program finalised with no census first: the series ends with a sample */
		h_skip_finalisation(label);
		free(s);
		return;
	}
	cr_expect_eq(last->grow, STEPS * PER_STEP, "%s: exit census has %lld Grow", label, last->grow);
	cr_expect(last->object - base->object >= FINAL_OBJECTS && last->object - base->object <= FINAL_OBJECTS + extra,
		  "%s: exit census has %lld more objects than sample %u, before the list was built", label,
		  last->object - base->object, before - 1);
	fprintf(stderr, "  %s: %u samples, Grow %lld -> %lld, object %lld (sample %u) -> %lld at exit\n", label, s->n,
		first->grow, last->grow, base->object, before - 1, last->object);
	free(s);
}

static void check_diff(const char *csv, const char *label)
{
	char out[1 << 16], err[1024];
	const char *args[] = { "diff", "-f", "csv", csv, NULL };
	char *row;

	cr_assert_eq(h_pycensus(out, sizeof out, err, sizeof err, args), 0, "%s: diff failed: %s", label, err);
	cr_assert(strncmp(out, "kind,count_before,count_after,count_delta,", 42) == 0, "%s: diff header: %.80s", label, out);
	row = strstr(out, "\n__main__.Grow,");
	cr_assert(row, "%s: no Grow row in the diff", label);
	cr_expect(strncmp(row, "\n__main__.Grow,0,4000,4000,", 27) == 0, "%s: diff row %.60s", label, row + 1);
}

static void one_run(const struct python *py, enum style st, enum ending end)
{
	static const char *const modes[] = { "exit3", "raise", "wait" };
	static const char *const styles[] = { "python3 script.py", "./script.py", "env python3 script.py" };
	static const int codes[] = { 3, 1, 128 + SIGTERM };
	char dir[64], script[128], csv[128], line[256], label[160];
	struct proc p;
	pid_t child;
	unsigned before;
	bool at_exit;

	snprintf(label, sizeof label, "%s, %s, %s", py->label, styles[st], modes[end]);
	make_dir(py, dir, sizeof dir, script, sizeof script);
	snprintf(csv, sizeof csv, "%s/series.csv", dir);
	cr_assert(start(&p, py, st, modes[end], dir, script, csv), "%s: cannot start pycensus", label);
	cr_assert(h_wait_line(&p, "ready", line, sizeof line, HANG_GUARD_S), "%s: workload did not start", label);
	child = atoi(line + 6);
	before = drive(&p, child, csv, label);
	if (end == TERM) {
		cr_assert(wait_samples(csv, 1), "%s", label);
		kill(p.pid, SIGTERM);
	}
	cr_expect_eq(wait_exit(&p), codes[end], "%s: pycensus exit code", label);
	/* SIGTERM kills the program unfinalised: its heap is read at its exit stop */
	at_exit = end == TERM || (h_hwbreak_fires() && !getenv("PYCENSUS_TEST_NO_HWBREAK"));
	if (!at_exit) {
		char err[4096];
		FILE *f = fopen(p.errpath, "r");
		size_t k = f ? fread(err, 1, sizeof err - 1, f) : 0;

		if (f)
			fclose(f);
		err[k] = '\0';
		cr_expect(strstr(err, "hardware breakpoints do not fire") && strstr(err, "no census at exit: the interpreter had finalised"),
			  "%s: pycensus did not say why the series has no census at exit: %s", label, err);
	}
	check_series(csv, before, end == RAISE ? 10 : 0, at_exit, label);
	if (end == EXIT3 && at_exit)
		check_diff(csv, label);
	h_kill(&p);
	remove_dir(dir);
}

ParameterizedTestParameters(run, interpreters)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, run, interpreters, .timeout = 600)
{
	one_run(py, PLAIN, EXIT3);
	one_run(py, SHEBANG, RAISE);
	one_run(py, ENV, TERM);
}

/* On the core set (all with PYCENSUS_TEST_FULL=1): run's exit handling is pycensus's. */
ParameterizedTestParameters(run, exit_met_by_a_sample)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons_core(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

/* The program reaches its finalisation breakpoint (sys.exit) or its exit stop (SIGTERM) while a
 * sample is on its way: pycensus waits 150 ms before each sample's stop, so that stop-all often
 * collects the program's stop. It must leave it for the exit census: resumed, the program would
 * go on exiting and the exit census would see no Grow (before the fix, the SIGTERM run failed this
 * way on 2 or 3 of the 7 interpreters each time). */
ParameterizedTest(struct python *py, run, exit_met_by_a_sample, .timeout = 600)
{
	setenv("PYCENSUS_TEST_SAMPLE_DELAY_MS", "150", 1); /* criterion runs each test in its own process */
	one_run(py, PLAIN, EXIT3);
	one_run(py, PLAIN, TERM);
}

ParameterizedTestParameters(run, without_breakpoints)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons_core(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

/* As where no hardware breakpoint fires (PYCENSUS_TEST_NO_HWBREAK, on every machine): a program
 * that finalises gets no sample of its heap torn down and no census at exit, and pycensus says
 * why; one killed by SIGTERM is read at its exit stop. */
ParameterizedTest(struct python *py, run, without_breakpoints, .timeout = 600)
{
	setenv("PYCENSUS_TEST_NO_HWBREAK", "1", 1); /* criterion runs each test in its own process */
	one_run(py, PLAIN, EXIT3);
	one_run(py, SHEBANG, RAISE);
	one_run(py, PLAIN, TERM);
}

/* The program exits while pycensus is between reaping its children and reading its signals: the
 * SIGCHLD must send it back to reap, not into a wait for a signal already read. pycensus pauses
 * 20 ms in that window on every turn of its loop; before the fix, 9 of 10 such runs waited
 * forever on the zombie (the test's timeout then fails it). */
Test(run, exit_between_reap_and_signal, .timeout = 300)
{
	struct python py[H_MAX_PYTHONS];
	size_t n = h_find_pythons(py, H_MAX_PYTHONS);
	char err[1024];

	cr_assert(n > 0);
	setenv("PYCENSUS_TEST_DRAIN_DELAY_MS", "20", 1); /* criterion runs each test in its own process */
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 3; k++) {
			/* 0.6 s: on a loaded make check, 0.3 s once ended before the first probe found
			 * the interpreter ready (the ELF and its symbols read first) */
			const char *args[] = { "run", "-q", "-i", "0.05", "--", py[i].path, "-c",
					       "import time; time.sleep(0.6)", NULL };
			cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 0, "%s, run %d: %s", py[i].label,
				     k, err);
		}
}

/* snap -i -c on a running workload: COUNT whole samples, the known class counted in each. */
Test(run, snap_interval)
{
	struct python py[H_MAX_PYTHONS];
	size_t n = h_find_pythons(py, H_MAX_PYTHONS);
	char script[512], line[256], pidtxt[16], *out = malloc(1 << 20), err[1024];
	char *argv[] = { n ? py[n - 1].path : NULL, script, "wait", "3", "500", NULL };
	const char *args[] = { "snap", "-q", "-i", "0.05", "-c", "3", "-f", "csv", pidtxt, NULL };
	struct proc p;
	unsigned rows = 0, rss = 0;

	cr_assert(n > 0);
	snprintf(script, sizeof script, "%s/grow.py", workload_dir());
	cr_assert(h_spawn(&p, argv) && h_wait_line(&p, "ready", line, sizeof line, HANG_GUARD_S));
	kill(p.pid, SIGUSR1);
	cr_assert(h_wait_line(&p, "step 1", line, sizeof line, HANG_GUARD_S) && h_wait_sleeping(p.pid, 30));
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)p.pid);
	cr_assert_eq(h_pycensus(out, 1 << 20, err, sizeof err, args), 0, "%s", err);
	cr_expect(strncmp(out, "time_s,sample,kind,count,size\n", 30) == 0, "%.60s", out);
	for (char *s = out; (s = strstr(s, "__main__.Grow,500,")); s++)
		rows++;
	for (char *s = out; (s = strstr(s, ",[rss],0,")); s++)
		rss++;
	cr_expect_eq(rows, 3, "Grow rows with 500 objects: %u\n%s", rows, out);
	cr_expect_eq(rss, 3, "[rss] rows: %u", rss);
	cr_expect(strstr(out, "\n2.") || strstr(out, "\n0.1") || strstr(out, ",2,"), "no third sample");
	h_kill(&p);
	free(out);
}

/* A command that cannot be executed: one error line, its own exit code. */
Test(run, bad_command)
{
	char err[1024];
	const char *args[] = { "run", "--", "/nonexistent/python3", NULL };
	const char *noargs[] = { "run", NULL };

	cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 11, "%s", err);
	cr_expect(strstr(err, "cannot run the command") && strstr(err, "fix: "), "%s", err);
	cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, noargs), 2, "%s", err);
}

/* Not Python: the program runs to its end and pycensus says it found no interpreter. */
Test(run, not_python)
{
	char err[1024];
	const char *args[] = { "run", "-q", "--", "/bin/true", NULL };

	cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 5, "%s", err);
	cr_expect(strstr(err, "not a Python process"), "%s", err);
}
