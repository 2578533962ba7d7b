/* html.c: the HTML report page around the census's JSON (report/html.h). */
#include "common/compat.h"
#include "report/html.h"

#include "report/json_docs.h"
#include "report/output.h"
#include <stdlib.h>

/* Text from the target inside an element: & < > " as entities (the rest passes as UTF-8). */
static void put_html(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default: fputc(*s, out);
		}
	}
}

void html_put_head(FILE *out, const char *what, const struct census *c)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>pycensus: pid ", out);
	fprintf(out, "%ld, Python ", (long)c->pid);
	put_html(out, c->version);
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>pycensus %s: pid %ld, Python ",
		html_css, what, (long)c->pid);
	put_html(out, c->version);
	fputs(" <small>", out);
	put_html(out, c->build);
	fputs("</small></h1>\n<p id=\"summary\"></p>\n<ul id=\"warnings\"></ul>\n</header>\n"
	      "<p id=\"status\">The report's script has not run: this page needs JavaScript.</p>\n", out);
}

void html_put_table(FILE *out)
{
	fputs("<section>\n<h2>Kinds</h2>\n"
	      "<p><input id=\"search\" type=\"search\" placeholder=\"filter kinds\" aria-label=\"filter kinds\"> "
	      "<span id=\"shown\"></span></p>\n<table id=\"kinds\">\n<thead><tr id=\"head\"></tr></thead>\n"
	      "<tbody id=\"rows\"></tbody>\n</table>\n</section>\n", out);
}

void html_put_script(FILE *out, const char *page_js)
{
	fprintf(out, "<script>\n%s%s})();\n</script>\n</body>\n</html>\n", html_js_lib, page_js);
}

/* A JSON text is HTML-safe once its < > & are \u escapes: outside strings JSON has none, inside
 * one the escape reads as the character. */
static int put_data(FILE *out, int (*write)(FILE *, const void *, struct pc_err *), const void *arg, struct pc_err *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		PC_BUG("open_memstream");
	rc = write(f, arg, e);
	fclose(f);
	if (rc == 0) {
		fputs("<script type=\"application/json\" id=\"data\">", out);
		for (size_t i = 0; i < len; i++) {
			if (buf[i] == '<' || buf[i] == '>' || buf[i] == '&')
				fprintf(out, "\\u%04x", (unsigned)buf[i]);
			else
				fputc(buf[i], out);
		}
		fputs("</script>\n", out);
	}
	free(buf);
	return rc;
}

int report_html_snap(FILE *out, const struct census *c, const struct partition *p, const char *by, struct pc_err *e)
{
	struct json j;

	html_put_head(out, "snap", c);
	fputs("<section>\n<h2>Bytes by module, type and kind</h2>\n<svg id=\"icicle\" role=\"img\"></svg>\n"
	      "<p class=\"hint\">Each box's width is its bytes; click one to zoom in, the top bar to zoom out.</p>\n"
	      "</section>\n", out);
	html_put_table(out);
	fputs("<script type=\"application/json\" id=\"data\">", out);
	json_init(&j, out, false);
	j.html_safe = true; /* a kind named </script> stays inside the element */
	json_begin_object(&j, NULL);
	json_u64(&j, "schema_version", JSON_SCHEMA_VERSION);
	json_str(&j, "document", "snap");
	json_snap_body(&j, c, p, by);
	json_end_object(&j);
	fputs("</script>\n", out);
	html_put_script(out, html_js);
	return output_check(out, "html report", e);
}

int html_put_end(FILE *out, int (*write)(FILE *, const void *, struct pc_err *), const void *arg, const char *page_js,
		 struct pc_err *e)
{
	if (put_data(out, write, arg, e) < 0)
		return -1;
	html_put_script(out, page_js);
	return output_check(out, "html report", e);
}
