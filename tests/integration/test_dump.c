/* test_dump.c: `pycensus dump` on every interpreter found: with the target holding still
 * (workloads/dump.py waits in sigwait), snap of the dump gives the rows of `snap --pause census`
 * of the process, why and retained of the dump give its retained figures (and the workload's
 * own getsizeof sums), the file is smaller than the heap, and every analysis runs after the
 * process is gone. Truncated, corrupt, newer and foreign dumps are refused with exit 18 and one
 * line naming what is wrong. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
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

/* The text after the first line (the header line that names the target differs by design). */
static const char *after_line(const char *s, int lines)
{
	while (lines-- > 0 && s && (s = strchr(s, '\n')))
		s++;
	return s ? s : "";
}

static char *workload(void)
{
	static char path[1024];

	snprintf(path, sizeof path, "%s/dump.py", getenv("PYCENSUS_WORKLOADS") ? getenv("PYCENSUS_WORKLOADS")
									       : "tests/integration/workloads");
	return path;
}

/* Spawns the workload and reads its "up N SIZES RETAINED PID" line. */
static void start(struct python *py, struct proc *p, long long *n, long long *sizes, long long *retained)
{
	char *argv[] = { py->path, workload(), NULL }, line[256];

	cr_assert(h_spawn(p, argv) && h_wait_line(p, "up", line, sizeof line, 60) && h_wait_sleeping(p->pid, 30),
		  "%s: the workload did not start", py->label);
	cr_assert_eq(sscanf(line, "up %lld %lld %lld", n, sizes, retained), 3, "%s: %s", py->label, line);
}

ParameterizedTestParameters(dump, analyses_match_live)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, dump, analyses_match_live, .timeout = 180)
{
	char pid[16], file[] = "/tmp/pycensus-dump-XXXXXX", why_live_hdr[64];
	const char *why_kind = "__main__.DumpItem";
	long long n, sizes, retained, heap = 0;
	struct table live, dumped;
	struct proc p;
	struct stat st;
	char *ret_live, *why_live, *out;
	int fd = mkstemp(file);

	cr_assert(fd >= 0);
	close(fd);
	start(py, &p, &n, &sizes, &retained);
	snprintf(pid, sizeof pid, "%d", (int)p.pid);
	{
		const char *args[] = { "dump", "-q", "-o", file, pid, NULL };
		free(run_ok(args, "dump", py->label));
	}
	{
		const char *args[] = { "snap", "-q", "-f", "csv", "-n", "0", "--pause", "census", pid, NULL };
		table_of(args, &live, "snap --pause census", py->label);
	}
	{
		const char *args[] = { "retained", "-q", "-f", "csv", "-n", "0", pid, NULL };
		ret_live = run_ok(args, "retained", py->label);
	}
	{
		const char *args[] = { "why", "-q", "--kind", why_kind, pid, NULL };
		why_live = run_ok(args, "why", py->label);
	}
	h_kill(&p); /* everything below reads the file alone */
	{
		const char *args[] = { "snap", "-f", "csv", "-n", "0", file, NULL };
		table_of(args, &dumped, "snap of the dump", py->label);
	}
	cr_expect_eq(h_count(&dumped, why_kind), n, "%s: %lld DumpItems in the dump", py->label, h_count(&dumped, why_kind));
	cr_expect_eq(h_row(&dumped, why_kind) ? h_row(&dumped, why_kind)->size : -1, sizes, "%s: DumpItem bytes", py->label);
	cr_expect_eq(live.n, dumped.n, "%s: %zu rows live, %zu in the dump", py->label, live.n, dumped.n);
	for (size_t i = 0; i < live.n; i++) {
		const struct row *r = h_row(&dumped, live.v[i].kind);
		heap += live.v[i].size;
		cr_expect(r && r->count == live.v[i].count && r->size == live.v[i].size,
			  "%s: row %s: %lld/%lld live, %lld/%lld in the dump", py->label, live.v[i].kind, live.v[i].count,
			  live.v[i].size, r ? r->count : -1, r ? r->size : -1);
	}
	{
		const char *args[] = { "retained", "-f", "csv", "-n", "0", file, NULL };
		out = run_ok(args, "retained of the dump", py->label);
		cr_expect_str_eq(out, ret_live, "%s: retained differs", py->label);
		free(out);
	}
	{
		const char *args[] = { "why", "--kind", why_kind, file, NULL };
		out = run_ok(args, "why of the dump", py->label);
		snprintf(why_live_hdr, sizeof why_live_hdr, "retaining %lld bytes", retained);
		cr_expect(strstr(out, why_live_hdr), "%s: the DumpItems retain %lld bytes; why of the dump: %.300s", py->label,
			  retained, out);
		cr_expect(strstr(out, "from dump taken at ") && strstr(out, pid), "%s: no origin: %.200s", py->label, out);
		cr_expect_str_eq(after_line(out, 1), after_line(why_live, 1), "%s: why differs", py->label);
		free(out);
	}
	{
		const char *args[] = { "snap", "-n", "3", file, NULL };
		out = run_ok(args, "snap text of the dump", py->label);
		cr_expect(strstr(out, "\nfrom dump taken at ") != NULL, "%s: %.300s", py->label, out);
		free(out);
	}
	cr_assert_eq(stat(file, &st), 0);
	cr_expect_lt((long long)st.st_size, heap, "%s: the dump (%lld bytes) is not smaller than the heap (%lld)", py->label,
		     (long long)st.st_size, heap);
	fprintf(stderr, "dump: %s: %zu kinds equal live, DumpItems retain %lld bytes; file %lld bytes for a heap of %lld\n",
		py->label, live.n, retained, (long long)st.st_size, heap);
	free(ret_live);
	free(why_live);
	h_table_free(&live);
	h_table_free(&dumped);
	unlink(file);
}

/* Writes len bytes of buf to dst. */
static void write_variant(const char *dst, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(dst, "wb");

	cr_assert(f);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

static void expect_refused(const char *path, const char *reason)
{
	char err[4096], *nl;
	const char *args[] = { "snap", path, NULL };
	int rc = h_pycensus(NULL, 0, err, sizeof err, args);

	cr_expect_eq(rc, 18, "%s: exit %d: %s", reason, rc, err);
	cr_expect(strstr(err, reason) != NULL, "wanted '%s' in: %s", reason, err);
	nl = strchr(err, '\n');
	cr_expect(nl && nl[1] == '\0', "more than one line: %s", err);
}

static void rehash_header(unsigned char *h)
{
	uint32_t crc = (uint32_t)crc32(0, h, 60);

	for (int i = 0; i < 4; i++)
		h[60 + i] = (unsigned char)(crc >> (8 * i));
}

Test(dump_damaged, refused_with_one_line, .timeout = 120)
{
	struct python py[H_MAX_PYTHONS];
	char file[] = "/tmp/pycensus-dump-XXXXXX", bad[64], pid[16];
	long long n, sizes, retained;
	unsigned char *buf;
	struct proc p;
	struct stat st;
	FILE *f;
	int fd = mkstemp(file);

	cr_assert(fd >= 0);
	close(fd);
	cr_assert(h_find_pythons(py, H_MAX_PYTHONS) > 0, "no interpreter found");
	start(&py[0], &p, &n, &sizes, &retained);
	snprintf(pid, sizeof pid, "%d", (int)p.pid);
	{
		const char *args[] = { "dump", "-q", "-o", file, pid, NULL };
		free(run_ok(args, "dump", py[0].label));
	}
	h_kill(&p);
	cr_assert_eq(stat(file, &st), 0);
	buf = malloc((size_t)st.st_size);
	f = fopen(file, "rb");
	cr_assert(f && fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size);
	fclose(f);
	snprintf(bad, sizeof bad, "%s.bad", file);
	write_variant(bad, buf, (size_t)st.st_size / 2);
	expect_refused(bad, "truncated");
	buf[st.st_size / 2] ^= 0x5a; /* inside the regions' zstd frame */
	write_variant(bad, buf, (size_t)st.st_size);
	expect_refused(bad, "corrupt");
	buf[st.st_size / 2] ^= 0x5a;
	buf[8] = 2; /* a format version this pycensus does not read */
	rehash_header(buf);
	write_variant(bad, buf, (size_t)st.st_size);
	expect_refused(bad, "format version 2");
	buf[8] = 1;
	buf[16] = 183; /* EM_AARCH64 */
	rehash_header(buf);
	write_variant(bad, buf, (size_t)st.st_size);
	expect_refused(bad, "another architecture");
	free(buf);
	unlink(bad);
	unlink(file);
}
