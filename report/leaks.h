/* leaks.h: the report of `pycensus leaks`: the kinds that grew between two censuses and, for the
 * biggest growers, where their new objects are held: the path most of them share (from the
 * merged shortest paths, model/pathtree.h) and their common dominator, in one sentence each. */
#ifndef PC_REPORT_LEAKS_H
#define PC_REPORT_LEAKS_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "census/objgraph.h"
#include "model/census.h"
#include "model/pathtree.h"

struct leak_growth {
	uint32_t kind;               /* row of the second census */
	int64_t dcount, dbytes;      /* since the first */
};

struct leak_suspect {
	struct leak_growth g;
	bool new_only;               /* the paths are those of objects new since the first census */
	struct pathtree t;           /* merged paths of the selected objects */
	uint32_t dominator;          /* their common dominator, GRAPH_NONE when only the root is */
	uint64_t dominator_retained;
	uint64_t dominated;          /* selected objects under it */
	char dominator_brief[64];
};

struct leak_report {
	const struct census *c;      /* the second census */
	const struct objgraph *og;
	double seconds;              /* between the two */
	struct leak_growth *growth;  /* kinds that grew, most bytes first */
	size_t ngrowth;
	struct leak_suspect *suspects;
	size_t nsuspects;
};

/* The steps most selected objects share, root first, into steps (at most max): from the heaviest
 * root, the child carrying the most objects while it carries at least half. Returns how many. */
size_t leak_main_path(const struct pathtree *t, uint32_t *steps, size_t max);
/* Those steps as one line: "(interpreter) sys.modules -> dict ['__main__'] -> module .cache -> dict". */
void leak_put_path(FILE *out, const struct census *c, const struct pathtree *t, const uint32_t *steps, size_t n);
/* Errors: OUTPUT. */
int report_leaks_text(FILE *out, const struct leak_report *r, size_t limit, struct pc_err *e);

#endif
