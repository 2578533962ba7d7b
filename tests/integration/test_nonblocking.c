/* test_nonblocking.c: `snap --nonblocking` reads while the target runs. On a quiet target (every
 * interpreter found) the census is exact and finds nothing inconsistent; on a target whose
 * threads allocate and free all the time (workloads/soak.py) it completes, says it did not stop
 * the target, and counts what it skipped. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/integration/harness.h"

#define OUTMAX (1 << 20)
#define CODE "import time\nclass Thing: pass\nt = [Thing() for i in range(10000)]\nprint('up', flush=True)\ntime.sleep(300)\n"

struct nb {
	unsigned long long pools, outside, changed, total;
	long long things;
};

static struct nb nonblocking_census(pid_t pid, const char *what)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[4096];
	const char *args[] = { "snap", "--nonblocking", "-n", "0", pidtxt, NULL };
	const char *w, *row;
	struct nb r = { 0 };
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
	cr_assert(h_census_status_ok(rc, out), "%s: pycensus --nonblocking failed (%d): %s", what, rc, err);
	cr_expect(strstr(out, "not stopped (--nonblocking)") != NULL, "%s: the header does not say so:\n%s", what, out);
	w = strstr(out, "read while the target ran (--nonblocking): skipped ");
	cr_assert(w && sscanf(w, "read while the target ran (--nonblocking): skipped %llu pools that failed validation and "
			     "%llu GC objects outside the arenas that were unreadable or had no valid type; %llu of %llu",
			     &r.pools, &r.outside, &r.changed, &r.total) == 4, "%s: no inconsistency counts:\n%s", what, out);
	row = strstr(out, " __main__.Thing\n");
	while (row && row > out && row[-1] != '\n')
		row--;
	if (row)
		sscanf(row, "%*d %lld", &r.things);
	free(out);
	return r;
}

ParameterizedTestParameters(nonblocking, quiet_target_exact)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, nonblocking, quiet_target_exact, .timeout = 120)
{
	char *argv[] = { py->path, "-c", CODE, NULL }, line[64];
	struct proc p;
	struct nb r;

	cr_assert(h_spawn(&p, argv) && h_wait_line(&p, "up", line, sizeof line, 60) && h_wait_sleeping(p.pid, 30),
		  "%s: target did not start", py->label);
	r = nonblocking_census(p.pid, py->label);
	cr_expect_eq(r.things, 10000, "%s: %lld Things", py->label, r.things);
	cr_expect(r.pools == 0 && r.outside == 0 && r.changed == 0, "%s: a sleeping target gave %llu/%llu/%llu inconsistencies",
		  py->label, r.pools, r.outside, r.changed);
	cr_expect(h_state(p.pid) == 'S', "%s: target in state %c", py->label, h_state(p.pid));
	h_kill(&p);
}

Test(nonblocking_busy, churning_target, .timeout = 300)
{
	struct python py[H_MAX_PYTHONS];
	size_t n = h_find_pythons(py, H_MAX_PYTHONS);
	char path[512], line[256];
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	struct proc p;

	cr_assert(n > 0);
	snprintf(path, sizeof path, "%s/soak.py", dir ? dir : "tests/integration/workloads");
	{
		char *argv[] = { py[n - 1].path, path, NULL };
		cr_assert(h_spawn(&p, argv) && h_wait_line(&p, "ready", line, sizeof line, 60));
	}
	for (int i = 0; i < 5; i++) {
		struct nb r = nonblocking_census(p.pid, py[n - 1].label);
		fprintf(stderr, "nonblocking: %s churning: skipped %llu pools, %llu outside objects; %llu of %llu pool headers changed\n",
			py[n - 1].label, r.pools, r.outside, r.changed, r.total);
		kill(p.pid, SIGUSR1);
		cr_assert(h_wait_line(&p, "", line, sizeof line, 60) && strncmp(line, "ok ", 3) == 0,
			  "target did not answer or its checksum broke: %s", line);
	}
	h_kill(&p);
}
