/* json_docs.h: the JSON documents pycensus writes (`-f json`), one writer per document in
 * report/json_<document>.c (series, stats and stacks keep theirs in series.c, stats.c and
 * stacks_json.c), and the parts they share. Every document is one object that opens with
 * "schema_version" (JSON_SCHEMA_VERSION) and "document" (its name); docs/schema/pycensus.json is
 * the JSON Schema of all of them. A change that removes or retypes a field bumps the version;
 * adding one does not. */
#ifndef PC_JSON_DOCS_H
#define PC_JSON_DOCS_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "census/objgraph.h"
#include "model/census.h"
#include "model/pathtree.h"
#include "report/diff.h"
#include "report/json.h"
#include "report/leaks.h"
#include "report/partition.h"
#include "report/retained.h"

#define JSON_SCHEMA_VERSION 1

/* Opens the document's object (pretty-printed) with its two leading fields. */
void json_doc_begin(struct json *j, FILE *out, const char *document);
/* Closes it, ends the line and checks the stream ("json report"): 0, or -1 with PC_EOUTPUT. */
int json_doc_end(struct json *j, struct pc_err *e);
/* "pid", "python", "build" of census c. */
void json_target(struct json *j, const struct census *c);
/* "partial", "dropped" {kind: objects}, "dropped_pools", "warnings" of c (c may be NULL: none). */
void json_census_notes(struct json *j, const struct census *c);
/* "graph": objects, references, held from C, unreachable, and the C types read word by word
 * ("opaque_types") and their objects. */
void json_graph(struct json *j, const struct objgraph *og);

/* snap: the census's header figures, its notes and the partition p (by names --by). The body alone
 * (inside an open object) for the HTML report, which embeds it. */
void json_snap_body(struct json *j, const struct census *c, const struct partition *p, const char *by);
int report_snap_json(FILE *out, const struct census *c, const struct partition *p, const char *by, struct pc_err *e);
/* diff: before and after name the compared censuses ("a.csv", "s.csv (its first sample)"). */
int report_diff_json(FILE *out, const struct diff *d, const char *before, const char *after, const char *const *notes,
		     size_t nnotes, struct pc_err *e);
/* why: every step of the merged paths (no --min cut: a reader sorts and cuts itself). */
int report_paths_json(FILE *out, const struct census *c, const struct objgraph *og, const struct pathtree *t,
		      const char *what, struct pc_err *e);
int report_retained_json(FILE *out, const struct retained_report *r, struct pc_err *e);
int report_leaks_json(FILE *out, const struct leak_report *r, struct pc_err *e);
/* "path": the path most of t's selected objects share (report/leaks.h leak_main_path), root first,
 * each step's root name or (label, kind) and the objects held through it; through gets the last
 * step's (json_leaks.c). inspect's writer is report/json_inspect.c (report/inspect.h). */
void json_main_path(struct json *j, const struct census *c, const struct pathtree *t, uint64_t *through);

#endif
