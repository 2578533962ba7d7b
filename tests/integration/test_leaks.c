/* test_leaks.c: the three leaks of examples/ (a signal's receiver list, an unbounded cache,
 * closures kept by a module global) on the core set of interpreters: `pycensus why` names each holder
 * in one run, and `pycensus leaks` finds the growth and names the same holder and a list or dict
 * as the common dominator of the new objects. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/integration/harness.h"

#define OUTMAX (1 << 20)

struct leak {
	const char *script;     /* in examples/ */
	const char *kind;       /* what it leaks, for why */
	const char *holder[2];  /* both in the path (the attribute is a dict key up to 3.10) */
	const char *dominator;  /* "list", "dict (no owner)" */
};

static const struct leak leaks[] = {
	{ "leak_signals.py", "__main__.Request", { "['request_finished'] -> __main__.Signal", "receivers" }, "list" },
	{ "leak_cache.py", "__main__.Answer", { "['resolver'] -> __main__.Resolver", "_cache" }, "dict (no owner)" },
	{ "leak_closures.py", "bytes", { "['CALLBACKS'] -> list", ".cell_contents -> bytes" }, "list" },
};

static const char *example(const char *script)
{
	static char path[512];
	const char *dir = getenv("PYCENSUS_WORKLOADS");

	/* examples/ is two levels above the workloads */
	snprintf(path, sizeof path, "%s/../../../examples/%s", dir ? dir : "tests/integration/workloads", script);
	return path;
}

static void check_why(const struct python *py, const struct leak *l, const char *pid, char *out)
{
	const char *args[] = { "why", "--kind", l->kind, pid, NULL };
	char err[4096];
	int rc = h_pycensus(out, OUTMAX, err, sizeof err, args);

	cr_assert_eq(rc, 0, "%s: why --kind %s: %d %s", py->label, l->kind, rc, err);
	for (int i = 0; i < 2; i++)
		cr_expect(strstr(out, l->holder[i]), "%s: %s: why does not name '%s':\n%s", py->label, l->script, l->holder[i],
			  out);
}

/* The suspect whose kind is l->kind, its path and dominator. */
static void check_leaks(const struct python *py, const struct leak *l, const char *pid, char *out)
{
	const char *args[] = { "leaks", "-i", "1", "-k", "8", pid, NULL };
	char err[4096], want[256], *s, *end;
	int rc = h_pycensus(out, OUTMAX, err, sizeof err, args);

	cr_assert_eq(rc, 0, "%s: leaks: %d %s", py->label, rc, err);
	snprintf(want, sizeof want, ": %s grew by +", l->kind);
	s = strstr(out, want);
	cr_assert(s, "%s: %s: no suspect %s in:\n%s", py->label, l->script, l->kind, out);
	end = strstr(s + 1, "\nSuspect ");
	if (end)
		*end = '\0';
	for (int i = 0; i < 2; i++)
		cr_expect(strstr(s, l->holder[i]), "%s: %s: the suspect's path does not name '%s':\n%s", py->label, l->script,
			  l->holder[i], s);
	snprintf(want, sizeof want, "Their common dominator: %s at 0x", l->dominator);
	cr_expect(strstr(s, want), "%s: %s: the common dominator is not a %s:\n%s", py->label, l->script, l->dominator, s);
	cr_expect(strstr(s, "objects new since the first census (100 %"), "%s: %s: not all new objects on the path:\n%s",
		  py->label, l->script, s);
}

/* The core set (one interpreter per layout family and each Debian build; PYCENSUS_TEST_FULL=1:
 * all): the graph under it is test_graph's, on every interpreter; this suite waits between its
 * censuses. */
ParameterizedTestParameters(integration, leaks)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons_core(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, integration, leaks, .timeout = 300)
{
	char *out = malloc(OUTMAX), line[256], pid[16];

	for (size_t i = 0; i < PC_ARRAY_LEN(leaks); i++) {
		char *argv[] = { py->path, (char *)example(leaks[i].script), NULL };
		struct proc p;
		cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
		cr_assert(h_wait_line(&p, "ready", line, sizeof line, 120), "%s: %s did not start", py->label, leaks[i].script);
		snprintf(pid, sizeof pid, "%d", (int)p.pid);
		check_why(py, &leaks[i], pid, out);
		check_leaks(py, &leaks[i], pid, out);
		fprintf(stderr, "  %-14s %-17s why and leaks name the holder\n", py->label, leaks[i].script);
		h_kill(&p);
	}
	free(out);
}

enum refusal { FITS, FIRST, SECOND };

/* leaks under --max-memory K KiB: both censuses fit, or which one was refused (exit 20). */
static enum refusal leaks_under(const struct python *py, const char *pid, long kib, char *out)
{
	char mem[32], err[4096];
	const char *args[] = { "leaks", "-q", "-i", "0.2", "--max-memory", mem, pid, NULL };
	int rc;

	snprintf(mem, sizeof mem, "%ldK", kib);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
	cr_assert(rc == 0 || rc == 20, "%s: leaks --max-memory %s: %d %s", py->label, mem, rc, err);
	if (rc == 0)
		return FITS;
	return strstr(err, "less what the first census holds") ? SECOND : FIRST;
}

/* The second census's graph shares --max-memory with the first's object addresses (8 bytes each,
 * kept to tell new objects from old): just above the least budget the first census fits in, the
 * second is refused for them (200,000 floats: 1.6 MiB of addresses), and named so. One
 * interpreter: a bisection of about a dozen runs. */
Test(integration, leaks_budget_holds_the_first_census, .timeout = 300)
{
	static const char code[] = "import time\nx = [float(i) for i in range(200000)]\nprint('ready', flush=True)\ntime.sleep(600)\n";
	struct python py[H_MAX_PYTHONS];
	char line[64], pid[16], *out = malloc(OUTMAX);
	long lo = 4096, hi = 64 * 1024; /* KiB: the first census is refused at lo, both fit at hi */
	enum refusal at_hi;
	struct proc p;

	if (h_find_pythons_core(py, H_MAX_PYTHONS) == 0)
		cr_skip_test("no interpreter found");
	char *argv[] = { (char *)py[0].path, "-c", (char *)code, NULL };
	cr_assert(h_spawn(&p, argv), "cannot start %s", py[0].path);
	cr_assert(h_wait_line(&p, "ready", line, sizeof line, 60), "%s: workload not ready", py[0].label);
	cr_assert(h_wait_sleeping(p.pid, 60), "%s: workload busy", py[0].label);
	snprintf(pid, sizeof pid, "%d", (int)p.pid);
	cr_assert_eq(leaks_under(&py[0], pid, lo, out), FIRST, "%s: 4 MiB holds the graph of 200,000 floats", py[0].label);
	cr_assert_eq(leaks_under(&py[0], pid, hi, out), FITS, "%s: 64 MiB does not hold two censuses of 200,000 floats",
		     py[0].label);
	at_hi = FITS;
	while (hi - lo > 32) {
		long mid = lo + (hi - lo) / 2;
		enum refusal r = leaks_under(&py[0], pid, mid, out);
		if (r == FIRST) {
			lo = mid;
		} else {
			hi = mid;
			at_hi = r;
		}
	}
	cr_expect_eq(at_hi, SECOND, "%s: at %ld KiB, 32 KiB over the least the first census fits in, the second census "
		     "was not refused for the first one's addresses", py[0].label, hi);
	if (at_hi == SECOND)
		fprintf(stderr, "  %-14s leaks: the first census fits from %ld KiB, the second is refused there\n", py[0].label,
			hi);
	free(out);
	h_kill(&p);
}
