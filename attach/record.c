/* record.c: copies of remote reads, merged into regions for a captured image. */
#include "common/compat.h"
#include "attach/record.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

void record_init(struct mem_recorder *r)
{
	memset(r, 0, sizeof *r);
}

void record_release(struct mem_recorder *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].data);
	free(r->v);
	memset(r, 0, sizeof *r);
}

void record_add(struct mem_recorder *r, uint64_t addr, const void *buf, uint64_t len)
{
	if (len == 0)
		return;
	xgrow((void **)&r->v, &r->cap, r->n + 1, sizeof *r->v);
	r->v[r->n].addr = addr;
	r->v[r->n].len = len;
	r->v[r->n].data = xmalloc(len);
	memcpy(r->v[r->n].data, buf, len);
	r->n++;
	r->bytes += len;
}

/* Sorted by address; among equal addresses, the order of reading (stable through the index). */
struct order { uint64_t addr; size_t i; };

static int cmp_order(const void *a, const void *b)
{
	const struct order *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* Merges one run of overlapping pieces ord[lo, hi) into a single new piece ending at end. */
static struct record_piece merge_run(struct mem_recorder *r, const struct order *ord, size_t lo, size_t hi,
				     uint64_t end)
{
	struct record_piece m = { ord[lo].addr, end - ord[lo].addr, NULL };
	size_t *idx = xcalloc(hi - lo, sizeof *idx);

	m.data = xmalloc(m.len);
	for (size_t k = lo; k < hi; k++)
		idx[k - lo] = ord[k].i;
	qsort(idx, hi - lo, sizeof *idx, cmp_size); /* later reads win: apply in reading order */
	for (size_t k = 0; k < hi - lo; k++) {
		const struct record_piece *p = &r->v[idx[k]];
		memcpy(m.data + (p->addr - m.addr), p->data, p->len);
	}
	free(idx);
	return m;
}

size_t record_regions(struct mem_recorder *r, struct mem_region **out)
{
	struct order *ord = xcalloc(r->n + 1, sizeof *ord);
	struct record_piece *merged = NULL;
	size_t nm = 0, capm = 0;

	for (size_t i = 0; i < r->n; i++)
		ord[i] = (struct order){ r->v[i].addr, i };
	qsort(ord, r->n, sizeof *ord, cmp_order);
	for (size_t lo = 0; lo < r->n;) {
		uint64_t end = r->v[ord[lo].i].addr + r->v[ord[lo].i].len;
		size_t hi = lo + 1;
		while (hi < r->n && ord[hi].addr <= end) {
			uint64_t e2 = ord[hi].addr + r->v[ord[hi].i].len;
			if (e2 > end)
				end = e2;
			hi++;
		}
		xgrow((void **)&merged, &capm, nm + 1, sizeof *merged);
		merged[nm++] = merge_run(r, ord, lo, hi, end);
		lo = hi;
	}
	free(ord);
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].data);
	free(r->v);
	r->v = merged;
	r->n = nm;
	r->cap = capm;
	*out = xcalloc(nm + 1, sizeof **out);
	for (size_t i = 0; i < nm; i++)
		(*out)[i] = (struct mem_region){ merged[i].addr, merged[i].len, merged[i].data };
	return nm;
}
