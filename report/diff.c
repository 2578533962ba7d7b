/* diff.c: two censuses side by side, per kind. */
#include "common/compat.h"
#include "report/diff.h"
#include "report/escape.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "report/output.h"

static int by_kind(const void *x, const void *y)
{
	const struct census_row *const *a = x, *const *b = y;

	return strcmp((*a)->kind, (*b)->kind);
}

static const struct census_row **sorted_rows(const struct census *c)
{
	const struct census_row **v = xcalloc(c->nrows ? c->nrows : 1, sizeof *v);

	for (size_t i = 0; i < c->nrows; i++)
		v[i] = &c->rows[i];
	qsort(v, c->nrows, sizeof *v, by_kind);
	return v;
}

static int by_delta(const void *x, const void *y)
{
	const struct diff_row *a = x, *b = y;

	if (a->dsize != b->dsize)
		return a->dsize < b->dsize ? 1 : -1;
	if (a->dcount != b->dcount)
		return a->dcount < b->dcount ? 1 : -1;
	return strcmp(a->kind, b->kind);
}

static void put_row(struct diff *d, const struct census_row *a, const struct census_row *b)
{
	struct diff_row *r = &d->rows[d->n++];

	r->kind = a ? a->kind : b->kind;
	r->count_a = a ? a->count : 0;
	r->size_a = a ? a->size : 0;
	r->count_b = b ? b->count : 0;
	r->size_b = b ? b->size : 0;
	r->dcount = (int64_t)(r->count_b - r->count_a);
	r->dsize = (int64_t)(r->size_b - r->size_a);
	d->count_a += r->count_a;
	d->count_b += r->count_b;
	d->size_a += r->size_a;
	d->size_b += r->size_b;
}

void diff_build(const struct census *a, const struct census *b, struct diff *d)
{
	const struct census_row **va = sorted_rows(a), **vb = sorted_rows(b);
	size_t i = 0, j = 0;

	memset(d, 0, sizeof *d);
	d->rows = xcalloc(a->nrows + b->nrows + 1, sizeof *d->rows);
	while (i < a->nrows || j < b->nrows) {
		int cmp = i == a->nrows ? 1 : j == b->nrows ? -1 : strcmp(va[i]->kind, vb[j]->kind);

		if (cmp == 0)
			put_row(d, va[i++], vb[j++]);
		else if (cmp < 0)
			put_row(d, va[i++], NULL);
		else
			put_row(d, NULL, vb[j++]);
	}
	free(va);
	free(vb);
	qsort(d->rows, d->n, sizeof *d->rows, by_delta);
}

void diff_release(struct diff *d)
{
	free(d->rows);
	memset(d, 0, sizeof *d);
}

static void put_notes(FILE *out, const char *lead, const char *const *notes, size_t nnotes)
{
	for (size_t i = 0; i < nnotes; i++) {
		fputs(lead, out);
		report_put_text(out, notes[i], SIZE_MAX);
		fputc('\n', out);
	}
}

int report_diff_text(FILE *out, const struct diff *d, const char *const *notes, size_t nnotes, size_t limit,
		     struct pc_err *e)
{
	fprintf(out, "Objects %" PRIu64 " -> %" PRIu64 " (%+" PRId64 "), total size %" PRIu64 " -> %" PRIu64
		" bytes (%+" PRId64 ").\n", d->count_a, d->count_b, (int64_t)(d->count_b - d->count_a),
		d->size_a, d->size_b, (int64_t)(d->size_b - d->size_a));
	put_notes(out, "note: ", notes, nnotes);
	fprintf(out, "%9s %9s %9s %11s %11s %11s %s\n", "Count A", "Count B", "Delta", "Size A", "Size B",
		"Delta", "Kind");
	for (size_t i = 0; i < d->n; i++) {
		const struct diff_row *r = &d->rows[i];

		if (limit && i >= limit && d->n - i > 1) {
			fprintf(out, "<%zu more rows. Use -n 0 to show all.>\n", d->n - i);
			break;
		}
		fprintf(out, "%9" PRIu64 " %9" PRIu64 " %+9" PRId64 " %11" PRIu64 " %11" PRIu64 " %+11" PRId64 " ",
			r->count_a, r->count_b, r->dcount, r->size_a, r->size_b, r->dsize);
		report_put_text(out, r->kind, SIZE_MAX);
		fputc('\n', out);
	}
	return output_check(out, "diff report", e);
}

int report_diff_csv(FILE *out, const struct diff *d, const char *const *notes, size_t nnotes, struct pc_err *e)
{
	fputs("kind,count_before,count_after,count_delta,size_before,size_after,size_delta\n", out);
	for (size_t i = 0; i < d->n; i++) {
		const struct diff_row *r = &d->rows[i];

		report_put_csv_field(out, r->kind);
		fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRId64 ",%" PRIu64 ",%" PRIu64 ",%" PRId64 "\n", r->count_a,
			r->count_b, r->dcount, r->size_a, r->size_b, r->dsize);
	}
	put_notes(out, "# warning: ", notes, nnotes);
	return output_check(out, "diff report", e);
}
