/* census.c: the census model's rows and warnings. */
#include "common/compat.h"
#include "model/census.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

void census_init(struct census *c)
{
	memset(c, 0, sizeof *c);
}

void census_release(struct census *c)
{
	for (size_t i = 0; i < c->nwarnings; i++)
		free(c->warnings[i]);
	for (size_t i = 0; i < c->ndropped; i++)
		free(c->dropped[i].kind);
	free(c->rows);
	strindex_release(&c->kinds);
	strpool_release(&c->strings);
	free(c->warnings);
	free(c->dropped);
	memset(c, 0, sizeof *c);
}

static const char *row_kind(const void *rows, size_t i)
{
	return ((const struct census_row *)rows)[i].kind;
}

size_t census_row_index(const struct census *c, const char *kind)
{
	return strindex_find(&c->kinds, kind, row_kind, c->rows);
}

void census_reserve(struct census *c, size_t n)
{
	xgrow((void **)&c->rows, &c->caprows, c->nrows + n, sizeof *c->rows);
	strindex_reserve(&c->kinds, c->nrows + n, row_kind, c->rows);
}

static struct census_row *row_of(struct census *c, const char *kind, const char *type, const char *module)
{
	const char *kind_in = kind;
	size_t i = c->nrows, at = strindex_find_or_add(&c->kinds, kind, i, row_kind, c->rows);

	if (at != i)
		return &c->rows[at];
	xgrow((void **)&c->rows, &c->caprows, c->nrows + 1, sizeof *c->rows);
	kind = strpool_add(&c->strings, kind);
	/* a class's row names it twice (kind and type): the same string, not compared */
	type = type == kind_in || strcmp(type, kind) == 0 ? kind
							  : strpool_add_again(&c->strings, type, &c->last_type);
	module = strpool_add_again(&c->strings, module, &c->last_module);
	c->rows[i] = (struct census_row){ kind, type, module, 0, 0 };
	c->nrows++;
	return &c->rows[i];
}

void census_add_typed(struct census *c, const char *kind, const char *type, const char *module, uint64_t count,
		      uint64_t size)
{
	struct census_row *r = row_of(c, kind, type, module);

	r->count += count;
	r->size += size;
	c->nobjects += count;
	c->total_size += size;
}

void census_add(struct census *c, const char *kind, uint64_t count, uint64_t size)
{
	census_add_typed(c, kind, kind, "builtins", count, size);
}

void census_add_unattributed(struct census *c, uint64_t blocks, uint64_t bytes)
{
	struct census_row *r = row_of(c, CENSUS_UNATTRIBUTED, CENSUS_UNATTRIBUTED, CENSUS_UNATTRIBUTED);

	r->count += blocks;
	r->size += bytes;
	c->total_size += bytes;
}

void census_warn(struct census *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < c->nwarnings; i++)
		if (strcmp(c->warnings[i], buf) == 0)
			return;
	xgrow((void **)&c->warnings, &c->capwarnings, c->nwarnings + 1, sizeof *c->warnings);
	c->warnings[c->nwarnings++] = xstrdup(buf);
}

static bool drop_before(const struct census_drop *a, const struct census_drop *b)
{
	return a->count != b->count ? a->count > b->count : strcmp(a->kind, b->kind) < 0;
}

void census_drop(struct census *c, const char *kind, uint64_t n)
{
	size_t i;

	if (!n)
		return;
	kind = kind ? kind : CENSUS_UNKNOWN_KIND;
	for (i = 0; i < c->ndropped && strcmp(c->dropped[i].kind, kind) != 0; i++)
		;
	if (i == c->ndropped) {
		xgrow((void **)&c->dropped, &c->capdropped, c->ndropped + 1, sizeof *c->dropped);
		c->dropped[c->ndropped++] = (struct census_drop){ xstrdup(kind), 0 };
	}
	c->dropped[i].count += n;
	c->dropped_objects += n;
	/* kinds are few: one step of insertion sort keeps the order */
	for (; i > 0 && drop_before(&c->dropped[i], &c->dropped[i - 1]); i--) {
		struct census_drop t = c->dropped[i];
		c->dropped[i] = c->dropped[i - 1];
		c->dropped[i - 1] = t;
	}
}

bool census_partial(const struct census *c)
{
	return c->dropped_objects || c->dropped_pools;
}

/* Appends to buf[*at..len), keeping it terminated and *at within it. */
static void put(char *buf, size_t len, size_t *at, const char *fmt, ...) PC_PRINTF(4, 5);
static void put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at + 1 >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	*at = n < 0 ? *at : *at + (size_t)n < len ? *at + (size_t)n : len - 1;
}

void census_dropped_line(const struct census *c, unsigned kinds, char *buf, size_t len)
{
	size_t at = 0, shown = c->ndropped < kinds ? c->ndropped : kinds;

	if (!len)
		return;
	buf[0] = '\0';
	if (!census_partial(c))
		return;
	put(buf, len, &at, "the census is partial: dropped %llu objects", (unsigned long long)c->dropped_objects);
	if (c->dropped_pools)
		put(buf, len, &at, " and %llu pool%s", (unsigned long long)c->dropped_pools, c->dropped_pools == 1 ? "" : "s");
	for (size_t i = 0; i < shown; i++) {
		/* a kind that would not fit whole, with room left for the "more" tail, is left out */
		if (at + strlen(c->dropped[i].kind) + 24 + 32 > len) {
			shown = i;
			break;
		}
		put(buf, len, &at, "%s%llu %s", i ? ", " : ": ", (unsigned long long)c->dropped[i].count, c->dropped[i].kind);
	}
	if (c->ndropped > shown)
		put(buf, len, &at, "%s%zu more kind%s", shown ? " and " : ": ", c->ndropped - shown,
		    c->ndropped - shown == 1 ? "" : "s");
}

void census_warn_dropped(struct census *c)
{
	char line[400];

	census_dropped_line(c, 8, line, sizeof line);
	if (line[0])
		census_warn(c, "%s", line);
}

void census_copy_notes(struct census *to, const struct census *from)
{
	for (size_t i = 0; i < from->nwarnings; i++)
		census_warn(to, "%s", from->warnings[i]);
	for (size_t i = 0; i < from->ndropped; i++)
		census_drop(to, from->dropped[i].kind, from->dropped[i].count);
	to->dropped_pools += from->dropped_pools;
}
