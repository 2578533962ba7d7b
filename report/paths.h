/* paths.h: the report of `pycensus why`: the merged shortest paths (model/pathtree.h) as an
 * indented text tree with counts and retained bytes per step, or as a Graphviz graph (-f dot). */
#ifndef PC_REPORT_PATHS_H
#define PC_REPORT_PATHS_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "census/objgraph.h"
#include "model/census.h"
#include "model/pathtree.h"

/* what: the selection in words ("objects of kind 'dict of Request'"); branches retaining less than
 * min_percent of the selection's retained bytes are summed in one line. Errors: OUTPUT. */
int report_paths_text(FILE *out, const struct census *c, const struct objgraph *og, const struct pathtree *t,
		      const char *what, double min_percent, struct pc_err *e);
int report_paths_dot(FILE *out, const struct census *c, const struct pathtree *t, const char *what, struct pc_err *e);
/* The one-line account of the graph shared by the graph reports: objects, references, the
 * references not read (opaque C types) and the objects held from C or unreachable. */
void report_graph_line(FILE *out, const struct objgraph *og);

#endif
