/* test_jsondocs.c: the -f json documents from synthetic models (report/json_docs.h): a partial
 * census with hostile kind names and a diff with notes, validated against docs/schema/pycensus.json
 * by Debian's python3-jsonschema (tests/integration/jsoncheck.py); the HTML-safe escaping the
 * report page relies on; -f parsing per command. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/commands.h"
#include "report/json_docs.h"

/* Writes what fn writes into a temp file, validates it, returns jsoncheck's output. */
static char *validated(int (*fn)(FILE *, void *), void *arg, const char *doc)
{
	char path[] = "/tmp/pycensus-jsondoc-XXXXXX", cmd[512], want[64];
	char *out = calloc(1, 1 << 16);
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w"), *p;
	size_t n;
	int rc;

	cr_assert(fd >= 0 && f && out);
	cr_assert_eq(fn(f, arg), 0);
	fclose(f);
	cr_assert(system("/usr/bin/python3 -c 'import jsonschema' 2>/dev/null") == 0,
		  "Debian's python3-jsonschema is missing (tools/install-deps installs it)");
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/integration/jsoncheck.py docs/schema/pycensus.json %s 2>&1", path);
	p = popen(cmd, "r");
	cr_assert(p);
	n = fread(out, 1, (1 << 16) - 1, p);
	out[n] = '\0';
	rc = pclose(p);
	unlink(path);
	snprintf(want, sizeof want, "valid %s\n", doc);
	cr_assert(rc == 0 && strncmp(out, want, strlen(want)) == 0, "not a valid %s document: %s", doc, out);
	return out;
}

/* A census that dropped objects, with warnings and kinds no CSV or HTML may pass through raw. */
static void hostile_census(struct census *c)
{
	census_init(c);
	c->pid = 4242;
	snprintf(c->version, sizeof c->version, "3.12.1");
	snprintf(c->build, sizeof c->build, "libpython3.12.so.1.0 (shared)");
	census_add_typed(c, "__main__.</script><b>", "__main__.</script><b>", "__main__", 3, 144);
	census_add_typed(c, "dict of a,\"b\"\n", "dict", "builtins", 1, 232);
	census_add(c, "str", 10, 600);
	census_drop(c, "__main__.Gone", 2);
	census_warn(c, "objects changed while read: %d", 2);
}

static int snap_doc(FILE *f, void *arg)
{
	struct census *c = arg;
	struct partition p;
	struct pc_err e = { 0 };
	int rc;

	partition_by_kind(c, &p);
	rc = report_snap_json(f, c, &p, "kind", &e);
	partition_release(&p);
	return rc;
}

Test(jsondocs, partial_census_is_a_valid_snap)
{
	struct census c;
	char *out;

	hostile_census(&c);
	out = validated(snap_doc, &c, "snap");
	cr_expect(strstr(out, "\nfield pid 4242\n"), "%s", out);
	cr_expect(strstr(out, "\nfield count 14\n") && strstr(out, "\nfield size 976\n"), "%s", out);
	free(out);
	census_release(&c);
}

static int diff_doc(FILE *f, void *arg)
{
	struct census *c = arg, before;
	struct diff d;
	struct pc_err e = { 0 };
	const char *notes[] = { "a.csv: 2 objects of 1 kind dropped" };
	int rc;

	census_init(&before);
	census_add(&before, "str", 12, 700);
	diff_build(&before, c, &d);
	rc = report_diff_json(f, &d, "a.csv", "b.csv (its last sample)", notes, 1, &e);
	diff_release(&d);
	census_release(&before);
	return rc;
}

Test(jsondocs, diff_with_notes_and_shrinking_kinds)
{
	struct census c;
	char *out;

	hostile_census(&c);
	out = validated(diff_doc, &c, "diff");
	cr_expect(strstr(out, "\nfield count_before 12\n") && strstr(out, "\nfield count_after 14\n"), "%s", out);
	free(out);
	census_release(&c);
}

Test(jsondocs, html_safe_strings)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	json_init(&j, f, false);
	j.html_safe = true;
	json_str(&j, NULL, "</script><!-- & -->");
	fclose(f);
	cr_assert_str_eq(buf, "\"\\u003c/script\\u003e\\u003c!-- \\u0026 --\\u003e\"");
	free(buf);
}

Test(jsondocs, formats_per_command)
{
	struct pc_err e = { 0 };

	cr_expect_eq(cli_parse_format("json", CLI_FMT(TEXT) | CLI_FMT(JSON), &e), CLI_FMT_JSON);
	cr_expect_eq(cli_parse_format("dot", CLI_FMT(TEXT) | CLI_FMT(DOT) | CLI_FMT(JSON), &e), CLI_FMT_DOT);
	cr_expect_eq(cli_parse_format("csv", CLI_FMT(TEXT) | CLI_FMT(JSON), &e), -1);
	cr_expect_eq(e.code, PC_EUSAGE);
	cr_expect(strstr(e.detail, "--format must be text or json, not 'csv'"), "%s", e.detail);
}
