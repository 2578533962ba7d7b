/* overhead.c: a series' pause share, in text, JSON and CSV (report/overhead.h). */
#include "common/compat.h"
#include "report/overhead.h"

#include <math.h>
#include "report/json.h"
#include "report/series.h"

void overhead_of(const struct series *s, struct overhead *o)
{
	*o = (struct overhead){ .share = NAN };
	for (size_t i = 0; i < s->n; i++) {
		const struct series_point *p = &s->v[i];

		if (i + 1 < s->n)
			o->pause_s += p->pause_s;
		if (p->interval_s <= 0)
			continue;
		o->planned++;
		o->stretched += p->interval_s > s->interval * (1 + 1e-9);
		if (p->interval_s > o->longest_s)
			o->longest_s = p->interval_s;
	}
	if (s->n > 1) {
		o->span_s = s->v[s->n - 1].time_s - s->v[0].time_s;
		o->share = o->span_s > 0 ? o->pause_s / o->span_s : NAN;
	}
}

void overhead_put_share(FILE *out, const struct series *s, const struct overhead *o, const struct overhead_words *w)
{
	if (isnan(o->share))
		fputs(w->no_share, out);
	else
		fprintf(out, w->share, o->share * 100);
	if (s->budget > 0)
		fprintf(out, w->budget, s->budget * 100);
	else
		fputs(w->off, out);
}

void overhead_text(FILE *out, const struct series *s)
{
	static const struct overhead_words words = {
		"pause share: one sample, no interval to count it over",
		"pause %.2f %% of the target's time between the first and the last sample", " (budget %g %%)",
		" (no budget: --max-overhead off)",
	};
	struct overhead o;

	if (!s->paced)
		return;
	overhead_of(s, &o);
	overhead_put_share(out, s, &o, &words);
	if (o.stretched)
		fprintf(out, ", interval stretched to %.2f s in %zu of %zu samples\n", o.longest_s, o.stretched, o.planned);
	else
		fprintf(out, ", interval %g s as asked\n", s->interval);
}

void overhead_json(struct json *j, const struct series *s)
{
	struct overhead o;

	if (!s->paced) {
		json_str(j, "overhead", NULL);
		return;
	}
	overhead_of(s, &o);
	json_begin_object(j, "overhead");
	if (s->budget > 0)
		json_double(j, "budget_pct", s->budget * 100);
	else
		json_str(j, "budget_pct", NULL);
	json_double(j, "interval_s", s->interval);
	json_double(j, "pause_share_pct", o.share * 100);
	json_double(j, "pause_s", o.pause_s);
	json_double(j, "span_s", o.span_s);
	json_double(j, "longest_interval_s", o.longest_s);
	json_u64(j, "stretched_samples", o.stretched);
	json_end_object(j);
}

void overhead_csv(FILE *out, const struct series *s)
{
	static const struct overhead_words words = { "none", "%.4f", ",budget_pct,%g\n", ",budget_pct,off\n" };
	const struct series_point *p = &s->v[s->n - 1];
	struct overhead o;

	if (!s->paced) {
		if (s->pauses)
			fprintf(out, "# sample %u pause_s,%.6f\n", p->sample, p->pause_s);
		return;
	}
	overhead_of(s, &o);
	fprintf(out, "# sample %u pace,pause_s,%.6f,interval_s,%.6f,share_pct,", p->sample, p->pause_s, p->interval_s);
	overhead_put_share(out, s, &o, &words);
}
