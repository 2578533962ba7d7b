/* test_corezip.c: compressed cores (source/corezip.h). A buffer with data, a zero MiB and a zero
 * tail is compressed with each library (zstd with and without its declared size and as two
 * frames, lz4 with and without it, xz); decompressed, the file under $TMPDIR holds the same bytes
 * with the zero MiB left as a hole, and its first bytes come back alone. The same streams cut
 * anywhere or changed are refused as bad core files; no $TMPDIR is refused as an output error. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include "source/corezip.h"

#define MIB (1u << 20)
#define RAW_LEN (3 * MIB + 100 + 8192) /* data, zeros, data, an unaligned tail, zero pages */

static uint8_t *raw(void)
{
	static uint8_t *b;
	uint32_t x = 12345;

	if (b)
		return b;
	b = calloc(1, RAW_LEN);
	for (size_t i = 0; i < RAW_LEN - 8192; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = i >= MIB && i < 2 * MIB ? 0 : (uint8_t)(x >> 16) % 7; /* compressible, never a zero page */
	}
	return b;
}

enum form { ZSTD_SIZED, ZSTD_TWO_FRAMES, LZ4_PLAIN, LZ4_SIZED, XZ, NFORMS };
static const char *const form_kind[NFORMS] = { "zstd", "zstd", "lz4", "lz4", "xz" };

/* raw() compressed in form f (malloc'd), its length in *len. */
static uint8_t *compress(enum form f, size_t *len)
{
	size_t cap = RAW_LEN + (1 << 16), n = 0, half = RAW_LEN / 2;
	uint8_t *out = malloc(cap), *in = raw();
	LZ4F_preferences_t prefs = { .frameInfo.contentSize = f == LZ4_SIZED ? RAW_LEN : 0 };

	if (f == ZSTD_SIZED)
		n = ZSTD_compress(out, cap, in, RAW_LEN, 1);
	else if (f == ZSTD_TWO_FRAMES) {
		n = ZSTD_compress(out, cap, in, half, 1);
		n += ZSTD_compress(out + n, cap - n, in + half, RAW_LEN - half, 1);
	} else if (f == LZ4_PLAIN || f == LZ4_SIZED)
		n = LZ4F_compressFrame(out, cap, in, RAW_LEN, &prefs);
	else
		cr_assert_eq(lzma_easy_buffer_encode(0, LZMA_CHECK_CRC64, NULL, in, RAW_LEN, out, &n, cap), LZMA_OK);
	cr_assert(n > 0 && n < cap && !ZSTD_isError(n) && !LZ4F_isError(n), "form %d did not compress", f);
	*len = n;
	return out;
}

static void write_file(const char *path, const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");

	cr_assert(f && fwrite(b, 1, n, f) == n && fclose(f) == 0);
}

static char tmpdir[] = "/tmp/pycensus-corezip-XXXXXX";

static void setup(void)
{
	cr_assert(mkdtemp(tmpdir));
	setenv("TMPDIR", tmpdir, 1);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(corezip, .init = setup, .fini = teardown);

Test(corezip, every_form_decompresses_whole_with_holes)
{
	char path[64];

	snprintf(path, sizeof path, "%s/core.z", tmpdir);
	for (int f = 0; f < NFORMS; f++) {
		size_t n;
		uint8_t *z = compress(f, &n), *back = malloc(RAW_LEN), head[18];
		struct pc_err e = { 0 };
		struct stat st;
		int fd = -1;
		write_file(path, z, n);
		cr_assert_str_eq(corezip_kind(path), form_kind[f]);
		cr_assert_eq(corezip_head(path, form_kind[f], head, sizeof head), (long)sizeof head, "form %d", f);
		cr_expect_eq(memcmp(head, raw(), sizeof head), 0, "form %d: the head differs", f);
		cr_assert_eq(corezip_open(path, form_kind[f], &fd, &e), 0, "form %d: %s", f, e.detail);
		cr_assert(fstat(fd, &st) == 0);
		cr_expect_eq(st.st_size, (off_t)RAW_LEN, "form %d: %lld bytes", f, (long long)st.st_size);
		cr_assert_eq(pread(fd, back, RAW_LEN, 0), (ssize_t)RAW_LEN, "form %d", f);
		cr_expect_eq(memcmp(back, raw(), RAW_LEN), 0, "form %d: the bytes differ", f);
		/* the zero MiB and the zero tail are holes: at most the data and a block of slack */
		cr_expect_leq((uint64_t)st.st_blocks * 512, (uint64_t)2 * MIB + 100 + 65536, "form %d: %lld bytes on disk",
			      f, (long long)st.st_blocks * 512);
		close(fd);
		free(back);
		free(z);
	}
	cr_expect_null(corezip_kind("/proc/self/status"), "not compressed");
}

Test(corezip, cut_or_changed_streams_are_bad_core_files)
{
	char path[64];

	snprintf(path, sizeof path, "%s/core.z", tmpdir);
	for (int f = 0; f < NFORMS; f++) {
		size_t n, cuts[] = { 6, 20, 1000 };
		uint8_t *z = compress(f, &n);
		struct pc_err e = { 0 };
		int fd = -1;
		for (size_t c = 0; c <= PC_ARRAY_LEN(cuts); c++) {
			size_t at = c < PC_ARRAY_LEN(cuts) ? cuts[c] : n - 1;
			pc_err_clear(&e);
			write_file(path, z, at);
			cr_expect_eq(corezip_open(path, form_kind[f], &fd, &e), -1, "form %d cut at %zu: read", f, at);
			cr_expect_eq(e.code, PC_EBADDUMP, "form %d cut at %zu: %s", f, at, e.detail);
			cr_expect(strstr(e.detail, "bad core file"), "form %d cut at %zu: %s", f, at, e.detail);
		}
		for (size_t i = n / 2; i < n / 2 + 8; i++)
			z[i] ^= 0xa5;
		pc_err_clear(&e);
		write_file(path, z, n);
		cr_expect_eq(corezip_open(path, form_kind[f], &fd, &e), -1, "form %d changed: read", f);
		cr_expect(e.code == PC_EBADDUMP && strstr(e.detail, "stream is damaged near byte"), "form %d changed: %s", f,
			  e.detail);
		free(z);
	}
}

/* raw() compressed in form f, written to a file in tmpdir whose path goes into path. */
static void write_form(enum form f, char *path, size_t len)
{
	size_t n;
	uint8_t *z = compress(f, &n);

	snprintf(path, len, "%s/core.%s", tmpdir, form_kind[f]);
	write_file(path, z, n);
	free(z);
}

Test(corezip, no_temporary_directory_is_an_output_error)
{
	char path[64];
	struct pc_err e = { 0 };
	int fd = -1;

	write_form(ZSTD_SIZED, path, sizeof path);
	setenv("TMPDIR", "/nonexistent-pycensus-corezip", 1);
	cr_expect_eq(corezip_open(path, "zstd", &fd, &e), -1);
	cr_expect_eq(e.code, PC_EOUTPUT, "%s", e.detail);
	cr_expect(strstr(e.detail, "cannot make a temporary file in /nonexistent-pycensus-corezip"), "%s", e.detail);
}

/* A stream that decompresses to more than the bound asked for (the fuzzer's) is refused. */
Test(corezip, a_bound_on_the_decompressed_size_holds)
{
	char path[64];
	struct pc_err e = { 0 };
	int fd = -1;

	write_form(ZSTD_TWO_FRAMES, path, sizeof path);
	cr_expect_eq(corezip_open_max(path, "zstd", MIB, &fd, &e), -1);
	cr_expect_eq(e.code, PC_EBADDUMP, "%s", e.detail);
	cr_expect(strstr(e.detail, "it decompresses to more than 1048576 bytes"), "%s", e.detail);
	pc_err_clear(&e);
	cr_assert_eq(corezip_open_max(path, "zstd", RAW_LEN, &fd, &e), 0, "%s", e.detail);
	close(fd);
}
