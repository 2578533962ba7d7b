/* test_interrupt.c: Ctrl-C (or SIGTERM) during `snap -i` keeps what was sampled. The signal
 * lands while a census holds the target stopped (PYCENSUS_TEST_STALL_MS keeps each stop long):
 * the target is resumed at once, the census under way is dropped, the samples before it are
 * written, and pycensus exits 0. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/integration/harness.h"

/* Waits for the target's state to become (want) or stop being (!want) 't'; false on timeout. */
static bool wait_traced(pid_t pid, bool want)
{
	for (int i = 0; i < 1000; i++) {
		if ((h_state(pid) == 't') == want)
			return true;
		usleep(10000);
	}
	return false;
}

static long samples_in(const char *path)
{
	char line[1024];
	long n = 0, last = -1, at;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (line[0] != '#' && sscanf(line, "%*[^,],%ld,", &at) == 1 && at != last) {
			last = at;
			n++;
		}
	fclose(f);
	return n;
}

static void interrupted_series(int sig)
{
	struct python py[H_MAX_PYTHONS];
	size_t n = h_find_pythons(py, H_MAX_PYTHONS);
	char *argv[] = { n ? py[n - 1].path : NULL, "-c", "import time; print('up', flush=True); time.sleep(120)", NULL };
	char line[64], pidtxt[16], path[] = "/tmp/pycensus-interrupt-XXXXXX";
	int fd = mkstemp(path), status;
	struct proc p;
	pid_t child;

	cr_assert(n > 0 && fd >= 0);
	close(fd);
	cr_assert(h_spawn(&p, argv) && h_wait_line(&p, "up", line, sizeof line, 30), "cannot start %s", py[n - 1].label);
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)p.pid);
	child = fork();
	if (child == 0) { /* pycensus itself, to be signalled */
		const char *bin = getenv("PYCENSUS");
		setenv("PYCENSUS_TEST_STALL_MS", "700", 1); /* a 700 ms pause: off keeps the 0.1 s cadence */
		execl(bin ? bin : "./pycensus", "pycensus", "snap", "-q", "-i", "0.1", "--max-overhead", "off", "-f", "csv", "-o", path, pidtxt,
		      (char *)NULL);
		_exit(127);
	}
	/* the first census stops it and lets go; the signal meets the second one's stop */
	cr_assert(wait_traced(p.pid, true) && wait_traced(p.pid, false) && wait_traced(p.pid, true),
		  "pycensus did not stop the target twice");
	kill(child, sig);
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "signal %d: pycensus status 0x%x", sig, status);
	cr_expect(wait_traced(p.pid, false), "the target was left stopped");
	usleep(200000);
	cr_expect_neq(h_state(p.pid), 't', "the target was stopped again");
	cr_expect_eq(samples_in(path), 1, "signal %d: the series holds %ld samples, not the one taken", sig,
		     samples_in(path));
	unlink(path);
	h_kill(&p);
}

Test(interrupt, sigint_keeps_the_series, .timeout = 90) { interrupted_series(SIGINT); }
Test(interrupt, sigterm_keeps_the_series, .timeout = 90) { interrupted_series(SIGTERM); }
