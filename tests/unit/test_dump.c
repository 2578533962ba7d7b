/* test_dump.c: the heap-dump file (source/dump.h) written and read back: the regions a census
 * recorded and its arena copies merged in address order with the copies winning where they
 * overlap, the META fields kept, and a file cut anywhere refused with a reason. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "source/dump.h"

static uint8_t rec_a[64], rec_b[32], copy[128];

/* rec_a [0x1000, 0x1040) overlaps the copy [0x1020, 0x10a0) and rec_b [0x1090, 0x10b0) its end. */
static void write_sample(const char *path, struct dump_out *out)
{
	const struct mem_region rec[] = { { 0x1000, sizeof rec_a, rec_a }, { 0x1090, sizeof rec_b, rec_b } };
	const struct mem_region cp[] = { { 0x1020, sizeof copy, copy } };
	struct pyimage head = { .pid = 77, .major = 3, .minor = 12, .micro = 1, .runtime = 0x5000 };
	struct dump_meta m = { .pid = 77, .taken = 1700000000, .rss = 12345, .span_lo = 0x400000, .span_hi = 0x500000 };
	struct pc_err e = { 0 };

	memset(rec_a, 0xaa, sizeof rec_a);
	memset(rec_b, 0xbb, sizeof rec_b);
	memset(copy, 0xcc, sizeof copy);
	snprintf(head.version, sizeof head.version, "3.12.1");
	snprintf(m.host, sizeof m.host, "testhost");
	cr_assert_eq(dump_write(path, &m, &head, rec, 2, cp, 1, 3, NULL, NULL, out, &e), 0, "%s", e.detail);
}

Test(dump, regions_merge_with_copies_winning)
{
	char path[] = "/tmp/pycensus-dumpunit-XXXXXX";
	struct dump_out out;
	struct dump d;
	struct pc_err e = { 0 };
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	close(fd);
	write_sample(path, &out);
	cr_assert(dump_sniff(path));
	cr_assert_eq(dump_load(path, &d, &e), 0, "%s", e.detail);
	cr_expect_eq(d.meta.pid, 77);
	cr_expect_eq(d.meta.rss, 12345);
	cr_expect_str_eq(d.meta.host, "testhost");
	cr_expect_eq(d.img.span_lo, 0x400000);
	cr_expect_str_eq(d.img.version, "3.12.1");
	/* [0x1000,0x1020) from rec_a, the copy [0x1020,0x10a0), [0x10a0,0x10b0) from rec_b */
	cr_assert_eq(d.img.nregions, 3);
	cr_expect(d.img.regions[0].addr == 0x1000 && d.img.regions[0].len == 0x20 && d.img.regions[0].data[0] == 0xaa);
	cr_expect(d.img.regions[1].addr == 0x1020 && d.img.regions[1].len == 0x80 && d.img.regions[1].data[0x7f] == 0xcc);
	cr_expect(d.img.regions[2].addr == 0x10a0 && d.img.regions[2].len == 0x10 && d.img.regions[2].data[0] == 0xbb);
	cr_expect_eq(out.region_bytes, 0xb0);
	dump_release(&d);
	unlink(path);
}

/* A streamed dump begun at a fresh temporary path (path: a mkstemp template). */
static struct dump_stream *stream_begin(char *path)
{
	struct pc_err e = { 0 };
	struct dump_stream *ds;
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	close(fd);
	memset(rec_a, 0xaa, sizeof rec_a);
	memset(rec_b, 0xbb, sizeof rec_b);
	memset(copy, 0xcc, sizeof copy);
	cr_assert((ds = dump_stream_open(path, 3, &e)), "%s", e.detail);
	return ds;
}

static int stream_end(struct dump_stream *ds, const struct mem_region *rec, size_t nrec, const struct mem_region *arenas,
		      size_t narenas, struct dump_out *out, struct pc_err *e)
{
	struct pyimage head = { .pid = 77, .major = 3, .minor = 12, .micro = 1, .runtime = 0x5000 };
	struct dump_meta m = { .pid = 77, .taken = 1700000000 };

	return dump_stream_close(ds, &m, &head, rec, nrec, arenas, narenas, NULL, NULL, out, e);
}

/* The same memory written as a streamed census writes it: the copy goes into ARENAS while the
 * census runs, the recorded reads (clipped by it) at the end; read back, the same three regions. */
Test(dump, streamed_arenas_merge_into_the_regions)
{
	char path[] = "/tmp/pycensus-dumpunit-XXXXXX";
	const struct mem_region rec[] = { { 0x1000, sizeof rec_a, rec_a }, { 0x1090, sizeof rec_b, rec_b } };
	const struct mem_region cp[] = { { 0x1020, sizeof copy, copy } };
	static uint8_t high[16];
	struct dump_stream *ds = stream_begin(path);
	struct dump_out out;
	struct dump d;
	struct pc_err e = { 0 };

	memset(high, 0xdd, sizeof high);
	dump_stream_arena(ds, 0x1020, copy, sizeof copy);
	dump_stream_arena(ds, 0x9000, high, sizeof high);
	cr_assert_eq(stream_end(ds, rec, 2, cp, 1, &out, &e), 0, "%s", e.detail);
	cr_assert_eq(dump_load(path, &d, &e), 0, "%s", e.detail);
	cr_assert_eq(d.img.nregions, 4);
	cr_expect(d.img.regions[0].addr == 0x1000 && d.img.regions[0].len == 0x20 && d.img.regions[0].data[0] == 0xaa);
	cr_expect(d.img.regions[1].addr == 0x1020 && d.img.regions[1].len == 0x80 && d.img.regions[1].data[0x7f] == 0xcc);
	cr_expect(d.img.regions[2].addr == 0x10a0 && d.img.regions[2].len == 0x10 && d.img.regions[2].data[0] == 0xbb);
	cr_expect(d.img.regions[3].addr == 0x9000 && d.img.regions[3].len == 0x10 && d.img.regions[3].data[0] == 0xdd);
	cr_expect_eq(out.region_bytes, 0xb0 + 0x10);
	dump_release(&d);
	unlink(path);
}

/* An arena that overlaps a recorded region (a writer that did not clip) is refused, not merged. */
Test(dump, streamed_arena_overlapping_a_region_is_refused)
{
	char path[] = "/tmp/pycensus-dumpunit-XXXXXX";
	const struct mem_region rec[] = { { 0x1000, sizeof rec_a, rec_a } };
	struct dump_stream *ds = stream_begin(path);
	struct dump_out out;
	struct dump d;
	struct pc_err e = { 0 };

	dump_stream_arena(ds, 0x1020, copy, sizeof copy);
	/* no arenas given for clipping: rec_a's [0x1020, 0x1040) stays in REGIONS too */
	cr_assert_eq(stream_end(ds, rec, 1, NULL, 0, &out, &e), 0, "%s", e.detail);
	cr_assert_eq(dump_load(path, &d, &e), -1);
	cr_expect(strstr(e.detail, "overlaps") != NULL, "%s", e.detail);
	unlink(path);
}

Test(dump, every_cut_is_refused)
{
	char path[] = "/tmp/pycensus-dumpunit-XXXXXX";
	struct dump_out out;
	struct stat st;
	uint8_t *buf;
	FILE *f;
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	close(fd);
	write_sample(path, &out);
	cr_assert_eq(stat(path, &st), 0);
	buf = malloc((size_t)st.st_size);
	f = fopen(path, "rb");
	cr_assert(f && fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size);
	fclose(f);
	for (off_t n = 0; n < st.st_size; n++) {
		struct dump d;
		struct pc_err e = { 0 };
		cr_assert_eq(dump_parse(buf, (size_t)n, 1u << 20, &d, &e), -1, "a cut at %lld was read", (long long)n);
		cr_assert_eq(e.code, PC_EBADDUMP);
		cr_assert(e.detail[0] && !strchr(e.detail, '\n'));
	}
	free(buf);
	unlink(path);
}
