/* test_classlists.c: lists and tuples of classes that have no instances, and lists of builtin types
 * (workloads/classlists.py), on every interpreter found: no row of the census names one of those
 * classes, and it counts the floats the target's own closure holds (within 1 %), in either --pause
 * mode. On Debian's builds an item array of type pointers passed for an object (80 instances of
 * these classes and 2,000 floats in this workload, before census/blocks.c took a refcount that is
 * a readable address for a pointer). */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/integration/harness.h"

#define OUTMAX (4 << 20)

ParameterizedTestParameters(classlists, no_instances_of_listed_classes)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

/* The count of the CSV row of kind `kind` in out, or -1. */
static long long csv_count(const char *out, const char *kind)
{
	char want[64];
	size_t lw;

	snprintf(want, sizeof want, ",%s\n", kind);
	lw = strlen(want);
	for (const char *line = out; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *nl = strchr(line, '\n');
		long long idx, count;
		if (nl && (size_t)(nl - line) + 1 >= lw && strncmp(nl + 1 - lw, want, lw) == 0 &&
		    sscanf(line, "%lld,%lld,", &idx, &count) == 2)
			return count;
	}
	return -1;
}

/* Rows of the CSV in out naming one of the workload's classes. */
static int fake_rows(const char *out, char *first, size_t len)
{
	int n = 0;

	for (const char *s = out; (s = strstr(s, "__main__.")) != NULL; s++) {
		if (strncmp(s + 9, "Fake", 4) != 0 && strncmp(s + 9, "Slot", 4) != 0)
			continue;
		if (n++ == 0)
			snprintf(first, len, "%.60s", s);
	}
	return n;
}

ParameterizedTest(struct python *py, classlists, no_instances_of_listed_classes, .timeout = 120)
{
	static const char *const modes[] = { "copy", "census" };
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	char script[512], line[64], pid[16], err[4096], first[64] = "";
	long long floats = -1;
	char *out = malloc(OUTMAX);
	struct proc p;

	snprintf(script, sizeof script, "%s/classlists.py", dir ? dir : "tests/integration/workloads");
	char *argv[] = { py->path, script, NULL };
	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	cr_assert(h_wait_line(&p, "floats", line, sizeof line, 60) && sscanf(line, "floats %lld", &floats) == 1,
		  "%s: workload did not start", py->label);
	cr_assert(h_wait_line(&p, "ready", line, sizeof line, 60), "%s: workload not ready", py->label);
	cr_assert(h_wait_sleeping(p.pid, 60), "%s: workload busy", py->label);
	snprintf(pid, sizeof pid, "%d", (int)p.pid);
	for (size_t m = 0; m < PC_ARRAY_LEN(modes); m++) {
		const char *args[] = { "snap", "-f", "csv", "-n", "0", "--pause", modes[m], pid, NULL };
		int rc = h_pycensus(out, OUTMAX, err, sizeof err, args), n;
		cr_assert_eq(rc, 0, "%s: snap --pause %s: exit %d: %s", py->label, modes[m], rc, err);
		long long got = csv_count(out, "float");
		n = fake_rows(out, first, sizeof first);
		cr_expect_eq(n, 0, "%s: --pause %s: %d rows name a class that has no instance (first: %s)", py->label,
			     modes[m], n, first);
		cr_expect(got >= floats - floats / 100 && got <= floats + floats / 100,
			  "%s: --pause %s: %lld floats counted, the target's closure holds %lld", py->label, modes[m], got,
			  floats);
	}
	fprintf(stderr, "  %-14s lists of classes and builtin types: no instance counted, %lld floats as the closure\n",
		py->label, floats);
	free(out);
	h_kill(&p);
}
