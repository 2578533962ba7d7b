/* csvread.c: RFC 4180 records into census rows. */
#include "common/compat.h"
#include "report/csvread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

#define MAXFIELDS 8

struct cursor {
	const char *s, *end, *name;
	unsigned line;        /* line of the next character */
	char *fields[MAXFIELDS];
	size_t nf;
	char *buf;            /* the current record's fields, NUL-separated */
	size_t len, cap;
};

static void put(struct cursor *c, char ch)
{
	xgrow((void **)&c->buf, &c->cap, c->len + 1, 1);
	c->buf[c->len++] = ch;
}

/* One quoted field, the opening quote already consumed. */
static int quoted(struct cursor *c, unsigned start, struct pc_err *e)
{
	for (;;) {
		if (c->s == c->end)
			return pc_fail(e, PC_EUSAGE, "%s:%u: unterminated quoted field", c->name, start);
		if (*c->s == '"') {
			if (c->s + 1 < c->end && c->s[1] == '"') {
				put(c, '"');
				c->s += 2;
				continue;
			}
			c->s++;
			return 0;
		}
		if (*c->s == '\n')
			c->line++;
		put(c, *c->s++);
	}
}

static bool at_eol(const struct cursor *c)
{
	return c->s == c->end || *c->s == '\n' || (*c->s == '\r' && c->s + 1 < c->end && c->s[1] == '\n');
}

/* Reads one record into c->fields; 1 when read, 0 at the end, -1 on a malformed record. */
static int record(struct cursor *c, struct pc_err *e)
{
	size_t offs[MAXFIELDS + 1];
	unsigned start = c->line;

	if (c->s == c->end)
		return 0;
	c->len = c->nf = 0;
	for (;;) {
		if (c->nf == MAXFIELDS)
			return pc_fail(e, PC_EUSAGE, "%s:%u: more than %d fields", c->name, start, MAXFIELDS);
		offs[c->nf++] = c->len;
		if (c->s < c->end && *c->s == '"') {
			c->s++;
			if (quoted(c, start, e) < 0)
				return -1;
		}
		while (!at_eol(c) && *c->s != ',') {
			if (*c->s == '"')
				return pc_fail(e, PC_EUSAGE, "%s:%u: stray quote in a field", c->name, start);
			put(c, *c->s++);
		}
		put(c, '\0');
		if (at_eol(c))
			break;
		c->s++; /* the comma */
	}
	c->s += c->s == c->end ? 0 : *c->s == '\r' ? 2 : 1;
	c->line++;
	for (size_t i = 0; i < c->nf; i++)
		c->fields[i] = c->buf + offs[i];
	return 1;
}

static int number(const struct cursor *c, const char *s, const char *what, unsigned line, uint64_t *v,
		  struct pc_err *e)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || *s == '+' || *s == ' ')
		return pc_fail(e, PC_EUSAGE, "%s:%u: %s '%s' is not a number", c->name, line, what, s);
	return 0;
}

static const char census_header[] = "index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind";
static const char series_header[] = "time_s,sample,kind,count,size";

/* Rebuilds the header line from the fields (quoting cannot occur in a valid one). */
static bool header_is(const struct cursor *c, const char *want)
{
	char line[256] = "";

	for (size_t i = 0; i < c->nf; i++) {
		if (strlen(line) + strlen(c->fields[i]) + 2 >= sizeof line)
			return false;
		if (i)
			strcat(line, ",");
		strcat(line, c->fields[i]);
	}
	return strcmp(line, want) == 0;
}

/* What the reader knows beyond the rows: the sample in progress, and the end-line bookkeeping of
 * the census (or sample) in progress. */
struct state {
	uint64_t first_sample, cur_sample;
	bool have;
	struct census cur;        /* series: the sample in progress */
	size_t rows;              /* data lines of the census (sample) in progress */
	uint64_t objects, size;   /* the sums of its kinds' rows */
	bool ended;               /* its end line was read */
};

/* No process holds more: x86-64 user space is 2^47 bytes (128 TiB). Bounding every total here keeps
 * a diff's signed deltas exact (a file of two rows of 2^63-1 wrapped its sums). */
#define MAX_TOTAL (1ULL << 47)

/* A row's count and size into a census whose totals stay within what a process can hold. */
static int add_row(const struct cursor *c, unsigned line, struct census *to, const char *kind, uint64_t count,
		   uint64_t size, struct pc_err *e)
{
	if (count > MAX_TOTAL - to->nobjects || size > MAX_TOTAL - to->total_size)
		return pc_fail(e, PC_EUSAGE, "%s:%u: the counts or sizes add up past 2^47, more than a process can hold: not a census",
			       c->name, line);
	census_add(to, kind, count, size);
	return 0;
}

static int cut_short(const struct cursor *c, unsigned line, const char *what, struct pc_err *e)
{
	return pc_fail(e, PC_EUSAGE, "%s:%u: %s: the file is cut short or was edited", c->name, line, what);
}

/* A data line of the census (sample) in progress; kind rows add to the sums the end line checks. */
static int tally(const struct cursor *c, unsigned line, struct state *st, bool kind, uint64_t count, uint64_t size,
		 struct pc_err *e)
{
	if (st->ended)
		return cut_short(c, line, "rows after the end line", e);
	st->rows++;
	if (kind) {
		st->objects += count;
		st->size += size;
	}
	return 0;
}

/* The census (sample) in progress is complete: pycensus ends each with its end line, so without
 * one the file lost its tail (a file made by hand needs one too: '# end,<rows>,<objects>,<bytes>'). */
static int finish(const struct cursor *c, unsigned line, struct csvcensus *out, struct state *st,
		  const struct census *done, struct pc_err *e)
{
	if (!st->ended)
		return cut_short(c, line, out->series ? "the sample before this line has no '# sample <k> end,...' line"
						      : "no '# end,...' line after the rows", e);
	out->npartial += census_partial(done);
	st->rows = 0;
	st->objects = st->size = 0;
	st->ended = false;
	return 0;
}

static int series_row(struct cursor *c, unsigned line, struct csvcensus *out, struct state *st,
		      struct pc_err *e)
{
	uint64_t sample, count, size;
	double t;
	char *end;
	bool kind = strcmp(c->fields[2], "[rss]") != 0 && strcmp(c->fields[2], "[pymalloc]") != 0;

	t = strtod(c->fields[0], &end);
	if (!*c->fields[0] || *end)
		return pc_fail(e, PC_EUSAGE, "%s:%u: time_s '%s' is not a number", c->name, line, c->fields[0]);
	if (number(c, c->fields[1], "sample", line, &sample, e) < 0 ||
	    number(c, c->fields[3], "count", line, &count, e) < 0 || number(c, c->fields[4], "size", line, &size, e) < 0)
		return -1;
	if (!st->have || sample != st->cur_sample) {
		if (st->have && sample < st->cur_sample)
			return pc_fail(e, PC_EUSAGE, "%s:%u: sample %llu after sample %llu", c->name, line,
				       (unsigned long long)sample, (unsigned long long)st->cur_sample);
		if (st->have && finish(c, line, out, st, &st->cur, e) < 0)
			return -1;
		if (!st->have) {
			st->first_sample = sample;
			out->t_first = t;
		}
		st->have = true;
		st->cur_sample = sample;
		out->nsamples++;
		out->t_last = t;
		census_release(&st->cur);
	}
	if (tally(c, line, st, kind, count, size, e) < 0)
		return -1;
	if (!kind)
		return 0;
	if (sample == st->first_sample && add_row(c, line, &out->first, c->fields[2], count, size, e) < 0)
		return -1;
	return add_row(c, line, &st->cur, c->fields[2], count, size, e);
}

static int census_row(struct cursor *c, unsigned line, struct csvcensus *out, struct state *st, struct pc_err *e)
{
	uint64_t count, size;

	if (number(c, c->fields[1], "count", line, &count, e) < 0 || number(c, c->fields[3], "size", line, &size, e) < 0 ||
	    tally(c, line, st, true, count, size, e) < 0)
		return -1;
	return add_row(c, line, &out->first, c->fields[7], count, size, e);
}

/* The censuses a comment is about: the one census, or the sample in progress (and the first
 * sample's copy while it is in progress). */
static size_t note_targets(struct csvcensus *out, struct state *st, struct census *to[2])
{
	if (!out->series) {
		to[0] = &out->first;
		return 1;
	}
	to[0] = &st->cur;
	to[1] = &out->first;
	return st->cur_sample == st->first_sample ? 2 : 1;
}

/* "end,<rows>,<objects>,<bytes>": what was written, against what was read. */
static int end_line(const struct cursor *c, unsigned line, struct state *st, struct pc_err *e)
{
	uint64_t rows, objects, size;

	if (c->nf != 4 || number(c, c->fields[1], "end rows", line, &rows, e) < 0 ||
	    number(c, c->fields[2], "end objects", line, &objects, e) < 0 ||
	    number(c, c->fields[3], "end bytes", line, &size, e) < 0)
		return c->nf != 4 ? pc_fail(e, PC_EUSAGE, "%s:%u: an end line has 4 fields, not %zu", c->name, line, c->nf) : -1;
	if (st->ended)
		return cut_short(c, line, "a second end line", e);
	if (rows != st->rows || objects != st->objects || size != st->size)
		return pc_fail(e, PC_EUSAGE, "%s:%u: the end line says %llu rows, %llu objects, %llu bytes but the rows above add up to %zu, %llu, %llu: the file is cut short or was edited",
			       c->name, line, (unsigned long long)rows, (unsigned long long)objects,
			       (unsigned long long)size, st->rows, (unsigned long long)st->objects,
			       (unsigned long long)st->size);
	st->ended = true;
	return 0;
}

/* A comment line whose payload (after "# " and any "sample <k> ") is a CSV record. */
static int note_record(struct cursor *c, unsigned line, struct csvcensus *out, struct state *st, struct pc_err *e)
{
	struct census *to[2];
	size_t n = note_targets(out, st, to);
	uint64_t v;
	int r = record(c, e);

	if (r <= 0)
		return r < 0 ? -1 : 0;
	if (strcmp(c->fields[0], "end") == 0)
		return end_line(c, line, st, e);
	if (st->ended)
		return cut_short(c, line, "a comment after the end line", e);
	if (strcmp(c->fields[0], "dropped") == 0 && c->nf == 3) {
		if (number(c, c->fields[1], "dropped count", line, &v, e) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			census_drop(to[i], c->fields[2], v);
		return 0;
	}
	if (strcmp(c->fields[0], "dropped_pools") == 0 && c->nf == 2) {
		if (number(c, c->fields[1], "dropped pools", line, &v, e) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			to[i]->dropped_pools += v;
		return 0;
	}
	return pc_fail(e, PC_EUSAGE, "%s:%u: a '# %s' line with %zu fields", c->name, line, c->fields[0], c->nf);
}

static bool starts(const char *s, const char *end, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(end - s) >= n && memcmp(s, word, n) == 0;
}

static bool skip(const char **s, const char *end, const char *word)
{
	if (!starts(*s, end, word))
		return false;
	*s += strlen(word);
	return true;
}

/* "sample <k> " in a time series: k must be the sample whose rows came last. */
static int note_sample(struct cursor *c, unsigned line, const char **s, const char *eol, const struct csvcensus *out,
		       const struct state *st, struct pc_err *e)
{
	unsigned long long k = 0;
	const char *p = *s, *num;

	if (!skip(&p, eol, "sample "))
		return out->series ? pc_fail(e, PC_EUSAGE, "%s:%u: a comment of a time series names no sample", c->name, line) : 0;
	if (!out->series)
		return pc_fail(e, PC_EUSAGE, "%s:%u: a sample's comment in a census file", c->name, line);
	for (num = p; p < eol && *p >= '0' && *p <= '9' && k < (1ULL << 40); p++)
		k = k * 10 + (unsigned long long)(*p - '0');
	if (p == eol || *p != ' ' || !st->have || k != st->cur_sample)
		return pc_fail(e, PC_EUSAGE, "%s:%u: a comment of sample '%.*s' after the rows of sample %llu", c->name, line,
			       (int)(p - num), num, (unsigned long long)st->cur_sample);
	*s = p + 1;
	return 0;
}

/* A line starting with '#'. */
static int comment(struct cursor *c, struct csvcensus *out, struct state *st, struct pc_err *e)
{
	const char *s = c->s + 1, *eol = memchr(s, '\n', (size_t)(c->end - s));
	unsigned line = c->line;
	struct census *to[2];
	size_t n, len;

	eol = eol ? eol : c->end;
	skip(&s, eol, " ");
	if (note_sample(c, line, &s, eol, out, st, e) < 0)
		return -1;
	if (!skip(&s, eol, "warning: ")) {
		if (starts(s, eol, "dropped,") || starts(s, eol, "dropped_pools,") || starts(s, eol, "end,")) {
			c->s = s;
			return note_record(c, line, out, st, e);
		}
	} else {
		if (st->ended)
			return cut_short(c, line, "a comment after the end line", e);
		len = (size_t)(eol - s) - (eol > s && eol[-1] == '\r');
		n = note_targets(out, st, to);
		for (size_t i = 0; i < n; i++)
			census_warn(to[i], "%.*s", (int)(len < 500 ? len : 500), s);
	}
	/* any other comment is skipped */
	c->s = eol < c->end ? eol + 1 : eol;
	c->line++;
	return 0;
}

static void copy_census(struct census *to, const struct census *from)
{
	for (size_t i = 0; i < from->nrows; i++)
		census_add(to, from->rows[i].kind, from->rows[i].count, from->rows[i].size);
	census_copy_notes(to, from);
}

static int body(struct cursor *c, struct csvcensus *out, struct pc_err *e)
{
	struct state st = { 0 };
	size_t want = out->series ? 5 : 8;
	int r;

	for (;;) {
		unsigned line = c->line;

		if (c->s < c->end && *c->s == '#') {
			if ((r = comment(c, out, &st, e)) < 0)
				break;
			continue;
		}
		r = record(c, e);
		if (r <= 0)
			break;
		if (c->nf == 1 && !c->fields[0][0])
			continue; /* an empty line */
		if (c->nf != want) {
			r = pc_fail(e, PC_EUSAGE, "%s:%u: %zu fields, expected %zu", c->name, line, c->nf, want);
			break;
		}
		if ((out->series ? series_row(c, line, out, &st, e) : census_row(c, line, out, &st, e)) < 0) {
			r = -1;
			break;
		}
	}
	if (r == 0 && (!out->series || st.have))
		r = finish(c, c->line, out, &st, out->series ? &st.cur : &out->first, e);
	if (r == 0)
		copy_census(&out->last, out->series ? &st.cur : &out->first);
	census_release(&st.cur);
	return r;
}

/* A pycensus CSV ends every line with LF: a last line without one was cut mid-line. */
static int cut_mid_line(const char *name, const char *text, size_t len, struct pc_err *e)
{
	unsigned line = 1;

	if (!len || text[len - 1] == '\n')
		return 0;
	for (size_t i = 0; i < len; i++)
		line += text[i] == '\n';
	return pc_fail(e, PC_EUSAGE, "%s:%u: the last line has no line end: the file is cut short", name, line);
}

int csvread_text(const char *name, const char *text, size_t len, struct csvcensus *out, struct pc_err *e)
{
	struct cursor c = { .s = text, .end = text + len, .name = name, .line = 1 };
	int r;

	memset(out, 0, sizeof *out);
	if (cut_mid_line(name, text, len, e) < 0)
		return -1;
	r = record(&c, e);
	if (r == 0)
		r = pc_fail(e, PC_EUSAGE, "%s:1: empty file, expected a pycensus CSV header", name);
	else if (r > 0 && header_is(&c, series_header))
		out->series = true;
	else if (r > 0 && !header_is(&c, census_header))
		r = pc_fail(e, PC_EUSAGE, "%s:1: not a pycensus CSV: the header must be '%s' (snap -f csv) or '%s' (run -f csv)",
			    name, census_header, series_header);
	if (r > 0)
		r = body(&c, out, e);
	if (r == 0 && out->series && out->nsamples == 0)
		r = pc_fail(e, PC_EUSAGE, "%s: a time series without samples", name);
	free(c.buf);
	if (r < 0)
		csvcensus_release(out);
	else if (!out->series)
		out->nsamples = 1;
	return r < 0 ? -1 : 0;
}

int csvread_file(const char *path, struct csvcensus *out, struct pc_err *e)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, r;
	int rc;

	memset(out, 0, sizeof *out);
	if (!f)
		return pc_fail(e, PC_EUSAGE, "cannot read %s: %s", path, strerror(errno));
	do {
		xgrow((void **)&buf, &cap, len + 65536, 1);
		r = fread(buf + len, 1, cap - len, f);
		len += r;
	} while (r > 0);
	rc = ferror(f) ? pc_fail(e, PC_EUSAGE, "cannot read %s: %s", path, strerror(errno ? errno : EIO)) : 0;
	if (f != stdin)
		fclose(f);
	if (rc == 0)
		rc = csvread_text(path, buf, len, out, e);
	free(buf);
	return rc;
}

void csvcensus_release(struct csvcensus *c)
{
	census_release(&c->first);
	census_release(&c->last);
	memset(c, 0, sizeof *c);
}
