/* census.c: the census model's rows and warnings. */
#include "common/compat.h"
#include "heap/census.h"

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
	for (size_t i = 0; i < c->nrows; i++)
		free(c->rows[i].kind);
	for (size_t i = 0; i < c->nwarnings; i++)
		free(c->warnings[i]);
	free(c->rows);
	free(c->warnings);
	memset(c, 0, sizeof *c);
}

void census_add(struct census *c, const char *kind, uint64_t count, uint64_t size)
{
	size_t i;

	for (i = 0; i < c->nrows; i++)
		if (strcmp(c->rows[i].kind, kind) == 0)
			break;
	if (i == c->nrows) {
		xgrow((void **)&c->rows, &c->caprows, c->nrows + 1, sizeof *c->rows);
		c->rows[i] = (struct census_row){ xstrdup(kind), 0, 0 };
		c->nrows++;
	}
	c->rows[i].count += count;
	c->rows[i].size += size;
	c->nobjects += count;
	c->total_size += size;
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
