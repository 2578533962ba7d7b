/* test_census.c: censuses of a known workload on every supported interpreter found, compared
 * with what the workload computes about itself (see workloads/census.py). */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/integration/checks.h"
#include "tests/integration/harness.h"

#define OUTMAX (1 << 20)

static const char *workload(void)
{
	static char path[512];
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	snprintf(path, sizeof path, "%s/census.py", dir ? dir : "tests/integration/workloads");
	return path;
}

/* pause: --pause copy (the default: the target runs again while what lies outside the arenas is
 * read) or census (stopped throughout); on a quiet target both see the same heap. */
static void census_csv_paused(pid_t pid, const char *by, const char *arenas, const char *pause, struct table *t)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[4096];
	const char *args[] = { "snap", "-f", "csv", "--by", by, "--arenas", arenas, "--pause", pause, pidtxt, NULL };
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
	cr_assert_eq(rc, 0, "pycensus snap --by %s --arenas %s --pause %s failed (%d): %s", by, arenas, pause, rc, err);
	cr_assert(h_parse_csv(out, t), "unparsable CSV from pycensus");
	free(out);
}

/* A census whose copy of the arenas may take at most 4 MiB: read in windows of one arena
 * (pymalloc/arenawin.h): with --pause census the rest of the heap read from the stopped target,
 * with --pause copy all of it read as the target runs again. */
static void census_streamed(pid_t pid, const char *by, const char *pause, const char *size, struct table *t,
			    const struct python *py)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[4096];
	const char *args[] = { "snap", "-f", "csv", "--by", by, "--pause", pause, "--size", size, "--max-memory", "4M",
			       pidtxt, NULL };
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
	cr_assert_eq(rc, 0, "%s: snap --max-memory 4M --pause %s failed (%d): %s", py->label, pause, rc, err);
	cr_expect(strstr(out, "over --max-memory (4.0 MiB): read in ") && strstr(out, " windows of 1.0 MiB"),
		  "%s: a streamed census does not say so:\n%.2000s", py->label, out);
	/* --pause copy streams after the target resumed, and says what changed meanwhile (on this idle
	 * target: none); --pause census walks the windows stopped */
	if (strcmp(pause, "copy") == 0)
		cr_expect(strstr(out, "MiB as the target ran") && strstr(out, "streamed after the target resumed: 0 of "),
			  "%s: a streamed --pause copy census does not say it read the arenas as the target ran:\n%.2000s",
			  py->label, out);
	else
		cr_expect(strstr(out, "the target stopped until the last was walked (--pause census)"),
			  "%s: a streamed --pause census census does not say the target stood stopped:\n%.2000s", py->label, out);
	cr_assert(h_parse_csv(out, t), "unparsable CSV from pycensus");
	free(out);
}

static void census_csv(pid_t pid, const char *by, const char *arenas, struct table *t)
{
	census_csv_paused(pid, by, arenas, "copy", t);
}

/* snap --stacks: the partition, then the main thread's frames at the moment of the census
 * (census.py waits in wait(), called from main()). */
static void check_snap_stacks(pid_t pid, const struct python *py)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[4096];
	const char *args[] = { "snap", "--stacks", "-n", "3", pidtxt, NULL };
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
	cr_expect_eq(rc, 0, "%s: snap --stacks failed (%d): %s", py->label, rc, err);
	cr_expect(strstr(out, "Partition of a set of") && strstr(out, "Threads at the moment of the census:") &&
		  strstr(out, "    wait (") && strstr(out, "    main ("), "%s: snap --stacks printed:\n%s", py->label, out);
	free(out);
}

/* The header says how long the target stood stopped: for the copy only by default, for the whole
 * census with --pause census. */
static void check_pause_modes(pid_t pid, const struct python *py)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[4096];
	const char *copy[] = { "snap", "-n", "1", pidtxt, NULL }, *whole[] = { "snap", "--pause", "census", "-n", "1", pidtxt, NULL };
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, copy);
	cr_expect(rc == 0 && strstr(out, "s (for the copy; the rest read as it ran), census "), "%s: snap printed:\n%s%s",
		  py->label, out, err);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, whole);
	cr_expect(rc == 0 && strstr(out, "s (whole census), census "), "%s: snap --pause census printed:\n%s%s", py->label,
		  out, err);
	free(out);
}

static bool step(struct proc *p, const char *expect)
{
	char line[256];

	kill(p->pid, SIGUSR1);
	return h_wait_line(p, expect, line, sizeof line, 120) && h_wait_sleeping(p->pid, 30);
}

static void assert_within(long long got, long long want, double pct, const char *what, const char *py)
{
	double diff = (double)(got > want ? got - want : want - got);
	cr_expect(diff <= want * pct / 100.0, "%s: %s is %lld, expected %lld within %.0f%%", py, what, got, want, pct);
}

static void check_increase(const struct table *a, const struct table *b, const struct python *py)
{
	/* 100000 dicts {'1': 1}; the 20000 Items have a real __dict__ only without managed dicts */
	assert_within(h_count(b, "dict (no owner)") - h_count(a, "dict (no owner)"), 100000, 1, "dict (no owner) increase",
		      py->label);
	cr_expect_eq(h_count(b, "dict of __main__.Item"), h_instances_without_dict(py) ? 0 : 20000, "%s: dict of Item %lld", py->label,
		     h_count(b, "dict of __main__.Item"));
	assert_within(h_count(b, "float") - h_count(a, "float"), 50000, 1, "float increase", py->label);
	assert_within(h_count(b, "str") - h_count(a, "str"), 30000, 1, "str increase", py->label);
}

static void check_items(const struct table *b, const struct table *truth, const struct python *py)
{
	const struct row *mine = h_row(b, "__main__.Item"), *theirs = h_row(truth, "__main__.Item");

	cr_assert(mine && theirs, "%s: no __main__.Item row", py->label);
	cr_expect_eq(mine->count, 20000, "%s: Item count %lld", py->label, mine->count);
	cr_expect_eq(mine->size, theirs->size, "%s: Item size %lld, getsizeof sum %lld", py->label, mine->size, theirs->size);
	/* a class named in UTF-8 is a type like any other (its tp_name is not ASCII) */
	mine = h_row(b, "__main__.\xc3\x9c" "n\xc3\xaf" "code");
	theirs = h_row(truth, "__main__.\xc3\x9c" "n\xc3\xaf" "code");
	cr_assert(mine && theirs, "%s: no __main__.Ünïcode row (pycensus %d, truth %d)", py->label, mine != NULL, theirs != NULL);
	cr_expect(mine->count == 300 && mine->size == theirs->size, "%s: Ünïcode: %lld objects of %lld bytes, the target's %lld of %lld",
		  py->label, mine->count, mine->size, theirs->count, theirs->size);
}

static void census_alloc_whole(pid_t pid, struct table *t, const struct python *py)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[4096];
	const char *args[] = { "snap", "-f", "csv", "--pause", "census", "--size", "alloc", "--max-memory", "none", pidtxt, NULL };
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
	cr_assert_eq(rc, 0, "%s: snap --size alloc --max-memory none failed (%d): %s", py->label, rc, err);
	cr_assert(h_parse_csv(out, t), "unparsable CSV from pycensus");
	free(out);
}

/* The arenas streamed a window at a time give the census one copy gives, in both pause modes,
 * by kind and by size class, with sys.getsizeof and with allocator footprints. */
static void check_streamed(pid_t pid, const struct table *kinds, const struct table *sizes, const struct python *py)
{
	struct table t, whole, win;

	census_streamed(pid, "kind", "copy", "getsizeof", &t, py);
	h_assert_same_table(kinds, &t, "kinds from one copy vs streamed, --pause copy", py);
	h_table_free(&t);
	census_streamed(pid, "kind", "census", "getsizeof", &t, py);
	h_assert_same_table(kinds, &t, "kinds from one copy vs streamed, --pause census", py);
	h_table_free(&t);
	census_streamed(pid, "size", "copy", "getsizeof", &t, py);
	h_assert_same_table(sizes, &t, "size classes from one copy vs streamed", py);
	h_table_free(&t);
	census_alloc_whole(pid, &whole, py);
	census_streamed(pid, "kind", "census", "alloc", &win, py);
	h_assert_same_table(&whole, &win, "--size alloc from one copy vs streamed", py);
	h_table_free(&whole);
	h_table_free(&win);
}

static void check_size_classes(const struct table *s, const char *statspath, const struct python *py)
{
	long long blocks[64];
	unsigned n;

	cr_assert(h_mallocstats(statspath, blocks, &n), "%s: no sys._debugmallocstats output", py->label);
	for (unsigned i = 0; i < n; i++) {
		char kind[64];
		snprintf(kind, sizeof kind, "blocks of %u bytes", (i + 1) * 16);
		cr_expect_eq(h_count(s, kind), blocks[i], "%s: size class %u: pycensus %lld blocks, _debugmallocstats %lld",
			     py->label, i, h_count(s, kind), blocks[i]);
	}
}

ParameterizedTestParameters(integration, census)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, integration, census, .timeout = 600)
{
	char *argv[] = { py->path, (char *)workload(), NULL }, line[256];
	struct table before, after, after_scan, after_sym, by_size, by_size_scan, truth;
	struct proc p;

	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	cr_assert(h_wait_line(&p, "before", line, sizeof line, 60) && h_wait_sleeping(p.pid, 30),
		  "%s: workload did not start", py->label);
	census_csv(p.pid, "kind", "auto", &before);
	cr_assert(step(&p, "after"), "%s: workload did not build its objects", py->label);
	census_csv(p.pid, "kind", "auto", &after);
	census_csv_paused(p.pid, "kind", "scan", "census", &after_scan);
	census_csv(p.pid, "size", "scan", &by_size_scan);
	census_csv(p.pid, "size", "auto", &by_size);
	h_assert_same_table(&after, &after_scan, "kinds via the arena table, --pause=copy vs the scan, --pause=census", py);
	h_assert_same_table(&by_size, &by_size_scan, "size classes via the arena table vs the scan", py);
	if (py->has_symbols) {
		census_csv(p.pid, "kind", "symbols", &after_sym);
		h_assert_same_table(&after_sym, &after_scan, "kinds via --arenas=symbols vs scan", py);
		h_table_free(&after_sym);
	}
	check_size_classes(&by_size, p.errpath, py);
	check_streamed(p.pid, &after, &by_size, py);
	check_snap_stacks(p.pid, py);
	check_pause_modes(p.pid, py);
	kill(p.pid, SIGUSR1);
	cr_assert(h_read_truth(&p, &truth), "%s: the workload did not answer after the census", py->label);
	check_items(&after, &truth, py);
	check_increase(&before, &after, py);
	h_check_whole_heap(&after, &truth, py);
	fprintf(stderr, "integration: census of %s (%s) checked%s\n", py->label, py->path,
		py->has_symbols ? " (arena table and scan)" : " (scan only: stripped build)");
	h_table_free(&before);
	h_table_free(&after);
	h_table_free(&after_scan);
	h_table_free(&by_size);
	h_table_free(&by_size_scan);
	h_table_free(&truth);
	h_kill(&p);
}

Test(integration, interpreters_found)
{
	struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);

	cr_assert_gt(n, 0, "no supported CPython found (looked in /root/.pyenv/versions, /usr/bin, $PYCENSUS_PYTHONS)");
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "integration: will test %s (%s)\n", found[i].label, found[i].path);
}

/* PYTHONMALLOC=malloc: no arenas. The census comes from the GC lists and references, and says so. */
/* On the core set (all with PYCENSUS_TEST_FULL=1): one interpreter per layout family. */
ParameterizedTestParameters(integration, malloc_mode)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons_core(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, integration, malloc_mode, .timeout = 600)
{
	char *argv[] = { py->path, (char *)workload(), NULL }, line[256], pidtxt[16], err[4096], *out = malloc(OUTMAX);
	const char *text[] = { "snap", "-n", "1", pidtxt, NULL };
	struct table before, after;
	struct proc p;

	setenv("PYTHONMALLOC", "malloc", 1);
	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	unsetenv("PYTHONMALLOC");
	cr_assert(h_wait_line(&p, "before", line, sizeof line, 60) && h_wait_sleeping(p.pid, 30),
		  "%s: workload did not start", py->label);
	census_csv(p.pid, "kind", "auto", &before);
	cr_assert(step(&p, "after"), "%s: workload did not build its objects", py->label);
	census_csv(p.pid, "kind", "auto", &after);
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)p.pid);
	cr_expect_eq(h_pycensus(out, OUTMAX, err, sizeof err, text), 0, "%s: %s", py->label, err);
	cr_expect(strstr(out, "warning: no pymalloc arenas found (PYTHONMALLOC=malloc?)"), "%s: no warning in:\n%s",
		  py->label, out);
	cr_expect_eq(h_count(&after, "__main__.Item"), 20000, "%s: Item %lld", py->label, h_count(&after, "__main__.Item"));
	check_increase(&before, &after, py);
	fprintf(stderr, "integration: PYTHONMALLOC=malloc census of %s checked\n", py->label);
	h_table_free(&before);
	h_table_free(&after);
	free(out);
	h_kill(&p);
}
