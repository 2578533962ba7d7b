/* test_pace.c: cli/pace.h's rule on given pauses (no target, no clock: the times are passed in),
 * and report/overhead.h's share of a series: the budget held over every whole period, -i as the
 * floor, the level rising at once and halving its excess, a grown heap deferring a sample, off
 * keeping the cadence, --max-overhead parsing; the share read back from a CSV series' pace comments. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/pace.h"
#include "report/overhead.h"
#include "report/series.h"

/* Samples taken exactly when due, each census as long as its pause: start k+1 = p->next. */
static void drive(struct pace *p, const double *pauses, size_t n, double *starts, double *periods)
{
	double t = 100.0;

	p->next = t;
	for (size_t k = 0; k < n; k++) {
		starts[k] = t;
		periods[k] = pace_sampled(p, t, pauses[k], t + pauses[k], 0);
		t = p->next;
	}
}

Test(pace, budget_held_over_whole_periods)
{
	/* a heap that grows, then shrinks, then holds: the pauses of a real run's shape */
	static const double pauses[] = { 0.002, 0.010, 0.063, 0.080, 0.020, 0.020, 0.060, 0.060, 0.060, 0.001 };
	size_t n = sizeof pauses / sizeof *pauses;
	struct pace p = { .interval = 1.0, .budget = 0.01 };
	double starts[16], periods[16], paused = 0;

	drive(&p, pauses, n, starts, periods);
	for (size_t k = 0; k + 1 < n; k++) {
		paused += pauses[k];
		cr_expect_geq(periods[k], 1.0, "sample %zu: %.3f s, under -i", k, periods[k]);
		cr_expect_geq(periods[k], pauses[k] / 0.01 - 1e-9, "sample %zu: paused %.3f s, period %.3f s", k, pauses[k],
			      periods[k]);
		cr_expect_leq(paused / (starts[k + 1] - starts[0]), 0.01 + 1e-12, "up to sample %zu: %.4f", k + 1,
			      paused / (starts[k + 1] - starts[0]));
	}
	/* 0.063 s after 0.010 s: the period follows at once (its own term: 6.3 s; the cumulative one
	 * reserves the next pause too: (0.075 + 0.063) / 0.01 - 0.063 - (starts[2] - starts[0])) */
	cr_expect_float_eq(periods[2], (0.075 + 0.063) / 0.01 - 0.063 - (starts[2] - starts[0]), 1e-9);
	/* 0.020 after 0.080: the level halves its excess (0.050), the period does not drop to 2 s */
	cr_expect_gt(periods[4], 0.050 / 0.01 - 1e-9, "%.3f s", periods[4]);
}

/* A sample that found 100 MB and paused 10 ms: at its due time the target holds 300 MB, so the
 * pause to expect is 30 ms and the sample waits for it; at the new time, with no more growth, it
 * is due. */
Test(pace, grown_heap_defers)
{
	struct pace p = { .interval = 1.0, .budget = 0.01 };
	double period = pace_sampled(&p, 10.0, 0.010, 10.05, 100u << 20), later;

	cr_expect_float_eq(period, 2 * 0.010 / 0.01 - 0.010, 1e-9); /* the first: its own and the next pause */
	cr_expect(pace_due(&p, p.next, 100u << 20), "no growth: due as planned");
	cr_expect(!pace_due(&p, p.next, 300u << 20), "three times the memory: not yet");
	later = p.next;
	cr_expect_float_eq(later, 10.0 + (0.010 + 0.030) / 0.01 - 0.030, 1e-9);
	cr_expect(pace_due(&p, later, 300u << 20));
	p.budget = 0;
	cr_expect(pace_due(&p, 0, 900u << 20), "off: never deferred");
}

Test(pace, interval_is_the_floor)
{
	static const double pauses[] = { 0.001, 0.001, 0.001, 0.001 };
	struct pace p = { .interval = 0.5, .budget = 0.01 };
	double starts[4], periods[4];

	drive(&p, pauses, 4, starts, periods);
	for (size_t k = 0; k < 4; k++)
		cr_expect_float_eq(periods[k], 0.5, 1e-12, "sample %zu: %.6f s", k, periods[k]);
}

Test(pace, off_keeps_the_cadence)
{
	static const double pauses[] = { 0.3, 0.3, 0.3 };
	struct pace p = { .interval = 0.05, .budget = 0 };
	double starts[3], periods[3];

	drive(&p, pauses, 3, starts, periods);
	for (size_t k = 0; k < 3; k++)
		cr_expect_float_eq(periods[k], 0.05, 1e-12);
	/* each census (0.3 s) outlasted its 0.05 s: the next is a whole interval after it ends */
	cr_expect_float_eq(starts[1] - starts[0], 0.35, 1e-9);
}

Test(pace, parse)
{
	struct pc_err e = { 0 };
	double b = -1;

	cr_expect_eq(pace_parse("off", &b, &e), 0);
	cr_expect_eq(b, 0);
	cr_expect_eq(pace_parse("2.5", &b, &e), 0);
	cr_expect_float_eq(b, 0.025, 1e-12);
	cr_expect_eq(pace_parse("0", &b, &e), 0);
	cr_expect_eq(b, 0);
	cr_expect_eq(pace_parse("101", &b, &e), -1);
	cr_expect_eq(e.code, PC_EUSAGE);
	cr_expect(strstr(e.detail, "not '101'"), "%s", e.detail);
	pc_err_clear(&e);
	cr_expect_eq(pace_parse("1%", &b, &e), -1);
	pc_err_clear(&e);
	cr_expect_eq(pace_parse("", &b, &e), -1);
}

/* A series of three samples: the share counts the first two pauses over the time to the third. */
Test(pace, series_share_and_csv)
{
	struct series s;
	struct census c;
	struct overhead o;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	series_init(&s);
	s.paced = true;
	s.interval = 1;
	s.budget = 0.01;
	census_init(&c);
	census_add(&c, "str", 10, 500);
	for (int k = 0; k < 3; k++) {
		c.pause_s = 0.02 * (k + 1);
		series_add(&s, &c, k * 4.0, 4096, false);
		s.v[k].interval_s = 4.0;
	}
	overhead_of(&s, &o);
	cr_expect_float_eq(o.pause_s, 0.06, 1e-12);
	cr_expect_float_eq(o.span_s, 8.0, 1e-12);
	cr_expect_float_eq(o.share, 0.06 / 8.0, 1e-12);
	cr_expect_eq(o.stretched, 3);
	f = open_memstream(&buf, &len);
	cr_assert(f);
	overhead_csv(f, &s);
	overhead_text(f, &s);
	fclose(f);
	cr_expect_str_eq(buf, "# sample 2 pace,pause_s,0.060000,interval_s,4.000000,share_pct,0.7500,budget_pct,1\n"
			      "pause 0.75 % of the target's time between the first and the last sample (budget 1 %), "
			      "interval stretched to 4.00 s in 3 of 3 samples\n");
	free(buf);
	census_release(&c);
	series_release(&s);
}
