/* sampling.c: a series of censuses to its output. */
#include "common/compat.h"
#include "cli/sampling.h"

#include <string.h>
#include "attach/stop.h"
#include "report/output.h"

int sampling_begin(struct sampling *sm, struct pc_err *e)
{
	series_init(&sm->s);
	if (sm->pace) {
		sm->s.paced = true;
		sm->s.interval = sm->pace->interval;
		sm->s.budget = sm->pace->budget;
	}
	memset(&sm->hs, 0, sizeof sm->hs);
	if (strcmp(sm->format, "csv") != 0)
		return 0;
	sm->csv = output_open(sm->output, e);
	if (!sm->csv)
		return -1;
	return series_csv_header(sm->csv, e);
}

int sampling_add(struct sampling *sm, const struct census *c, double now, uint64_t rss, bool at_exit,
		 struct pc_err *e)
{
	struct series_point *p;
	char next[48] = "";

	if (sm->s.n == 0)
		sm->t0 = now;
	series_add(&sm->s, c, now - sm->t0, rss, at_exit);
	p = &sm->s.v[sm->s.n - 1]; /* the series' own latest point: the interval planned after it */
	if (sm->pace && !at_exit) {
		p->interval_s = pace_sampled(sm->pace, now, c->pause_s, mono_now(), rss);
		snprintf(next, sizeof next, ", next in %.1f s", p->interval_s);
	}
	progress_status(&sm->prog, "sample %u at %.1f s%s: %llu objects, %llu bytes, RSS %.1f MiB, pause %.3f s%s",
			p->sample, p->time_s, at_exit ? " (exit)" : "", (unsigned long long)p->objects,
			(unsigned long long)p->size, (double)p->rss / 1048576.0, p->pause_s, next);
	if (strcmp(sm->format, "html") == 0)
		html_series_add(&sm->hs, c, p->time_s);
	if (sm->csv)
		return series_csv_sample(sm->csv, &sm->s, e);
	return 0;
}

int sampling_end(struct sampling *sm, struct pc_err *e)
{
	FILE *out = sm->csv;
	int rc = 0;

	progress_clear(&sm->prog);
	sm->csv = NULL;
	if (!out && sm->s.n) {
		out = output_open(sm->output, e);
		if (!out)
			return -1;
		if (strcmp(sm->format, "json") == 0)
			rc = series_json(out, &sm->s, e);
		else if (strcmp(sm->format, "html") == 0)
			rc = report_html_series(out, &sm->s, &sm->hs, e);
		else
			rc = series_text(out, &sm->s, sm->limit, e);
		if (rc == 0 && sm->after)
			rc = sm->after(out, sm->after_arg, e);
	}
	if (rc < 0) {
		output_close(out, NULL);
		return -1;
	}
	if (output_close(out, e) < 0)
		return -1;
	if (sm->partial_fails && sm->s.npartial)
		return pc_fail(e, PC_EPARTIAL, "%zu of %zu samples dropped objects; each sample's warnings name the kinds",
			       sm->s.npartial, sm->s.n);
	return 0;
}

void sampling_release(struct sampling *sm)
{
	if (sm->csv)
		output_close(sm->csv, NULL);
	sm->csv = NULL;
	series_release(&sm->s);
	html_series_release(&sm->hs);
}
