/* test_manykinds.c: 20,000 classes (workloads/manykinds.py), each with its own number of instances:
 * the census counts every class's instances and their bytes exactly as the target measures them,
 * before and after a change that empties a fifth of the classes and grows another fifth; and
 * `pycensus diff -f csv` of the two censuses' CSV files gives every class exactly the delta the
 * target made. Kinds are hashed (model/census.c, report/diff.c): a mix-up between two of 20,000
 * rows, or a row lost, fails here.
 *
 * On the core set of interpreters (harness.h h_find_pythons_core), as the other slow suites:
 * the layouts differ per family, and 20,000 classes per interpreter cost a few seconds each;
 * 5,000 under AddressSanitizer (make asan), where 20,000 took over the 300 s timeout. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/integration/harness.h"

/* A pycensus built with AddressSanitizer is several times slower (make asan: pycensus-asan). */
static size_t nclasses(void)
{
	const char *bin = getenv("PYCENSUS");

	return bin && strstr(bin, "asan") ? 5000 : 20000;
}
#define NCLASSES nclasses()
#define OUTMAX (16 << 20)
#define CLASS_PREFIX "__main__.K"

static const char *workload(void)
{
	static char path[512];
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	snprintf(path, sizeof path, "%s/manykinds.py", dir ? dir : "tests/integration/workloads");
	return path;
}

static int by_kind(const void *x, const void *y)
{
	return strcmp(((const struct row *)x)->kind, ((const struct row *)y)->kind);
}

/* t's rows sorted by kind, for find(). */
static void sort_rows(struct table *t)
{
	if (t->n > 1) /* an empty table's v may be NULL (no instance dicts from 3.11 on) */
		qsort(t->v, t->n, sizeof *t->v, by_kind);
}

static const struct row *find(const struct table *sorted, const char *kind)
{
	struct row key;

	snprintf(key.kind, sizeof key.kind, "%s", kind);
	return sorted->n ? bsearch(&key, sorted->v, sorted->n, sizeof *sorted->v, by_kind) : NULL;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = malloc(OUTMAX);
	size_t n;

	cr_assert(f && text, "cannot read %s", path);
	n = fread(text, 1, OUTMAX - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* `pycensus snap -f csv -o path PID`, parsed and sorted by kind. */
static void census_file(pid_t pid, const char *path, struct table *t, const struct python *py)
{
	char pidtxt[16], out[256], err[4096], *text;
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	rc = h_pycensus(out, sizeof out, err, sizeof err, (const char *[]){ "snap", "-f", "csv", "-o", path, pidtxt, NULL });
	cr_assert_eq(rc, 0, "%s: pycensus snap failed (%d): %s", py->label, rc, err);
	text = slurp(path);
	cr_assert(h_parse_csv(text, t), "%s: unparsable CSV in %s", py->label, path);
	free(text);
	sort_rows(t);
}

/* Every class of the truth (and, up to 3.10, its instance dicts: owned) has its exact row in the
 * census; a class without instances has none. */
static void check_exact(const struct table *census, const struct table *truth, const struct table *owned,
			const char *when, const struct python *py)
{
	const struct table *want[2] = { truth, owned };
	size_t bad = 0, rows = 0;

	for (int w = 0; w < 2; w++)
		for (size_t i = 0; i < want[w]->n; i++) {
			const struct row *t = &want[w]->v[i], *r = find(census, t->kind);
			bool ok = t->count == 0 ? r == NULL : r && r->count == t->count && r->size == t->size;
			rows += t->count != 0;
			if (!ok && bad++ < 5)
				fprintf(stderr, "  %-12s %s: %s: pycensus %lld objects %lld bytes, the workload %lld objects %lld bytes\n",
					py->label, when, t->kind, r ? r->count : 0, r ? r->size : 0, t->count, t->size);
		}
	fprintf(stderr, "  %-12s %s: %zu class and instance-dict rows, %zu differ from the workload's own figures\n",
		py->label, when, rows, bad);
	cr_expect_eq(truth->n, NCLASSES, "%s: %s: the workload reported %zu classes", py->label, when, truth->n);
	cr_expect_eq(bad, 0, "%s: %s: %zu of %zu rows differ from the workload's figures", py->label, when, bad, rows);
	if (h_instances_without_dict(py))
		cr_expect_eq(h_count_prefix(census, "dict of " CLASS_PREFIX), 0, "%s: %s: instance dicts that do not exist",
			     py->label, when);
	else
		cr_expect_gt(owned->n, 0, "%s: %s: the workload reported no instance dicts", py->label, when);
}

struct drow {
	char kind[128];
	long long count_a, count_b, count_d, size_a, size_b, size_d;
};

struct dtable {
	struct drow *v;
	size_t n;
};

/* One row of `diff -f csv`: kind,count_before,count_after,count_delta,size_before,size_after,
 * size_delta (the kinds here hold no comma or quote). */
static bool parse_drow(const char *line, struct drow *d)
{
	const char *comma = strchr(line, ',');

	if (!comma || (size_t)(comma - line) >= sizeof d->kind)
		return false;
	memcpy(d->kind, line, (size_t)(comma - line));
	d->kind[comma - line] = '\0';
	return sscanf(comma, ",%lld,%lld,%lld,%lld,%lld,%lld", &d->count_a, &d->count_b, &d->count_d, &d->size_a,
		      &d->size_b, &d->size_d) == 6;
}

static void diff_files(const char *a, const char *b, struct dtable *d, const struct python *py)
{
	static const char header[] = "kind,count_before,count_after,count_delta,size_before,size_after,size_delta\n";
	char *out = malloc(OUTMAX), err[4096], *line, *save = NULL;
	int rc = h_pycensus(out, OUTMAX, err, sizeof err, (const char *[]){ "diff", "-f", "csv", a, b, NULL });

	cr_assert_eq(rc, 0, "%s: pycensus diff failed (%d): %s", py->label, rc, err);
	cr_assert(strncmp(out, header, sizeof header - 1) == 0, "%s: diff CSV header: %.80s", py->label, out);
	memset(d, 0, sizeof *d);
	for (line = strtok_r(out + sizeof header - 1, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		d->v = realloc(d->v, (d->n + 1) * sizeof *d->v);
		cr_assert(parse_drow(line, &d->v[d->n]), "%s: diff CSV row: %s", py->label, line);
		d->n++;
	}
	free(out);
}

static int drow_by_kind(const void *x, const void *y)
{
	return strcmp(((const struct drow *)x)->kind, ((const struct drow *)y)->kind);
}

/* Kinds in either census. */
static size_t union_size(const struct table *x, const struct table *y)
{
	size_t i = 0, j = 0, n = 0;

	while (i < x->n || j < y->n) {
		int c = i == x->n ? 1 : j == y->n ? -1 : strcmp(x->v[i].kind, y->v[j].kind);
		i += c <= 0;
		j += c >= 0;
		n++;
	}
	return n;
}

/* Every row of the truth before (t0) and after (t1): before, after and delta exact; ordered by
 * size delta, largest growth first; one row per kind of either census. */
static void check_diff(struct dtable *d, const struct table *c0, const struct table *c1, const struct table *t0,
		       const struct table *t1, const struct python *py)
{
	size_t bad = 0, order = 0, changed = 0;

	for (size_t i = 1; i < d->n; i++)
		order += d->v[i].size_d > d->v[i - 1].size_d;
	cr_expect_eq(order, 0, "%s: diff rows not in size-delta order (%zu inversions)", py->label, order);
	cr_expect_eq(d->n, union_size(c0, c1), "%s: diff has %zu rows for %zu kinds", py->label, d->n, union_size(c0, c1));
	if (d->n > 1)
		qsort(d->v, d->n, sizeof *d->v, drow_by_kind);
	for (size_t i = 0; i < t0->n; i++) {
		const struct row *b = find(t1, t0->v[i].kind);
		struct drow key, *r;
		long long ca = t0->v[i].count, cb = b ? b->count : 0, sa = t0->v[i].size, sb = b ? b->size : 0;
		snprintf(key.kind, sizeof key.kind, "%s", t0->v[i].kind);
		r = d->n ? bsearch(&key, d->v, d->n, sizeof *d->v, drow_by_kind) : NULL;
		changed += ca != cb;
		if ((ca == 0 && cb == 0) ? r == NULL
					 : r && r->count_a == ca && r->count_b == cb && r->count_d == cb - ca && r->size_a == sa &&
						   r->size_b == sb && r->size_d == sb - sa)
			continue;
		if (bad++ < 5)
			fprintf(stderr, "  %-12s diff %s: %lld -> %lld (%+lld) objects, %lld -> %lld (%+lld) bytes; the workload: "
				"%lld -> %lld objects, %lld -> %lld bytes\n", py->label, key.kind, r ? r->count_a : 0,
				r ? r->count_b : 0, r ? r->count_d : 0, r ? r->size_a : 0, r ? r->size_b : 0, r ? r->size_d : 0,
				ca, cb, sa, sb);
	}
	fprintf(stderr, "  %-12s diff: %zu rows, %zu of the workload's %zu rows changed, %zu differ from its figures\n",
		py->label, d->n, changed, t0->n, bad);
	cr_expect_gt(changed, NCLASSES / 5, "%s: the workload changed only %zu rows", py->label, changed);
	cr_expect_eq(bad, 0, "%s: %zu diff rows differ from the workload's figures", py->label, bad);
}

/* The workload's report: classes and instance dicts in one table, sorted by kind. */
static void read_step(struct proc *p, struct table *truth, struct table *owned, const char *want,
		      const struct python *py)
{
	char line[256];

	cr_assert(h_read_truth_step(p, truth, owned, line, sizeof line), "%s: no report from the workload", py->label);
	cr_assert(strncmp(line, want, strlen(want)) == 0, "%s: expected '%s', got '%s'", py->label, want, line);
	sort_rows(truth);
	sort_rows(owned);
}

/* t0 and o0 merged: the diff compares every row, classes and their dicts alike. */
static void merge(struct table *into, const struct table *more)
{
	into->v = realloc(into->v, (into->n + more->n + 1) * sizeof *into->v);
	if (more->n)
		memcpy(into->v + into->n, more->v, more->n * sizeof *more->v);
	into->n += more->n;
	sort_rows(into);
}

ParameterizedTestParameters(integration, many_kinds)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons_core(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, integration, many_kinds, .timeout = 300)
{
	char count[16], dir[] = "/tmp/pycensus-manykinds-XXXXXX", a[64], b[64];
	char *argv[] = { py->path, (char *)workload(), count, NULL };
	struct table c[2], t[2], o[2];
	struct dtable d;
	struct proc p;

	snprintf(count, sizeof count, "%zu", NCLASSES);
	cr_assert(mkdtemp(dir), "mkdtemp");
	snprintf(a, sizeof a, "%s/a.csv", dir);
	snprintf(b, sizeof b, "%s/b.csv", dir);
	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	read_step(&p, &t[0], &o[0], "ready built", py);
	cr_assert(h_wait_sleeping(p.pid, 60), "%s: workload busy", py->label);
	census_file(p.pid, a, &c[0], py);
	check_exact(&c[0], &t[0], &o[0], "built", py);
	kill(p.pid, SIGUSR1);
	read_step(&p, &t[1], &o[1], "ready changed", py);
	cr_assert(h_wait_sleeping(p.pid, 60), "%s: workload busy", py->label);
	census_file(p.pid, b, &c[1], py);
	check_exact(&c[1], &t[1], &o[1], "changed", py);
	merge(&t[0], &o[0]);
	merge(&t[1], &o[1]);
	diff_files(a, b, &d, py);
	check_diff(&d, &c[0], &c[1], &t[0], &t[1], py);
	free(d.v);
	for (int i = 0; i < 2; i++) {
		h_table_free(&c[i]);
		h_table_free(&t[i]);
		h_table_free(&o[i]);
	}
	unlink(a);
	unlink(b);
	rmdir(dir);
	h_kill(&p);
}
