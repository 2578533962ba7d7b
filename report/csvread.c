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

struct series_state {
	uint64_t first_sample, cur_sample;
	bool have;
	struct census cur;
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

static int series_row(struct cursor *c, unsigned line, struct csvcensus *out, struct series_state *st,
		      struct pc_err *e)
{
	uint64_t sample, count, size;
	double t;
	char *end;

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
	if (strcmp(c->fields[2], "[rss]") == 0 || strcmp(c->fields[2], "[pymalloc]") == 0)
		return 0;
	if (sample == st->first_sample && add_row(c, line, &out->first, c->fields[2], count, size, e) < 0)
		return -1;
	return add_row(c, line, &st->cur, c->fields[2], count, size, e);
}

static int census_row(struct cursor *c, unsigned line, struct csvcensus *out, struct pc_err *e)
{
	uint64_t count, size;

	if (number(c, c->fields[1], "count", line, &count, e) < 0 || number(c, c->fields[3], "size", line, &size, e) < 0)
		return -1;
	return add_row(c, line, &out->first, c->fields[7], count, size, e);
}

static void copy_rows(struct census *to, const struct census *from)
{
	for (size_t i = 0; i < from->nrows; i++)
		census_add(to, from->rows[i].kind, from->rows[i].count, from->rows[i].size);
}

static int body(struct cursor *c, struct csvcensus *out, struct pc_err *e)
{
	struct series_state st = { 0 };
	size_t want = out->series ? 5 : 8;
	int r;

	for (;;) {
		unsigned line = c->line;

		r = record(c, e);
		if (r <= 0)
			break;
		if (c->nf == 1 && !c->fields[0][0])
			continue; /* an empty line */
		if (c->nf != want) {
			r = pc_fail(e, PC_EUSAGE, "%s:%u: %zu fields, expected %zu", c->name, line, c->nf, want);
			break;
		}
		if ((out->series ? series_row(c, line, out, &st, e) : census_row(c, line, out, e)) < 0) {
			r = -1;
			break;
		}
	}
	if (r == 0)
		copy_rows(&out->last, out->series ? &st.cur : &out->first);
	census_release(&st.cur);
	return r;
}

int csvread_text(const char *name, const char *text, size_t len, struct csvcensus *out, struct pc_err *e)
{
	struct cursor c = { .s = text, .end = text + len, .name = name, .line = 1 };
	int r;

	memset(out, 0, sizeof *out);
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
