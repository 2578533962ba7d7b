/* test_diff.c: report/diff.h and report/series.h on hand-made censuses: rows matched by kind,
 * sorted by size delta, text and CSV layouts; a series' CSV samples and its growth table. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report/csvread.h"
#include "report/diff.h"
#include "report/series.h"

static char *capture(int (*fn)(FILE *, const void *, struct pc_err *), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct pc_err e = { 0 };

	cr_assert(f);
	cr_assert_eq(fn(f, arg, &e), 0);
	fclose(f);
	return buf;
}

static void two(struct census *a, struct census *b)
{
	census_init(a);
	census_init(b);
	census_add(a, "str", 100, 5000);
	census_add(a, "gone", 3, 300);
	census_add(a, "same", 7, 70);
	census_add(b, "str", 110, 5600);
	census_add(b, "same", 7, 70);
	census_add(b, "new, with comma", 2, 1000);
}

Test(diff, rows_matched_and_sorted_by_size_delta)
{
	struct census a, b;
	struct diff d;

	two(&a, &b);
	diff_build(&a, &b, &d);
	cr_assert_eq(d.n, 4);
	cr_expect_str_eq(d.rows[0].kind, "new, with comma");
	cr_expect_eq(d.rows[0].dsize, 1000);
	cr_expect_str_eq(d.rows[1].kind, "str");
	cr_expect_eq(d.rows[1].dcount, 10);
	cr_expect_eq(d.rows[1].dsize, 600);
	cr_expect_str_eq(d.rows[2].kind, "same");
	cr_expect_str_eq(d.rows[3].kind, "gone");
	cr_expect_eq(d.rows[3].count_b, 0);
	cr_expect_eq(d.rows[3].dsize, -300);
	cr_expect_eq(d.size_a, 5370);
	cr_expect_eq(d.size_b, 6670);
	diff_release(&d);
	census_release(&a);
	census_release(&b);
}

static int csv_fn(FILE *f, const void *d, struct pc_err *e) { return report_diff_csv(f, d, NULL, 0, e); }
static int text_fn(FILE *f, const void *d, struct pc_err *e) { return report_diff_text(f, d, NULL, 0, 2, e); }

Test(diff, csv_and_text)
{
	struct census a, b;
	struct diff d;
	char *csv, *text;

	two(&a, &b);
	diff_build(&a, &b, &d);
	csv = capture(csv_fn, &d);
	cr_expect_str_eq(csv, "kind,count_before,count_after,count_delta,size_before,size_after,size_delta\n"
			      "\"new, with comma\",0,2,2,0,1000,1000\n"
			      "str,100,110,10,5000,5600,600\n"
			      "same,7,7,0,70,70,0\n"
			      "gone,3,0,-3,300,0,-300\n");
	text = capture(text_fn, &d);
	cr_expect(strstr(text, "Objects 110 -> 119 (+9), total size 5370 -> 6670 bytes (+1300).\n"), "%s", text);
	cr_expect(strstr(text, "      100       110       +10        5000        5600        +600 str\n"), "%s", text);
	cr_expect(strstr(text, "<2 more rows. Use -n 0 to show all.>\n"), "%s", text);
	free(csv);
	free(text);
	diff_release(&d);
	census_release(&a);
	census_release(&b);
}

static int sample_fn(FILE *f, const void *s, struct pc_err *e) { return series_csv_sample(f, s, e); }
static int stext_fn(FILE *f, const void *s, struct pc_err *e) { return series_text(f, s, 0, e); }
static int sjson_fn(FILE *f, const void *s, struct pc_err *e) { return series_json(f, s, e); }

Test(series, csv_samples_growth_and_read_back)
{
	struct census a, b;
	struct series s;
	struct csvcensus back;
	struct pc_err e = { 0 };
	char *csv0, *csv1, *all, *text, *json;

	two(&a, &b);
	a.nclasses = b.nclasses = 2;
	a.classes[0] = (struct census_sizeclass){ .block_size = 16, .blocks = 10 };
	a.classes[1] = (struct census_sizeclass){ .block_size = 32, .blocks = 5 };
	b.classes[0] = (struct census_sizeclass){ .block_size = 16, .blocks = 20 };
	series_init(&s);
	series_add(&s, &a, 0.0, 4096, false);
	csv0 = capture(sample_fn, &s);
	series_add(&s, &b, 30.0, 8192, true);
	csv1 = capture(sample_fn, &s);
	cr_expect_str_eq(csv0, "0.000,0,str,100,5000\n0.000,0,gone,3,300\n0.000,0,same,7,70\n"
			       "0.000,0,[rss],0,4096\n0.000,0,[pymalloc],15,320\n# sample 0 end,5,110,5370\n");
	cr_expect(strstr(csv1, "30.000,1,\"new, with comma\",2,1000\n") && strstr(csv1, "30.000,1,[pymalloc],20,320\n"),
		  "%s", csv1);
	cr_assert(asprintf(&all, "time_s,sample,kind,count,size\n%s%s", csv0, csv1) > 0);
	cr_assert_eq(csvread_text("s.csv", all, strlen(all), &back, &e), 0, "%s", e.detail);
	cr_expect_eq(back.nsamples, 2);
	cr_expect_eq(back.first.nrows, 3);
	cr_expect_eq(back.last.nrows, 3);
	text = capture(stext_fn, &s);
	/* 600 bytes of str over 30 s is 1200 bytes per minute */
	cr_expect(strstr(text, "sample 1 at 30.000 s (at exit)") && strstr(text, "Grew most since the first sample") &&
		  strstr(text, "      +20        +1200 str\n"), "%s", text);
	json = capture(sjson_fn, &s);
	cr_expect(strstr(json, "\"size_per_min\": 1200") && strstr(json, "\"at_exit\": true"), "%s", json);
	free(csv0);
	free(csv1);
	free(all);
	free(text);
	free(json);
	csvcensus_release(&back);
	series_release(&s);
	census_release(&a);
	census_release(&b);
}
