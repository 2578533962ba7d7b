/* prefetch.c: the store of ranges read ahead in one batch (see prefetch.h). */
#include "common/compat.h"
#include "attach/prefetch.h"

#include <stdlib.h>
#include <string.h>
#include "common/hugepages.h"
#include "common/xalloc.h"

void prefetch_release(struct prefetch *f)
{
	free(f->v);
	free(f->buf);
	memset(f, 0, sizeof *f);
}

void prefetch_clear(struct prefetch *f)
{
	f->n = 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct pf_range *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->len > y->len ? -1 : x->len < y->len; /* the longest first: it is the one kept */
}

/* Sorts v[0..n) as cmp_range does: by address a byte at a time (LSD radix, stable; the bytes
 * every address shares are skipped), then the few ranges of one address longest first. qsort cost
 * 220 instructions a range: 13 million for the 60,000 classes of a heap read ahead. */
static void sort_ranges(struct pf_range *v, size_t n)
{
	struct pf_range *tmp = xmalloc(n * sizeof *tmp), *a = v, *b = tmp, *t;
	uint64_t any = 0, all = ~(uint64_t)0;

	for (size_t i = 0; i < n; i++) {
		any |= v[i].addr;
		all &= v[i].addr;
	}
	for (unsigned shift = 0; shift < 64; shift += 8) {
		size_t count[257] = { 0 };
		if (!(((any ^ all) >> shift) & 0xff))
			continue;
		for (size_t i = 0; i < n; i++)
			count[((a[i].addr >> shift) & 0xff) + 1]++;
		for (unsigned d = 0; d < 256; d++)
			count[d + 1] += count[d];
		for (size_t i = 0; i < n; i++)
			b[count[(a[i].addr >> shift) & 0xff]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	if (a != v)
		memcpy(v, a, n * sizeof *v);
	free(tmp);
	for (size_t i = 1; i < n; i++) /* equal addresses: an insertion sort of each (short) run */
		for (size_t j = i; j > 0 && cmp_range(&v[j - 1], &v[j]) > 0; j--) {
			struct pf_range r = v[j];
			v[j] = v[j - 1];
			v[j - 1] = r;
		}
}

size_t prefetch_plan(struct prefetch *f, const uint64_t *addr, const uint32_t *len, size_t n)
{
	size_t k = 0, total = 0;

	f->n = 0;
	xgrow((void **)&f->v, &f->cap, n + 1, sizeof *f->v);
	for (size_t i = 0; i < n; i++)
		if (addr[i] && len[i] && len[i] <= PREFETCH_MAX_LEN && addr[i] + len[i] > addr[i])
			f->v[k++] = (struct pf_range){ addr[i], len[i], 0 };
	if (k > 1)
		sort_ranges(f->v, k);
	for (size_t i = 0; i < k && f->n < PREFETCH_MAX_RANGES && total + PREFETCH_SPAN_MAX <= PREFETCH_MAX_BYTES; i++) {
		struct pf_range *last = f->n ? &f->v[f->n - 1] : NULL;
		const struct pf_range *r = &f->v[i];
		uint64_t end = last ? last->addr + last->len : 0, r_end = r->addr + r->len;

		/* a repeat, an overlap or a near neighbour of the span before: it grows to hold it */
		if (last && r->addr < end + PREFETCH_GAP && r_end - last->addr <= PREFETCH_SPAN_MAX) {
			if (r_end > end) {
				total += r_end - end;
				last->len = (uint32_t)(r_end - last->addr);
			}
			continue;
		}
		/* one that overlaps a span at its bound starts a span of its own, overlapping: types
		 * read whole but 1 KiB apart overlap their neighbours, and every 64th was read alone */
		f->v[f->n] = *r;
		f->v[f->n].off = (uint32_t)total;
		total += r->len;
		f->n++;
	}
	if (total > f->bufcap) {
		size_t cap = total;
		free(f->buf);
		/* a batch of a MiB or more in 2 MiB pages (rounded up to them): the kernel's copy
		 * faults once a page, not 512 times, and the census, reading a class's fields a KiB
		 * apart in it, misses the TLB as seldom (60,000 classes: 57 MiB of batches) */
		if (total >= HUGE_MIN_BYTES / 2)
			cap = (total + HUGE_MIN_BYTES - 1) / HUGE_MIN_BYTES * HUGE_MIN_BYTES;
		if (!(f->buf = huge_alloc(cap))) {
			cap = total;
			f->buf = xmalloc(cap);
		}
		f->bufcap = cap;
	}
	return f->n;
}

void prefetch_keep(struct prefetch *f, const bool *ok)
{
	size_t k = 0;

	for (size_t i = 0; i < f->n; i++)
		if (ok[i])
			f->v[k++] = f->v[i];
	f->n = k;
}

const uint8_t *prefetch_find(struct prefetch *f, uint64_t addr, uint64_t len)
{
	size_t lo = 0, hi = f->n, h = f->last;
	const struct pf_range *r;

	/* the range that answered last, while it is still the last one starting at or below addr:
	 * a batch's classes are asked for about in address order, dozens to a range */
	if (h < f->n && f->v[h].addr <= addr && (h + 1 == f->n || f->v[h + 1].addr > addr)) {
		lo = h + 1;
	} else {
		while (lo < hi) { /* the last range whose start <= addr */
			size_t mid = lo + (hi - lo) / 2;
			if (f->v[mid].addr <= addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!lo)
			return NULL;
		f->last = lo - 1;
	}
	r = &f->v[lo - 1];
	if (len > r->len || addr - r->addr > r->len - len)
		return NULL;
	return f->buf + r->off + (addr - r->addr);
}
