/* test_memroom.c: pycensus in a memory cgroup made for the test (64 MiB limit) against a target
 * with about 150 MiB of arenas and 40 lists whose item arrays (outside the arenas) hold 92 MiB.
 * By default the census fits itself in the room: it streams the arenas in windows
 * (pymalloc/arenawin.h), reads the item arrays in batches within its budget (a batch of 256 MiB
 * had the kernel kill it), says so, and gives the rows a census outside the cgroup gives. With --max-memory none (one copy of the arenas, whatever it costs) it is refused
 * before the target is stopped: exit 20, one line naming the cgroup, the target never stopped.
 * (Under AddressSanitizer only the refusal is checked: its own memory does not fit 64 MiB.) A
 * census whose per-object state outgrows the room stops and says so (census/room.c).
 * Skipped, with the reason, where no memory cgroup can be made (not root, no writable cgroup v1
 * memory controller or v2 tree). */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/integration/checks.h"
#include "tests/integration/harness.h"

/* A fresh memory cgroup with a limit of mib MiB into dir; false when none can be made here. */
static bool make_cgroup(char *dir, size_t len, char *procs, size_t plen, unsigned mib)
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
	if (!(f = fopen(path, "w")) || fprintf(f, "%llu\n", (unsigned long long)mib << 20) < 0 || fclose(f) != 0) {
		rmdir(dir);
		return false;
	}
	snprintf(procs, plen, "%s/cgroup.procs", dir);
	return true;
}

/* pycensus run inside the cgroup (procs: its cgroup.procs) with args; its output (stdout and
 * stderr) into out; the exit status, or -1. */
static int in_cgroup(const char *procs, const char *args, pid_t pid, char *out, size_t len)
{
	const char *pycensus = getenv("PYCENSUS");
	char cmd[1400];
	size_t got;
	FILE *f;
	int rc;

	snprintf(cmd, sizeof cmd, "sh -c 'echo $$ > %s; exec %s snap -q %s %d' 2>&1", procs, pycensus ? pycensus : "./pycensus",
		 args, (int)pid);
	if (!(f = popen(cmd, "r")))
		return -1;
	got = fread(out, 1, len - 1, f);
	out[got] = '\0';
	rc = pclose(f);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Test(memroom, census_fits_the_room, .timeout = 300)
{
	struct python all[H_MAX_PYTHONS];
	size_t n = h_find_pythons(all, H_MAX_PYTHONS);
	char dir[300], procs[400], line[256], *out = malloc(1 << 20), *outside = malloc(1 << 20), err[4096], pidtxt[16];
	struct table inside_t, outside_t;
	struct proc p;
	int rc;

	if (!n || !make_cgroup(dir, sizeof dir, procs, sizeof procs, 64))
		cr_skip_test("no interpreter, or no memory cgroup can be made here (needs root and a writable "
			     "/sys/fs/cgroup/memory or /sys/fs/cgroup with the memory controller)");
	struct python *py = &all[n - 1];
	char *argv[] = { py->path, "-c",
			 "import os, sys, time\nx = [{'1': i} for i in range(600000)]\n"
			 "y = [[None] * 300000 for _ in range(40)]\n"
			 "print('ready', os.getpid(), flush=True)\ntime.sleep(300)\n", NULL };
	cr_assert(h_spawn(&p, argv));
	cr_assert(h_wait_line(&p, "ready", line, sizeof line, 120) && h_wait_sleeping(p.pid, 30), "%s: target did not start",
		  py->label);

	rc = in_cgroup(procs, "--max-memory none", p.pid, out, 4096);
	cr_expect_eq(rc, 20, "%s: --max-memory none in 64 MiB: exit %d, not 20: %s", py->label, rc, out);
	cr_expect(strstr(out, "pycensus: not enough memory for the census:") && strstr(out, "pycensus-test-") &&
		  strchr(out, '\n') == strrchr(out, '\n'), "%s: not one line naming the cgroup: %s", py->label, out);
	cr_expect(h_state(p.pid) != 't' && h_state(p.pid) != 'T', "%s: target left stopped", py->label);
	fprintf(stderr, "memroom: %s: --max-memory none: %.200s", py->label, out);

	if (getenv("PYCENSUS") && strstr(getenv("PYCENSUS"), "asan")) {
		/* AddressSanitizer's shadow memory and quarantine alone take more than the cgroup's 64 MiB */
		fprintf(stderr, "memroom: %s: the census inside 64 MiB skipped under AddressSanitizer\n", py->label);
		h_kill(&p);
		rmdir(dir);
		free(out);
		free(outside);
		return;
	}
	rc = in_cgroup(procs, "-f csv", p.pid, out, 1 << 20);
	cr_assert_eq(rc, 0, "%s: the default census in 64 MiB failed (%d): %.2000s", py->label, rc, out);
	cr_expect(strstr(out, "over half the memory left to pycensus") && strstr(out, " windows of "),
		  "%s: the streamed census does not say so:\n%.2000s", py->label, out);
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)p.pid);
	const char *args[] = { "snap", "-f", "csv", pidtxt, NULL };
	cr_assert_eq(h_pycensus(outside, 1 << 20, err, sizeof err, args), 0, "%s: census outside the cgroup: %s", py->label, err);
	cr_assert(h_parse_csv(out, &inside_t) && h_parse_csv(outside, &outside_t));
	h_assert_same_table(&outside_t, &inside_t, "census outside the cgroup vs streamed inside it", py);
	cr_expect_geq(h_count(&inside_t, "dict (no owner)"), 600000, "%s: %lld dicts", py->label,
		      h_count(&inside_t, "dict (no owner)"));
	fprintf(stderr, "memroom: %s: in 64 MiB: %lld dicts, streamed\n", py->label, h_count(&inside_t, "dict (no owner)"));
	h_table_free(&inside_t);
	h_table_free(&outside_t);
	free(out);
	free(outside);
	h_kill(&p);
	rmdir(dir);
}

/* 3,000,000 dicts in 32 MiB: what the census keeps per object (8 bytes a dict, for their owners)
 * does not fit the room, whatever the windows. It stops counting before the kernel's OOM killer
 * ends it (exit 137 and no word, as it did), fails with exit 20 and one line saying how far it
 * got, and leaves the target running. */
Test(memroom, census_out_of_room_says_so, .timeout = 300)
{
	struct python all[H_MAX_PYTHONS];
	size_t n = h_find_pythons(all, H_MAX_PYTHONS);
	char dir[300], procs[400], line[256], out[4096];
	struct proc p;
	int rc;

	if (!n || !make_cgroup(dir, sizeof dir, procs, sizeof procs, 32))
		cr_skip_test("no interpreter, or no memory cgroup can be made here (needs root and a writable "
			     "/sys/fs/cgroup/memory or /sys/fs/cgroup with the memory controller)");
	if (getenv("PYCENSUS") && strstr(getenv("PYCENSUS"), "asan")) {
		rmdir(dir);
		cr_skip_test("AddressSanitizer's own memory does not fit 32 MiB");
	}
	struct python *py = &all[n - 1];
	char *argv[] = { py->path, "-c",
			 "import os, sys, time\nx = [{'1': i} for i in range(3000000)]\n"
			 "print('ready', os.getpid(), flush=True)\ntime.sleep(300)\n", NULL };
	cr_assert(h_spawn(&p, argv));
	cr_assert(h_wait_line(&p, "ready", line, sizeof line, 120) && h_wait_sleeping(p.pid, 30), "%s: target did not start",
		  py->label);
	rc = in_cgroup(procs, "-n 3", p.pid, out, sizeof out);
	fprintf(stderr, "memroom: %s: 3e6 dicts in 32 MiB: exit %d: %.300s", py->label, rc, out);
	cr_expect_eq(rc, 20, "%s: a census out of room: exit %d, not 20: %s", py->label, rc, out);
	cr_expect(strstr(out, "pycensus: not enough memory for the census:") && strstr(out, " stopped after ") &&
		  strstr(out, "pycensus-test-") && strchr(out, '\n') == strrchr(out, '\n'),
		  "%s: not one line saying where the census stopped and naming the cgroup: %s", py->label, out);
	cr_expect(h_state(p.pid) != 't' && h_state(p.pid) != 'T', "%s: target left stopped", py->label);
	h_kill(&p);
	rmdir(dir);
}
