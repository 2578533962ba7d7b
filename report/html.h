/* html.h: the self-contained HTML reports (`-f html`): one page that needs no network, its style
 * and script inlined (report/html_assets.c) and the data embedded as JSON (report/json_docs.h,
 * written HTML-safe), from which the script draws. A census (snap): the header, an icicle of bytes
 * by module -> type -> kind (click to zoom), and the partition as a table sortable by every column
 * and filtered by a search box. A series (run, snap -i): the largest kinds over time as a line
 * chart, the growth table, and the last sample's kinds as that table. stats (html_stats.c): bar
 * charts of the size classes and of arena use (on a free-threaded build mimalloc's size classes
 * per heap and its abandoned pages instead), and stats' tables. why and retained
 * (html_graph.c): the merged paths as a tree that folds, the retained sizes as sortable tables.
 * Each page embeds the document `-f json` writes for the same run, so what it shows is that
 * document's figures. Without JavaScript the page says it needs it. */
#ifndef PC_REPORT_HTML_H
#define PC_REPORT_HTML_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "model/census.h"
#include "model/pathtree.h"
#include "report/partition.h"
#include "report/retained.h"
#include "report/series.h"
#include "stats/stats.h"

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

int report_stats_html(FILE *out, const struct stats *st, struct pc_err *e);
/* why: what names the selection, as for report_paths_json. */
int report_paths_html(FILE *out, const struct census *c, const struct objgraph *og, const struct pathtree *t,
		      const char *what, struct pc_err *e);
int report_retained_html(FILE *out, const struct retained_report *r, struct pc_err *e);

/* The page's parts (html.c): its head and header ("pycensus <what>: pid ..."), the kinds table
 * section, the script (html_js_lib, then the page's own, which closes the function the lib
 * opens); the style sheet and scripts themselves (html_assets.c, html_stats.c, html_graph.c). */
void html_put_head(FILE *out, const char *what, const struct census *c);
void html_put_table(FILE *out);
void html_put_script(FILE *out, const char *page_js);
/* The page's end: the document write(out, arg, e) writes as <script type="application/json"
 * id="data"> (made HTML-safe), the script (html_js_lib and
 * page_js), then output_check: 0, or -1 with PC_EOUTPUT (or write's error). */
int html_put_end(FILE *out, int (*write)(FILE *, const void *, struct pc_err *), const void *arg, const char *page_js,
		 struct pc_err *e);
extern const char html_css[];
extern const char html_js_lib[];
extern const char html_js[];

#endif
