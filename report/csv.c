/* csv.c: the partition as CSV, and the comment lines after it. */
#include "common/compat.h"
#include "report/csv.h"

#include <inttypes.h>
#include <string.h>
#include "report/escape.h"
#include "report/output.h"

static double percent(uint64_t part, uint64_t total)
{
	return total ? (double)part * 100.0 / (double)total : 0.0;
}

void report_csv_notes(FILE *out, const char *prefix, const struct census *c, size_t rows, uint64_t objects,
		      uint64_t size)
{
	for (size_t i = 0; c && i < c->nwarnings; i++) {
		fprintf(out, "# %swarning: ", prefix);
		report_put_text(out, c->warnings[i], SIZE_MAX);
		fputc('\n', out);
	}
	for (size_t i = 0; c && i < c->ndropped; i++) {
		fprintf(out, "# %sdropped,%" PRIu64 ",", prefix, c->dropped[i].count);
		report_put_csv_field(out, c->dropped[i].kind);
		fputc('\n', out);
	}
	if (c && c->dropped_pools)
		fprintf(out, "# %sdropped_pools,%" PRIu64 "\n", prefix, c->dropped_pools);
	fprintf(out, "# %send,%zu,%" PRIu64 ",%" PRIu64 "\n", prefix, rows, objects, size);
}

int report_csv(FILE *out, const struct census *c, const struct partition *p, struct pc_err *e)
{
	fputs("index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind\n", out);
	for (size_t i = 0; i < p->nrows; i++) {
		const struct partition_row *r = &p->rows[i];

		fprintf(out, "%zu,%" PRIu64 ",%.2f,%" PRIu64 ",%.2f,%" PRIu64 ",%.2f,", i, r->count,
			percent(r->count, p->count), r->size, percent(r->size, p->size),
			r->cumulative, percent(r->cumulative, p->size));
		report_put_csv_field(out, r->kind);
		fputc('\n', out);
	}
	report_csv_notes(out, "", c, p->nrows, p->count, p->size);
	return output_check(out, "csv report", e);
}
