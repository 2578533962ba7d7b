/* series.c: samples over time, in CSV, text and JSON. */
#include "common/compat.h"
#include "report/series.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "report/csv.h"
#include "report/diff.h"
#include "report/escape.h"
#include "report/json_docs.h"
#include "report/output.h"
#include "report/overhead.h"
#include "report/partition.h"
#include "report/text.h"

void series_init(struct series *s)
{
	memset(s, 0, sizeof *s);
}

void series_release(struct series *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].notes) {
			census_release(s->v[i].notes);
			free(s->v[i].notes);
		}
	free(s->v);
	census_release(&s->first);
	census_release(&s->last);
	memset(s, 0, sizeof *s);
}

void series_pymalloc(const struct census *c, uint64_t *blocks, uint64_t *bytes)
{
	unsigned n = c->nclasses < PC_ARRAY_LEN(c->classes) ? c->nclasses : PC_ARRAY_LEN(c->classes);

	*blocks = *bytes = 0;
	for (unsigned i = 0; i < n; i++) {
		*blocks += c->classes[i].blocks;
		*bytes += c->classes[i].blocks * c->classes[i].block_size;
	}
}

/* A copy of what the reports need from a census: header data, rows, warnings. */
static void copy_census(struct census *to, const struct census *from)
{
	census_release(to);
	*to = *from;
	to->rows = NULL;
	to->nrows = to->caprows = 0;
	to->kinds = (struct strindex){ 0 };
	to->strings = (struct strpool){ 0 };
	to->last_type = to->last_module = NULL;
	to->warnings = NULL;
	to->nwarnings = to->capwarnings = 0;
	to->dropped = NULL;
	to->ndropped = to->capdropped = 0;
	to->dropped_objects = to->dropped_pools = 0;
	to->nobjects = to->total_size = 0;
	for (size_t i = 0; i < from->nrows; i++)
		census_add(to, from->rows[i].kind, from->rows[i].count, from->rows[i].size);
	census_copy_notes(to, from);
}

/* A sample's warnings and dropped counts, or NULL when it has none. */
static struct census *notes_of(const struct census *c)
{
	struct census *n;

	if (!c->nwarnings && !census_partial(c))
		return NULL;
	n = xmalloc(sizeof *n);
	census_init(n);
	census_copy_notes(n, c);
	return n;
}

const struct series_point *series_add(struct series *s, const struct census *c, double time_s, uint64_t rss,
				      bool at_exit)
{
	struct series_point *p;

	xgrow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v);
	p = &s->v[s->n];
	*p = (struct series_point){ .time_s = time_s, .sample = (unsigned)s->n, .at_exit = at_exit, .rss = rss,
				    .objects = c->nobjects, .size = c->total_size, .pause_s = c->pause_s };
	series_pymalloc(c, &p->pymalloc_blocks, &p->pymalloc_bytes);
	p->notes = notes_of(c);
	s->npartial += census_partial(c);
	if (s->n == 0)
		copy_census(&s->first, c);
	copy_census(&s->last, c);
	s->n++;
	return p;
}

int series_csv_header(FILE *out, struct pc_err *e)
{
	fputs("time_s,sample,kind,count,size\n", out);
	return output_check(out, "time series", e);
}

int series_csv_sample(FILE *out, const struct series *s, struct pc_err *e)
{
	const struct series_point *p = &s->v[s->n - 1];
	struct partition part;
	char prefix[32];

	partition_by_kind(&s->last, &part);
	for (size_t i = 0; i < part.nrows; i++) {
		fprintf(out, "%.3f,%u,", p->time_s, p->sample);
		report_put_csv_field(out, part.rows[i].kind);
		fprintf(out, ",%" PRIu64 ",%" PRIu64 "\n", part.rows[i].count, part.rows[i].size);
	}
	fprintf(out, "%.3f,%u,[rss],0,%" PRIu64 "\n", p->time_s, p->sample, p->rss);
	fprintf(out, "%.3f,%u,[pymalloc],%" PRIu64 ",%" PRIu64 "\n", p->time_s, p->sample, p->pymalloc_blocks,
		p->pymalloc_bytes);
	if (p->at_exit) /* the census taken as the process ended (run) */
		fprintf(out, "# sample %u at_exit\n", p->sample);
	/* the end line counts every data line of the sample; its sums are the kinds' alone */
	snprintf(prefix, sizeof prefix, "sample %u ", p->sample);
	report_csv_notes(out, prefix, p->notes, part.nrows + 2, part.count, part.size);
	overhead_csv(out, s);
	partition_release(&part);
	return output_check(out, "time series", e);
}

static double elapsed_min(const struct series *s)
{
	return s->n > 1 ? (s->v[s->n - 1].time_s - s->v[0].time_s) / 60.0 : 0.0;
}

static double per_min(int64_t delta, double minutes)
{
	return minutes > 0 ? (double)delta / minutes : 0.0;
}

static void put_growth(FILE *out, const struct series *s, size_t limit)
{
	struct diff d;
	double min = elapsed_min(s);
	size_t shown = 0;

	diff_build(&s->first, &s->last, &d);
	fprintf(out, "\nGrew most since the first sample (%u samples over %.1f s):\n", (unsigned)s->n, min * 60.0);
	fprintf(out, "%9s %9s %9s %11s %11s %11s %10s %12s %s\n", "Count 1st", "Count", "Delta", "Size 1st", "Size",
		"Delta", "Count/min", "Bytes/min", "Kind");
	for (size_t i = 0; i < d.n && d.rows[i].dsize > 0 && (!limit || shown < limit); i++, shown++) {
		const struct diff_row *r = &d.rows[i];

		fprintf(out, "%9" PRIu64 " %9" PRIu64 " %+9" PRId64 " %11" PRIu64 " %11" PRIu64 " %+11" PRId64
			" %+10.0f %+12.0f ", r->count_a, r->count_b, r->dcount, r->size_a, r->size_b, r->dsize,
			per_min(r->dcount, min), per_min(r->dsize, min));
		report_put_text(out, r->kind, SIZE_MAX);
		fputc('\n', out);
	}
	if (!shown)
		fputs("(nothing grew)\n", out);
	diff_release(&d);
}

int series_text(FILE *out, const struct series *s, size_t limit, struct pc_err *e)
{
	const struct series_point *p = &s->v[s->n - 1];
	struct partition part;
	int rc;

	fprintf(out, "sample %u at %.3f s%s: RSS %" PRIu64 " bytes, pymalloc %" PRIu64 " bytes in %" PRIu64
		" blocks\n", p->sample, p->time_s, p->at_exit ? " (at exit)" : "", p->rss, p->pymalloc_bytes,
		p->pymalloc_blocks);
	overhead_text(out, s);
	partition_by_kind(&s->last, &part);
	rc = report_text(out, &s->last, &part, limit, true, e);
	partition_release(&part);
	if (rc < 0)
		return -1;
	if (s->npartial)
		fprintf(out, "\n%zu of %zu samples were partial (objects dropped; see their warnings in -f csv or json)\n",
			s->npartial, s->n);
	put_growth(out, s, limit ? limit : 0);
	return output_check(out, "text report", e);
}

static void json_points(struct json *j, const struct series *s)
{
	json_begin_array(j, "samples");
	for (size_t i = 0; i < s->n; i++) {
		const struct series_point *p = &s->v[i];

		json_begin_object(j, NULL);
		json_u64(j, "sample", p->sample);
		json_double(j, "time_s", p->time_s);
		json_bool(j, "at_exit", p->at_exit);
		json_u64(j, "objects", p->objects);
		json_u64(j, "size", p->size);
		json_u64(j, "rss", p->rss);
		json_u64(j, "pymalloc_blocks", p->pymalloc_blocks);
		json_u64(j, "pymalloc_bytes", p->pymalloc_bytes);
		json_double(j, "pause_s", p->pause_s);
		if (p->interval_s > 0)
			json_double(j, "interval_s", p->interval_s);
		else
			json_str(j, "interval_s", NULL);
		json_census_notes(j, p->notes);
		json_end_object(j);
	}
	json_end_array(j);
}

static void json_kinds(struct json *j, const struct series *s)
{
	struct partition part;

	partition_by_kind(&s->last, &part);
	json_begin_array(j, "kinds");
	for (size_t i = 0; i < part.nrows; i++) {
		json_begin_object(j, NULL);
		json_str(j, "kind", part.rows[i].kind);
		json_u64(j, "count", part.rows[i].count);
		json_u64(j, "size", part.rows[i].size);
		json_end_object(j);
	}
	json_end_array(j);
	partition_release(&part);
}

static void json_growth(struct json *j, const struct series *s)
{
	struct diff d;
	double min = elapsed_min(s);

	diff_build(&s->first, &s->last, &d);
	json_begin_array(j, "grew");
	for (size_t i = 0; i < d.n && d.rows[i].dsize > 0; i++) {
		const struct diff_row *r = &d.rows[i];

		json_begin_object(j, NULL);
		json_str(j, "kind", r->kind);
		json_u64(j, "count_first", r->count_a);
		json_u64(j, "count_last", r->count_b);
		json_i64(j, "count_delta", r->dcount);
		json_u64(j, "size_first", r->size_a);
		json_u64(j, "size_last", r->size_b);
		json_i64(j, "size_delta", r->dsize);
		json_double(j, "count_per_min", per_min(r->dcount, min));
		json_double(j, "size_per_min", per_min(r->dsize, min));
		json_end_object(j);
	}
	json_end_array(j);
	diff_release(&d);
}

int series_json(FILE *out, const struct series *s, struct pc_err *e)
{
	struct json j;

	json_doc_begin(&j, out, "series");
	series_json_body(&j, s);
	return json_doc_end(&j, e);
}

void series_json_body(struct json *j, const struct series *s)
{
	json_target(j, &s->last);
	json_str(j, "version", s->last.version); /* the first JSON's name for "python", kept */
	json_u64(j, "partial_samples", s->npartial);
	overhead_json(j, s);
	json_points(j, s);
	json_kinds(j, s);
	json_growth(j, s);
	json_begin_array(j, "warnings");
	for (size_t i = 0; i < s->last.nwarnings; i++)
		json_str(j, NULL, s->last.warnings[i]);
	json_end_array(j);
}
