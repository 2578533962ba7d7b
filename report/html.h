/* html.h: the self-contained HTML reports (`-f html`): one page that needs no network, its style
 * and script inlined (report/html_assets.c) and the data embedded as JSON (report/json_docs.h,
 * written HTML-safe), from which the script draws. A census (snap): the header, an icicle of bytes
 * by module -> type -> kind (click to zoom), and the partition as a table sortable by every column
 * and filtered by a search box. A series (run, snap -i): the largest kinds over time as a line
 * chart, the growth table, and the last sample's kinds as that table. Without JavaScript the page
 * says it needs it. */
#ifndef PC_REPORT_HTML_H
#define PC_REPORT_HTML_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "model/census.h"
#include "report/partition.h"
#include "report/series.h"

/* by names --by (kind, type, module or size). Both end with output_check: 0, or -1 with
 * PC_EOUTPUT. */
int report_html_snap(FILE *out, const struct census *c, const struct partition *p, const char *by, struct pc_err *e);

/* A series keeps, per sample, its HTML_SERIES_KINDS largest kinds' bytes for the chart (the series
 * itself keeps only the first and last samples' rows): memory grows by about 2 KB a sample. */
#define HTML_SERIES_KINDS 32
struct html_sample {
	double time_s;
	size_t n;
	struct { char *kind; uint64_t size; } *kinds; /* owned, largest first */
};
struct html_series {
	struct html_sample *v;
	size_t n, cap;
};
void html_series_add(struct html_series *h, const struct census *c, double time_s);
void html_series_release(struct html_series *h);
int report_html_series(FILE *out, const struct series *s, const struct html_series *h, struct pc_err *e);

/* The page's parts (html.c): its head and header ("pycensus <what>: pid ..."), the kinds table
 * section, the script; the style sheet and script themselves (html_assets.c). */
void html_put_head(FILE *out, const char *what, const struct census *c);
void html_put_table(FILE *out);
void html_put_script(FILE *out);
extern const char html_css[];
extern const char html_js[];

#endif
