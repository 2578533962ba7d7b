/* test_soak.c: pycensus never harms its target. A target whose four threads allocate and free
 * without pause, while a fifth keeps creating short-lived threads (workloads/soak.py), is
 * censused many times; after each census it must not be left stopped and the checksums of its own
 * data must hold. Then pycensus is killed with SIGKILL at random points of many censuses (a random
 * PYCENSUS_TEST_STALL_MS and a random delay): the target must go on running and answer.
 *
 * Counts: PYCENSUS_SOAK_CENSUSES (default 50) and PYCENSUS_SOAK_KILLS (default 10); bench/soak
 * runs 500 and 50. Interpreters: the newest pyenv build (debug offsets, symbols) and a stripped
 * distro build when there is one (the pool scan): the two ends of how pycensus reads a target,
 * with the soak's cost kept to two interpreters. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tests/integration/harness.h"

static long env_count(const char *name, long dflt)
{
	const char *s = getenv(name);
	return s && atol(s) > 0 ? atol(s) : dflt;
}

static const char *soak_workload(void)
{
	static char path[512];
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	snprintf(path, sizeof path, "%s/soak.py", dir ? dir : "tests/integration/workloads");
	return path;
}

/* Not stopped: running, sleeping or in a syscall. Waits a little for the kernel to finish
 * resuming threads after the tracer left (a hang guard, not a timing assertion). */
static char settled_state(pid_t pid)
{
	char st = h_state(pid);

	for (int i = 0; i < 500 && (st == 't' || st == 'T'); i++) {
		usleep(10000);
		st = h_state(pid);
	}
	return st;
}

/* Asks the target to verify its data; returns the "ok ..." line's thread count, -1 on failure. */
static long check_target(struct proc *p, const char *label, const char *when)
{
	char line[256], st = settled_state(p->pid);
	long checks = 0, spawned = 0, ops = 0;

	cr_assert(st == 'R' || st == 'S' || st == 'D', "%s: target in state %c %s", label, st, when);
	kill(p->pid, SIGUSR1);
	cr_assert(h_wait_line(p, "", line, sizeof line, 60), "%s: target did not answer %s", label, when);
	cr_assert(sscanf(line, "ok %ld %ld %ld", &checks, &spawned, &ops) == 3, "%s: %s: %s", label, when, line);
	return spawned;
}

static double pause_of(const char *out)
{
	const char *s = strstr(out, "pause ");
	return s ? atof(s + 6) : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void soak_censuses(struct proc *p, const struct python *py, long n)
{
	char pidtxt[16], out[8192], err[2048];
	const char *args[] = { "snap", "-n", "3", pidtxt, NULL };
	double *pauses = calloc((size_t)n, sizeof *pauses);
	long spawned0 = check_target(p, py->label, "before the soak"), spawned = spawned0;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)p->pid);
	for (long i = 0; i < n; i++) {
		int rc = h_pycensus(out, sizeof out, err, sizeof err, args);
		char when[64];
		cr_assert(h_census_status_ok(rc, out), "%s: census %ld failed (%d): %s", py->label, i, rc, err);
		pauses[i] = pause_of(out);
		snprintf(when, sizeof when, "after census %ld", i);
		spawned = check_target(p, py->label, when);
	}
	qsort(pauses, (size_t)n, sizeof *pauses, cmp_double);
	fprintf(stderr, "soak: %s: %ld censuses; after each the target was running and its checksums held; "
		"pause median %.1f ms, max %.1f ms; %ld threads created and exited meanwhile\n",
		py->label, n, pauses[n / 2] * 1e3, pauses[n - 1] * 1e3, spawned - spawned0);
	free(pauses);
}

static pid_t spawn_stalled(pid_t target, unsigned stall_ms)
{
	char pidtxt[16], stall[16];
	const char *pc = getenv("PYCENSUS") ? getenv("PYCENSUS") : "./pycensus";
	pid_t child = fork();

	if (child == 0) {
		snprintf(pidtxt, sizeof pidtxt, "%d", (int)target);
		snprintf(stall, sizeof stall, "%u", stall_ms);
		setenv("PYCENSUS_TEST_STALL_MS", stall, 1);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execl(pc, pc, "snap", pidtxt, (char *)NULL);
		_exit(127);
	}
	return child;
}

static void soak_kills(struct proc *p, const struct python *py, long n)
{
	long stopped_at_kill = 0, finished = 0;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)p->pid;

	for (long i = 0; i < n; i++) {
		unsigned stall = (unsigned)(rand_r(&seed) % 60), delay = (unsigned)(rand_r(&seed) % (stall + 60));
		pid_t child = spawn_stalled(p->pid, stall);
		int status;
		char when[64];
		usleep(delay * 1000);
		stopped_at_kill += h_state(p->pid) == 't';
		kill(child, SIGKILL);
		cr_assert_eq(waitpid(child, &status, 0), child);
		finished += WIFEXITED(status);
		snprintf(when, sizeof when, "after kill %ld (stall %u ms, kill at %u ms)", i, stall, delay);
		check_target(p, py->label, when);
	}
	fprintf(stderr, "soak: %s: pycensus killed with SIGKILL %ld times (%ld while the target stood stopped, "
		"%ld after it had finished); the target ran on and its checksums held each time\n",
		py->label, n, stopped_at_kill, finished);
}

ParameterizedTestParameters(soak, target_unharmed)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS), k = 0;
	struct python *params = cr_malloc(sizeof *params * 2);

	for (size_t i = n; i-- > 0 && k == 0;)
		if (found[i].has_symbols)
			params[k++] = found[i];
	for (size_t i = 0; i < n && k < 2; i++)
		if (!found[i].has_symbols) {
			params[k++] = found[i];
			break;
		}
	return cr_make_param_array(struct python, params, k);
}

ParameterizedTest(struct python *py, soak, target_unharmed, .timeout = 3600)
{
	char *argv[] = { py->path, (char *)soak_workload(), NULL }, line[256];
	struct proc p;

	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	cr_assert(h_wait_line(&p, "ready", line, sizeof line, 60), "%s: soak workload did not start", py->label);
	soak_censuses(&p, py, env_count("PYCENSUS_SOAK_CENSUSES", 50));
	soak_kills(&p, py, env_count("PYCENSUS_SOAK_KILLS", 10));
	h_kill(&p);
}
