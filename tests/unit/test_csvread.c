/* test_csvread.c: reading snap CSV and time-series CSV back (report/csvread.h): RFC 4180 quoting,
 * CRLF, first and last sample, and bad input as PC_EUSAGE naming the line. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <string.h>
#include "report/csvread.h"

static const struct census_row *row(const struct census *c, const char *kind)
{
	for (size_t i = 0; i < c->nrows; i++)
		if (strcmp(c->rows[i].kind, kind) == 0)
			return &c->rows[i];
	return NULL;
}

static int parse(const char *text, struct csvcensus *c, struct pc_err *e)
{
	return csvread_text("t.csv", text, strlen(text), c, e);
}

Test(csvread, snap_csv_with_quoted_kinds_and_crlf)
{
	const char *text = "index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind\r\n"
			   "0,10,50.00,1000,90.00,1000,90.00,\"dict of a.B, with \"\"comma\"\"\"\r\n"
			   "1,5,25.00,80,7.00,1080,97.00,\"multi\nline\"\r\n"
			   "2,5,25.00,40,3.00,1120,100.00,str\r\n"
			   "# end,3,20,1120\r\n";
	struct pc_err e = { 0 };
	struct csvcensus c;

	cr_assert_eq(parse(text, &c, &e), 0, "%s", e.detail);
	cr_expect(!c.series);
	cr_expect_eq(c.first.nrows, 3);
	cr_assert(row(&c.first, "dict of a.B, with \"comma\""));
	cr_expect_eq(row(&c.first, "dict of a.B, with \"comma\"")->size, 1000);
	cr_assert(row(&c.first, "multi\nline"));
	cr_expect_eq(row(&c.first, "str")->count, 5);
	cr_expect_eq(c.last.nrows, 3, "a single census is its own last sample");
	csvcensus_release(&c);
}

Test(csvread, series_first_and_last_sample)
{
	const char *text = "time_s,sample,kind,count,size\n"
			   "0.000,0,str,10,500\n0.000,0,[rss],0,9999\n0.000,0,[pymalloc],3,48\n# sample 0 end,3,10,500\n"
			   "1.000,1,str,12,600\n1.000,1,a.B,1,48\n1.000,1,[rss],0,9999\n# sample 1 end,3,13,648\n"
			   "2.500,2,str,15,700\n2.500,2,\"x,y\",2,64\n2.500,2,[rss],0,1\n2.500,2,[pymalloc],9,144\n"
			   "# sample 2 end,4,17,764\n";
	struct pc_err e = { 0 };
	struct csvcensus c;

	cr_assert_eq(parse(text, &c, &e), 0, "%s", e.detail);
	cr_expect(c.series);
	cr_expect_eq(c.nsamples, 3);
	cr_expect_float_eq(c.t_first, 0.0, 1e-9);
	cr_expect_float_eq(c.t_last, 2.5, 1e-9);
	cr_expect_eq(c.first.nrows, 1, "[rss] and [pymalloc] are not kinds");
	cr_expect_eq(row(&c.first, "str")->count, 10);
	cr_expect_eq(c.last.nrows, 2);
	cr_expect_eq(row(&c.last, "str")->size, 700);
	cr_expect_eq(row(&c.last, "x,y")->count, 2);
	cr_expect_null(row(&c.last, "a.B"), "a kind of a middle sample only");
	csvcensus_release(&c);
}

Test(csvread, bad_input_names_the_line)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "", "t.csv:1: empty file" },
		{ "a,b,c\n1,2,3\n", "t.csv:1: not a pycensus CSV" },
		{ "time_s,sample,kind,count,size\n0,0,str,1,2\n0,0,str,x,2\n", "t.csv:3: count 'x' is not a number" },
		{ "time_s,sample,kind,count,size\r\n0,0,str,1,2\r\n0,0,str,1\r\n", "t.csv:3: 4 fields, expected 5" },
		{ "time_s,sample,kind,count,size\n0,0,\"str,1,2\n", "t.csv:2: unterminated quoted field" },
		{ "time_s,sample,kind,count,size\n0,3,str,1,2\n0,1,str,1,2\n", "t.csv:3: sample 1 after sample 3" },
		{ "index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind\n0,-1,0,0,0,0,0,str\n",
		  "t.csv:2: count '-1' is not a number" },
		{ "time_s,sample,kind,count,size\n", "a time series without samples" },
		{ "time_s,sample,kind,count,size\n0,0,\"a\"\"b\",1,2\n0,0,a\"b,1,2\n", "t.csv:3: stray quote" },
		/* two rows of 2^63-1 used to wrap the sums into a delta of -2 */
		{ "index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind\n"
		  "0,9223372036854775807,1,9223372036854775807,1,1,1,str\n1,9223372036854775807,1,1,1,1,1,str\n",
		  "t.csv:2: the counts or sizes add up past 2^47" },
		{ "time_s,sample,kind,count,size\n0,0,str,1,140737488355329\n", "t.csv:2: the counts or sizes add up" },
	};

	for (size_t i = 0; i < PC_ARRAY_LEN(cases); i++) {
		struct pc_err e = { 0 };
		struct csvcensus c;

		cr_expect_eq(parse(cases[i].text, &c, &e), -1, "case %zu parsed", i);
		cr_expect_eq(e.code, PC_EUSAGE, "case %zu: code %d", i, e.code);
		cr_expect(strstr(e.detail, cases[i].want), "case %zu: '%s' lacks '%s'", i, e.detail, cases[i].want);
	}
}

Test(csvread, missing_file)
{
	struct pc_err e = { 0 };
	struct csvcensus c;

	cr_expect_eq(csvread_file("/nonexistent/x.csv", &c, &e), -1);
	cr_expect_eq(e.code, PC_EUSAGE);
	cr_expect(strstr(e.detail, "/nonexistent/x.csv"));
}
