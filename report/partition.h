/* partition.h: a census arranged as guppy3's partition: rows sorted largest first, with totals and
 * running (cumulative) sizes, ready for the text and CSV writers.
 *
 * A partition owns everything it points to (kind strings are copied into one block it frees), so
 * the census may be released before the partition. Building a partition cannot fail: out of
 * memory is fatal (common/xalloc.h). */
#ifndef PC_PARTITION_H
#define PC_PARTITION_H

#include "common/compat.h"
#include "model/census.h"

struct partition_row {
	const char *kind;    /* points into partition.strings */
	uint64_t count, size;
	uint64_t cumulative; /* size of this row and every row before it */
};

struct partition {
	struct partition_row *rows; /* size descending, then count descending, then kind ascending
	                             * (partition_top: only the first ones) */
	size_t nrows;
	uint64_t count, size;       /* totals over the rows */
	const char *kind_header;    /* static text naming what a kind is, e.g. "Kind (pymalloc size class)" */
	char *strings;              /* owned: the kind strings, end to end */
};

/* One row per kind of the census; kind_header "Kind (class / dict of class)". */
void partition_by_kind(const struct census *c, struct partition *p);
/* One row per type: every dict is "dict" (no owner split); kind_header "Kind (type)". */
void partition_by_type(const struct census *c, struct partition *p);
/* One row per module that defines the types ("builtins", "__main__", "json.decoder", ...);
 * kind_header "Kind (module defining the type)". */
void partition_by_module(const struct census *c, struct partition *p);
/* One row per pymalloc size class with allocated blocks, kind "blocks of 64 bytes": count is the
 * allocated blocks and size blocks * block size; kind_header "Kind (pymalloc size class)". */
void partition_by_size_class(const struct census *c, struct partition *p);
/* The partition by(c, p) builds (one of the above), sorted only as far as a text report of top
 * rows prints it (report/text.c): the best top rows first, in order, with their cumulative sizes,
 * then the others in no order; sorted whole when top is 0 or all rows would print. Sorting
 * 60,000 kinds for the 20 rows shown was 5 % of such a snap's instructions. */
void partition_top(void (*by)(const struct census *c, struct partition *p), const struct census *c,
		   struct partition *p, size_t top);
/* Frees what the partition owns and zeroes it; accepts a zeroed partition. */
void partition_release(struct partition *p);

#endif
