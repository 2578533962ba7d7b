/* test_core.c: ELF core files as targets, on every interpreter found where gcore works. The
 * workload (workloads/dump.py) builds a known heap and holds still in sigwait; snap --pause
 * census, retained and why of the live process are taken, then `gcore` of it, and the process is
 * killed: snap of the core gives the live rows, retained gives the live table, and why gives the
 * DumpItems' retained bytes the workload computed with sys.getsizeof. Damaged cores (truncated,
 * another architecture) exit 18 and a core whose executable is missing or another file exits 19,
 * each with one line. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tests/integration/harness.h"

#define OUTMAX (4 << 20)

static char *run_ok(const char *const *args, const char *what, const char *label)
{
	char *out = malloc(OUTMAX), err[4096];
	int rc = h_pycensus(out, OUTMAX, err, sizeof err, args);

	cr_assert_eq(rc, 0, "%s: %s failed (%d): %s", label, what, rc, err);
	return out;
}

static void table_of(const char *const *args, struct table *t, const char *what, const char *label)
{
	char *out = run_ok(args, what, label);

	cr_assert(h_parse_csv(out, t), "%s: %s: unparsable CSV", label, what);
	free(out);
}

/* The text after the first `lines` lines (the header names the target, which differs by design). */
static const char *after_line(const char *s, int lines)
{
	while (lines-- > 0 && s && (s = strchr(s, '\n')))
		s++;
	return s ? s : "";
}

/* Spawns workloads/dump.py and reads its "up N SIZES RETAINED PID" line. */
static void start(struct python *py, struct proc *p, long long *n, long long *sizes, long long *retained)
{
	static char path[1024];
	char *argv[] = { py->path, path, NULL }, line[256];

	snprintf(path, sizeof path, "%s/dump.py", getenv("PYCENSUS_WORKLOADS") ? getenv("PYCENSUS_WORKLOADS")
									       : "tests/integration/workloads");
	cr_assert(h_spawn(p, argv) && h_wait_line(p, "up", line, sizeof line, 60) && h_wait_sleeping(p->pid, 30),
		  "%s: the workload did not start", py->label);
	cr_assert_eq(sscanf(line, "up %lld %lld %lld", n, sizes, retained), 3, "%s: %s", py->label, line);
}

/* gcore of pid into core (PREFIX.PID); false with the reason in why when gdb could not. */
static bool take_core(pid_t pid, char *core, size_t len, char *why, size_t whylen)
{
	char prefix[] = "/tmp/pycensus-core-XXXXXX", cmd[256], *out;
	int fd = mkstemp(prefix), status;
	struct stat st;

	if (fd < 0)
		return snprintf(why, whylen, "mkstemp failed") < 0;
	close(fd);
	unlink(prefix);
	snprintf(core, len, "%s.%d", prefix, (int)pid);
	snprintf(cmd, sizeof cmd, "gcore -o %s %d 2>&1", prefix, (int)pid);
	out = h_command_output(cmd, 1 << 16, &status);
	if (status != 0 || stat(core, &st) != 0 || st.st_size == 0) {
		snprintf(why, whylen, "gcore failed (status %d): %.200s", status, out ? out : "no output");
		free(out);
		unlink(core);
		return false;
	}
	free(out);
	return true;
}

ParameterizedTestParameters(core, analyses_match_live)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, core, analyses_match_live, .timeout = 180)
{
	const char *kind = "__main__.DumpItem";
	char pid[16], core[64], why[400], want[64];
	long long n, sizes, retained;
	struct table live, cored;
	struct proc p;
	char *ret_live, *why_live, *out;

	start(py, &p, &n, &sizes, &retained);
	snprintf(pid, sizeof pid, "%d", (int)p.pid);
	{
		const char *args[] = { "snap", "-q", "-f", "csv", "-n", "0", "--pause", "census", pid, NULL };
		table_of(args, &live, "snap --pause census", py->label);
	}
	{
		const char *args[] = { "retained", "-q", "-f", "csv", "-n", "0", pid, NULL };
		ret_live = run_ok(args, "retained", py->label);
	}
	{
		const char *args[] = { "why", "-q", "--kind", kind, pid, NULL };
		why_live = run_ok(args, "why", py->label);
	}
	if (!take_core(p.pid, core, sizeof core, why, sizeof why)) {
		h_kill(&p);
		free(ret_live);
		free(why_live);
		h_table_free(&live);
		cr_skip_test("%s: %s", py->label, why);
	}
	h_kill(&p); /* everything below reads the core and the files alone */
	{
		const char *args[] = { "snap", "-f", "csv", "-n", "0", core, NULL };
		table_of(args, &cored, "snap of the core", py->label);
	}
	cr_expect_eq(h_count(&cored, kind), n, "%s: %lld DumpItems in the core", py->label, h_count(&cored, kind));
	cr_expect_eq(h_row(&cored, kind) ? h_row(&cored, kind)->size : -1, sizes, "%s: DumpItem bytes", py->label);
	cr_expect_eq(live.n, cored.n, "%s: %zu rows live, %zu in the core", py->label, live.n, cored.n);
	for (size_t i = 0; i < live.n; i++) {
		const struct row *r = h_row(&cored, live.v[i].kind);
		cr_expect(r && r->count == live.v[i].count && r->size == live.v[i].size,
			  "%s: row %s: %lld/%lld live, %lld/%lld in the core", py->label, live.v[i].kind, live.v[i].count,
			  live.v[i].size, r ? r->count : -1, r ? r->size : -1);
	}
	{
		const char *args[] = { "retained", "-f", "csv", "-n", "0", core, NULL };
		out = run_ok(args, "retained of the core", py->label);
		cr_expect_str_eq(out, ret_live, "%s: retained differs", py->label);
		free(out);
	}
	{
		const char *args[] = { "why", "--kind", kind, core, NULL };
		out = run_ok(args, "why of the core", py->label);
		snprintf(want, sizeof want, "retaining %lld bytes", retained);
		cr_expect(strstr(out, want), "%s: the DumpItems retain %lld bytes; why of the core: %.300s", py->label,
			  retained, out);
		cr_expect(strstr(out, "from core file ") && strstr(out, pid), "%s: no origin: %.200s", py->label, out);
		cr_expect_str_eq(after_line(out, 1), after_line(why_live, 1), "%s: why differs", py->label);
		free(out);
	}
	fprintf(stderr, "core: %s: %zu kinds equal live, DumpItems retain %lld bytes\n", py->label, live.n, retained);
	free(ret_live);
	free(why_live);
	h_table_free(&live);
	h_table_free(&cored);
	unlink(core);
}

/* args fail with exit code rc and one line holding reason. */
static void expect_refused(const char *const *args, int rc_want, const char *reason)
{
	char err[4096], *nl;
	int rc = h_pycensus(NULL, 0, err, sizeof err, args);

	cr_expect_eq(rc, rc_want, "%s: exit %d: %s", reason, rc, err);
	cr_expect(strstr(err, reason) != NULL, "wanted '%s' in: %s", reason, err);
	nl = strchr(err, '\n');
	cr_expect(nl && nl[1] == '\0', "more than one line: %s", err);
}

static void write_variant(const char *dst, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(dst, "wb");

	cr_assert(f);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

Test(core_damaged, refused_with_one_line, .timeout = 120)
{
	struct python py[H_MAX_PYTHONS];
	char core[64], why[400], bad[] = "/tmp/pycensus-badcore-XXXXXX";
	long long n, sizes, retained;
	unsigned char *buf;
	struct proc p;
	struct stat st;
	FILE *f;
	int fd = mkstemp(bad);

	cr_assert(fd >= 0);
	close(fd);
	cr_assert(h_find_pythons(py, H_MAX_PYTHONS) > 0, "no interpreter found");
	start(&py[0], &p, &n, &sizes, &retained);
	if (!take_core(p.pid, core, sizeof core, why, sizeof why)) {
		h_kill(&p);
		cr_skip_test("%s: %s", py[0].label, why);
	}
	h_kill(&p);
	cr_assert_eq(stat(core, &st), 0);
	buf = malloc((size_t)st.st_size);
	cr_assert((f = fopen(core, "rb")) && fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size);
	fclose(f);
	{
		const char *args[] = { "snap", bad, NULL };
		write_variant(bad, buf, (size_t)st.st_size / 2);
		expect_refused(args, 18, "truncated");
		buf[18] = 183; /* e_machine EM_AARCH64 */
		write_variant(bad, buf, (size_t)st.st_size);
		expect_refused(args, 18, "another architecture");
	}
	{
		const char *args[] = { "snap", "--exe", "/nonexistent/python3", core, NULL };
		expect_refused(args, 19, "which is not at /nonexistent/python3");
	}
	{
		const char *args[] = { "snap", "--exe", "/bin/sh", core, NULL };
		expect_refused(args, 19, "is not the file the process mapped");
	}
	{
		const char *args[] = { "snap", "--sysroot", "/nonexistent", core, NULL };
		expect_refused(args, 19, "which is not at /nonexistent/");
	}
	free(buf);
	unlink(bad);
	unlink(core);
}
