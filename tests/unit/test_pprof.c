/* test_pprof.c: unit tests for report/protobuf (varints, keys, length-delimited and packed fields,
 * against the bytes the protobuf encoding guide gives) and report/pprof (string table, frames,
 * and whole profiles of hand-built censuses and trees decoded by an independent reader: gzip -dc
 * and protoc --decode with tests/unit/fixtures/profile.proto, a schema written from the format's
 * documentation). Runs from the repository root (make unit). */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "report/pprof.h"
#include "report/protobuf.h"

#define SCHEMA_DIR "tests/unit/fixtures"

static void expect_bytes(const struct pb *b, const uint8_t *want, size_t n, const char *what)
{
	cr_expect_eq(b->n, n, "%s: %zu bytes, want %zu", what, b->n, n);
	for (size_t i = 0; i < n && i < b->n; i++)
		cr_expect_eq(b->v[i], want[i], "%s: byte %zu is %02x, want %02x", what, i, b->v[i], want[i]);
}

Test(pprof, varints)
{
	static const struct {
		uint64_t v;
		uint8_t bytes[10];
		size_t n;
	} cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x01 }, 1 },
		{ 127, { 0x7f }, 1 },
		{ 128, { 0x80, 0x01 }, 2 },
		{ 150, { 0x96, 0x01 }, 2 },   /* the encoding guide's example */
		{ 300, { 0xac, 0x02 }, 2 },
		{ 1ull << 40, { 0x80, 0x80, 0x80, 0x80, 0x80, 0x20 }, 6 },
		{ UINT64_MAX, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 10 },
		/* int64 -1 as its two's complement, as int64 fields carry it */
		{ (uint64_t)(int64_t)-1, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 10 },
	};
	struct pb b = { 0 };

	for (size_t i = 0; i < PC_ARRAY_LEN(cases); i++) {
		char what[48];
		pb_clear(&b);
		pb_varint(&b, cases[i].v);
		snprintf(what, sizeof what, "varint %" PRIu64, cases[i].v);
		expect_bytes(&b, cases[i].bytes, cases[i].n, what);
	}
	pb_release(&b);
}

Test(pprof, fields)
{
	/* the encoding guide's examples: field 1 = 150; field 2 = "testing"; packed field 4 = [3, 270, 86942] */
	static const uint8_t uint_field[] = { 0x08, 0x96, 0x01 },
			     string_field[] = { 0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g' },
			     packed_field[] = { 0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05 },
			     nested[] = { 0x1a, 0x03, 0x08, 0x96, 0x01 };
	static const uint64_t packed[] = { 3, 270, 86942 };
	struct pb b = { 0 }, m = { 0 };

	pb_uint(&b, 1, 150);
	expect_bytes(&b, uint_field, sizeof uint_field, "uint field");
	pb_clear(&b);
	pb_bytes(&b, 2, "testing", 7);
	expect_bytes(&b, string_field, sizeof string_field, "string field");
	pb_clear(&b);
	pb_packed(&b, 4, packed, 3);
	expect_bytes(&b, packed_field, sizeof packed_field, "packed field");
	pb_clear(&b);
	pb_packed(&b, 4, packed, 0);
	cr_expect_eq(b.n, 0, "an empty packed field is left out");
	pb_uint(&m, 1, 150);
	pb_message(&b, 3, &m);
	expect_bytes(&b, nested, sizeof nested, "embedded message");
	pb_clear(&b);
	pb_key(&b, 16, 2); /* field 16 needs a two-byte key */
	expect_bytes(&b, (const uint8_t[]){ 0x82, 0x01 }, 2, "key of field 16");
	pb_release(&b);
	pb_release(&m);
}

Test(pprof, string_table_and_frames)
{
	struct pprof p;
	uint64_t a, b;
	const char *stack1[] = { "__main__", "__main__.Product" }, *stack2[] = { "builtins", "str" },
		   *stack3[] = { "str", "__main__.Product" }; /* a module named like a kind */

	pprof_init(&p);
	cr_expect_str_eq(p.strings[0], "", "string_table[0] is the empty string");
	a = pprof_string(&p, "kind");
	b = pprof_string(&p, "other");
	cr_expect_neq(a, b);
	cr_expect_eq(pprof_string(&p, "kind"), a, "a string is interned once");
	cr_expect_eq(pprof_string(&p, ""), 0);
	pprof_sample(&p, stack1, 2, 1, 56);
	pprof_sample(&p, stack2, 2, 2, 100);
	pprof_sample(&p, stack3, 2, 3, 168);
	/* __main__.Product (leaf), __main__, str (leaf), builtins, str (depth 1) */
	cr_expect_eq(p.nframes, 5, "%zu frames", p.nframes);
	size_t strs = 0;
	for (size_t i = 0; i < p.nstrings; i++)
		strs += strcmp(p.strings[i], "str") == 0;
	cr_expect_eq(strs, 1, "the two 'str' frames share one string");
	pprof_release(&p);
}

/* A profile as protoc --decode prints it, reduced to what the tests check. */
#define MAX_ITEMS 64
struct decoded {
	char *strings[MAX_ITEMS];
	size_t nstrings;
	struct {
		uint64_t loc[8];
		size_t nloc;
		int64_t v[4];
		size_t nv;
	} samples[MAX_ITEMS];
	size_t nsamples;
	uint64_t loc_id[MAX_ITEMS], loc_fn[MAX_ITEMS], fn_id[MAX_ITEMS], fn_name[MAX_ITEMS];
	size_t nlocs, nfns;
	int64_t type[2][2], period_type[2], comments[MAX_ITEMS];
	size_t ntypes, ncomments;
	int64_t time_nanos, period, default_type;
	bool has_functions;
};

/* A text-format string literal (C escapes, octal for other bytes) without its quotes. */
static char *unquote(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	cr_assert(*s == '"', "not a string: %s", s);
	for (s++; *s && *s != '"'; s++) {
		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		s++;
		if (*s >= '0' && *s <= '7') {
			int v = 0;
			for (int k = 0; k < 3 && *s >= '0' && *s <= '7'; k++, s++)
				v = v * 8 + (*s - '0');
			*o++ = (char)v;
			s--;
		} else {
			*o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s == 'r' ? '\r' : *s;
		}
	}
	*o = '\0';
	return out;
}

static void decode_line(struct decoded *d, const char *block, const char *line)
{
	int64_t v;

	if (strncmp(line, "string_table: ", 14) == 0 && d->nstrings < MAX_ITEMS)
		d->strings[d->nstrings++] = unquote(line + 14);
	else if (sscanf(line, "comment: %" SCNd64, &v) == 1 && d->ncomments < MAX_ITEMS)
		d->comments[d->ncomments++] = v;
	else if (sscanf(line, "time_nanos: %" SCNd64, &v) == 1)
		d->time_nanos = v;
	else if (sscanf(line, "period: %" SCNd64, &v) == 1)
		d->period = v;
	else if (sscanf(line, "default_sample_type: %" SCNd64, &v) == 1)
		d->default_type = v;
	else if (strcmp(block, "sample_type") == 0 && d->ntypes <= 2 && sscanf(line, "type: %" SCNd64, &v) == 1)
		d->type[d->ntypes - 1][0] = v;
	else if (strcmp(block, "sample_type") == 0 && d->ntypes <= 2 && sscanf(line, "unit: %" SCNd64, &v) == 1)
		d->type[d->ntypes - 1][1] = v;
	else if (strcmp(block, "period_type") == 0 && sscanf(line, "type: %" SCNd64, &v) == 1)
		d->period_type[0] = v;
	else if (strcmp(block, "period_type") == 0 && sscanf(line, "unit: %" SCNd64, &v) == 1)
		d->period_type[1] = v;
	else if (strcmp(block, "sample") == 0 && sscanf(line, "location_id: %" SCNd64, &v) == 1 &&
		 d->samples[d->nsamples - 1].nloc < 8)
		d->samples[d->nsamples - 1].loc[d->samples[d->nsamples - 1].nloc++] = (uint64_t)v;
	else if (strcmp(block, "sample") == 0 && sscanf(line, "value: %" SCNd64, &v) == 1 &&
		 d->samples[d->nsamples - 1].nv < 4)
		d->samples[d->nsamples - 1].v[d->samples[d->nsamples - 1].nv++] = v;
	else if (strcmp(block, "location") == 0 && sscanf(line, "id: %" SCNd64, &v) == 1)
		d->loc_id[d->nlocs - 1] = (uint64_t)v;
	else if (strcmp(block, "line") == 0 && sscanf(line, "function_id: %" SCNd64, &v) == 1)
		d->loc_fn[d->nlocs - 1] = (uint64_t)v;
	else if (strcmp(block, "function") == 0 && sscanf(line, "id: %" SCNd64, &v) == 1)
		d->fn_id[d->nfns - 1] = (uint64_t)v;
	else if (strcmp(block, "function") == 0 && sscanf(line, "name: %" SCNd64, &v) == 1)
		d->fn_name[d->nfns - 1] = (uint64_t)v;
	else if (strcmp(block, "mapping") == 0 && strcmp(line, "has_functions: true") == 0)
		d->has_functions = true;
}

/* gzip -dc and protoc --decode over the file at path. */
static void decode(const char *path, struct decoded *d)
{
	char cmd[512], line[4096], block[8][32] = { "" };
	size_t depth = 0;
	FILE *f;

	cr_assert(access(SCHEMA_DIR "/profile.proto", R_OK) == 0, "run from the repository root (make unit)");
	cr_assert(system("command -v protoc >/dev/null") == 0,
		  "protoc missing: tools/install-deps installs protobuf-compiler");
	memset(d, 0, sizeof *d);
	snprintf(cmd, sizeof cmd,
		 "gzip -dc %s | protoc --decode=perftools.profiles.Profile -I %s %s/profile.proto", path,
		 SCHEMA_DIR, SCHEMA_DIR);
	f = popen(cmd, "r");
	cr_assert(f);
	while (fgets(line, sizeof line, f)) {
		char *s = line + strspn(line, " ");
		size_t n = strcspn(s, "\n");
		s[n] = '\0';
		if (n > 2 && strcmp(s + n - 2, " {") == 0 && depth < 7) {
			snprintf(block[++depth], sizeof block[0], "%.*s", (int)(n - 2), s);
			d->nsamples += strcmp(block[depth], "sample") == 0 && d->nsamples < MAX_ITEMS;
			d->ntypes += strcmp(block[depth], "sample_type") == 0;
			d->nlocs += strcmp(block[depth], "location") == 0 && d->nlocs < MAX_ITEMS;
			d->nfns += strcmp(block[depth], "function") == 0 && d->nfns < MAX_ITEMS;
		} else if (strcmp(s, "}") == 0 && depth) {
			depth--;
		} else {
			decode_line(d, block[depth], s);
		}
	}
	cr_assert_eq(pclose(f), 0, "gzip -dc | protoc --decode failed on %s", path);
}

static const char *str(const struct decoded *d, int64_t i)
{
	return i >= 0 && (size_t)i < d->nstrings ? d->strings[i] : "(out of the string table)";
}

/* The name of location id's function. */
static const char *frame(const struct decoded *d, uint64_t id)
{
	for (size_t l = 0; l < d->nlocs; l++)
		for (size_t f = 0; d->loc_id[l] == id && f < d->nfns; f++)
			if (d->fn_id[f] == d->loc_fn[l])
				return str(d, (int64_t)d->fn_name[f]);
	return "(no such location)";
}

/* How many samples have exactly this stack (leaf first) and these values. */
static int samples_of(const struct decoded *d, const char *const *stack, size_t n, int64_t objects, int64_t bytes)
{
	int found = 0;

	for (size_t i = 0; i < d->nsamples; i++) {
		bool same = d->samples[i].nloc == n && d->samples[i].nv == 2 && d->samples[i].v[0] == objects &&
			    d->samples[i].v[1] == bytes;
		for (size_t k = 0; same && k < n; k++)
			same = strcmp(frame(d, d->samples[i].loc[k]), stack[k]) == 0;
		found += same;
	}
	return found;
}

static bool has_comment(const struct decoded *d, const char *text)
{
	for (size_t i = 0; i < d->ncomments; i++)
		if (strstr(str(d, d->comments[i]), text))
			return true;
	return false;
}

static void expect_header(const struct decoded *d, int64_t time_nanos)
{
	cr_expect_str_eq(str(d, 0), "");
	cr_expect_eq(d->ntypes, 2);
	cr_expect_str_eq(str(d, d->type[0][0]), "inuse_objects");
	cr_expect_str_eq(str(d, d->type[0][1]), "count");
	cr_expect_str_eq(str(d, d->type[1][0]), "inuse_space");
	cr_expect_str_eq(str(d, d->type[1][1]), "bytes");
	cr_expect_str_eq(str(d, d->default_type), "inuse_space");
	cr_expect_str_eq(str(d, d->period_type[0]), "space");
	cr_expect_str_eq(str(d, d->period_type[1]), "bytes");
	cr_expect_eq(d->period, 1);
	cr_expect_eq(d->time_nanos, time_nanos);
	cr_expect(d->has_functions, "the mapping says its functions are known");
	cr_expect(has_comment(d, "pycensus test-1.0"));
}

static void free_decoded(struct decoded *d)
{
	for (size_t i = 0; i < d->nstrings; i++)
		free(d->strings[i]);
}

/* Writes via write(f) into a temporary file and decodes it. */
static void write_and_decode(int (*write)(FILE *, void *), void *arg, struct decoded *d)
{
	char path[] = "/tmp/pycensus-pprof-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	cr_assert(f);
	cr_assert_eq(write(f, arg), 0);
	fclose(f);
	decode(path, d);
	unlink(path);
}

#define T_NANOS 1764754000123456789ll

static void fill(struct census *c, int pid, uint64_t scale)
{
	census_init(c);
	c->pid = pid;
	snprintf(c->version, sizeof c->version, "3.12.1");
	census_add_typed(c, "__main__.Product", "__main__.Product", "__main__", 4321 * scale, 241976 * scale);
	census_add_typed(c, "dict of __main__.Product", "dict", "builtins", 100, 7200);
	census_add(c, "str", (1ull << 40) * scale, 3ull << 41); /* multi-byte varints */
	census_add_typed(c, "odd, \"kind\"\n\xc3\xa9", "odd", "my.mod", 1, 16); /* bytes as they are */
}

static int write_census(FILE *f, void *arg)
{
	struct pc_err e = { 0 };
	return report_pprof(f, arg, "test-1.0", T_NANOS, &e);
}

Test(pprof, census_decoded_by_protoc)
{
	struct census c;
	struct decoded d;

	fill(&c, 1234, 1);
	census_warn(&c, "a warning from the census");
	census_drop(&c, "str", 3);
	census_warn_dropped(&c);
	write_and_decode(write_census, &c, &d);
	expect_header(&d, T_NANOS);
	cr_expect_eq(d.nsamples, c.nrows, "%zu samples for %zu kinds", d.nsamples, c.nrows);
	for (size_t i = 0; i < c.nrows; i++) {
		const char *stack[] = { c.rows[i].kind, c.rows[i].module };
		cr_expect_eq(samples_of(&d, stack, 2, (int64_t)c.rows[i].count, (int64_t)c.rows[i].size), 1,
			     "one sample %s <- %s", c.rows[i].kind, c.rows[i].module);
	}
	cr_expect(has_comment(&d, "pid 1234"));
	cr_expect(has_comment(&d, "python 3.12.1"));
	cr_expect(has_comment(&d, "inuse_space: sys.getsizeof"));
	cr_expect(has_comment(&d, "warning: a warning from the census"));
	cr_expect(has_comment(&d, "dropped 3 str"));
	cr_expect(has_comment(&d, "dropped objects 3 of 1 kinds, dropped pools 0: the census is partial"));
	free_decoded(&d);
	census_release(&c);
}

static int write_tree(FILE *f, void *arg)
{
	struct pc_err e = { 0 };
	return report_tree_pprof(f, arg, "test-1.0", T_NANOS, &e);
}

Test(pprof, tree_decoded_by_protoc)
{
	struct tree t;
	struct tree_member *m;
	struct decoded d;

	tree_init(&t, 100);
	m = tree_add(&t);
	m->pid = 100;
	snprintf(m->cmdline, sizeof m->cmdline, "python3 app.py");
	fill(&m->c, 100, 1);
	m = tree_add(&t);
	m->pid = 101;
	m->code = 5;
	snprintf(m->why, sizeof m->why, "not a Python process");
	m = tree_add(&t);
	m->pid = 102;
	snprintf(m->cmdline, sizeof m->cmdline, "python3 worker.py");
	fill(&m->c, 102, 2);
	t.censused = 2;
	write_and_decode(write_tree, &t, &d);
	expect_header(&d, T_NANOS);
	cr_expect_eq(d.nsamples, t.v[0].c.nrows + t.v[2].c.nrows);
	for (size_t k = 0; k < 3; k += 2) {
		const struct census *c = &t.v[k].c;
		const char *root = k ? "102 python3 worker.py" : "100 python3 app.py";
		for (size_t i = 0; i < c->nrows; i++) {
			const char *stack[] = { c->rows[i].kind, c->rows[i].module, root };
			cr_expect_eq(samples_of(&d, stack, 3, (int64_t)c->rows[i].count, (int64_t)c->rows[i].size), 1,
				     "one sample %s <- %s <- %s", c->rows[i].kind, c->rows[i].module, root);
		}
	}
	cr_expect(has_comment(&d, "skipped 101: not a Python process"));
	cr_expect(has_comment(&d, "process 102 python 3.12.1"));
	cr_expect(has_comment(&d, "process tree of pid 100: 3 processes, 2 censused"));
	free_decoded(&d);
	tree_release(&t);
}

/* A write that fails reaches the caller as PC_EOUTPUT. */
Test(pprof, write_failure)
{
	struct census c;
	struct pc_err e = { 0 };
	FILE *f = fopen("/dev/full", "w");

	cr_assert(f);
	fill(&c, 1, 1);
	cr_expect_eq(report_pprof(f, &c, "test-1.0", T_NANOS, &e), -1);
	cr_expect_eq(e.code, PC_EOUTPUT);
	fclose(f);
	census_release(&c);
}
