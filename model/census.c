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
	for (size_t i = 0; i < c->nrows; i++) {
		free(c->rows[i].kind);
		free(c->rows[i].type);
		free(c->rows[i].module);
	}
	for (size_t i = 0; i < c->nwarnings; i++)
		free(c->warnings[i]);
	free(c->rows);
	free(c->warnings);
	memset(c, 0, sizeof *c);
}

static struct census_row *row_of(struct census *c, const char *kind, const char *type, const char *module)
{
	size_t i;

	for (i = 0; i < c->nrows; i++)
		if (strcmp(c->rows[i].kind, kind) == 0)
			return &c->rows[i];
	xgrow((void **)&c->rows, &c->caprows, c->nrows + 1, sizeof *c->rows);
	c->rows[i] = (struct census_row){ xstrdup(kind), xstrdup(type), xstrdup(module), 0, 0 };
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
