/* html_series.c: the HTML report of a time series (`run -f html`, `snap -i -f html`; report/html.h):
 * the series' JSON document and, per sample, the sizes of its largest kinds, from which the page
 * draws the top kinds over time, the growth table and the last sample's kinds. */
#include "common/compat.h"
#include "report/html.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "report/json_docs.h"
#include "report/output.h"
#include "report/partition.h"

void html_series_add(struct html_series *h, const struct census *c, double time_s)
{
	struct partition p;
	struct html_sample *x;

	xgrow((void **)&h->v, &h->cap, h->n + 1, sizeof *h->v);
	x = &h->v[h->n++];
	partition_by_kind(c, &p);
	x->time_s = time_s;
	x->n = p.nrows < HTML_SERIES_KINDS ? p.nrows : HTML_SERIES_KINDS;
	x->kinds = xcalloc(x->n ? x->n : 1, sizeof *x->kinds);
	for (size_t i = 0; i < x->n; i++) {
		x->kinds[i].kind = xstrdup(p.rows[i].kind);
		x->kinds[i].size = p.rows[i].size;
	}
	partition_release(&p);
}

void html_series_release(struct html_series *h)
{
	for (size_t i = 0; i < h->n; i++) {
		for (size_t k = 0; k < h->v[i].n; k++)
			free(h->v[i].kinds[k].kind);
		free(h->v[i].kinds);
	}
	free(h->v);
	memset(h, 0, sizeof *h);
}

/* {"samples": [{"time_s": t, "sizes": {kind: bytes, ...}}, ...]}: the largest kinds per sample. */
static void put_tracks(FILE *out, const struct html_series *h)
{
	struct json j;

	fputs("<script type=\"application/json\" id=\"tracks\">", out);
	json_init(&j, out, false);
	j.html_safe = true;
	json_begin_object(&j, NULL);
	json_u64(&j, "kinds_per_sample", HTML_SERIES_KINDS);
	json_begin_array(&j, "samples");
	for (size_t i = 0; i < h->n; i++) {
		json_begin_object(&j, NULL);
		json_double(&j, "time_s", h->v[i].time_s);
		json_begin_object(&j, "sizes");
		for (size_t k = 0; k < h->v[i].n; k++)
			json_u64(&j, h->v[i].kinds[k].kind, h->v[i].kinds[k].size);
		json_end_object(&j);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_object(&j);
	fputs("</script>\n", out);
}

int report_html_series(FILE *out, const struct series *s, const struct html_series *h, struct pc_err *e)
{
	struct json j;

	html_put_head(out, "run", &s->last);
	fputs("<section>\n<h2>Largest kinds over time</h2>\n<svg id=\"chart\" role=\"img\"></svg>\n"
	      "<p class=\"hint\">Bytes per kind at each sample: the kinds largest at the last sample.</p>\n"
	      "</section>\n<section>\n<h2>Grew most since the first sample</h2>\n<table id=\"grew\"></table>\n</section>\n",
	      out);
	html_put_table(out);
	fputs("<script type=\"application/json\" id=\"data\">", out);
	json_init(&j, out, false);
	j.html_safe = true;
	json_begin_object(&j, NULL);
	json_u64(&j, "schema_version", JSON_SCHEMA_VERSION);
	json_str(&j, "document", "series");
	series_json_body(&j, s);
	json_end_object(&j);
	fputs("</script>\n", out);
	put_tracks(out, h);
	html_put_script(out, html_js);
	return output_check(out, "html report", e);
}
