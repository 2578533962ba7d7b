/* json_diff.c: `pycensus diff -f json` (report/json_docs.h): the two censuses compared, their
 * totals, the notes on what was partial, and every kind's row, largest size growth first. */
#include "common/compat.h"
#include "report/json_docs.h"

int report_diff_json(FILE *out, const struct diff *d, const char *before, const char *after, const char *const *notes,
		     size_t nnotes, struct pc_err *e)
{
	struct json j;

	json_doc_begin(&j, out, "diff");
	json_str(&j, "before", before);
	json_str(&j, "after", after);
	json_u64(&j, "count_before", d->count_a);
	json_u64(&j, "count_after", d->count_b);
	json_u64(&j, "size_before", d->size_a);
	json_u64(&j, "size_after", d->size_b);
	json_begin_array(&j, "notes");
	for (size_t i = 0; i < nnotes; i++)
		json_str(&j, NULL, notes[i]);
	json_end_array(&j);
	json_begin_array(&j, "rows");
	for (size_t i = 0; i < d->n; i++) {
		const struct diff_row *r = &d->rows[i];

		json_begin_object(&j, NULL);
		json_str(&j, "kind", r->kind);
		json_u64(&j, "count_before", r->count_a);
		json_u64(&j, "count_after", r->count_b);
		json_i64(&j, "count_delta", r->dcount);
		json_u64(&j, "size_before", r->size_a);
		json_u64(&j, "size_after", r->size_b);
		json_i64(&j, "size_delta", r->dsize);
		json_end_object(&j);
	}
	json_end_array(&j);
	return json_doc_end(&j, e);
}
