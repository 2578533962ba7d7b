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

/* The worst row of the heap h[0..n) (worst at the root) sinks from i to its place. */
static void sift_down(const struct partition_row **h, size_t n, size_t i)
{
	for (size_t c; (c = 2 * i + 1) < n; i = c) {
		const struct partition_row *t;
		if (c + 1 < n && row_order(h[c + 1], h[c]) > 0)
			c++;
		if (row_order(h[c], h[i]) <= 0)
			return;
		t = h[c];
		h[c] = h[i];
		h[i] = t;
	}
}

/* Moves the best top rows to the front, sorted; the others follow in their order. A heap of the
 * best met so far, its worst at the root: a row that does not beat it costs one comparison. */
static void select_top(struct partition *p, size_t top)
{
	const struct partition_row **h = xmalloc(top * sizeof *h);
	struct partition_row *out = xmalloc(p->nrows * sizeof *out);
	bool *picked = xcalloc(p->nrows, sizeof *picked);
	size_t n = 0, k = 0;

	for (size_t i = 0; i < p->nrows; i++) {
		if (n < top) {
			h[n++] = &p->rows[i];
			for (size_t j = n - 1; j > 0 && row_order(h[j], h[(j - 1) / 2]) > 0; j = (j - 1) / 2) {
				const struct partition_row *t = h[j];
				h[j] = h[(j - 1) / 2];
				h[(j - 1) / 2] = t;
			}
		} else if (row_order(&p->rows[i], h[0]) < 0) {
			h[0] = &p->rows[i];
			sift_down(h, n, 0);
		}
	}
	for (size_t i = 0; i < n; i++) {
		out[k++] = *h[i];
		picked[h[i] - p->rows] = true;
	}
	qsort(out, n, sizeof *out, row_order);
	for (size_t i = 0; i < p->nrows; i++)
		if (!picked[i])
			out[k++] = p->rows[i];
	free(p->rows);
	p->rows = out;
	free(h);
	free(picked);
}

/* Sorts the rows (or only the best top of them, top > 0) and derives the totals and running
 * sizes from them, so the printed cumulative column always ends at the printed total. */
static void finish(struct partition *p, size_t top)
{
	if (top && top + 1 < p->nrows)
		select_top(p, top);
	else if (p->nrows > 1)
		qsort(p->rows, p->nrows, sizeof *p->rows, row_order);
	p->count = p->size = 0;
	for (size_t i = 0; i < p->nrows; i++) {
		p->count += p->rows[i].count;
		p->size += p->rows[i].size;
		p->rows[i].cumulative = p->size;
	}
}

static void build_by_kind(const struct census *c, struct partition *p)
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
}

void partition_by_kind(const struct census *c, struct partition *p)
{
	build_by_kind(c, p);
	finish(p, 0);
}

static const char *row_kind(const void *rows, size_t i)
{
	return ((const struct partition_row *)rows)[i].kind;
}

/* Rows grouped by a field of the census rows (type or module), one partition row per value. */
static void build_grouped(const struct census *c, struct partition *p, bool by_module)
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
}

void partition_by_type(const struct census *c, struct partition *p)
{
	build_grouped(c, p, false);
	finish(p, 0);
}

void partition_by_module(const struct census *c, struct partition *p)
{
	build_grouped(c, p, true);
	finish(p, 0);
}

void partition_top(void (*by)(const struct census *c, struct partition *p), const struct census *c,
		   struct partition *p, size_t top)
{
	if (by == partition_by_kind)
		build_by_kind(c, p);
	else if (by == partition_by_type)
		build_grouped(c, p, false);
	else if (by == partition_by_module)
		build_grouped(c, p, true);
	else
		by(c, p); /* the size classes: a few dozen rows, sorted whole */
	finish(p, top);
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
	finish(p, 0);
}

void partition_release(struct partition *p)
{
	free(p->rows);
	free(p->strings);
	memset(p, 0, sizeof *p);
}
