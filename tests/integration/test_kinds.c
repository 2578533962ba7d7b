/* test_kinds.c: kinds and sizes against the target's own truth, workload by workload (see
 * workloads/kinds.py), on every supported interpreter found: what each workload created equals
 * what pycensus sees appear; the workload classes and their instance dicts exactly; the whole
 * heap against the closure; the arena table and the scan agree; --size=alloc reconciles. And
 * objects only code objects reference, with code objects' opcache (workloads/code.py). */
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
#define NSTATES 7 /* start, then after each of the six workloads */

static const char *const steps[NSTATES] = { "start", "dicts", "cargo", "objects", "objects_dict", "slots", "mix" };

static const char *workload(void)
{
	static char path[512];
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	snprintf(path, sizeof path, "%s/kinds.py", dir ? dir : "tests/integration/workloads");
	return path;
}

static void census_csv(pid_t pid, const char *const *opts, struct table *t)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[4096];
	const char *args[16] = { "snap", "-f", "csv" };
	size_t n = 3;
	int rc;

	for (; *opts && n < 14; opts++)
		args[n++] = *opts;
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	args[n++] = pidtxt;
	args[n] = NULL;
	rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
	cr_assert_eq(rc, 0, "pycensus snap failed (%d): %s", rc, err);
	cr_assert(h_parse_csv(out, t), "unparsable CSV from pycensus");
	free(out);
}

static long long count_of(const struct table *t, const char *kind, bool size)
{
	const struct row *r;
	long long n = 0;

	if (strcmp(kind, "dict") == 0) { /* the closure names every dict "dict" */
		for (size_t i = 0; i < t->n; i++)
			if (strncmp(t->v[i].kind, "dict ", 5) == 0 || strcmp(t->v[i].kind, "dict") == 0)
				n += size ? t->v[i].size : t->v[i].count;
		return n;
	}
	r = h_row(t, kind);
	return r ? (size ? r->size : r->count) : 0;
}

/* Within 1 %, and exact for small numbers (1 % of under 100 rounds to nothing). */
static bool close_enough(long long got, long long want)
{
	long long d = got > want ? got - want : want - got, w = want < 0 ? -want : want;
	return d * 100 <= w;
}

/* What one workload created (the closure's increase) against what pycensus saw appear, for every
 * kind the workload created at least 100 objects of. */
static void check_step(const struct table *c0, const struct table *c1, const struct table *t0, const struct table *t1,
		       const char *step, const struct python *py)
{
	for (size_t i = 0; i < t1->n; i++) {
		const char *k = t1->v[i].kind;
		long long tc = count_of(t1, k, false) - count_of(t0, k, false), ts = count_of(t1, k, true) - count_of(t0, k, true);
		long long pc = count_of(c1, k, false) - count_of(c0, k, false), ps = count_of(c1, k, true) - count_of(c0, k, true);
		if (tc < 100)
			continue;
		fprintf(stderr, "  %-12s %-13s %-22s created %7lld objects %10lld bytes; pycensus +%7lld objects %10lld bytes\n",
			py->label, step, k, tc, ts, pc, ps);
		cr_expect(close_enough(pc, tc), "%s: %s: %s: pycensus saw %lld new objects, the workload created %lld", py->label,
			  step, k, pc, tc);
		cr_expect(close_enough(ps, ts), "%s: %s: %s: pycensus saw %lld new bytes, the workload created %lld", py->label,
			  step, k, ps, ts);
	}
}

static void check_exact(const struct table *c, const struct table *truth, const struct table *owned,
			const struct python *py)
{
	static const char *const classes[] = { "__main__.Cargo", "__main__.CargoDict", "__main__.CargoSlots" };

	for (size_t i = 0; i < PC_ARRAY_LEN(classes); i++) {
		const struct row *r = h_row(c, classes[i]), *t = h_row(truth, classes[i]);
		cr_assert(r && t, "%s: no %s row", py->label, classes[i]);
		cr_expect(r->count == 20000 && r->count == t->count && r->size == t->size,
			  "%s: %s: pycensus %lld objects %lld bytes, the workload %lld objects %lld bytes", py->label,
			  classes[i], r->count, r->size, t->count, t->size);
	}
	for (size_t i = 0; i < owned->n; i++) {
		const struct row *r = h_row(c, owned->v[i].kind);
		cr_expect(r && r->count == owned->v[i].count && r->size == owned->v[i].size,
			  "%s: %s: pycensus %lld objects %lld bytes, the workload %lld objects %lld bytes", py->label,
			  owned->v[i].kind, r ? r->count : 0, r ? r->size : 0, owned->v[i].count, owned->v[i].size);
	}
	if (h_instances_without_dict(py)) /* attribute values, no dict object: nothing to report */
		cr_expect_eq(h_count(c, "dict of __main__.Cargo"), 0, "%s: dict of Cargo %lld", py->label,
			     h_count(c, "dict of __main__.Cargo"));
}

static long long total(const struct table *t)
{
	long long n = 0;
	for (size_t i = 0; i < t->n; i++)
		n += t->v[i].size;
	return n;
}

/* --size=alloc: the blocks claimed plus the unattributed row are the allocated pymalloc blocks
 * (Σ of --by size, which test_census checks against sys._debugmallocstats), and the total is
 * within 1 % of those blocks plus the workload's own sum over its objects above 512 bytes (the
 * closure cannot see what only C references, e.g. the interned-strings dict up to 3.11, so the
 * part outside pymalloc alone differs by up to about 1.5 %). */
static void check_alloc(const struct table *alloc, const struct table *by_size, long long bigbytes,
			const struct python *py)
{
	long long blocks = total(by_size), all = total(alloc), outside = all - blocks;
	const struct row *un = h_row(alloc, "(unattributed pymalloc blocks)");

	fprintf(stderr, "  %-12s alloc: total %lld = pymalloc blocks %lld (unattributed %lld) + outside %lld; "
		"workload's objects above 512 B %lld\n", py->label, all, blocks, un ? un->size : 0, outside, bigbytes);
	cr_expect(all >= blocks, "%s: alloc total %lld below the allocated blocks %lld", py->label, all, blocks);
	cr_expect(!un || un->size * 50 <= blocks, "%s: %lld unattributed bytes of %lld allocated", py->label, un->size,
		  blocks);
	cr_expect(close_enough(all, blocks + bigbytes), "%s: alloc total %lld, blocks + big objects %lld", py->label, all,
		  blocks + bigbytes);
}

static void next_state(struct proc *p, int i, struct table *truth, struct table *owned, char *stop, size_t len)
{
	kill(p->pid, SIGUSR1);
	cr_assert(h_read_truth_step(p, truth, owned, stop, len), "no truth after %s", steps[i]);
}

ParameterizedTestParameters(integration, kinds)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons_core(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, integration, kinds, .timeout = 900)
{
	static const char *const by_kind[] = { NULL }, *const scan[] = { "--arenas", "scan", NULL },
				  *const alloc[] = { "--size", "alloc", NULL }, *const by_size[] = { "--by", "size", NULL };
	char *argv[] = { py->path, (char *)workload(), NULL }, line[256];
	struct table census[NSTATES], truth[NSTATES], owned[NSTATES], t_scan, t_alloc, t_size;
	long long bigbytes = -1;
	struct proc p;

	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	for (int i = 0; i < NSTATES; i++) {
		cr_assert(i > 0 || h_wait_line(&p, "ready", line, sizeof line, 300), "%s: workload did not start", py->label);
		cr_assert(h_wait_sleeping(p.pid, 60), "%s: workload busy after %s", py->label, steps[i]);
		census_csv(p.pid, by_kind, &census[i]);
		if (i == NSTATES - 1) {
			census_csv(p.pid, scan, &t_scan);
			census_csv(p.pid, alloc, &t_alloc);
			census_csv(p.pid, by_size, &t_size);
		}
		next_state(&p, i, &truth[i], &owned[i], line, sizeof line);
		if (i + 1 < NSTATES)
			cr_assert(strncmp(line, "ready ", 6) == 0 && strcmp(line + 6, steps[i + 1]) == 0,
				  "%s: expected ready %s, got '%s'", py->label, steps[i + 1], line);
	}
	cr_assert(sscanf(line, "bigbytes %lld", &bigbytes) == 1, "%s: no bigbytes line: '%s'", py->label, line);
	if (h_wait_line(&p, "materialised", line, sizeof line, 60))
		fprintf(stderr, "  %-12s a materialised Cargo __dict__ would be %s bytes\n", py->label, line + 13);
	for (int i = 1; i < NSTATES; i++)
		check_step(&census[i - 1], &census[i], &truth[i - 1], &truth[i], steps[i], py);
	check_exact(&census[NSTATES - 1], &truth[NSTATES - 1], &owned[NSTATES - 1], py);
	h_check_whole_heap(&census[NSTATES - 1], &truth[NSTATES - 1], py);
	h_assert_same_table(&census[NSTATES - 1], &t_scan, "kinds via the arena table vs the scan", py);
	check_alloc(&t_alloc, &t_size, bigbytes, py);
	for (int i = 0; i < NSTATES; i++) {
		h_table_free(&census[i]);
		h_table_free(&truth[i]);
		h_table_free(&owned[i]);
	}
	h_table_free(&t_scan);
	h_table_free(&t_alloc);
	h_table_free(&t_size);
	h_kill(&p);
}

static const char *code_workload(void)
{
	static char path[512];
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	snprintf(path, sizeof path, "%s/code.py", dir ? dir : "tests/integration/workloads");
	return path;
}

ParameterizedTestParameters(integration, code_constants)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

/* Objects only code objects reference (workloads/code.py: 300 functions whose frozenset, big int,
 * float and bytes constants, nested code, names and line tables nothing else holds, the code
 * objects or their bytecode outside pymalloc), exact per kind against the closure through code
 * objects' stored attributes plus what 3.11+ code objects hold out of Python's reach; the code
 * objects' own sizes include the opcache 3.8-3.10 give a function after 1024 runs. */
ParameterizedTest(struct python *py, integration, code_constants, .timeout = 300)
{
	static const char *const kinds[] = { "frozenset", "int", "float", "bytes", "tuple", "types.CodeType" };
	char *argv[] = { py->path, (char *)code_workload(), NULL }, line[256];
	const char *const opts[] = { NULL };
	struct table c[2], t[2], owned;
	struct proc p;

	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	cr_assert(h_wait_line(&p, "ready start", line, sizeof line, 120), "%s: workload did not start", py->label);
	for (int i = 0; i < 2; i++) {
		cr_assert(h_wait_sleeping(p.pid, 60), "%s: workload busy", py->label);
		census_csv(p.pid, opts, &c[i]);
		kill(p.pid, SIGUSR1);
		cr_assert(h_read_truth_step(&p, &t[i], &owned, line, sizeof line), "%s: no truth", py->label);
		h_table_free(&owned);
	}
	for (size_t i = 0; i < PC_ARRAY_LEN(kinds); i++) {
		char hidden[160];
		long long tc, ts, pc, ps;
		snprintf(hidden, sizeof hidden, "hidden %s", kinds[i]);
		tc = count_of(&t[1], kinds[i], false) - count_of(&t[0], kinds[i], false) + count_of(&t[1], hidden, false);
		ts = count_of(&t[1], kinds[i], true) - count_of(&t[0], kinds[i], true) + count_of(&t[1], hidden, true);
		pc = count_of(&c[1], kinds[i], false) - count_of(&c[0], kinds[i], false);
		ps = count_of(&c[1], kinds[i], true) - count_of(&c[0], kinds[i], true);
		fprintf(stderr, "  %-20s %-15s created %6lld objects %9lld bytes (%lld hidden); pycensus +%6lld objects %9lld bytes\n",
			py->label, kinds[i], tc, ts, count_of(&t[1], hidden, false), pc, ps);
		cr_expect(tc >= 300, "%s: the workload made %lld %s", py->label, tc, kinds[i]);
		cr_expect(pc == tc && ps == ts, "%s: %s: pycensus saw %lld objects of %lld bytes appear, the workload made %lld of %lld bytes",
			  py->label, kinds[i], pc, ps, tc, ts);
	}
	for (int i = 0; i < 2; i++) {
		h_table_free(&c[i]);
		h_table_free(&t[i]);
	}
	h_kill(&p);
}
