/* test_runexit.c: `run --subprocesses` traces the program's Python children and censuses each as
 * it ends (workloads/runexit.py): a multiprocessing pool (fork: its workers end by os._exit, read
 * at their exit stop; spawn: by sys.exit, read at the entry of their finalisation) whose two
 * workers keep 5,000 and 7,000 Work objects and end with pool.close()/join() while the program
 * goes on. Each worker's series file must end with a sample marked at exit ("# sample K at_exit")
 * holding exactly the Work it built. Signals are counted in C (fixtures/sigcount.c): real-time
 * signals the test queues to each worker while it is traced, and to the program while its workers
 * are traced, must all be delivered, once each. Every interpreter found runs one start method in
 * turn; PYCENSUS_TEST_FULL=1 runs both on each. */
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

struct worker {
	int pid;
	long long n;
};

/* The Work count of the last sample of a series CSV, and whether that sample is marked at exit. */
static long long last_work(const char *path, bool *at_exit)
{
	char line[512], kind[256];
	long long sample, count, work = -1, cur = -1;
	unsigned k;
	FILE *f = fopen(path, "r");

	*at_exit = false;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "# sample %u at_exit", &k) == 1 && (long long)k == cur)
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

/* Until pycensus has written a whole first sample of the worker (it is traced and its finalisation
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

static void one_pool(const struct python *py, const char *mode)
{
	const char *dir = getenv("PYCENSUS_WORKLOADS"), *bin = getenv("PYCENSUS"), *fix = getenv("PYCENSUS_FIXTURES");
	char wl[512], lib[512], nsig[16], tmp[] = "/tmp/pycensus-runexit-XXXXXX", out[600], line[256];
	struct worker w[2];
	int mainpid = 0, status, signo = SIGRTMIN + 1;
	long long got;
	struct proc p;

	cr_assert(mkdtemp(tmp));
	snprintf(wl, sizeof wl, "%s/runexit.py", dir ? dir : "tests/integration/workloads");
	snprintf(lib, sizeof lib, "%s/sigcount.so", fix ? fix : "build/fixtures");
	snprintf(nsig, sizeof nsig, "%d", SIGNALS);
	snprintf(out, sizeof out, "%s/series.csv", tmp);
	/* off: a sample every 0.3 s finds the second worker soon (the tree's pauses would stretch it) */
	char *argv[] = { (char *)(bin ? bin : "./pycensus"), "run", "-q", "-i", "0.3", "--max-overhead", "off",
			 "--subprocesses", "-f", "csv",
			 "-o", out, "--", (char *)py->path, wl, (char *)mode, lib, nsig, NULL };
	cr_assert(h_spawn(&p, argv), "cannot start run");
	cr_assert(h_wait_line(&p, "main ", line, sizeof line, WAIT_S) && sscanf(line, "main %d", &mainpid) == 1,
		  "%s %s: the program did not start", py->label, mode);
	/* the workers' lines come in any order: "child PID N" once traced, "child PID got K" at the end */
	size_t reported = 0, counted = 0;
	while (counted < 2 && h_wait_line(&p, "child ", line, sizeof line, WAIT_S)) {
		char path[700];
		int pid;
		if (sscanf(line, "child %d got %lld", &pid, &got) == 2) {
			counted++;
			cr_expect_eq(got, SIGNALS, "%s %s: worker %d got %lld of %d signals sent while traced", py->label,
				     mode, pid, got, SIGNALS);
			continue;
		}
		cr_assert(reported < 2 && sscanf(line, "child %d %lld", &w[reported].pid, &w[reported].n) == 2,
			  "%s %s: unexpected line '%s'", py->label, mode, line);
		snprintf(path, sizeof path, "%s/series.%d.csv", tmp, w[reported].pid);
		cr_assert(first_sample(path), "%s %s: no sample of traced worker %d in %s", py->label, mode,
			  w[reported].pid, path);
		cr_assert(queue_signals(w[reported].pid, signo), "%s %s: sigqueue to worker %d", py->label, mode,
			  w[reported].pid);
		if (++reported == 2)
			cr_assert(queue_signals(mainpid, signo), "%s %s: sigqueue to the program", py->label, mode);
	}
	cr_assert_eq(counted, 2, "%s %s: %zu workers counted their signals; pycensus said: %s", py->label, mode, counted,
		     err_text(&p));
	cr_assert(h_wait_line(&p, "main got ", line, sizeof line, WAIT_S) && sscanf(line, "main got %lld", &got) == 1,
		  "%s %s: the program did not count its signals", py->label, mode);
	cr_expect_eq(got, SIGNALS, "%s %s: the program got %lld of %d signals sent while its workers were traced",
		     py->label, mode, got, SIGNALS);
	cr_assert_eq(waitpid(p.pid, &status, 0), p.pid);
	p.pid = 0;
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s %s: run status 0x%x", py->label, mode, status);
	for (size_t k = 0; k < 2; k++) {
		char path[700];
		bool at_exit;
		snprintf(path, sizeof path, "%s/series.%d.csv", tmp, w[k].pid);
		got = last_work(path, &at_exit);
		cr_expect(at_exit, "%s %s: worker %d's series (%s) does not end with a census at exit", py->label, mode,
			  w[k].pid, path);
		cr_expect_eq(got, w[k].n, "%s %s: worker %d built %lld Work; its census at exit says %lld", py->label, mode,
			     w[k].pid, w[k].n, got);
	}
	fprintf(stderr, "runexit: %s %s: 2 workers censused at exit with their Work exact; %d signals each to them "
		"and the program delivered\n", py->label, mode, SIGNALS);
	h_kill(&p);
	char cmd[700];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "runexit: could not remove %s\n", tmp);
}

ParameterizedTestParameters(runexit, pool)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, runexit, pool, .timeout = 300)
{
	static const char *const modes[] = { "fork", "spawn" };
	struct python all[H_MAX_PYTHONS];
	size_t n = h_find_pythons(all, H_MAX_PYTHONS), me = 0;
	const char *full = getenv("PYCENSUS_TEST_FULL");

	for (size_t i = 0; i < n; i++)
		if (strcmp(all[i].path, py->path) == 0)
			me = i;
	if (full && strcmp(full, "1") == 0) {
		one_pool(py, "fork");
		one_pool(py, "spawn");
	} else {
		one_pool(py, modes[me % 2]);
	}
}
