/* test_freethreaded.c: free-threaded CPython (PEP 703, tools/build-freethreaded's 3.13t). pycensus
 * cannot census it yet (its objects live in mimalloc heaps, under a 32-byte header): every
 * command that reads the interpreter refuses it with exit 6 and one line that names the build,
 * how it was told (the target's own _Py_DebugOffsets) and the fix, and leaves the target running.
 * Run by `make check-ft`; skipped, with the reason, when no free-threaded build is at hand. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/integration/harness.h"

/* The ftthreads.py workload of `threads` threads (half of them exited) on py, up and quiet. */
static bool start_workload(struct proc *p, const struct python *py, const char *threads)
{
	char script[512], line[128];
	const char *dir = getenv("PYCENSUS_WORKLOADS");

	snprintf(script, sizeof script, "%s/ftthreads.py", dir ? dir : "tests/integration/workloads");
	char *argv[] = { (char *)py->path, script, (char *)threads, NULL };
	if (!h_spawn(p, argv))
		return false;
	if (!h_wait_line(p, "ready ", line, sizeof line, 120) || !h_wait_sleeping(p->pid, 30)) {
		h_kill(p);
		return false;
	}
	/* the build really runs without the GIL (PYTHON_GIL unset, no module re-enabled it) */
	cr_expect(strstr(line, " gil=0") != NULL, "%s: %s", py->label, line);
	return true;
}

/* One command on the target: exit 6, one line naming the free-threaded build and its version,
 * the fix; the target still running. */
static void expect_refused(const struct python *py, pid_t pid, const char *cmd)
{
	char pidtxt[16], err[2048], version[32];
	const char *args[] = { cmd, pidtxt, NULL };
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	snprintf(version, sizeof version, "%.*s", (int)(strlen(py->label) - 3), py->label);
	rc = h_pycensus(NULL, 0, err, sizeof err, args);
	cr_expect_eq(rc, 6, "%s %s on %s: exit %d: %s", cmd, pidtxt, py->label, rc, err);
	cr_expect(strncmp(err, "pycensus: unsupported Python build: found a free-threaded build of CPython ", 76) == 0,
		  "%s: %s", cmd, err);
	cr_expect(strstr(err, version) != NULL, "%s: version %s not named: %s", cmd, version, err);
	cr_expect(strstr(err, "_Py_DebugOffsets: free_threaded 1, a 32-byte object header") != NULL,
		  "%s: not told from the target's debug offsets: %s", cmd, err);
	cr_expect(strstr(err, "mimalloc") != NULL && strstr(err, "fix: ") != NULL, "%s: %s", cmd, err);
	cr_expect(strchr(err, '\n') == err + strlen(err) - 1, "%s: not one line: %s", cmd, err);
	char st = h_state(pid);
	cr_expect(st != 't' && st != 'T' && st != '?', "%s left the target in state %c", cmd, st);
	fprintf(stderr, "freethreaded: %s: %s %s refused: %s", py->label, cmd, pidtxt, err);
}

Test(freethreaded, refused_with_the_reason, .timeout = 300)
{
	struct python ft[4];
	const char *why = NULL;
	size_t n = h_find_pythons_ft(ft, PC_ARRAY_LEN(ft), &why);
	static const char *const threads[] = { "1", "4", "16" };
	static const char *const cmds[] = { "snap", "stats", "stacks" };

	if (!n)
		cr_skip_test("%s", why);
	for (size_t i = 0; i < n; i++)
		for (size_t t = 0; t < PC_ARRAY_LEN(threads); t++) {
			struct proc p;

			cr_assert(start_workload(&p, &ft[i], threads[t]), "%s: ftthreads.py %s did not start",
				  ft[i].label, threads[t]);
			for (size_t c = 0; c < PC_ARRAY_LEN(cmds); c++)
				expect_refused(&ft[i], p.pid, cmds[c]);
			h_kill(&p);
		}
}

/* The ordinary suites never see a free-threaded build. */
Test(freethreaded, kept_out_of_the_ordinary_suites)
{
	struct python all[H_MAX_PYTHONS], ft[4];
	size_t n = h_find_pythons(all, PC_ARRAY_LEN(all)), nft = h_find_pythons_ft(ft, PC_ARRAY_LEN(ft), NULL);

	for (size_t i = 0; i < n; i++) {
		cr_expect_not(all[i].free_threaded, "%s", all[i].label);
		for (size_t k = 0; k < nft; k++)
			cr_expect_str_neq(all[i].path, ft[k].path);
	}
	for (size_t k = 0; k < nft; k++) {
		cr_expect(ft[k].free_threaded);
		cr_expect(strlen(ft[k].label) > 3 && strcmp(ft[k].label + strlen(ft[k].label) - 3, "-ft") == 0,
			  "%s", ft[k].label);
	}
}
