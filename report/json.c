/* json.c: the streaming JSON writer. */
#include "common/compat.h"
#include "report/json.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

void json_init(struct json *j, FILE *out, bool pretty)
{
	memset(j, 0, sizeof *j);
	j->out = out;
	j->pretty = pretty;
}

static void put_string(const struct json *j, const char *s)
{
	FILE *out = j->out;

	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (j->html_safe && (*p == '<' || *p == '>' || *p == '&'))
			fprintf(out, "\\u%04x", *p);
		else if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void indent(struct json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->out);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

/* Everything a value needs before it: the comma after a sibling, the indent, the key. */
static void prefix(struct json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->need_comma[j->depth - 1])
			fputc(',', j->out);
		j->need_comma[j->depth - 1] = true;
		indent(j);
	}
	if (key) {
		put_string(j, key);
		fputs(j->pretty ? ": " : ":", j->out);
	}
}

static void open_(struct json *j, const char *key, char c)
{
	prefix(j, key);
	fputc(c, j->out);
	if (j->depth < JSON_MAX_DEPTH)
		j->need_comma[j->depth] = false;
	j->depth++;
}

static void close_(struct json *j, char c)
{
	bool had = j->depth > 0 && j->depth <= JSON_MAX_DEPTH && j->need_comma[j->depth - 1];

	j->depth--;
	if (had)
		indent(j);
	fputc(c, j->out);
}

void json_begin_object(struct json *j, const char *key) { open_(j, key, '{'); }
void json_end_object(struct json *j) { close_(j, '}'); }
void json_begin_array(struct json *j, const char *key) { open_(j, key, '['); }
void json_end_array(struct json *j) { close_(j, ']'); }

void json_str(struct json *j, const char *key, const char *v)
{
	prefix(j, key);
	if (v)
		put_string(j, v);
	else
		fputs("null", j->out);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	prefix(j, key);
	fprintf(j->out, "%" PRIu64, v);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	prefix(j, key);
	fprintf(j->out, "%" PRId64, v);
}

void json_double(struct json *j, const char *key, double v)
{
	prefix(j, key);
	if (isfinite(v))
		fprintf(j->out, "%.6g", v);
	else
		fputs("null", j->out);
}

void json_bool(struct json *j, const char *key, bool v)
{
	prefix(j, key);
	fputs(v ? "true" : "false", j->out);
}

void json_finish(struct json *j)
{
	fputc('\n', j->out);
}
