/* html.h: the self-contained HTML report (`-f html`): one page that needs no network, its style
 * and script inlined (report/html_assets.c) and the census embedded as its JSON document
 * (report/json_docs.h, written HTML-safe), from which the script draws: the header, an icicle of
 * bytes by module -> type -> kind (click to zoom), and the partition as a table sortable by every
 * column and filtered by a search box. Without JavaScript the page says it needs it. */
#ifndef PC_REPORT_HTML_H
#define PC_REPORT_HTML_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "model/census.h"
#include "report/partition.h"

/* by names --by (kind, type, module or size). Ends with output_check: 0, or -1 with PC_EOUTPUT. */
int report_html_snap(FILE *out, const struct census *c, const struct partition *p, const char *by, struct pc_err *e);

/* The page's style sheet and script (html_assets.c). */
extern const char html_css[];
extern const char html_js[];

#endif
