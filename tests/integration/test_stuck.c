/* test_stuck.c: a target with a thread in uninterruptible sleep (state D, held in vfork by
 * fixtures/vforkhold.c). Stopping it cannot succeed while the thread sleeps: every command that
 * stops the target gives up with exit 13, naming the thread, while the thread is still held (so
 * it gave up rather than outwaited the hold); the other threads run on meanwhile; and the held
 * thread runs on once the test releases it (pycensus leaves no pending stop behind). `run` skips
 * its samples while the thread sleeps, lets the program run, and still obeys SIGTERM. No figure
 * here is timed: the hold lasts until the test ends it by killing the vfork child, and a command
 * that froze would meet the test's timeout. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>
#include "tests/integration/harness.h"

/* an upper bound only, should the test die holding it: the test releases the thread itself */
#define HOLD_MS 150000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* the vfork child that holds thread `tid` of `pid` (Linux lists a thread's children) */
static pid_t holder(pid_t pid, pid_t tid)
{
	char path[96];
	int child = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)tid);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &child) != 1)
			child = 0;
		fclose(f);
	}
	return child;
}

static void release(pid_t pid, pid_t tid)
{
	pid_t child = holder(pid, tid);

	if (child > 0)
		kill(child, SIGKILL);
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
	/* its main thread ticks every 10 ms: R now and then (a CI run under ASan caught it so) */
	cr_assert(h_wait_sleeping(pid, 10), "%s: the workload's main thread never sleeps", py[n - 1].label);
	snprintf(pidtxt, sizeof pidtxt, "%d", pid);
	snprintf(want, sizeof want, "thread %d (", tid);
	cr_assert(holder(pid, tid) > 0 && h_state(tid) == 'D', "%s: thread %d is not held in vfork", py[n - 1].label, tid);
	static const char *const cmds[] = { "snap", "stats", "stacks" };
	double t0 = now();
	for (size_t i = 0; i < PC_ARRAY_LEN(cmds); i++) {
		const char *args[] = { cmds[i], pidtxt, NULL };
		long long before = ticks(&p), after;
		cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 13, "%s: %s", cmds[i], err);
		cr_expect(strstr(err, "a thread of the process does not stop") && strstr(err, want) &&
			  strstr(err, "state D"), "%s: %s", cmds[i], err);
		after = ticks(&p);
		cr_expect(after > before, "%s: the main thread did not run on (%lld, %lld ticks)", cmds[i], before, after);
	}
	cr_assert(holder(pid, tid) > 0 && h_state(tid) == 'D',
		  "thread %d was released before the commands ended; the test proves nothing", tid);
	/* --nonblocking never stops it: a census while the thread is held */
	{
		const char *args[] = { "snap", "--nonblocking", "-n", "1", pidtxt, NULL };
		cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 0, "--nonblocking: %s", err);
	}
	/* no stop left pending: once the hold ends, the held thread runs on */
	release(pid, tid);
	cr_expect(h_wait_line(&p, "released", line, sizeof line, 60),
		  "the held thread did not run on after its sleep");
	cr_expect(ticks(&p) > 0);
	fprintf(stderr, "stuck: %s: snap, stats and stacks gave up on thread %d (state D) in %.1f s in all\n",
		py[n - 1].label, tid, now() - t0);
	h_kill(&p);
}

static long long program_ticks(pid_t pid, struct proc *p)
{
	char line[128];
	long long n = -1;

	kill(pid, SIGUSR1);
	if (h_wait_line(p, "ticks ", line, sizeof line, 10))
		sscanf(line, "ticks %lld", &n);
	return n;
}

static bool read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return f != NULL;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* waits up to a minute for `text` in the file at `path` (its contents left in buf) */
static bool wait_for_text(const char *path, const char *text, char *buf, size_t len)
{
	for (int i = 0; i < 600; i++) {
		if (read_file(path, buf, len) && strstr(buf, text))
			return true;
		usleep(100000);
	}
	return false;
}

/* `run` samples a program whose thread sleeps in state D: each sample gives up (a warning naming
 * the thread, once), the program runs on between them, samples resume once the hold ends, and
 * SIGTERM ends the run (forwarded to the program) with the series written. */
Test(stuck, run_skips_samples_and_obeys_sigterm, .timeout = 180)
{
	struct python py[H_MAX_PYTHONS];
	size_t n = h_find_pythons(py, H_MAX_PYTHONS);
	const char *fix = getenv("PYCENSUS_FIXTURES"), *dir = getenv("PYCENSUS_WORKLOADS"), *bin = getenv("PYCENSUS");
	char lib[512], wl[512], hold[16], line[256], err[8192], csv[] = "/tmp/pycensus-stuck-XXXXXX", want[64];
	int pid = 0, tid = 0, status = 0, fd = mkstemp(csv);
	long long t1, t2, t3;
	struct proc p;

	cr_assert(n > 0 && fd >= 0);
	close(fd);
	snprintf(lib, sizeof lib, "%s/vforkhold.so", fix ? fix : "build/fixtures");
	snprintf(wl, sizeof wl, "%s/dstate.py", dir ? dir : "tests/integration/workloads");
	snprintf(hold, sizeof hold, "%d", HOLD_MS);
	char *argv[] = { (char *)(bin ? bin : "./pycensus"), "run", "-q", "-i", "0.3", "-f", "csv", "-o", csv, "--",
			 py[n - 1].path, wl, lib, hold, NULL };
	cr_assert(h_spawn(&p, argv), "cannot start pycensus run");
	cr_assert(h_wait_line(&p, "ready", line, sizeof line, 60) && sscanf(line, "ready %d %d", &pid, &tid) == 2,
		  "%s: the workload did not start under run", py[n - 1].label);
	snprintf(want, sizeof want, "thread %d (", tid);
	cr_expect(wait_for_text(p.errpath, want, err, sizeof err), "run never named the held thread: %s", err);
	/* samples come every 0.3 s and give up on the held thread; the program's main thread keeps ticking */
	t1 = program_ticks(pid, &p);
	usleep(1500000);
	t2 = program_ticks(pid, &p);
	usleep(1500000);
	t3 = program_ticks(pid, &p);
	cr_expect(t1 >= 0 && t2 > t1 && t3 > t2, "the program stood still under run: ticks %lld, %lld, %lld", t1, t2, t3);
	cr_assert(h_state(tid) == 'D', "thread %d was released early; the test proves nothing", tid);
	off_t held_len = file_size(csv);
	release(pid, tid);
	cr_expect(h_wait_line(&p, "released", line, sizeof line, 60), "the held thread did not run on after its release");
	/* samples again, now that every thread can stop: the series grows */
	for (int i = 0; i < 600 && file_size(csv) <= held_len; i++)
		usleep(100000);
	cr_expect(file_size(csv) > held_len, "no sample after the release (%lld bytes of series)", (long long)held_len);
	kill(p.pid, SIGTERM);
	cr_assert_eq(waitpid(p.pid, &status, 0), p.pid); /* a run deaf to SIGTERM meets the test's timeout */
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGTERM, "run: status 0x%x", status);
	p.pid = 0;
	read_file(p.errpath, err, sizeof err);
	cr_expect(strstr(err, "a thread of the process does not stop") && strstr(err, want), "run's warnings: %s", err);
	read_file(csv, err, sizeof err);
	/* every sample but those the hold cost is in the series: some came after the release */
	cr_expect(strncmp(err, "time_s,sample,kind", 18) == 0 && strchr(err, '\n') && strchr(err, '\n')[1] != '\0',
		  "the series has no sample: %.200s", err);
	unlink(csv);
	h_kill(&p);
}
