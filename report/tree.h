/* tree.h: a process tree's report (snap --subprocesses): a line per process (PID, parent, role,
 * objects, bytes, pause, command, or why it was skipped) and the partition of the kinds summed
 * over the tree; as CSV, every process's partition and the sum's, with a process column. */
#ifndef PC_REPORT_TREE_H
#define PC_REPORT_TREE_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "model/tree.h"
#include "report/partition.h"

/* How a census is arranged into a partition (partition_by_kind, ..._by_type, ...). */
typedef void (*partition_fn)(const struct census *c, struct partition *p);

/* Text: the process table, each censused process's warnings, then `limit` rows of the summed
 * partition (0: all). */
int report_tree_text(FILE *out, const struct tree *t, partition_fn part, size_t limit, struct pc_err *e);
/* CSV: process,role,index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind; the
 * rows of each censused process (process = its PID) followed by its comment lines (report/csv.h,
 * prefixed "process PID "), then the sum's (process = "all", comments prefixed "all "). Skipped
 * processes are comment lines: "# skipped,PID,reason". */
int report_tree_csv(FILE *out, const struct tree *t, partition_fn part, struct pc_err *e);

#endif
