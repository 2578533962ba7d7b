/* test_layouts.c: the layout from a build's own DWARF (PYCENSUS_LAYOUT=dwarf, python/dwarf.c)
 * gives the same census as pycensus's tables, on every interpreter whose DWARF is at hand: pyenv
 * builds (libpython with -g), the provisioned Debian builds (their -dbg .debug files in the
 * prefix) and the system's stripped python3.11 (its -dbg file, provisioned beside them). */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/integration/checks.h"
#include "tests/integration/harness.h"

#define OUTMAX (1 << 20)

/* The census, or false with pycensus's message in err. */
static bool census(pid_t pid, const char *layout, struct table *t, char *err, size_t errlen)
{
	char pidtxt[16], *out = malloc(OUTMAX);
	const char *args[] = { "snap", "-f", "csv", "--pause", "census", pidtxt, NULL };
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	setenv("PYCENSUS_LAYOUT", layout, 1);
	rc = h_pycensus(out, OUTMAX, err, errlen, args);
	unsetenv("PYCENSUS_LAYOUT");
	bool ok = rc == 0 && h_parse_csv(out, t);
	free(out);
	return ok;
}

/* The system's stripped interpreter finds its DWARF where tools/provision-pythons put it. */
static void debug_dir_for(const struct python *py)
{
	const char *top = getenv("PYCENSUS_PROVISION"), *home = getenv("HOME");
	char dir[512];

	if (strncmp(py->label, "system-", 7) != 0)
		return;
	snprintf(dir, sizeof dir, "%s/%s-dbg/usr/lib/debug", top ? top : "", py->label);
	if (!top)
		snprintf(dir, sizeof dir, "%s/.cache/pycensus/pythons/%s-dbg/usr/lib/debug", home ? home : "/root",
			 py->label);
	if (access(dir, R_OK) == 0)
		setenv("PYCENSUS_DEBUG_DIR", dir, 1);
}

ParameterizedTestParameters(layouts, dwarf_equals_tables)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, layouts, dwarf_equals_tables, .timeout = 300)
{
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	char wl[512], line[256], err[4096];
	struct table tables, dwarf;
	struct proc p;

	snprintf(wl, sizeof wl, "%s/census.py", dir ? dir : "tests/integration/workloads");
	char *argv[] = { py->path, wl, NULL };
	debug_dir_for(py);
	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	cr_assert(h_wait_line(&p, "before", line, sizeof line, 60) && h_wait_sleeping(p.pid, 30),
		  "%s: workload did not start", py->label);
	kill(p.pid, SIGUSR1);
	cr_assert(h_wait_line(&p, "after", line, sizeof line, 120) && h_wait_sleeping(p.pid, 30),
		  "%s: workload did not build its objects", py->label);
	cr_assert(census(p.pid, "tables", &tables, err, sizeof err), "%s: tables: %s", py->label, err);
	if (!census(p.pid, "dwarf", &dwarf, err, sizeof err)) {
		h_kill(&p);
		h_table_free(&tables);
		cr_assert(strstr(err, "no DWARF") != NULL, "%s: the DWARF layout failed: %s", py->label, err);
		cr_skip_test("%s: no DWARF at hand (%s)", py->label, err);
	}
	h_assert_same_table(&tables, &dwarf, "the census with the layout from DWARF vs from the tables", py);
	fprintf(stderr, "layouts: %s: the DWARF layout gives the tables' census (%zu kinds)\n", py->label, tables.n);
	h_table_free(&tables);
	h_table_free(&dwarf);
	h_kill(&p);
}
