/* test_prom.c: unit tests for report/prom.c, the Prometheus text exposition of `pycensus serve`:
 * every line read back by a strict parser of the format (version 0.0.4): one HELP and one TYPE per
 * metric family, before its samples, which are contiguous and unique; label values escaped (\ " and
 * newline, bytes that are not UTF-8); the top kinds by bytes and the "(other)" bucket summing the
 * rest; a failed census; the bound on series per process. OpenMetrics: its families and units
 * around the same samples, and which Accept headers ask for it. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/census.h"
#include "report/prom.h"

#define MAX_SAMPLES 4096

struct sample {
	char name[96];
	char labels[1024]; /* k=v pairs unescaped, joined by \x01, in the order written */
	double value;
};

struct parsed {
	struct sample v[MAX_SAMPLES];
	size_t n;
	char families[128][96]; /* in order of their TYPE line */
	size_t nfamilies;
};

/* One label value after '"' at *p, unescaped into out; false on a bad escape or no closing quote. */
static bool parse_value(const char **p, char *out, size_t len)
{
	size_t n = 0;

	for (const char *s = *p; *s; s++) {
		char c = *s;

		if (c == '"') {
			out[n] = '\0';
			*p = s + 1;
			return true;
		}
		if (c == '\n')
			return false;
		if (c == '\\') {
			s++;
			if (*s == 'n')
				c = '\n';
			else if (*s == '\\' || *s == '"')
				c = *s;
			else
				return false;
		}
		if (n + 1 >= len)
			return false;
		out[n++] = c;
	}
	return false;
}

/* name{k="v",...} value */
static bool parse_sample(const char *line, struct sample *s)
{
	const char *p = line;
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
	char *end;

	if (n == 0 || n >= sizeof s->name)
		return false;
	memcpy(s->name, p, n);
	s->name[n] = '\0';
	s->labels[0] = '\0';
	p += n;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			size_t k = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
			size_t used = strlen(s->labels);
			char value[512];

			if (k == 0 || p[k] != '=' || p[k + 1] != '"')
				return false;
			snprintf(s->labels + used, sizeof s->labels - used, "%s%.*s=", used ? "\x01" : "", (int)k, p);
			p += k + 2;
			if (!parse_value(&p, value, sizeof value))
				return false;
			used = strlen(s->labels);
			snprintf(s->labels + used, sizeof s->labels - used, "%s", value);
			if (*p == ',')
				p++;
			else if (*p != '}')
				return false;
		}
		p++;
	}
	if (*p++ != ' ')
		return false;
	s->value = strtod(p, &end);
	return end != p && *end == '\0';
}

static bool known_family(const struct parsed *ps, const char *name)
{
	for (size_t i = 0; i < ps->nfamilies; i++)
		if (strcmp(ps->families[i], name) == 0)
			return true;
	return false;
}

/* Reads the whole exposition, asserting the format's rules on the way. */
static void parse(char *text, struct parsed *ps)
{
	char help[96] = "";

	memset(ps, 0, sizeof *ps);
	cr_assert(text[0] && text[strlen(text) - 1] == '\n', "the exposition must end with a newline");
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char name[96], type[16];

		if (sscanf(line, "# HELP %95s", name) == 1) {
			cr_assert(!known_family(ps, name), "HELP of %s after its TYPE or twice", name);
			snprintf(help, sizeof help, "%s", name);
		} else if (sscanf(line, "# TYPE %95s %15s", name, type) == 2) {
			cr_assert(!known_family(ps, name), "a second TYPE line for %s", name);
			cr_assert_str_eq(help, name, "TYPE %s not right after its HELP", name);
			cr_assert(strcmp(type, "gauge") == 0 || strcmp(type, "counter") == 0, "type %s", type);
			cr_assert(strcmp(type, "counter") != 0 || strstr(name, "_total"), "counter %s without _total", name);
			cr_assert_lt(ps->nfamilies, 128);
			snprintf(ps->families[ps->nfamilies++], 96, "%s", name);
		} else {
			struct sample *s = &ps->v[ps->n];

			cr_assert_neq(line[0], '#', "unknown comment line: %s", line);
			cr_assert(parse_sample(line, s), "not a sample line: %s", line);
			cr_assert(ps->nfamilies && strcmp(s->name, ps->families[ps->nfamilies - 1]) == 0,
				  "sample %s outside its family's block", s->name);
			for (size_t i = 0; i < ps->n; i++)
				cr_assert(strcmp(ps->v[i].name, s->name) || strcmp(ps->v[i].labels, s->labels),
					  "duplicate series: %s", line);
			cr_assert_lt(++ps->n, MAX_SAMPLES);
		}
	}
}

static char *exposition(const struct prom_target *t, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert(f);
	cr_assert_eq(prom_write(f, t, n, 0), 0);
	fclose(f);
	return buf;
}

/* The value of name with exactly these labels ("pid=7\x01python=3.12.1..."), or -1 when absent. */
static double value_of(const struct parsed *ps, const char *name, const char *labels)
{
	for (size_t i = 0; i < ps->n; i++)
		if (strcmp(ps->v[i].name, name) == 0 && strcmp(ps->v[i].labels, labels) == 0)
			return ps->v[i].value;
	return -1;
}

static size_t series_of(const struct parsed *ps, const char *pid_label)
{
	size_t n = 0;

	for (size_t i = 0; i < ps->n; i++)
		n += strncmp(ps->v[i].labels, pid_label, strlen(pid_label)) == 0;
	return n;
}

static void done(char *text, struct parsed *ps, struct prom_target *t, struct census *c)
{
	free(text);
	free(ps);
	prom_target_release(t);
	census_release(c);
}

static void census_of(struct census *c, size_t kinds)
{
	census_init(c);
	snprintf(c->version, sizeof c->version, "3.12.1");
	for (size_t i = 0; i < kinds; i++) {
		char kind[32];

		snprintf(kind, sizeof kind, "mod.K%02zu", i);
		census_add(c, kind, 10 + i, 1000 * (i + 1)); /* K(kinds-1) is the largest */
	}
	c->narenas = 3;
	c->npools = 40;
	c->nblocks = 900;
	c->gc_ngen = 3;
	c->gc_count[0] = 17;
	c->gc_collections[2] = 5;
	c->gc_enabled = true;
	c->wall_s = 0.25;
	c->pause_s = 0.0625;
}

/* t from census_of(c, kinds), its top kinds kept. */
static void one_target(struct prom_target *t, struct census *c, size_t kinds, pid_t pid, size_t top)
{
	census_of(c, kinds);
	prom_target_init(t, pid);
	prom_target_set(t, c, top, 1.0);
}

Test(prom, label_values_escaped)
{
	static const char *const kinds[] = { "m.Back\\slash", "m.Quo\"te", "m.New\nline", "m.\xc3\xa9t\xc3\xa9", "m.bad\xff" };
	struct prom_target t;
	struct parsed *ps = calloc(1, sizeof *ps);
	struct census c;
	char *text, *copy, labels[256];

	census_init(&c);
	snprintf(c.version, sizeof c.version, "3.13.0");
	for (size_t i = 0; i < PC_ARRAY_LEN(kinds); i++)
		census_add(&c, kinds[i], i + 1, 100 * (i + 1));
	prom_target_init(&t, 42);
	prom_target_set(&t, &c, 10, 1.0);
	text = exposition(&t, 1);
	cr_expect(strstr(text, "kind=\"m.Back\\\\slash\"} 1\n"), "%s", text);
	cr_expect(strstr(text, "kind=\"m.Quo\\\"te\"} 2\n"), "%s", text);
	cr_expect(strstr(text, "kind=\"m.New\\nline\"} 3\n"), "%s", text);
	cr_expect(strstr(text, "kind=\"m.\xc3\xa9t\xc3\xa9\"} 4\n"), "valid UTF-8 is kept as it is");
	cr_expect(strstr(text, "kind=\"m.bad\\\\xff\"} 5\n"), "a byte that is not UTF-8 is the text \\xff: %s", text);
	copy = strdup(text);
	parse(copy, ps);
	for (size_t i = 0; i + 1 < PC_ARRAY_LEN(kinds); i++) {
		snprintf(labels, sizeof labels, "pid=42\x01python=3.13.0\x01kind=%s", kinds[i]);
		cr_expect_eq(value_of(ps, "pycensus_kind_objects", labels), (double)(i + 1), "%s read back", kinds[i]);
	}
	free(copy);
	done(text, ps, &t, &c);
}

Test(prom, utf8_checked)
{
	/* overlong '/', a surrogate, past U+10FFFF, a cut sequence: each byte as \xNN text */
	static const struct { const char *in, *out; } cases[] = {
		{ "\xc0\xaf", "\"\\\\xc0\\\\xaf\"" },
		{ "\xed\xa0\x80", "\"\\\\xed\\\\xa0\\\\x80\"" },
		{ "\xf4\x90\x80\x80", "\"\\\\xf4\\\\x90\\\\x80\\\\x80\"" },
		{ "a\xe2\x82", "\"a\\\\xe2\\\\x82\"" },
		{ "\xf0\x9f\x90\x8d", "\"\xf0\x9f\x90\x8d\"" },
	};

	for (size_t i = 0; i < PC_ARRAY_LEN(cases); i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		prom_put_label_value(f, cases[i].in);
		fclose(f);
		cr_expect_str_eq(buf, cases[i].out, "case %zu", i);
		free(buf);
	}
}

Test(prom, one_help_and_type_per_family_over_targets)
{
	struct prom_target t[3];
	struct parsed *ps = calloc(1, sizeof *ps);
	struct census c;
	char *text;

	census_of(&c, 4);
	for (int i = 0; i < 3; i++)
		prom_target_init(&t[i], 100 + i);
	prom_target_set(&t[0], &c, 2, 1.5);
	prom_target_set(&t[2], &c, 2, 1.5);
	text = exposition(t, 3);
	parse(text, ps); /* asserts one HELP and TYPE per family, contiguous samples */
	cr_expect_gt(ps->nfamilies, 20);
	cr_expect_eq(value_of(ps, "pycensus_targets", ""), 3);
	cr_expect_eq(value_of(ps, "pycensus_up", "pid=100\x01python=3.12.1"), 1);
	cr_expect_eq(value_of(ps, "pycensus_up", "pid=101\x01python="), 0, "no census yet: up 0");
	cr_expect_eq(series_of(ps, "pid=101\x01"), 3, "before a census: up and the two counters only");
	cr_expect_eq(value_of(ps, "pycensus_gc_counts", "pid=102\x01python=3.12.1\x01generation=0"), 17);
	cr_expect_eq(value_of(ps, "pycensus_gc_collections_total", "pid=102\x01python=3.12.1\x01generation=2"), 5);
	cr_expect_eq(value_of(ps, "pycensus_census_pause_seconds", "pid=102\x01python=3.12.1"), 0.0625);
	cr_expect_eq(value_of(ps, "pycensus_pymalloc_pools", "pid=100\x01python=3.12.1"), 40);
	free(text);
	free(ps);
	for (int i = 0; i < 3; i++)
		prom_target_release(&t[i]);
	census_release(&c);
}

Test(prom, other_sums_the_rest)
{
	struct prom_target t;
	struct parsed *ps = calloc(1, sizeof *ps);
	struct census c;
	double objects = 0, bytes = 0;
	char *text;

	census_of(&c, 7); /* K00..K06: 10..16 objects, 1000..7000 bytes */
	census_add(&c, "mod.Tie", 1, 5000); /* ties K04 by bytes: by name, mod.K04 first */
	prom_target_init(&t, 9);
	prom_target_set(&t, &c, 4, 2.0);
	cr_assert_eq(t.nkinds, 4);
	cr_expect_str_eq(t.kinds[0].kind, "mod.K06");
	cr_expect_str_eq(t.kinds[2].kind, "mod.K04");
	cr_expect_str_eq(t.kinds[3].kind, "mod.Tie");
	text = exposition(&t, 1);
	parse(text, ps);
	cr_expect_eq(value_of(ps, "pycensus_kind_objects", "pid=9\x01python=3.12.1\x01kind=" PROM_OTHER_KIND), 10 + 11 + 12 + 13);
	cr_expect_eq(value_of(ps, "pycensus_kind_bytes", "pid=9\x01python=3.12.1\x01kind=" PROM_OTHER_KIND), 1000 + 2000 + 3000 + 4000);
	cr_expect_eq(value_of(ps, "pycensus_kinds", "pid=9\x01python=3.12.1"), 8);
	for (size_t i = 0; i < ps->n; i++) {
		if (strcmp(ps->v[i].name, "pycensus_kind_objects") == 0)
			objects += ps->v[i].value;
		if (strcmp(ps->v[i].name, "pycensus_kind_bytes") == 0)
			bytes += ps->v[i].value;
	}
	cr_expect_eq(objects, value_of(ps, "pycensus_objects", "pid=9\x01python=3.12.1"), "kinds and (other) sum to the total");
	cr_expect_eq(bytes, value_of(ps, "pycensus_bytes", "pid=9\x01python=3.12.1"));
	cr_expect_eq(bytes, 28000 + 5000);
	done(text, ps, &t, &c);
}

Test(prom, failed_census_is_up_0_with_its_error)
{
	struct prom_target t;
	struct parsed *ps = calloc(1, sizeof *ps);
	struct census c;
	char *text;

	one_target(&t, &c, 3, 77, 50);
	t.have_rss = true;
	prom_target_fail(&t, "pycensus: no such process: \"77\" gone\\", 3);
	text = exposition(&t, 1);
	parse(text, ps);
	cr_expect_eq(value_of(ps, "pycensus_up", "pid=77\x01python=3.12.1"), 0);
	cr_expect_eq(value_of(ps, "pycensus_census_error", "pid=77\x01python=3.12.1\x01" "error=pycensus: no such process: \"77\" gone\\"), 3);
	cr_expect_eq(value_of(ps, "pycensus_censuses_total", "pid=77\x01python=3.12.1"), 1);
	cr_expect_eq(value_of(ps, "pycensus_census_failures_total", "pid=77\x01python=3.12.1"), 1);
	cr_expect_eq(series_of(ps, "pid=77\x01"), 4, "a failed census: up, error and the two counters, no stale figures");
	done(text, ps, &t, &c);
}

Test(prom, series_per_process_bound)
{
	struct prom_target t;
	struct parsed *ps = calloc(1, sizeof *ps);
	struct census c;
	char *text;

	one_target(&t, &c, 30, 5, 10);
	t.gc_ngen = 4;
	t.have_rss = t.have_uss = true;
	text = exposition(&t, 1);
	parse(text, ps);
	cr_expect_eq(series_of(ps, "pid=5\x01"), PROM_SERIES_FIXED + 2 * (10 + 1), "every series a process can have");
	cr_expect_eq(ps->n, PROM_SERIES_GLOBAL + PROM_SERIES_FIXED + 2 * (10 + 1));
	done(text, ps, &t, &c);
}

/* Prometheus's Accept header and its variants: OpenMetrics when preferred, text otherwise. */
Test(prom, accept_negotiated)
{
	static const struct { const char *accept; bool om; } cases[] = {
		{ "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
		  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", true },
		{ "application/openmetrics-text; version=1.0.0", true },
		{ "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", false },
		{ "text/plain,application/openmetrics-text;q=0.5", false },
		{ "application/openmetrics-text;q=0", false },
		{ "*/*", false },
		{ "", false },
		{ NULL, false },
	};

	for (size_t i = 0; i < PC_ARRAY_LEN(cases); i++)
		cr_expect_eq(prom_accepts_openmetrics(cases[i].accept), cases[i].om, "Accept: %s", cases[i].accept ? cases[i].accept : "(none)");
}

/* The sample lines of an exposition (comments dropped), in place. */
static char *samples_of(char *text)
{
	char *w = text;

	for (char *line = text, *next; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (line[0] != '#') {
			memmove(w, line, (size_t)(next - line));
			w += next - line;
		}
	}
	*w = '\0';
	return text;
}

/* OpenMetrics: counters' families without _total (their samples keep it), UNIT lines for names
 * ending in a unit, no bare double quote in HELP, "# EOF" last; the samples as the text format's. */
Test(prom, openmetrics_families)
{
	struct prom_target t;
	struct census c;
	char *buf = NULL, *text;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	one_target(&t, &c, 4, 7, 2);
	cr_assert_eq(prom_write_openmetrics(f, &t, 1, 0), 0);
	fclose(f);
	cr_expect(len > 6 && strcmp(buf + len - 6, "# EOF\n") == 0, "no # EOF at the end");
	cr_expect(strstr(buf, "# HELP pycensus_censuses censuses") && strstr(buf, "# TYPE pycensus_censuses counter\n"
										  "pycensus_censuses_total{pid=\"7\",python=\"3.12.1\"} 1\n"), "%s", buf);
	cr_expect(strstr(buf, "# TYPE pycensus_gc_collections counter\npycensus_gc_collections_total{"), "%s", buf);
	cr_expect(!strstr(buf, "# TYPE pycensus_censuses_total"), "a counter family named with _total");
	cr_expect(strstr(buf, "# TYPE pycensus_census_duration_seconds gauge\n# UNIT pycensus_census_duration_seconds seconds\n"));
	cr_expect(strstr(buf, "# UNIT pycensus_kind_bytes bytes\n") && strstr(buf, "# UNIT pycensus_bytes bytes\n"));
	cr_expect(!strstr(buf, "# UNIT pycensus_kind_objects"), "objects is no unit");
	cr_expect(strstr(buf, "summed as kind=\\\"(other)\\\")"), "HELP's double quotes escaped: %s", buf);
	text = exposition(&t, 1);
	cr_expect_str_eq(samples_of(buf), samples_of(text), "OpenMetrics' samples are not the text format's");
	free(buf);
	free(text);
	prom_target_release(&t);
	census_release(&c);
}
