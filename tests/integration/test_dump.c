/* test_dump.c: `pycensus dump` on every interpreter found: with the target holding still
 * (workloads/dump.py waits in sigwait), snap of the dump gives the rows of `snap --pause census`
 * of the process, why and retained of the dump give its retained figures (and the workload's
 * own getsizeof sums), the file is smaller than the heap, and every analysis runs after the
 * process is gone; so does a dump whose arenas were streamed into it (--max-memory). Truncated, corrupt, newer and foreign dumps are refused with exit 18 and one
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
#include "tests/integration/filecheck.h"

ParameterizedTestParameters(dump, analyses_match_live)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

/* A dump whose arenas stream into the file window by window (--max-memory 4M: windows of one
 * arena), as a census over its memory budget takes it; it says so on stderr. */
static void dump_streamed(const char *file, const char *pid, const struct python *py)
{
	char *out = malloc(1 << 16), err[4096];
	const char *args[] = { "dump", "--max-memory", "4M", "-o", file, pid, NULL };
	int rc = h_pycensus(out, 1 << 16, err, sizeof err, args);

	cr_assert_eq(rc, 0, "%s: dump --max-memory 4M failed (%d): %s", py->label, rc, err);
	cr_expect(strstr(err, "(arenas streamed in ") != NULL, "%s: the streamed dump does not say so: %s", py->label, err);
	free(out);
}

ParameterizedTest(struct python *py, dump, analyses_match_live, .timeout = 180)
{
	char file[] = "/tmp/pycensus-dump-XXXXXX", streamed[] = "/tmp/pycensus-dump-XXXXXX", *out;
	struct fc_live live;
	long long heap;
	struct proc p;
	struct stat st;
	int fd = mkstemp(file), fd2 = mkstemp(streamed);

	cr_assert(fd >= 0 && fd2 >= 0);
	close(fd);
	close(fd2);
	fc_start_live(py, &p, &live);
	{
		const char *args[] = { "dump", "-q", "-o", file, live.pid, NULL };
		free(fc_run_ok(args, "dump", py->label));
	}
	dump_streamed(streamed, live.pid, py);
	fc_take_live(&live);
	h_kill(&p); /* everything below reads the files alone */
	fc_expect_file_matches(&live, streamed, "from dump taken at ");
	unlink(streamed);
	heap = fc_expect_file_matches(&live, file, "from dump taken at ");
	{
		const char *args[] = { "snap", "-n", "3", file, NULL };
		out = fc_run_ok(args, "snap text of the dump", py->label);
		cr_expect(strstr(out, "\nfrom dump taken at ") != NULL, "%s: %.300s", py->label, out);
		free(out);
	}
	cr_assert_eq(stat(file, &st), 0);
	cr_expect_lt((long long)st.st_size, heap, "%s: the dump (%lld bytes) is not smaller than the heap (%lld)", py->label,
		     (long long)st.st_size, heap);
	fprintf(stderr, "dump: %s: %zu kinds equal live, DumpItems retain %lld bytes; file %lld bytes for a heap of %lld\n",
		py->label, live.rows.n, live.retained, (long long)st.st_size, heap);
	fc_live_release(&live);
	unlink(file);
}

static void expect_refused(const char *path, const char *reason)
{
	const char *args[] = { "snap", path, NULL };

	fc_expect_refused(args, 18, reason);
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
	size_t len;
	int fd = mkstemp(file);

	cr_assert(fd >= 0);
	close(fd);
	cr_assert(h_find_pythons(py, H_MAX_PYTHONS) > 0, "no interpreter found");
	fc_start_dump_workload(&py[0], &p, &n, &sizes, &retained);
	snprintf(pid, sizeof pid, "%d", (int)p.pid);
	{
		const char *args[] = { "dump", "-q", "-o", file, pid, NULL };
		free(fc_run_ok(args, "dump", py[0].label));
	}
	h_kill(&p);
	buf = fc_read_file(file, &len);
	snprintf(bad, sizeof bad, "%s.bad", file);
	fc_write_variant(bad, buf, len / 2);
	expect_refused(bad, "truncated");
	buf[len / 2] ^= 0x5a; /* inside the regions' zstd frame */
	fc_write_variant(bad, buf, len);
	expect_refused(bad, "corrupt");
	buf[len / 2] ^= 0x5a;
	buf[8] = 2; /* a format version this pycensus does not read */
	rehash_header(buf);
	fc_write_variant(bad, buf, len);
	expect_refused(bad, "format version 2");
	buf[8] = 1;
	buf[16] = 183; /* EM_AARCH64 */
	rehash_header(buf);
	fc_write_variant(bad, buf, len);
	expect_refused(bad, "another architecture");
	free(buf);
	unlink(bad);
	unlink(file);
}
