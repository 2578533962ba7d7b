/* diff.h: what changed between two censuses (or the first and last samples of a time series):
 * per kind the count and size before and after and their deltas, sorted by size delta (largest
 * growth first), as text or CSV. Works on the census model only (rows), so censuses read back
 * from CSV files (report/csvread.h) and live ones diff the same way. */
#ifndef PC_DIFF_H
#define PC_DIFF_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "model/census.h"

struct diff_row {
	const char *kind;       /* points into the censuses: they must outlive the diff */
	uint64_t count_a, count_b, size_a, size_b;
	int64_t dcount, dsize;
};

struct diff {
	struct diff_row *rows;  /* dsize descending, then dcount descending, then kind */
	size_t n;
	uint64_t count_a, count_b, size_a, size_b;
};

/* One row per kind present in a or b (absent counts as 0). Cannot fail. */
void diff_build(const struct census *a, const struct census *b, struct diff *d);
void diff_release(struct diff *d);

/* Text: a totals line, each of the nnotes notes (what was partial on either side) as "note: ...",
 * then at most `limit` rows (0 = all) with Count before/after/delta, Size before/after/delta and
 * Kind; control characters as \xNN. 0, or -1 with PC_EOUTPUT. */
int report_diff_text(FILE *out, const struct diff *d, const char *const *notes, size_t nnotes, size_t limit,
		     struct pc_err *e);
/* CSV: kind,count_before,count_after,count_delta,size_before,size_after,size_delta (every row,
 * kinds quoted per RFC 4180 when needed), then each note as a "# warning: ..." line. */
int report_diff_csv(FILE *out, const struct diff *d, const char *const *notes, size_t nnotes, struct pc_err *e);

#endif
