/* test_churn.c: censuses of a target whose threads allocate and free all the time
 * (workloads/churn.py), in every --pause mode: no kind's count or size above twice the most the
 * target can hold, none below its stable objects. Under --pause copy the objects outside the
 * arenas are read while the target runs; a freed or reused one must be skipped and counted, never
 * lend a garbage length to a size (it did: str at 9.0e18 bytes on 3.12.1). */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/integration/harness.h"

#define OUTMAX (1 << 20)
#define ROUNDS 8

struct bound {
	char kind[16];
	long long count, size, most_count, most_size;
};

static bool read_bounds(struct proc *p, struct bound b[3])
{
	char line[256];

	for (int i = 0; i < 3; i++)
		if (!h_wait_line(p, "bound ", line, sizeof line, 120) ||
		    sscanf(line, "bound %15s %lld %lld %lld %lld", b[i].kind, &b[i].count, &b[i].size, &b[i].most_count,
			   &b[i].most_size) != 5)
			return false;
	return h_wait_line(p, "ready", line, sizeof line, 60);
}

static void one_census(pid_t pid, const char *mode, const struct bound b[3], const struct python *py, int round)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[8192];
	const char *copy[] = { "snap", "-f", "csv", "-n", "0", pidtxt, NULL };
	const char *census[] = { "snap", "-f", "csv", "-n", "0", "--pause", "census", pidtxt, NULL };
	const char *nonblocking[] = { "snap", "-f", "csv", "-n", "0", "--nonblocking", pidtxt, NULL };
	const char *const *args = strcmp(mode, "census") == 0 ? census : strcmp(mode, "nonblocking") == 0 ? nonblocking : copy;
	struct table t;
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
	cr_assert_eq(rc, 0, "%s --pause %s round %d: exit %d: %s", py->label, mode, round, rc, err);
	cr_assert(h_parse_csv(out, &t), "%s: unparsable CSV", py->label);
	for (int i = 0; i < 3; i++) {
		const struct row *r = h_row(&t, b[i].kind);
		long long n = r ? r->count : 0, s = r ? r->size : 0;
		/* the stable objects never move; --nonblocking may miss some of their pools while
		 * the allocator rewrites its headers (and says so), so its lower bound is looser */
		double low = strcmp(mode, "nonblocking") == 0 ? 0.5 : 0.95;
		cr_expect(n <= 2 * b[i].most_count && s <= 2 * b[i].most_size,
			  "%s --pause %s round %d: %s %lld objects %lld bytes, the target holds at most %lld, %lld",
			  py->label, mode, round, b[i].kind, n, s, b[i].most_count, b[i].most_size);
		cr_expect(n >= (long long)(low * (double)b[i].count) && s >= (long long)(low * (double)b[i].size),
			  "%s --pause %s round %d: %s %lld objects %lld bytes, its stable ones alone are %lld, %lld",
			  py->label, mode, round, b[i].kind, n, s, b[i].count, b[i].size);
	}
	h_table_free(&t);
	free(out);
}

ParameterizedTestParameters(churn, sizes_stay_true)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons_core(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, churn, sizes_stay_true, .timeout = 600)
{
	static const char *const modes[] = { "copy", "census", "nonblocking" };
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	char path[512];
	struct bound b[3];
	struct proc p;

	snprintf(path, sizeof path, "%s/churn.py", dir ? dir : "tests/integration/workloads");
	char *argv[] = { py->path, path, NULL };
	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	cr_assert(read_bounds(&p, b), "%s: the workload did not start", py->label);
	for (size_t m = 0; m < PC_ARRAY_LEN(modes); m++)
		for (int round = 0; round < ROUNDS; round++)
			one_census(p.pid, modes[m], b, py, round);
	fprintf(stderr, "churn: %s: %d censuses in each of copy, census and nonblocking stayed within bounds\n",
		py->label, ROUNDS);
	h_kill(&p);
}
