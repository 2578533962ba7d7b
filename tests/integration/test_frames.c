/* test_frames.c: objects that only Python frames hold (workloads/frames.py), on every supported
 * interpreter found: a big bytes local of the running function, and of a suspended generator,
 * coroutine and async generator, and of a returned function whose frame a stored traceback keeps;
 * the generator-like objects and frame objects themselves, counted and sized as sys.getsizeof
 * sizes them. Baseline census, then the held state: the difference must be exactly
 * what the workload made. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/integration/harness.h"

#define OUTMAX (1 << 20)
#define MAXEXPECT 8
/* Besides the five big ones, the held state may make a few small bytes objects of its own, or
 * drop a few of the baseline's (Debian's 3.13.18: two, 71 bytes in all). Every big one is over
 * 1 MB, so a size within 4 KiB of theirs still proves that each of them was found. */
#define BYTES_SLACK_COUNT 16
#define BYTES_SLACK_GONE 4
#define BYTES_SLACK_SIZE 4096

struct expect {
	char kind[64];
	long long count, size;
};

static const char *workload(void)
{
	static char path[512];
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	snprintf(path, sizeof path, "%s/frames.py", dir ? dir : "tests/integration/workloads");
	return path;
}

static void census(pid_t pid, struct table *t, const struct python *py)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[4096];
	const char *args[] = { "snap", "-f", "csv", "-n", "0", pidtxt, NULL };
	int rc;

	cr_assert(out);
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
	cr_assert_eq(rc, 0, "%s: pycensus snap failed (%d): %s", py->label, rc, err);
	cr_assert(h_parse_csv(out, t), "%s: unparsable CSV from pycensus", py->label);
	free(out);
}

static long long field_of(const struct table *t, const char *kind, bool size)
{
	const struct row *r = h_row(t, kind);
	return r ? (size ? r->size : r->count) : 0;
}

/* "frames <count> <size>": the workload's own count of its frame objects. */
static void read_frames(struct proc *p, struct expect *f, const struct python *py)
{
	char line[256];

	cr_assert(h_wait_line(p, "frames ", line, sizeof line, 120), "%s: no frames line", py->label);
	snprintf(f->kind, sizeof f->kind, "types.FrameType");
	cr_assert(sscanf(line, "frames %lld %lld", &f->count, &f->size) == 2, "%s: bad line '%s'", py->label, line);
}

static size_t read_expect(struct proc *p, struct expect *e, const struct python *py)
{
	char line[256];
	size_t n = 0;

	while (h_wait_line(p, "", line, sizeof line, 120)) {
		if (strcmp(line, "ready held") == 0)
			return n;
		if (strncmp(line, "frames ", 6) == 0) {
			snprintf(e[n].kind, sizeof e[n].kind, "types.FrameType");
			cr_assert(sscanf(line, "frames %lld %lld", &e[n].count, &e[n].size) == 2);
			n++;
			continue;
		}
		cr_assert(n < MAXEXPECT, "%s: too many expect lines", py->label);
		cr_assert(sscanf(line, "expect %63s %lld %lld", e[n].kind, &e[n].count, &e[n].size) == 3,
			  "%s: unexpected line '%s'", py->label, line);
		n++;
	}
	cr_assert_fail("%s: the workload never reached its held state", py->label);
	return 0;
}

static void check(const struct table *base, const struct table *held, const struct expect *e, size_t n,
		  const struct python *py)
{
	for (size_t i = 0; i < n; i++) {
		long long dc = field_of(held, e[i].kind, false) - field_of(base, e[i].kind, false);
		long long ds = field_of(held, e[i].kind, true) - field_of(base, e[i].kind, true);
		fprintf(stderr, "frames: %-12s %-26s made %5lld (%9lld B), census +%5lld (%9lld B)\n", py->label,
			e[i].kind, e[i].count, e[i].size, dc, ds);
		if (strcmp(e[i].kind, "bytes") == 0) {
			cr_expect(dc >= e[i].count - BYTES_SLACK_GONE && dc <= e[i].count + BYTES_SLACK_COUNT,
				  "%s: bytes count grew by %lld, the frames hold %lld", py->label, dc, e[i].count);
			cr_expect(ds >= e[i].size - BYTES_SLACK_SIZE && ds <= e[i].size + BYTES_SLACK_SIZE,
				  "%s: bytes size grew by %lld, the frames hold %lld", py->label, ds, e[i].size);
		} else {
			cr_expect_eq(dc, e[i].count, "%s: %s count grew by %lld, made %lld", py->label, e[i].kind,
				     dc, e[i].count);
			cr_expect_eq(ds, e[i].size, "%s: %s size grew by %lld, sys.getsizeof says %lld",
				     py->label, e[i].kind, ds, e[i].size);
		}
	}
}

ParameterizedTestParameters(integration, frames)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, integration, frames, .timeout = 300)
{
	char *argv[] = { py->path, (char *)workload(), NULL }, line[256];
	struct table base, held;
	struct expect e[MAXEXPECT], frames0;
	struct proc p;
	size_t n;

	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	read_frames(&p, &frames0, py);
	cr_assert(h_wait_line(&p, "ready base", line, sizeof line, 120), "%s: workload did not start", py->label);
	cr_assert(h_wait_sleeping(p.pid, 60), "%s: workload busy at its baseline", py->label);
	census(p.pid, &base, py);
	kill(p.pid, SIGUSR1);
	n = read_expect(&p, e, py);
	cr_assert_eq(n, 5, "%s: expected 5 expect lines, got %zu", py->label, n);
	/* Frame objects are compared as they stand, not as a difference: on 3.8-3.10 a transient
	 * frame (416 B, alive while the workload prints its baseline) makes the baseline census one
	 * more than the workload's own count, and is gone by the held state. */
	e[4].count -= field_of(&base, "types.FrameType", false);
	e[4].size -= field_of(&base, "types.FrameType", true);
	fprintf(stderr, "frames: %-12s %lld frame objects at the baseline by the workload's count\n", py->label,
		frames0.count);
	cr_assert(h_wait_sleeping(p.pid, 60), "%s: workload busy in its held state", py->label);
	census(p.pid, &held, py);
	check(&base, &held, e, n, py);
	h_table_free(&base);
	h_table_free(&held);
	h_kill(&p);
}
