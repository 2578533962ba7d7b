/* csv.c: the partition as CSV. */
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

int report_csv(FILE *out, const struct partition *p, struct pc_err *e)
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
	return output_check(out, "csv report", e);
}
