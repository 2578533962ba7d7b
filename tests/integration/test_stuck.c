/* test_stuck.c: a target with a thread in uninterruptible sleep (state D, held in vfork by
 * fixtures/vforkhold.c). Stopping it cannot succeed while the thread sleeps: every command that
 * stops the target gives up within its deadline with exit 13, naming the thread; the other
 * threads run on meanwhile; and the held thread runs on once its sleep ends (pycensus leaves no
 * pending stop behind). */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tests/integration/harness.h"

#define HOLD_MS 20000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long ticks(struct proc *p)
{
	char line[128];
	long long n = -1;

	kill(p->pid, SIGUSR1);
	if (h_wait_line(p, "ticks ", line, sizeof line, 10))
		sscanf(line, "ticks %lld", &n);
	return n;
}

Test(stuck, d_state_thread_is_named_and_the_rest_run, .timeout = 120)
{
	struct python py[H_MAX_PYTHONS];
	size_t n = h_find_pythons(py, H_MAX_PYTHONS);
	const char *fix = getenv("PYCENSUS_FIXTURES"), *dir = getenv("PYCENSUS_WORKLOADS");
	char lib[512], wl[512], hold[16], line[256], err[4096], pidtxt[16], want[64];
	int pid = 0, tid = 0;
	struct proc p;

	cr_assert(n > 0);
	snprintf(lib, sizeof lib, "%s/vforkhold.so", fix ? fix : "build/fixtures");
	snprintf(wl, sizeof wl, "%s/dstate.py", dir ? dir : "tests/integration/workloads");
	snprintf(hold, sizeof hold, "%d", HOLD_MS);
	char *argv[] = { py[n - 1].path, wl, lib, hold, NULL };
	cr_assert(h_spawn(&p, argv), "cannot start %s", py[n - 1].path);
	cr_assert(h_wait_line(&p, "ready", line, sizeof line, 60) && sscanf(line, "ready %d %d", &pid, &tid) == 2,
		  "%s: the workload did not start", py[n - 1].label);
	cr_assert_eq(h_state(pid), 'S');
	snprintf(pidtxt, sizeof pidtxt, "%d", pid);
	snprintf(want, sizeof want, "thread %d (", tid);
	static const char *const cmds[] = { "snap", "stats", "stacks" };
	double t0 = now();
	for (size_t i = 0; i < PC_ARRAY_LEN(cmds); i++) {
		const char *args[] = { cmds[i], pidtxt, NULL };
		double t = now();
		long long before = ticks(&p), after;
		cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 13, "%s: %s", cmds[i], err);
		cr_expect(strstr(err, "a thread of the process does not stop") && strstr(err, want) &&
			  strstr(err, "state D"), "%s: %s", cmds[i], err);
		cr_expect(now() - t < 10, "%s took %.1f s", cmds[i], now() - t);
		after = ticks(&p);
		cr_expect(after > before, "%s: the main thread did not run on (%lld, %lld ticks)", cmds[i], before, after);
	}
	cr_assert(now() - t0 < HOLD_MS / 1000.0 - 1, "the commands outlasted the hold; the test proves nothing");
	/* --nonblocking never stops it: a census while the thread is held */
	{
		const char *args[] = { "snap", "--nonblocking", "-n", "1", pidtxt, NULL };
		cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 0, "--nonblocking: %s", err);
	}
	/* no stop left pending: once the hold ends, the held thread runs on */
	cr_expect(h_wait_line(&p, "released", line, sizeof line, HOLD_MS / 1000 + 30),
		  "the held thread did not run on after its sleep");
	cr_expect(ticks(&p) > 0);
	fprintf(stderr, "stuck: %s: snap, stats and stacks gave up on thread %d (state D) in %.1f s in all\n",
		py[n - 1].label, tid, now() - t0);
	h_kill(&p);
}
