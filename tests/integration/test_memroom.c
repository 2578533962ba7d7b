/* test_memroom.c: a census that would not fit in the memory pycensus may take is refused before
 * the target is stopped: pycensus runs in a memory cgroup made for the test (64 MiB limit) against
 * a target with about 150 MiB of arenas; it exits 20 with one line naming the cgroup, and the
 * target was never stopped (it still answers). Skipped, with the reason, where no memory cgroup
 * can be made (not root, no writable cgroup v1 memory controller or v2 tree). */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/integration/harness.h"

/* A fresh memory cgroup with a 64 MiB limit into dir; false when none can be made here. */
static bool make_cgroup(char *dir, size_t len, char *procs, size_t plen)
{
	char path[600];
	FILE *f;

	snprintf(dir, len, "/sys/fs/cgroup/memory/pycensus-test-%d", (int)getpid()); /* v1 */
	if (mkdir(dir, 0755) < 0) {
		snprintf(dir, len, "/sys/fs/cgroup/pycensus-test-%d", (int)getpid()); /* v2 */
		if (mkdir(dir, 0755) < 0)
			return false;
	}
	snprintf(path, sizeof path, "%s/memory.limit_in_bytes", dir);
	if (access(path, F_OK) != 0)
		snprintf(path, sizeof path, "%s/memory.max", dir);
	if (!(f = fopen(path, "w")) || fputs("67108864\n", f) < 0 || fclose(f) != 0) {
		rmdir(dir);
		return false;
	}
	snprintf(procs, plen, "%s/cgroup.procs", dir);
	return true;
}

Test(memroom, census_refused_before_the_stop, .timeout = 300)
{
	struct python all[H_MAX_PYTHONS];
	size_t n = h_find_pythons(all, H_MAX_PYTHONS);
	char dir[300], procs[400], cmd[1400], line[256], out[4096] = "";
	const char *pycensus = getenv("PYCENSUS");
	struct proc p;
	FILE *f;
	int rc;

	if (!n || !make_cgroup(dir, sizeof dir, procs, sizeof procs))
		cr_skip_test("no interpreter, or no memory cgroup can be made here (needs root and a writable "
			     "/sys/fs/cgroup/memory or /sys/fs/cgroup with the memory controller)");
	char *argv[] = { all[n - 1].path, "-c",
			 "import os, sys, time\nx = [{'1': i} for i in range(600000)]\n"
			 "print('ready', os.getpid(), flush=True)\ntime.sleep(300)\n", NULL };
	cr_assert(h_spawn(&p, argv));
	cr_assert(h_wait_line(&p, "ready", line, sizeof line, 120), "%s: target did not start", all[n - 1].label);
	snprintf(cmd, sizeof cmd, "sh -c 'echo $$ > %s; exec %s snap -q %d' 2>&1", procs, pycensus ? pycensus : "./pycensus",
		 (int)p.pid);
	cr_assert((f = popen(cmd, "r")));
	size_t got = fread(out, 1, sizeof out - 1, f);
	out[got] = '\0';
	rc = pclose(f);
	cr_expect(WIFEXITED(rc) && WEXITSTATUS(rc) == 20, "%s: exit %d, not 20: %s", all[n - 1].label,
		  WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out);
	cr_expect(strstr(out, "pycensus: not enough memory for the census:") && strstr(out, "pycensus-test-") &&
		  strchr(out, '\n') == strrchr(out, '\n'), "%s: not one line naming the cgroup: %s", all[n - 1].label, out);
	cr_expect(h_state(p.pid) != 't' && h_state(p.pid) != 'T', "%s: target left stopped", all[n - 1].label);
	fprintf(stderr, "memroom: %s: %.200s", all[n - 1].label, out);
	h_kill(&p);
	rmdir(dir);
}
