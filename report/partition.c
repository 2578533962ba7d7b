/* partition.c: sorting a census into guppy3's partition (by kind or by pymalloc size class). */
#include "common/compat.h"
#include "report/partition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/strindex.h"
#include "common/xalloc.h"

/* Longest "blocks of N bytes" for any unsigned N, with its terminating NUL. */
#define SIZE_CLASS_KIND_MAX sizeof("blocks of 4294967295 bytes")

static int row_order(const void *a, const void *b)
{
	const struct partition_row *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->kind, y->kind);
}

/* Sorts the rows and derives the totals and running sizes from them, so the printed cumulative
 * column always ends at the printed total. */
static void finish(struct partition *p)
{
	if (p->nrows > 1)
		qsort(p->rows, p->nrows, sizeof *p->rows, row_order);
	p->count = p->size = 0;
	for (size_t i = 0; i < p->nrows; i++) {
		p->count += p->rows[i].count;
		p->size += p->rows[i].size;
		p->rows[i].cumulative = p->size;
	}
}

void partition_by_kind(const struct census *c, struct partition *p)
{
	size_t len = 0;
	char *s;

	memset(p, 0, sizeof *p);
	p->kind_header = "Kind (class / dict of class)";
	for (size_t i = 0; i < c->nrows; i++)
		len += strlen(c->rows[i].kind) + 1;
	p->rows = xcalloc(c->nrows, sizeof *p->rows);
	p->strings = s = xmalloc(len);
	for (size_t i = 0; i < c->nrows; i++) {
		size_t n = strlen(c->rows[i].kind) + 1;

		memcpy(s, c->rows[i].kind, n);
		p->rows[i] = (struct partition_row){ s, c->rows[i].count, c->rows[i].size, 0 };
		s += n;
	}
	p->nrows = c->nrows;
	finish(p);
}

static const char *row_kind(const void *rows, size_t i)
{
	return ((const struct partition_row *)rows)[i].kind;
}

/* Rows grouped by a field of the census rows (type or module), one partition row per value. */
static void partition_grouped(const struct census *c, struct partition *p, bool by_module)
{
	struct strindex index = { 0 };
	size_t len = 0;
	char *s;

	memset(p, 0, sizeof *p);
	p->kind_header = by_module ? "Kind (module defining the type)" : "Kind (type)";
	for (size_t i = 0; i < c->nrows; i++)
		len += strlen(by_module ? c->rows[i].module : c->rows[i].type) + 1;
	p->rows = xcalloc(c->nrows, sizeof *p->rows);
	p->strings = s = xmalloc(len ? len : 1);
	for (size_t i = 0; i < c->nrows; i++) {
		const char *key = by_module ? c->rows[i].module : c->rows[i].type;
		size_t j = strindex_find(&index, key, row_kind, p->rows);
		if (j == STRINDEX_NONE) {
			size_t n = strlen(key) + 1;
			memcpy(s, key, n);
			j = p->nrows++;
			p->rows[j] = (struct partition_row){ s, 0, 0, 0 };
			strindex_add(&index, s, j, row_kind, p->rows);
			s += n;
		}
		p->rows[j].count += c->rows[i].count;
		p->rows[j].size += c->rows[i].size;
	}
	strindex_release(&index);
	finish(p);
}

void partition_by_type(const struct census *c, struct partition *p)
{
	partition_grouped(c, p, false);
}

void partition_by_module(const struct census *c, struct partition *p)
{
	partition_grouped(c, p, true);
}

void partition_by_size_class(const struct census *c, struct partition *p)
{
	/* nclasses comes from heap/'s walk of the target; never trust it past the array. */
	unsigned n = c->nclasses < PC_ARRAY_LEN(c->classes) ? c->nclasses : PC_ARRAY_LEN(c->classes);
	char *s;

	memset(p, 0, sizeof *p);
	p->kind_header = "Kind (pymalloc size class)";
	p->rows = xcalloc(n, sizeof *p->rows);
	p->strings = s = xmalloc((size_t)n * SIZE_CLASS_KIND_MAX);
	for (unsigned i = 0; i < n; i++) {
		const struct census_sizeclass *k = &c->classes[i];

		if (k->blocks == 0)
			continue;
		snprintf(s, SIZE_CLASS_KIND_MAX, "blocks of %u bytes", k->block_size);
		p->rows[p->nrows++] = (struct partition_row){ s, k->blocks, k->blocks * k->block_size, 0 };
		s += SIZE_CLASS_KIND_MAX;
	}
	finish(p);
}

void partition_release(struct partition *p)
{
	free(p->rows);
	free(p->strings);
	memset(p, 0, sizeof *p);
}
