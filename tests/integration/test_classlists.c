/* test_classlists.c: lists and tuples of classes that have no instances (workloads/classlists.py)
 * on every interpreter found: no row of the census names one of them, in either --pause mode. On
 * Debian's non-PIE /usr/bin/python3.11 an item array of class pointers passed for an instance
 * (80 such kinds in this workload before census/blocks.c checked a suspect's GC successor). */
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
	char *out = malloc(OUTMAX);
	struct proc p;

	snprintf(script, sizeof script, "%s/classlists.py", dir ? dir : "tests/integration/workloads");
	char *argv[] = { py->path, script, NULL };
	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	cr_assert(h_wait_line(&p, "ready", line, sizeof line, 60), "%s: workload not ready", py->label);
	cr_assert(h_wait_sleeping(p.pid, 60), "%s: workload busy", py->label);
	snprintf(pid, sizeof pid, "%d", (int)p.pid);
	for (size_t m = 0; m < PC_ARRAY_LEN(modes); m++) {
		const char *args[] = { "snap", "-f", "csv", "-n", "0", "--pause", modes[m], pid, NULL };
		int rc = h_pycensus(out, OUTMAX, err, sizeof err, args), n;
		cr_assert_eq(rc, 0, "%s: snap --pause %s: exit %d: %s", py->label, modes[m], rc, err);
		n = fake_rows(out, first, sizeof first);
		cr_expect_eq(n, 0, "%s: --pause %s: %d rows name a class that has no instance (first: %s)", py->label,
			     modes[m], n, first);
	}
	fprintf(stderr, "  %-14s classes held in lists and tuples: no instance counted\n", py->label);
	free(out);
	h_kill(&p);
}
