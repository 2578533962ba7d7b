/* test_html.c: snap -f html read by a real browser, Debian's headless Chromium, on the core set of
 * interpreters (workloads/pprof.py, a quiet heap): the page loads from a file with no console
 * message and its script reports ok; the table the script builds in the DOM holds every kind of a
 * CSV taken right after, with the same counts and sizes, and the same totals; the icicle's boxes
 * carry each module's bytes as `snap --by module -f csv` sums them; a filter and sort given in the
 * address (#q=...&sort=count&dir=-1) show only the matching kinds, largest count first. On the
 * newest interpreter the page and a screenshot are kept: build/html/snap.html, build/html/snap.png;
 * there too, snap -i -f html's page: a line per largest kind over the samples, its table the CSV's
 * kinds (kept as build/html/series.html and series.png).
 * And kinds named like markup (</script>, <img onerror>) stay text: the page's own script runs,
 * no injected one does.
 * stats, why and retained -f html, on a dump of a workload (so -f csv/json read the same census):
 * the DOM Chromium built, read by htmlcheck.py, holds every figure of stats -f csv (cells named by
 * the metric, the size-class columns and the arena bars), every step of why -f json under its
 * parent, and retained -f json's kinds and objects tables; kept as build/html/{stats,why,
 * retained}.{html,png} on the newest core interpreter; these three on the oldest and the newest
 * core interpreters (PYCENSUS_TEST_FULL=1: the core set). */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "report/html.h"
#include "tests/integration/checks.h"
#include "tests/integration/harness.h"
#include "tests/integration/htmlpage.h"

#define OUT_MAX (4 << 20)

/* The cell at s ("<td ...>text</td>") into buf, entities decoded; returns what follows it. */
static const char *cell(const char *s, char *buf, size_t len)
{
	const char *start = strstr(s, "<td"), *end = NULL;
	size_t o = 0;

	if (start)
		start = strchr(start, '>');
	if (start)
		end = strstr(start, "</td>");
	cr_assert(start && end, "a row without its cells");
	for (const char *p = start + 1; p < end && o + 1 < len; p++) {
		static const struct { const char *ent; char c; } ents[] = { { "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' },
									    { "&quot;", '"' } };
		char c = *p;
		for (size_t i = 0; i < PC_ARRAY_LEN(ents); i++)
			if (strncmp(p, ents[i].ent, strlen(ents[i].ent)) == 0) {
				c = ents[i].c;
				p += strlen(ents[i].ent) - 1;
			}
		buf[o++] = c;
	}
	buf[o] = '\0';
	return end + 5;
}

/* The table's rows as the DOM holds them (index, count, %, size, %, cumulative, kind), in order:
 * kinds into t, each row's count into counts (when not NULL). */
static void dom_rows(const char *dom, struct table *t, long long *counts, size_t max, const char *label)
{
	const char *s = strstr(dom, "<tbody id=\"rows\">"), *end = s ? strstr(s, "</tbody>") : NULL;
	char v[7][256];

	cr_assert(s && end, "%s: no table body in the DOM", label);
	memset(t, 0, sizeof *t);
	while ((s = strstr(s, "<tr>")) && s < end) {
		for (int i = 0; i < 7; i++)
			s = cell(s, v[i], sizeof v[i]);
		t->v = realloc(t->v, (t->n + 1) * sizeof *t->v);
		memset(&t->v[t->n], 0, sizeof t->v[0]);
		snprintf(t->v[t->n].kind, sizeof t->v[0].kind, "%.127s", v[6]);
		t->v[t->n].count = atoll(v[1]);
		t->v[t->n].size = atoll(v[3]);
		if (counts && t->n < max)
			counts[t->n] = t->v[t->n].count;
		t->n++;
	}
}

static void csv_of(const char *pid, const char *by, struct table *t, const char *label)
{
	char *out = malloc(OUT_MAX), err[4096];

	cr_assert_eq(h_pycensus(out, OUT_MAX, err, sizeof err, (const char *[]){ "snap", "-q", "--by", by, "-f", "csv", pid, NULL }),
		     0, "%s: snap -f csv: %s", label, err);
	cr_assert(h_parse_csv(out, t), "%s: unparsable CSV", label);
	free(out);
}

/* Every module's bytes are on one of the icicle's boxes (their <title>). */
static void check_icicle(const char *dom, const char *pid, const char *label)
{
	struct table mods;
	char want[256];

	csv_of(pid, "module", &mods, label);
	for (size_t i = 0; i < mods.n; i++) {
		snprintf(want, sizeof want, "<title>%s: %lld bytes (", mods.v[i].kind, mods.v[i].size);
		cr_expect(strstr(dom, want), "%s: no icicle box '%s'", label, want);
	}
	h_table_free(&mods);
}

/* #q=__main__&sort=count&dir=-1: the CSV's __main__ kinds, largest count first. */
static void check_fragment(const char *page, const struct table *csv, const char *label)
{
	char *dom = hp_chromium(page, "#q=__main__&sort=count&dir=-1", NULL, label);
	long long counts[256];
	struct table t, want = { 0 };

	dom_rows(dom, &t, counts, PC_ARRAY_LEN(counts), label);
	for (size_t i = 0; i < csv->n; i++)
		if (strstr(csv->v[i].kind, "__main__")) {
			want.v = realloc(want.v, (want.n + 1) * sizeof *want.v);
			want.v[want.n++] = csv->v[i];
		}
	cr_expect(want.n >= 2, "%s: the workload's classes are not in the CSV", label);
	for (size_t i = 1; i < t.n && i < PC_ARRAY_LEN(counts); i++)
		cr_expect(counts[i - 1] >= counts[i], "%s: #sort=count&dir=-1: row %zu (%lld) after %lld", label, i,
			  counts[i], counts[i - 1]);
	cr_expect(t.n == want.n, "%s: #q=__main__ shows %zu rows, the CSV has %zu such kinds", label, t.n, want.n);
	for (size_t i = 0; i < want.n; i++) {
		const struct row *r = h_row(&t, want.v[i].kind);
		cr_expect(r && r->count == want.v[i].count && r->size == want.v[i].size, "%s: filtered row %s differs", label,
			  want.v[i].kind);
	}
	free(want.v);
	h_table_free(&t);
	free(dom);
}

/* The core interpreters (ends: the oldest and newest of them), as a parameterized test's parameters. */
static struct criterion_test_params core_params_of(size_t (*find)(struct python *, size_t))
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = find(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

/* The page renders the census, which the census suites check on every interpreter: the oldest and
 * the newest of the core set (all with PYCENSUS_TEST_FULL=1). */
ParameterizedTestParameters(html, snap)
{
	return core_params_of(h_find_pythons_ends);
}

ParameterizedTest(struct python *py, html, snap, .timeout = 300)
{
	char wl[512], line[256], pid[16], err[4096], page[] = "/tmp/pycensus-html-XXXXXX.html", want[128], *dom;
	char *argv[] = { py->path, (char *)hp_beside(wl, sizeof wl, "pprof.py"), NULL };
	struct python all[H_MAX_PYTHONS];
	size_t nall = h_find_pythons_ends(all, H_MAX_PYTHONS); /* the screenshot: on the newest of them */
	long long objects = 0, bytes = 0;
	struct table csv, t;
	struct proc p;
	int fd = mkstemps(page, 5);

	cr_assert(fd >= 0);
	close(fd);
	cr_assert(h_spawn(&p, argv) && h_wait_line(&p, "ready", line, sizeof line, 60) && h_wait_sleeping(p.pid, 30),
		  "%s: workload did not start", py->label);
	snprintf(pid, sizeof pid, "%d", (int)p.pid);
	cr_assert_eq(h_pycensus(NULL, 0, err, sizeof err, (const char *[]){ "snap", "-q", "-f", "html", "-o", page, pid, NULL }),
		     0, "%s: snap -f html: %s", py->label, err);
	csv_of(pid, "kind", &csv, py->label);
	dom = hp_chromium(page, "", NULL, py->label);
	dom_rows(dom, &t, NULL, 0, py->label);
	h_assert_same_table(&t, &csv, "the DOM's table vs snap -f csv", py);
	for (size_t i = 0; i < csv.n; i++)
		objects += csv.v[i].count, bytes += csv.v[i].size;
	snprintf(want, sizeof want, "<p id=\"status\" class=\"ok\">ok: %zu kinds, %lld objects, %lld bytes</p>", csv.n,
		 objects, bytes);
	cr_expect(strstr(dom, want), "%s: the page's status is not '%s': %.300s", py->label, want,
		  strstr(dom, "id=\"status\"") ? strstr(dom, "id=\"status\"") : dom);
	check_icicle(dom, pid, py->label);
	check_fragment(page, &csv, py->label);
	if (nall && strcmp(all[nall - 1].label, py->label) == 0)
		hp_keep(page, "snap", py->label);
	fprintf(stderr, "html: %s: %zu kinds in the DOM equal to the CSV (%lld objects, %lld bytes)\n", py->label, t.n,
		objects, bytes);
	h_table_free(&t);
	h_table_free(&csv);
	free(dom);
	unlink(page);
	h_kill(&p);
}

/* snap -i -f html on the newest core interpreter: the chart and the last sample's kinds. */
Test(html, series, .timeout = 300)
{
	struct python all[H_MAX_PYTHONS];
	size_t n = h_find_pythons_core(all, H_MAX_PYTHONS), lines = 0;
	char wl[512], line[256], pid[16], err[4096], page[] = "/tmp/pycensus-html-XXXXXX.html", *dom;
	struct table csv, t;
	struct proc p;
	int fd = mkstemps(page, 5);

	if (n == 0)
		cr_skip_test("no interpreter found (see the interpreters report)");
	cr_assert(fd >= 0);
	close(fd);
	char *argv[] = { all[n - 1].path, (char *)hp_beside(wl, sizeof wl, "pprof.py"), NULL };
	cr_assert(h_spawn(&p, argv) && h_wait_line(&p, "ready", line, sizeof line, 60) && h_wait_sleeping(p.pid, 30),
		  "%s: workload did not start", all[n - 1].label);
	snprintf(pid, sizeof pid, "%d", (int)p.pid);
	cr_assert_eq(h_pycensus(NULL, 0, err, sizeof err,
				(const char *[]){ "snap", "-q", "-i", "0.2", "-c", "3", "-f", "html", "-o", page, pid, NULL }),
		     0, "%s: snap -i -f html: %s", all[n - 1].label, err);
	csv_of(pid, "kind", &csv, all[n - 1].label);
	dom = hp_chromium(page, "", NULL, all[n - 1].label);
	dom_rows(dom, &t, NULL, 0, all[n - 1].label);
	h_assert_same_table(&t, &csv, "the series page's last kinds vs snap -f csv", &all[n - 1]);
	cr_expect(strstr(dom, "<p id=\"status\" class=\"ok\">ok: 3 samples, "), "%s: status: %.300s", all[n - 1].label,
		  strstr(dom, "id=\"status\"") ? strstr(dom, "id=\"status\"") : dom);
	for (const char *s = dom; (s = strstr(s, "<polyline ")); s++)
		lines++;
	cr_expect_eq(lines, 8, "%s: %zu lines in the chart, not one per largest kind (8)", all[n - 1].label, lines);
	hp_keep(page, "series", all[n - 1].label);
	fprintf(stderr, "html: series on %s: 3 samples, %zu lines, %zu kinds equal to the CSV\n", all[n - 1].label, lines,
		t.n);
	h_table_free(&t);
	h_table_free(&csv);
	free(dom);
	unlink(page);
	h_kill(&p);
}

/* Kinds named like markup are text in the table and never run. */
Test(html, markup_in_kind_names, .timeout = 120)
{
	char page[] = "/tmp/pycensus-html-XXXXXX.html", *dom;
	struct census c;
	struct partition p;
	struct pc_err e = { 0 };
	struct table t;
	int fd = mkstemps(page, 5);
	FILE *f = fdopen(fd, "w");

	cr_assert(fd >= 0 && f);
	census_init(&c);
	c.pid = 4242;
	snprintf(c.version, sizeof c.version, "3.12.1");
	census_add_typed(&c, "__main__.</script><script>document.title='pwned'</script>", "x", "__main__", 3, 300);
	census_add_typed(&c, "dict of <img src=x onerror=document.title='pwned'>", "dict", "builtins", 2, 200);
	census_add(&c, "str & \"quotes\"", 1, 100);
	partition_by_kind(&c, &p);
	cr_assert_eq(report_html_snap(f, &c, &p, "kind", &e), 0);
	fclose(f);
	dom = hp_chromium(page, "", NULL, "markup");
	cr_expect(strstr(dom, "ok: 3 kinds, 6 objects, 600 bytes"), "the page's script did not finish: %.2000s", dom);
	cr_expect(strstr(dom, "<title>pycensus: pid 4242") && !strstr(dom, "<title>pwned</title>"), "an injected script ran");
	dom_rows(dom, &t, NULL, 0, "markup");
	cr_expect(t.n == 3 && h_row(&t, "__main__.</script><script>document.title='pwned'</script>") &&
		  h_row(&t, "dict of <img src=x onerror=document.title='pwned'>") && h_row(&t, "str & \"quotes\""),
		  "the kinds are not the table's text");
	h_table_free(&t);
	partition_release(&p);
	census_release(&c);
	free(dom);
	unlink(page);
}

/* The pages of stats, why and retained, each beside the CSV or JSON of the same census: a dump of
 * the workload, read by both. */

/* The workload started, read to its "ready" line (lines before it into pre[], up to npre), dumped. */
static void dump_workload(struct hp_dumped *d, const struct python *py, const char *wl, char (*pre)[256], size_t npre)
{
	char path[512], line[256];
	char *argv[] = { (char *)py->path, (char *)hp_beside(path, sizeof path, wl), NULL };
	size_t n = 0;

	cr_assert(h_spawn(&d->p, argv), "%s: %s did not start", py->label, wl);
	while (h_wait_line(&d->p, "", line, sizeof line, 120) && strncmp(line, "ready", 5) != 0)
		if (n < npre)
			snprintf(pre[n++], 256, "%s", line);
	cr_assert(strncmp(line, "ready", 5) == 0 && h_wait_sleeping(d->p.pid, 30), "%s: %s not ready", py->label, wl);
	hp_dump(d, py->label);
}

static bool newest_core(const struct python *py)
{
	struct python all[H_MAX_PYTHONS];
	size_t n = h_find_pythons_core(all, H_MAX_PYTHONS);

	return n && strcmp(all[n - 1].label, py->label) == 0;
}

/* stats, why and retained pages render a dump's census, which test_stats and test_graph check on
 * the core set: here on its oldest and newest interpreters (make check-long: all). */
ParameterizedTestParameters(html, stats)
{
	return core_params_of(h_find_pythons_ends);
}

/* stats -f html: every metric of stats -f csv in a cell named by it, the columns and bars too. */
ParameterizedTest(struct python *py, html, stats, .timeout = 300)
{
	struct hp_dumped d;
	char page[160], csv[160], *out;

	dump_workload(&d, py, "pprof.py", NULL, 0);
	hp_page_of(&d, (const char *[]){ "stats", NULL }, "csv", "stats.csv", csv, sizeof csv);
	hp_page_of(&d, (const char *[]){ "stats", NULL }, "html", "stats.html", page, sizeof page);
	out = hp_check(&d, "stats", page, csv);
	cr_expect(strstr(out, "stats: ") && strstr(out, " size classes"), "%s: %s", py->label, out);
	if (newest_core(py))
		hp_keep(page, "stats", py->label);
	fprintf(stderr, "html: %s: %s", py->label, out);
	free(out);
	hp_dumped_release(&d);
}

ParameterizedTestParameters(html, why_and_retained)
{
	return core_params_of(h_find_pythons_ends);
}

/* why and retained -f html on workloads/graph.py: the tree and the tables equal -f json's
 * documents; the tree selects the 1,000 requests the workload holds (and, for --kind str, every
 * str), and the objects table gives its three structures the retained bytes and objects the
 * workload computed itself. */
ParameterizedTest(struct python *py, html, why_and_retained, .timeout = 300)
{
	struct hp_dumped d;
	char pre[8][256], page[160], json[160], want[160], *out;
	const char *why[] = { "why", "-q", "--kind", "__main__.Request", NULL }, *ret[] = { "retained", "-q", NULL };

	memset(pre, 0, sizeof pre);
	dump_workload(&d, py, "graph.py", pre, PC_ARRAY_LEN(pre));
	hp_page_of(&d, why, "json", "why.json", json, sizeof json);
	hp_page_of(&d, why, "html", "why.html", page, sizeof page);
	out = hp_check(&d, "why", page, json);
	cr_expect(strstr(out, "selected 1000, 1000 selected at the leaves"), "%s: why: %s", py->label, out);
	fprintf(stderr, "html: %s: %s", py->label, out);
	free(out);
	/* every str: hundreds of steps under both roots, the tree branching at every level */
	why[3] = "str";
	hp_page_of(&d, why, "json", "why-str.json", json, sizeof json);
	hp_page_of(&d, why, "html", "why-str.html", page, sizeof page);
	out = hp_check(&d, "why", page, json);
	fprintf(stderr, "html: %s: --kind str: %s", py->label, out);
	free(out);
	if (newest_core(py))
		hp_keep(page, "why", py->label);
	hp_page_of(&d, ret, "json", "retained.json", json, sizeof json);
	hp_page_of(&d, ret, "html", "retained.html", page, sizeof page);
	out = hp_check(&d, "retained", page, json);
	for (size_t i = 0, n = 0; i < PC_ARRAY_LEN(pre); i++) {
		char name[32], addr[32];
		long long bytes, objects;

		if (sscanf(pre[i], "truth retained %31s %31s %lld %lld", name, addr, &bytes, &objects) != 4)
			continue;
		snprintf(want, sizeof want, "object 0x%s %lld %lld\n", addr, bytes, objects);
		cr_expect(strstr(out, want), "%s: the objects table has no '%.*s' (%s, as the workload computes it):\n%s",
			  py->label, (int)strlen(want) - 1, want, name, out);
		cr_expect_leq(++n, 4); /* graph.py's structures */
	}
	cr_expect(strstr(pre[0], "truth retained "), "%s: graph.py printed no truth", py->label);
	fprintf(stderr, "html: %s: %s", py->label, strstr(out, "retained: ") ? strstr(out, "retained: ") : out);
	free(out);
	if (newest_core(py))
		hp_keep(page, "retained", py->label);
	hp_dumped_release(&d);
}

/* The pages that embed a -f json document (stats here; why and retained the same way): a warning
 * written like markup is the header's text, no script of it runs. */
Test(html, markup_in_embedded_document, .timeout = 120)
{
	char page[] = "/tmp/pycensus-html-XXXXXX.html", *dom;
	static const char evil[] = "</script><script>document.title='pwned'</script><img src=x onerror=document.title='pwned'>";
	struct stats st;
	struct pc_err e = { 0 };
	int fd = mkstemps(page, 5);
	FILE *f = fdopen(fd, "w");

	cr_assert(fd >= 0 && f);
	stats_init(&st);
	st.meta.pid = 4343;
	snprintf(st.meta.version, sizeof st.meta.version, "3.12.1");
	census_warn(&st.meta, "%s & more", evil);
	cr_assert_eq(report_stats_html(f, &st, &e), 0);
	fclose(f);
	dom = hp_chromium(page, "", NULL, "markup in stats");
	cr_expect(strstr(dom, "ok: 0 size classes, 0 arenas, 0 generations"), "the page's script did not finish: %.3000s", dom);
	cr_expect(strstr(dom, "<title>pycensus: pid 4343") && !strstr(dom, "pwned</title>"), "an injected script ran");
	cr_expect(strstr(dom, "<li class=\"warn\">&lt;/script&gt;&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;img"),
		  "the warning is not the list's text: %.3000s", dom);
	stats_release(&st);
	free(dom);
	unlink(page);
}
