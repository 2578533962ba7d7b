/* test_csvnotes.c: what a census dropped (model/census.h census_drop, census_partial, the warning
 * line) and the CSV comment lines that carry it (report/csv.h report_csv_notes, read back by
 * report/csvread.h): exact output, round trips of a census and of a series, every cut of a
 * written file refused, and malformed comment lines named by line. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/census.h"
#include "report/csv.h"
#include "report/csvread.h"
#include "report/partition.h"
#include "report/series.h"

static char *csv_text(const struct census *c)
{
	struct partition p;
	struct pc_err e = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	partition_by_kind(c, &p);
	cr_assert_eq(report_csv(f, c, &p, &e), 0, "%s", e.detail);
	cr_assert_eq(fclose(f), 0);
	partition_release(&p);
	return buf;
}

static int parse(const char *text, struct csvcensus *out, struct pc_err *e)
{
	return csvread_text("n.csv", text, strlen(text), out, e);
}

/* 3 str (300 B), 1 list (200 B); 7 str and 2 dict dropped, one pool skipped. */
static void partial_census(struct census *c)
{
	census_init(c);
	census_add(c, "str", 3, 300);
	census_add(c, "list", 1, 200);
	census_drop(c, "dict", 2);
	census_drop(c, "str", 4);
	census_drop(c, "str", 3);
	census_drop(c, NULL, 0); /* nothing dropped adds no kind */
	c->dropped_pools = 1;
	census_warn(c, "12 objects changed between two reads, and a tab\there");
	census_warn_dropped(c);
}

Test(census_drop, sorted_by_count_then_kind)
{
	struct census c;

	census_init(&c);
	cr_expect(!census_partial(&c));
	census_drop(&c, "b", 1);
	census_drop(&c, "a", 1);
	census_drop(&c, NULL, 5);
	census_drop(&c, "b", 9);
	cr_assert_eq(c.ndropped, 3);
	cr_expect_str_eq(c.dropped[0].kind, "b");
	cr_expect_eq(c.dropped[0].count, 10);
	cr_expect_str_eq(c.dropped[1].kind, CENSUS_UNKNOWN_KIND);
	cr_expect_str_eq(c.dropped[2].kind, "a");
	cr_expect_eq(c.dropped_objects, 16);
	cr_expect(census_partial(&c));
	census_release(&c);

	census_init(&c);
	c.dropped_pools = 1; /* pools alone make it partial: their objects are unknown */
	cr_expect(census_partial(&c));
	census_release(&c);
}

Test(census_drop, warning_line_is_bounded)
{
	struct census c;
	char line[400], kind[200];

	partial_census(&c);
	census_dropped_line(&c, 8, line, sizeof line);
	cr_expect_str_eq(line, "the census is partial: dropped 9 objects and 1 pool: 7 str, 2 dict");
	census_dropped_line(&c, 1, line, sizeof line);
	cr_expect_str_eq(line, "the census is partial: dropped 9 objects and 1 pool: 7 str and 1 more kind");
	census_release(&c);

	census_init(&c);
	for (int i = 0; i < 40; i++) {
		snprintf(kind, sizeof kind, "module.%0150d", i);
		census_drop(&c, kind, (uint64_t)(100 - i));
	}
	census_dropped_line(&c, 8, line, sizeof line);
	cr_expect_lt(strlen(line), sizeof line - 1, "%s", line);
	cr_expect(strstr(line, "100 module.") && strstr(line, "more kinds"), "%s", line);
	census_dropped_line(&c, 8, line, 60); /* too small for any kind: still terminated and honest */
	cr_expect_str_eq(line, "the census is partial: dropped 3220 objects: 40 more kinds");
	census_release(&c);
}

Test(csv_notes, written_after_the_rows)
{
	struct census c;
	char *out;

	partial_census(&c);
	out = csv_text(&c);
	cr_expect_str_eq(out,
		"index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind\n"
		"0,3,75.00,300,60.00,300,60.00,str\n"
		"1,1,25.00,200,40.00,500,100.00,list\n"
		"# warning: 12 objects changed between two reads, and a tab\\x09here\n"
		"# warning: the census is partial: dropped 9 objects and 1 pool: 7 str, 2 dict\n"
		"# dropped,7,str\n"
		"# dropped,2,dict\n"
		"# dropped_pools,1\n"
		"# end,2,4,500\n");
	free(out);
	census_release(&c);
}

Test(csv_notes, census_reads_back)
{
	struct census c;
	struct csvcensus back;
	struct pc_err e = { 0 };
	char *out;

	partial_census(&c);
	census_drop(&c, "a \"quoted\", kind", 1);
	out = csv_text(&c);
	cr_assert_eq(parse(out, &back, &e), 0, "%s\n%s", e.detail, out);
	cr_expect_eq(back.npartial, 1);
	cr_expect(census_partial(&back.first) && census_partial(&back.last));
	cr_assert_eq(back.last.ndropped, 3);
	for (size_t i = 0; i < c.ndropped; i++) {
		cr_expect_str_eq(back.last.dropped[i].kind, c.dropped[i].kind);
		cr_expect_eq(back.last.dropped[i].count, c.dropped[i].count);
	}
	cr_expect_eq(back.last.dropped_pools, 1);
	cr_expect_eq(back.last.dropped_objects, 10);
	cr_assert_eq(back.last.nwarnings, 2);
	cr_expect_str_eq(back.last.warnings[0], "12 objects changed between two reads, and a tab\\x09here");
	cr_expect_eq(back.last.nrows, 2);
	free(out);
	csvcensus_release(&back);
	census_release(&c);

	/* a whole census: no dropped lines, not partial */
	census_init(&c);
	census_add(&c, "str", 1, 50);
	out = csv_text(&c);
	cr_assert_eq(parse(out, &back, &e), 0, "%s", e.detail);
	cr_expect_eq(back.npartial, 0);
	cr_expect(!census_partial(&back.last));
	free(out);
	csvcensus_release(&back);
	census_release(&c);
}

static char *series_text_of(struct series *s, const struct census *const *v, size_t n)
{
	struct pc_err e = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	cr_assert_eq(series_csv_header(f, &e), 0);
	for (size_t i = 0; i < n; i++) {
		series_add(s, v[i], (double)i, 4096, false);
		cr_assert_eq(series_csv_sample(f, s, &e), 0, "%s", e.detail);
	}
	cr_assert_eq(fclose(f), 0);
	return buf;
}

Test(csv_notes, series_per_sample)
{
	struct census whole, part;
	const struct census *v[] = { &whole, &part, &whole };
	struct series s;
	struct csvcensus back;
	struct pc_err e = { 0 };
	char *out, *json = NULL;
	size_t jlen = 0;
	FILE *f;

	census_init(&whole);
	census_add(&whole, "str", 5, 250);
	partial_census(&part);
	series_init(&s);
	out = series_text_of(&s, v, 3);
	cr_expect(strstr(out, "1.000,1,[pymalloc],0,0\n# sample 1 warning: 12 objects changed") &&
		  strstr(out, "# sample 1 dropped,7,str\n# sample 1 dropped,2,dict\n# sample 1 dropped_pools,1\n"
			      "# sample 1 end,4,4,500\n") && strstr(out, "# sample 2 end,3,5,250\n"), "%s", out);
	cr_expect_eq(s.npartial, 1);
	cr_assert_eq(parse(out, &back, &e), 0, "%s\n%s", e.detail, out);
	cr_expect_eq(back.nsamples, 3);
	cr_expect_eq(back.npartial, 1);
	cr_expect(!census_partial(&back.first) && !census_partial(&back.last), "the middle sample alone dropped");
	csvcensus_release(&back);

	f = open_memstream(&json, &jlen);
	cr_assert_eq(series_text(f, &s, 0, &e), 0);
	fclose(f);
	cr_expect(strstr(json, "1 of 3 samples were partial"), "%s", json);
	free(json);
	json = NULL;
	f = open_memstream(&json, &jlen);
	cr_assert_eq(series_json(f, &s, &e), 0);
	fclose(f);
	cr_expect(strstr(json, "\"partial_samples\": 1") && strstr(json, "\"partial\": true") &&
		  strstr(json, "\"str\": 7") && strstr(json, "\"dropped_pools\": 1") &&
		  strstr(json, "the census is partial: dropped 9 objects"), "%s", json);
	free(json);
	free(out);
	series_release(&s);
	census_release(&whole);
	census_release(&part);
}

/* Every cut of a written file, at any byte, mid-line or at a line end, is refused; but a series
 * is a stream, and one cut right after a sample's end line is the series of the samples before. */
Test(csv_notes, every_cut_is_refused)
{
	struct census c, whole;
	const struct census *v[] = { &whole, &c };
	struct series s;
	char *files[2];

	partial_census(&c);
	census_init(&whole);
	census_add(&whole, "str", 5, 250);
	series_init(&s);
	files[0] = csv_text(&c);
	files[1] = series_text_of(&s, v, 2);
	for (size_t k = 0; k < 2; k++) {
		size_t len = strlen(files[k]), header = (size_t)(strchr(files[k], '\n') - files[k]) + 1;
		for (size_t cut = 1; cut < len; cut++) {
			struct pc_err e = { 0 };
			struct csvcensus back;
			int rc = csvread_text("cut.csv", files[k], cut, &back, &e);

			if (k == 1 && cut == header) /* the series header alone: a series without samples */
				cr_expect(rc == -1 && strstr(e.detail, "without samples"), "%s", e.detail);
			else if (k == 1 && cut >= 12 && memcmp(files[k] + cut - 12, "end,3,5,250\n", 12) == 0)
				cr_expect(rc == 0 && back.nsamples == 1, "%s", e.detail);
			else
				cr_expect(rc == -1 && e.code == PC_EUSAGE && strstr(e.detail, "cut.csv:"),
					  "file %zu cut at %zu of %zu read as whole: '%.*s'", k, cut, len, (int)cut, files[k]);
			if (rc == 0)
				csvcensus_release(&back);
		}
	}
	free(files[0]);
	free(files[1]);
	series_release(&s);
	census_release(&c);
	census_release(&whole);
}

Test(csv_notes, malformed_files_name_the_line)
{
	static const char H[] = "index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind\n";
	static const char S[] = "time_s,sample,kind,count,size\n";
	static const struct {
		const char *head, *text, *want;
	} cases[] = {
		{ H, "0,3,75.00,300,60.00,300,60.00,str\n1,1,25.00,200,40.00,500,100.00,li",
		  "n.csv:3: the last line has no line end: the file is cut short" },
		{ "", "0,3,75.00,300,60.00,300,60.00,str\n# end,1,3,300\n", "n.csv:1: not a pycensus CSV" },
		{ H, "0,3,75.00,300,60.00,300,60.00,str\n1,x,25.00,200,40.00,500,100.00,list\n",
		  "n.csv:3: count 'x' is not a number" },
		{ H, "0,3,75.00,300,60.00,300,60.00,str,extra\n", "n.csv:2: more than 8 fields" },
		{ S, "0,0,str,1,2,3\n", "n.csv:2: 6 fields, expected 5" },
		{ H, "0,3,75.00,300,60.00,300,60.00,str\n", "n.csv:3: no '# end,...' line after the rows" },
		{ H, "0,3,75.00,300,60.00,300,60.00,str\n# end,2,3,300\n", "n.csv:3: the end line says 2 rows" },
		{ H, "0,3,75.00,300,60.00,300,60.00,str\n# end,1,3,301\n", "the rows above add up to 1, 3, 300" },
		{ H, "0,3,75.00,300,60.00,300,60.00,str\n# end,1,3,300\n1,1,25.00,200,40.00,500,100.00,list\n",
		  "n.csv:4: rows after the end line" },
		{ H, "# end,0,0,0\n# warning: late\n", "n.csv:3: a comment after the end line" },
		{ H, "# dropped,many,str\n# end,0,0,0\n", "n.csv:2: dropped count 'many' is not a number" },
		{ H, "# dropped,3\n# end,0,0,0\n", "n.csv:2: a '# dropped' line with 2 fields" },
		{ H, "# end,0,0\n", "n.csv:2: an end line has 4 fields, not 3" },
		{ H, "# sample 0 end,0,0,0\n", "n.csv:2: a sample's comment in a census file" },
		{ S, "0,0,str,1,2\n# sample 1 end,1,1,2\n", "n.csv:3: a comment of sample '1' after the rows of sample 0" },
		{ S, "0,0,str,1,2\n# end,1,1,2\n", "n.csv:3: a comment of a time series names no sample" },
		{ S, "0,0,str,1,2\n1,1,str,1,2\n# sample 1 end,1,1,2\n",
		  "n.csv:3: the sample before this line has no '# sample <k> end,...' line" },
		{ H, "# dropped,1,\"str\n# end,0,0,0\n", "n.csv:2: unterminated quoted field" },
	};

	for (size_t i = 0; i < PC_ARRAY_LEN(cases); i++) {
		struct pc_err e = { 0 };
		struct csvcensus c;
		char *text;

		cr_assert(asprintf(&text, "%s%s", cases[i].head, cases[i].text) > 0);
		cr_expect_eq(parse(text, &c, &e), -1, "case %zu parsed", i);
		cr_expect_eq(e.code, PC_EUSAGE, "case %zu: code %d", i, e.code);
		cr_expect(strstr(e.detail, cases[i].want), "case %zu: '%s' lacks '%s'", i, e.detail, cases[i].want);
		free(text);
	}
}

/* Comments pycensus does not write are skipped; a whole CRLF file reads. */
Test(csv_notes, other_comments_and_crlf)
{
	const char *text = "index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind\r\n"
			   "# written by hand\r\n"
			   "0,3,75.00,300,60.00,300,60.00,str\r\n"
			   "# warning: w\r\n#dropped,2,str\r\n# end,1,3,300\r\n";
	struct pc_err e = { 0 };
	struct csvcensus c;

	cr_assert_eq(parse(text, &c, &e), 0, "%s", e.detail);
	cr_expect_eq(c.last.nwarnings, 1);
	cr_expect_str_eq(c.last.warnings[0], "w");
	cr_expect_eq(c.last.dropped_objects, 2);
	cr_expect_eq(c.npartial, 1);
	csvcensus_release(&c);
}
