/* test_buffers.c: objects whose data lies in a buffer of their own (workloads/buffers.py), on
 * every interpreter found: numpy arrays (where numpy imports: Debian's python3-numpy for the
 * system python3.11 and the provisioned 3.14 and 3.15), bytearray, array.array, memoryview, mmap,
 * collections.deque and a subclass (their blocks), OrderedDict (its nodes), the _io buffered
 * files (their buffers) are sized exactly as the target's own sys.getsizeof; the bytes only
 * memoryviews hold are found, and so is every message only deques hold (a queue.Queue's backlog
 * among them: untracked bytes outside the arenas) or only the C fields of an asyncio Future or an
 * itertools.repeat hold (census/cfields.c); and --size alloc on a numpy-heavy target adds up to what tracemalloc traced, within
 * 5 %. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "python/rules.h"
#include "tests/integration/harness.h"

#define OUTMAX (1 << 20)

static const char *workload(void)
{
	static char path[512];
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	snprintf(path, sizeof path, "%s/buffers.py", dir ? dir : "tests/integration/workloads");
	return path;
}

static void census_csv(pid_t pid, bool alloc, struct table *t)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[4096];
	const char *args[] = { "snap", "-f", "csv", "--size", alloc ? "alloc" : "getsizeof", pidtxt, NULL };
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
	cr_assert_eq(rc, 0, "pycensus snap failed (%d): %s", rc, err);
	cr_assert(h_parse_csv(out, t), "unparsable CSV from pycensus");
	free(out);
}

static long long field(const struct table *t, const char *kind, bool size)
{
	const struct row *r = h_row(t, kind);
	return r ? (size ? r->size : r->count) : 0;
}

/* The bytes objects above 512 bytes that only memoryviews (through the managed buffer's
 * exporter, 400), numpy arrays (their base, np.frombuffer(), 100 where numpy imports), deques
 * (in their blocks, 3803: a queue.Queue's backlog among them), BytesIO objects (their buffer,
 * 200), asyncio futures (their result, 200) and itertools.repeat (100) hold are all seen; the build leaves a few more small ones only C holds (147 bytes on 3.8,
 * 3.11 and 3.14), so the bytes allow 1 % more than the closure. Where a bytearray keeps its
 * buffer in a bytes object (3.15), that object is counted in the bytearray's size only, as
 * sys.getsizeof does: the same bound holds. A BytesIO's buffer is counted as the bytes object it
 * is; up to 3.11 the closure does not reach it (BytesIO does not traverse it) and getsizeof adds
 * it to the BytesIO instead: so bytes and BytesIO are compared together. */
static long long with_bytesio(const struct table *t, bool size)
{
	return field(t, "bytes", size) + field(t, "_io.BytesIO", size);
}

static void check_exported(const struct table *c0, const struct table *c1, const struct table *t0,
			   const struct table *t1, const struct python *py)
{
	long long tc = field(t1, "bytes", false) - field(t0, "bytes", false), ts = with_bytesio(t1, true) - with_bytesio(t0, true);
	long long pc = field(c1, "bytes", false) - field(c0, "bytes", false), ps = with_bytesio(c1, true) - with_bytesio(c0, true);

	fprintf(stderr, "  %-14s bytes (and BytesIO) held by buffers only: created %lld objects %lld bytes; pycensus +%lld objects %lld bytes\n",
		py->label, tc, ts, pc, ps);
	cr_expect(tc >= 4503, "%s: the workload made %lld bytes objects", py->label, tc);
	cr_expect(pc >= tc && ps >= ts && (ps - ts) * 100 <= ts,
		  "%s: bytes: pycensus saw %lld objects of %lld bytes appear, the workload made %lld of %lld bytes", py->label, pc,
		  ps, tc, ts);
}

ParameterizedTestParameters(integration, buffers)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

/* What the workload built, kind by kind: the closure's increase against pycensus's, exact. */
ParameterizedTest(struct python *py, integration, buffers, .timeout = 300)
{
	static const char *const plain[] = { "bytearray", "array.array", "memoryview", "managedbuffer", "mmap.mmap",
					     "collections.deque", "__main__.History",
					     "collections.OrderedDict", "_io.BufferedReader", "_io.BufferedWriter",
					     "_asyncio.Future", "itertools.repeat" };
	char *argv[] = { py->path, (char *)workload(), "kinds", NULL }, line[256], version[64] = "", rec[128] = "";
	const char *const numpy[] = { "numpy.ndarray", rec }; /* numpy.recarray, numpy.rec.recarray in 2.x */
	struct table c[2], t[2], owned;
	struct proc p;
	int pid = 0;
	bool has_numpy;

	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	cr_assert(h_wait_line(&p, "ready start", line, sizeof line, 120), "%s: workload did not start", py->label);
	cr_assert(sscanf(line, "ready start %d numpy %63s recarray %127s", &pid, version, rec) == 3, "%s: '%s'", py->label,
		  line);
	has_numpy = strcmp(version, "none") != 0;
	if (!has_numpy)
		fprintf(stderr, "  %-14s numpy not importable: ndarray checks skipped (bytearray, array, memoryview, mmap run)\n",
			py->label);
	for (int i = 0; i < 2; i++) {
		cr_assert(h_wait_sleeping(p.pid, 60), "%s: workload busy", py->label);
		census_csv(p.pid, false, &c[i]);
		kill(p.pid, SIGUSR1);
		cr_assert(h_read_truth_step(&p, &t[i], &owned, line, sizeof line), "%s: no truth", py->label);
		h_table_free(&owned);
	}
	for (size_t i = 0; i < PC_ARRAY_LEN(plain) + (has_numpy ? PC_ARRAY_LEN(numpy) : 0); i++) {
		const char *k = i < PC_ARRAY_LEN(plain) ? plain[i] : numpy[i - PC_ARRAY_LEN(plain)];
		long long tc = field(&t[1], k, false) - field(&t[0], k, false), ts = field(&t[1], k, true) - field(&t[0], k, true);
		long long pc = field(&c[1], k, false) - field(&c[0], k, false), ps = field(&c[1], k, true) - field(&c[0], k, true);
		fprintf(stderr, "  %-14s numpy %-7s %-15s created %5lld objects %10lld bytes; pycensus +%5lld objects %10lld bytes\n",
			py->label, version, k, tc, ts, pc, ps);
		cr_expect(tc > 0, "%s: the workload made no %s", py->label, k);
		cr_expect(pc == tc && ps == ts, "%s: %s: pycensus saw %lld objects of %lld bytes appear, the workload made %lld of %lld bytes",
			  py->label, k, pc, ps, tc, ts);
	}
	check_exported(&c[0], &c[1], &t[0], &t[1], py);
	for (int i = 0; i < 2; i++) {
		h_table_free(&c[i]);
		h_table_free(&t[i]);
	}
	h_kill(&p);
}

static long long total(const struct table *t)
{
	long long n = 0;
	for (size_t i = 0; i < t->n; i++)
		n += t->v[i].size;
	return n;
}

ParameterizedTestParameters(integration, buffers_alloc)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

/* --size alloc against tracemalloc on a numpy-heavy heap: numpy traces its data and dimensions,
 * CPython every object and buffer; pycensus adds the blocks (claimed or not), what objects hold
 * outside the arenas, and the buffers they own. */
ParameterizedTest(struct python *py, integration, buffers_alloc, .timeout = 300)
{
	char *argv[] = { py->path, "-X", "tracemalloc", (char *)workload(), "alloc", NULL }, line[256], version[64] = "";
	long long traced = -1, after = -1, all;
	struct table c;
	struct proc p;
	int pid = 0;

	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	cr_assert(h_wait_line(&p, "ready alloc", line, sizeof line, 300), "%s: workload did not start", py->label);
	cr_assert(sscanf(line, "ready alloc %d numpy %63s traced %lld", &pid, version, &traced) == 3, "%s: '%s'",
		  py->label, line);
	if (strcmp(version, "none") == 0) {
		h_kill(&p);
		cr_skip_test("%s: numpy not importable: no numpy-heavy target", py->label);
	}
	cr_assert(h_wait_sleeping(p.pid, 60), "%s: workload busy", py->label);
	census_csv(p.pid, true, &c);
	kill(p.pid, SIGUSR1);
	cr_assert(h_wait_line(&p, "traced", line, sizeof line, 60) && sscanf(line, "traced %lld", &after) == 1,
		  "%s: no traced line", py->label);
	all = total(&c);
	fprintf(stderr, "  %-14s numpy %-7s --size alloc total %lld (numpy.ndarray %lld), tracemalloc %lld (%+.2f %%; "
		"%lld after the census)\n", py->label, version, all, field(&c, "numpy.ndarray", true), traced,
		100.0 * (double)(all - traced) / (double)traced, after);
	cr_expect(llabs(all - traced) * 20 <= traced, "%s: --size alloc total %lld, tracemalloc %lld: more than 5 %% apart",
		  py->label, all, traced);
	h_table_free(&c);
	h_kill(&p);
}
