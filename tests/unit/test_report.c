/* test_report.c: unit tests for report/: partitions, guppy3's text layout, CSV and output checks. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/error.h"
#include "model/census.h"
#include "report/csv.h"
#include "report/output.h"
#include "report/partition.h"
#include "report/text.h"

/* Captures what a report writer prints; the caller frees the result. */
struct capture {
	char *buf;
	size_t len;
	FILE *f;
};

static void capture_open(struct capture *cap)
{
	cap->buf = NULL;
	cap->len = 0;
	cap->f = open_memstream(&cap->buf, &cap->len);
	cr_assert(cap->f);
}

static char *capture_close(struct capture *cap)
{
	fclose(cap->f);
	return cap->buf;
}

static char *text_of(const struct census *c, const struct partition *p, size_t limit, bool header)
{
	struct capture cap;
	struct pc_err e = { 0 };

	capture_open(&cap);
	cr_assert_eq(report_text(cap.f, c, p, limit, header, &e), 0);
	return capture_close(&cap);
}

static char *csv_of(const struct partition *p)
{
	struct capture cap;
	struct pc_err e = { 0 };

	capture_open(&cap);
	cr_assert_eq(report_csv(cap.f, NULL, p, &e), 0);
	return capture_close(&cap);
}

/* 8 objects, 1000 bytes: the percentages 37.5 and 12.5 test rounding half to even. */
static void small_census(struct census *c)
{
	census_init(c);
	census_add(c, "int", 4, 200);
	census_add(c, "str", 3, 500);
	census_add(c, "dict (no owner)", 1, 300);
}

/* n kinds, kind i with i+1 objects of 10 bytes each. */
static void census_of_n(struct census *c, int n)
{
	static const char *const kinds[] = { "a", "b", "c", "d", "e", "f" };

	census_init(c);
	for (int i = 0; i < n; i++)
		census_add(c, kinds[i], (uint64_t)i + 1, 10 * ((uint64_t)i + 1));
}

Test(report_partition, sorts_by_size_then_count_then_kind)
{
	struct census c;
	struct partition p;

	census_init(&c);
	census_add(&c, "zeta", 1, 100);
	census_add(&c, "beta", 5, 100);
	census_add(&c, "alpha", 1, 100);
	census_add(&c, "big", 2, 900);
	census_add(&c, "small", 50, 8);
	partition_by_kind(&c, &p);
	census_release(&c); /* the partition owns its strings */

	cr_assert_eq(p.nrows, 5);
	cr_assert_str_eq(p.rows[0].kind, "big");
	cr_assert_str_eq(p.rows[1].kind, "beta");
	cr_assert_str_eq(p.rows[2].kind, "alpha");
	cr_assert_str_eq(p.rows[3].kind, "zeta");
	cr_assert_str_eq(p.rows[4].kind, "small");
	cr_assert_eq(p.rows[0].cumulative, 900);
	cr_assert_eq(p.rows[1].cumulative, 1000);
	cr_assert_eq(p.rows[2].cumulative, 1100);
	cr_assert_eq(p.rows[3].cumulative, 1200);
	cr_assert_eq(p.rows[4].cumulative, 1208);
	cr_assert_eq(p.count, 59);
	cr_assert_eq(p.size, 1208);
	cr_assert_str_eq(p.kind_header, "Kind (class / dict of class)");
	partition_release(&p);
	cr_assert_null(p.rows);
}

/* 3,000 kinds, many of one size and count (ties broken by kind): the best n rows partition_top
 * sorts are the full sort's first n, with the same cumulative sizes and totals; the text report
 * of n rows prints the same bytes from either. */
Test(report_partition, top_rows_are_the_full_sorts_first_rows)
{
	static const size_t tops[] = { 1, 2, 20, 2998, 2999, 3000, 5000 };
	struct census c;
	char kind[32];

	census_init(&c);
	for (unsigned i = 0; i < 3000; i++) {
		snprintf(kind, sizeof kind, "K%u", (i * 7919u) % 3000u); /* added in no order */
		census_add(&c, kind, 1 + i % 3, 64 * (1 + i % 5));
	}
	for (size_t t = 0; t < PC_ARRAY_LEN(tops); t++) {
		struct partition full, top;
		char *a, *b;
		partition_by_kind(&c, &full);
		partition_top(partition_by_kind, &c, &top, tops[t]);
		cr_assert_eq(top.nrows, full.nrows);
		cr_assert_eq(top.count, full.count);
		cr_assert_eq(top.size, full.size);
		for (size_t i = 0; i < tops[t] && i < full.nrows; i++) {
			cr_assert_str_eq(top.rows[i].kind, full.rows[i].kind, "top %zu, row %zu", tops[t], i);
			cr_assert_eq(top.rows[i].cumulative, full.rows[i].cumulative);
		}
		a = text_of(&c, &full, tops[t], false);
		b = text_of(&c, &top, tops[t], false);
		cr_assert_str_eq(a, b, "text of %zu rows", tops[t]);
		free(a);
		free(b);
		partition_release(&full);
		partition_release(&top);
	}
	census_release(&c);
}

Test(report_partition, size_classes_with_blocks_only)
{
	struct census c;
	struct partition p;

	census_init(&c);
	c.nclasses = 4;
	c.classes[0] = (struct census_sizeclass){ .block_size = 16, .blocks = 100 };
	c.classes[1] = (struct census_sizeclass){ .block_size = 32, .blocks = 0, .avail = 7 };
	c.classes[2] = (struct census_sizeclass){ .block_size = 64, .blocks = 50 };
	c.classes[3] = (struct census_sizeclass){ .block_size = 512, .blocks = 1 };
	partition_by_size_class(&c, &p);

	cr_assert_eq(p.nrows, 3);
	cr_assert_str_eq(p.rows[0].kind, "blocks of 64 bytes");
	cr_assert_eq(p.rows[0].count, 50);
	cr_assert_eq(p.rows[0].size, 3200);
	cr_assert_str_eq(p.rows[1].kind, "blocks of 16 bytes");
	cr_assert_eq(p.rows[1].size, 1600);
	cr_assert_eq(p.rows[1].cumulative, 4800);
	cr_assert_str_eq(p.rows[2].kind, "blocks of 512 bytes");
	cr_assert_eq(p.rows[2].cumulative, 5312);
	cr_assert_eq(p.count, 151);
	cr_assert_eq(p.size, 5312);
	cr_assert_str_eq(p.kind_header, "Kind (pymalloc size class)");
	partition_release(&p);
	census_release(&c);
}

Test(report_partition, size_class_count_is_bounded)
{
	struct census c;
	struct partition p;

	census_init(&c);
	c.nclasses = 1000; /* a corrupt count must not reach past classes[] */
	for (unsigned i = 0; i < PC_ARRAY_LEN(c.classes); i++)
		c.classes[i] = (struct census_sizeclass){ .block_size = 16 * (i + 1), .blocks = 1 };
	partition_by_size_class(&c, &p);
	cr_assert_eq(p.nrows, PC_ARRAY_LEN(c.classes));
	partition_release(&p);
	census_release(&c);
}

Test(report_text, small_partition_exactly)
{
	struct census c;
	struct partition p;
	char *out;

	small_census(&c);
	partition_by_kind(&c, &p);
	out = text_of(&c, &p, 10, false);
	cr_assert_str_eq(out,
		"Partition of a set of 8 objects. Total size = 1000 bytes.\n"
		" Index  Count   %     Size   % Cumulative  % Kind (class / dict of class)\n"
		"     0      3  38      500  50       500  50 str\n"
		"     1      1  12      300  30       800  80 dict (no owner)\n"
		"     2      4  50      200  20      1000 100 int\n");
	free(out);
	partition_release(&p);
	census_release(&c);
}

Test(report_text, rounds_half_to_even)
{
	struct census c;
	struct partition p;
	char *out;

	/* 1/40 = 2.5% -> 2, 3/40 = 7.5% -> 8, 36/40 = 90%. */
	census_init(&c);
	census_add(&c, "x", 1, 1);
	census_add(&c, "y", 3, 3);
	census_add(&c, "z", 36, 36);
	partition_by_kind(&c, &p);
	out = text_of(&c, &p, 0, false);
	cr_assert_str_eq(out,
		"Partition of a set of 40 objects. Total size = 40 bytes.\n"
		" Index  Count   %     Size   % Cumulative  % Kind (class / dict of class)\n"
		"     0     36  90       36  90        36  90 z\n"
		"     1      3   8        3   8        39  98 y\n"
		"     2      1   2        1   2        40 100 x\n");
	free(out);
	partition_release(&p);
	census_release(&c);
}

Test(report_text, wide_numbers_widen_columns)
{
	struct census c;
	struct partition p;
	char *out;

	census_init(&c);
	census_add(&c, "bytes", 1234567, 12345678901ULL);
	partition_by_kind(&c, &p);
	out = text_of(&c, &p, 0, false);
	cr_assert_str_eq(out,
		"Partition of a set of 1234567 objects. Total size = 12345678901 bytes.\n"
		" Index  Count   %     Size   % Cumulative  % Kind (class / dict of class)\n"
		"     0 1234567 100 12345678901 100 12345678901 100 bytes\n");
	free(out);
	partition_release(&p);
	census_release(&c);
}

Test(report_text, limit_cuts_with_more_line)
{
	struct census c;
	struct partition p;
	char *out;

	census_of_n(&c, 4);
	partition_by_kind(&c, &p);
	out = text_of(&c, &p, 2, false);
	cr_assert_str_eq(out,
		"Partition of a set of 10 objects. Total size = 100 bytes.\n"
		" Index  Count   %     Size   % Cumulative  % Kind (class / dict of class)\n"
		"     0      4  40       40  40        40  40 d\n"
		"     1      3  30       30  30        70  70 c\n"
		"<2 more rows. Use -n 0 to show all.>\n");
	free(out);
	partition_release(&p);
	census_release(&c);
}

Test(report_text, limit_never_says_one_more_row)
{
	struct census c;
	struct partition p;
	char *out;

	census_of_n(&c, 3);
	partition_by_kind(&c, &p);
	out = text_of(&c, &p, 2, false);
	cr_assert_str_eq(out,
		"Partition of a set of 6 objects. Total size = 60 bytes.\n"
		" Index  Count   %     Size   % Cumulative  % Kind (class / dict of class)\n"
		"     0      3  50       30  50        30  50 c\n"
		"     1      2  33       20  33        50  83 b\n"
		"     2      1  17       10  17        60 100 a\n");
	free(out);
	partition_release(&p);
	census_release(&c);
}

Test(report_text, limit_zero_shows_all)
{
	struct census c;
	struct partition p;
	char *out;

	census_of_n(&c, 6);
	partition_by_kind(&c, &p);
	out = text_of(&c, &p, 0, false);
	cr_assert_null(strstr(out, "more rows"));
	cr_assert_not_null(strstr(out, "\n     5      1 "));
	free(out);
	partition_release(&p);
	census_release(&c);
}

Test(report_text, one_object_is_singular)
{
	struct census c;
	struct partition p;
	char *out;

	census_init(&c);
	census_add(&c, "list", 1, 184);
	partition_by_kind(&c, &p);
	out = text_of(&c, &p, 10, false);
	cr_assert_str_eq(out,
		"Partition of a set of 1 object. Total size = 184 bytes.\n"
		" Index  Count   %     Size   % Cumulative  % Kind (class / dict of class)\n"
		"     0      1 100      184 100       184 100 list\n");
	free(out);
	partition_release(&p);
	census_release(&c);
}

Test(report_text, empty_census_prints_one_line)
{
	struct census c;
	struct partition p;
	char *out;

	census_init(&c);
	partition_by_kind(&c, &p);
	out = text_of(&c, &p, 10, false);
	cr_assert_str_eq(out, "Partition of a set of 0 objects. Total size = 0 bytes.\n");
	free(out);
	partition_release(&p);
	census_release(&c);
}

Test(report_text, header_with_warnings)
{
	struct census c;
	struct partition p;
	char *out;

	small_census(&c);
	c.pid = 12345;
	snprintf(c.version, sizeof c.version, "3.12.1");
	snprintf(c.build, sizeof c.build, "libpython3.12.so.1.0 (shared)");
	snprintf(c.arena_source, sizeof c.arena_source, "symbols");
	c.pause_s = 0.042;
	c.resumed_after_copy = true;
	c.wall_s = 0.3106;
	c.narenas = 14;
	c.objects_in_arenas = 7;
	c.objects_outside = 1;
	c.bytes_read = 14889779; /* 14.2 MiB */
	c.syscalls = 23;
	census_warn(&c, "read while running (--nonblocking): counts may be %s", "inconsistent");
	census_warn(&c, "type name with \x1b[31mescape");
	partition_by_kind(&c, &p);
	out = text_of(&c, &p, 1, true);
	cr_assert_str_eq(out,
		"pycensus: pid 12345, Python 3.12.1, libpython3.12.so.1.0 (shared)\n"
		"objects: 8 (7 in 14 pymalloc arenas via symbols, 1 on the GC lists outside them, 0 found by references of "
		"which 0 static); "
		"pause 0.042 s (for the copy; the rest read as it ran), census 0.311 s; read 14.2 MiB in 23 syscalls\n"
		"warning: read while running (--nonblocking): counts may be inconsistent\n"
		"warning: type name with \\x1b[31mescape\n"
		"\n"
		"Partition of a set of 8 objects. Total size = 1000 bytes.\n"
		" Index  Count   %     Size   % Cumulative  % Kind (class / dict of class)\n"
		"     0      3  38      500  50       500  50 str\n"
		"<2 more rows. Use -n 0 to show all.>\n");
	free(out);
	partition_release(&p);
	census_release(&c);
}

Test(report_text, header_singulars_and_small_reads)
{
	struct census c;
	struct partition p;
	char *out;

	census_init(&c);
	c.pid = 7;
	c.narenas = 1;
	c.syscalls = 1;
	c.bytes_read = 512;
	partition_by_kind(&c, &p);
	out = text_of(&c, &p, 0, true);
	cr_assert_str_eq(out,
		"pycensus: pid 7\n"
		"objects: 0 (0 in 1 pymalloc arena, 0 on the GC lists outside them, 0 found by references of which 0 static); "
		"pause 0.000 s (whole census), census 0.000 s; read 512 B in 1 syscall\n"
		"\n"
		"Partition of a set of 0 objects. Total size = 0 bytes.\n");
	free(out);
	partition_release(&p);
	census_release(&c);
}

/* A free-threaded build: mimalloc's heaps, neither pymalloc arenas nor GC lists to speak of. */
Test(report_text, header_of_a_free_threaded_census)
{
	struct census c;
	struct partition p;
	char *out;

	census_init(&c);
	c.pid = 8;
	snprintf(c.arena_source, sizeof c.arena_source, "mimalloc");
	c.objects_in_arenas = 5;
	c.objects_followed = c.objects_static = 2;
	c.nobjects = 7;
	c.have_summary = true;
	c.rss = 2048;
	c.nthreads = 2;
	partition_by_kind(&c, &p);
	out = text_of(&c, &p, 0, true);
	cr_assert_str_eq(out,
		"pycensus: pid 8\n"
		"objects: 7 (5 in mimalloc's heaps, 2 found by references of which 2 static); "
		"pause 0.000 s (whole census), census 0.000 s; read 0 B in 0 syscalls\n"
		"state: RSS 2.0 KiB; 2 threads\n"
		"\n"
		"Partition of a set of 0 objects. Total size = 0 bytes.\n");
	free(out);
	partition_release(&p);
	census_release(&c);
}

/* A census of a core file: the process is gone and its RSS unknown, so the state line leaves it
 * out instead of saying "RSS 0 B"; the origin line says where the census came from. A dump's RSS
 * (the one it recorded) is shown. */
Test(report_text, header_of_a_file_has_no_rss)
{
	struct census c;
	struct partition p;
	char *out;

	census_init(&c);
	c.pid = 9;
	c.replayed = true;
	snprintf(c.origin, sizeof c.origin, "from core file core.9 of PID 9 (signal 6), 1 thread");
	snprintf(c.arena_source, sizeof c.arena_source, "scan");
	c.narenas = 1;
	c.arena_bytes = 1 << 20;
	c.arena_used = 1 << 19;
	c.have_summary = true;
	c.gc_ngen = 3;
	c.gc_count[0] = 7;
	c.gc_enabled = true;
	c.nthreads = 1;
	partition_by_kind(&c, &p);
	out = text_of(&c, &p, 0, true);
	cr_assert_str_eq(out,
		"pycensus: pid 9\n"
		"from core file core.9 of PID 9 (signal 6), 1 thread\n"
		"objects: 0 (0 in 1 pymalloc arena via scan, 0 on the GC lists outside them, 0 found by references of which "
		"0 static); read from the file, census 0.000 s; read 0 B in 0 syscalls\n"
		"state: pymalloc 1 arena, 1.0 MiB, 50.0% in allocated blocks; GC counts 7/0/0 (enabled); 1 thread\n"
		"\n"
		"Partition of a set of 0 objects. Total size = 0 bytes.\n");
	free(out);
	c.rss = 3 << 20;
	out = text_of(&c, &p, 0, true);
	cr_assert(strstr(out, "\nstate: RSS 3.0 MiB; pymalloc 1 arena, "), "%s", out);
	free(out);
	partition_release(&p);
	census_release(&c);
}

Test(report_text, control_characters_in_kinds_are_escaped)
{
	struct census c;
	struct partition p;
	char *out;

	census_init(&c);
	census_add(&c, "evil\nPartition", 1, 16);
	partition_by_kind(&c, &p);
	out = text_of(&c, &p, 0, false);
	cr_assert_not_null(strstr(out, " evil\\x0aPartition\n"));
	free(out);
	partition_release(&p);
	census_release(&c);
}

Test(report_text, size_class_header)
{
	struct census c;
	struct partition p;
	char *out;

	census_init(&c);
	c.nclasses = 1;
	c.classes[0] = (struct census_sizeclass){ .block_size = 64, .blocks = 3 };
	partition_by_size_class(&c, &p);
	out = text_of(&c, &p, 0, false);
	cr_assert_str_eq(out,
		"Partition of a set of 3 objects. Total size = 192 bytes.\n"
		" Index  Count   %     Size   % Cumulative  % Kind (pymalloc size class)\n"
		"     0      3 100      192 100       192 100 blocks of 64 bytes\n");
	free(out);
	partition_release(&p);
	census_release(&c);
}

Test(report_csv, header_rows_and_two_decimals)
{
	struct census c;
	struct partition p;
	char *out;

	small_census(&c);
	partition_by_kind(&c, &p);
	out = csv_of(&p);
	cr_assert_str_eq(out,
		"index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind\n"
		"0,3,37.50,500,50.00,500,50.00,str\n"
		"1,1,12.50,300,30.00,800,80.00,dict (no owner)\n"
		"2,4,50.00,200,20.00,1000,100.00,int\n"
		"# end,3,8,1000\n");
	free(out);
	partition_release(&p);
	census_release(&c);
}

Test(report_csv, quotes_kinds_that_need_it)
{
	struct census c;
	struct partition p;
	char *out;

	census_init(&c);
	census_add(&c, "a,\"b\"", 1, 30);
	census_add(&c, "line\nbreak", 2, 20);
	census_add(&c, "plain", 3, 10);
	partition_by_kind(&c, &p);
	out = csv_of(&p);
	cr_assert_str_eq(out,
		"index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind\n"
		"0,1,16.67,30,50.00,30,50.00,\"a,\"\"b\"\"\"\n"
		"1,2,33.33,20,33.33,50,83.33,\"line\nbreak\"\n"
		"2,3,50.00,10,16.67,60,100.00,plain\n"
		"# end,3,6,60\n");
	free(out);
	partition_release(&p);
	census_release(&c);
}

Test(report_csv, empty_partition_is_header_only)
{
	struct census c;
	struct partition p;
	char *out;

	census_init(&c);
	partition_by_kind(&c, &p);
	out = csv_of(&p);
	cr_assert_str_eq(out,
		"index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind\n"
		"# end,0,0,0\n");
	free(out);
	partition_release(&p);
	census_release(&c);
}

Test(report_output, dash_and_null_are_stdout)
{
	struct pc_err e = { 0 };

	cr_assert_eq(output_open("-", &e), stdout);
	cr_assert_eq(output_open(NULL, &e), stdout);
	cr_assert_eq(output_close(stdout, &e), 0);
	cr_assert_eq(e.code, PC_EOK);
}

Test(report_output, full_disk_fails_the_text_report)
{
	struct census c;
	struct partition p;
	struct pc_err e = { 0 };
	FILE *f;

	f = output_open("/dev/full", &e);
	cr_assert_not_null(f, "%s", e.detail);
	small_census(&c);
	partition_by_kind(&c, &p);
	cr_assert_eq(report_text(f, &c, &p, 0, true, &e), -1);
	cr_assert_eq(e.code, PC_EOUTPUT);
	cr_assert_not_null(strstr(e.detail, "No space left on device"), "%s", e.detail);
	output_close(f, NULL);
	partition_release(&p);
	census_release(&c);
}

Test(report_output, full_disk_fails_on_close)
{
	struct pc_err e = { 0 };
	FILE *f;

	f = output_open("/dev/full", &e);
	cr_assert_not_null(f, "%s", e.detail);
	fputs("a few bytes that stay in the buffer\n", f);
	cr_assert_eq(output_close(f, &e), -1);
	cr_assert_eq(e.code, PC_EOUTPUT);
	cr_assert_not_null(strstr(e.detail, "No space left on device"), "%s", e.detail);
}

Test(report_output, full_disk_fails_a_large_csv)
{
	struct census c;
	struct partition p;
	struct pc_err e = { 0 };
	char kind[32];
	FILE *f;

	/* More than a stdio buffer, so the failure happens mid-report, not only at the flush. */
	census_init(&c);
	for (int i = 0; i < 2000; i++) {
		snprintf(kind, sizeof kind, "module.Class%d", i);
		census_add(&c, kind, 1, (uint64_t)i);
	}
	partition_by_kind(&c, &p);
	f = output_open("/dev/full", &e);
	cr_assert_not_null(f, "%s", e.detail);
	cr_assert_eq(report_csv(f, &c, &p, &e), -1);
	cr_assert_eq(e.code, PC_EOUTPUT);
	cr_assert_not_null(strstr(e.detail, "No space left on device"), "%s", e.detail);
	output_close(f, NULL);
	partition_release(&p);
	census_release(&c);
}

Test(report_output, missing_directory_fails_to_open)
{
	char dir[] = "/tmp/pycensus-test-XXXXXX";
	char path[128];
	struct pc_err e = { 0 };

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/missing/out.csv", dir);
	cr_assert_null(output_open(path, &e));
	cr_assert_eq(e.code, PC_EOUTPUT);
	cr_assert_not_null(strstr(e.detail, path), "%s", e.detail);
	cr_assert_not_null(strstr(e.detail, "No such file or directory"), "%s", e.detail);
	rmdir(dir);
}

Test(report_output, writes_and_closes_a_file)
{
	char dir[] = "/tmp/pycensus-test-XXXXXX";
	char path[128], line[64];
	struct pc_err e = { 0 };
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/out.txt", dir);
	f = output_open(path, &e);
	cr_assert_not_null(f, "%s", e.detail);
	fputs("hello\n", f);
	cr_assert_eq(output_close(f, &e), 0, "%s", e.detail);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(line, sizeof line, f));
	cr_assert_str_eq(line, "hello\n");
	fclose(f);
	unlink(path);
	rmdir(dir);
}

/* Dict rows fold into one "dict" by type; by module, rows group by the module defining the type. */
Test(report_partition, by_type_and_module)
{
	struct census c;
	struct partition p;

	census_init(&c);
	census_add_typed(&c, "dict of __main__.A", "dict", "builtins", 10, 1000);
	census_add_typed(&c, "dict (no owner)", "dict", "builtins", 5, 400);
	census_add_typed(&c, "__main__.A", "__main__.A", "__main__", 10, 480);
	census_add_typed(&c, "json.decoder.JSONDecoder", "json.decoder.JSONDecoder", "json.decoder", 1, 48);
	census_add(&c, "str", 7, 350);
	partition_by_type(&c, &p);
	cr_assert_eq(p.nrows, 4);
	cr_assert_str_eq(p.rows[0].kind, "dict");
	cr_assert_eq(p.rows[0].count, 15);
	cr_assert_eq(p.rows[0].size, 1400);
	cr_assert_str_eq(p.kind_header, "Kind (type)");
	cr_assert_eq(p.count, 33);
	partition_release(&p);
	partition_by_module(&c, &p);
	cr_assert_eq(p.nrows, 3);
	cr_assert_str_eq(p.rows[0].kind, "builtins");
	cr_assert_eq(p.rows[0].count, 22);
	cr_assert_eq(p.rows[0].size, 1750);
	cr_assert_str_eq(p.rows[1].kind, "__main__");
	cr_assert_str_eq(p.rows[2].kind, "json.decoder");
	cr_assert_eq(p.size, 2278);
	partition_release(&p);
	census_release(&c);
}

/* --size=alloc: the reconciliation line, and unattributed blocks are not objects. */
Test(report_text, alloc_reconciliation)
{
	struct census c;
	struct partition p;
	char *out;

	census_init(&c);
	c.pid = 7;
	c.size_alloc = true;
	c.alloc.pymalloc_allocated = 4096;
	c.alloc.attributed_in_arenas = 3072;
	c.alloc.outside_arenas = 2048;
	census_add(&c, "str", 10, 3072);
	census_add_unattributed(&c, 16, 1024);
	cr_assert_eq(c.nobjects, 10);
	cr_assert_eq(c.total_size, 4096);
	partition_by_kind(&c, &p);
	out = text_of(&c, &p, 0, true);
	cr_assert(strstr(out, "sizes: allocator footprint; pymalloc blocks allocated 4.0 KiB, claimed by objects and their "
			      "buffers 3.0 KiB, unattributed 1.0 KiB; outside pymalloc 2.0 KiB\n"), "%s", out);
	cr_assert(strstr(out, "(unattributed pymalloc blocks)"), "%s", out);
	free(out);
	partition_release(&p);
	census_release(&c);
}
