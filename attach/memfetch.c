/* memfetch.c: the reader's batches read ahead (mem_prefetch) and the ones kept
 * (mem_prefetch_hold): the store is attach/prefetch.c, the reads attach/mem.c's mem_readv. */
#include "common/compat.h"
#include "attach/mem.h"

#include <stdlib.h>
#include <string.h>
#include "attach/prefetch.h"
#include "common/xalloc.h"

static int by_addr(const void *a, const void *b)
{
	const struct mem_region *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

#define ADDR_BITS 48 /* of a user-space address (x86-64, arm64): three digits of 16 */

static unsigned digit(const struct mem_region *r, unsigned d)
{
	return (unsigned)(r->addr >> (16 * d)) & 0xffff;
}

/* v by address, stably: a radix sort of three 16-bit digits, each pass skipped when every region
 * has the same digit there, where qsort's comparisons took 2 to 3 ms for the 33000 copies
 * `inspect` holds on Sphinx. A higher address (not user space) falls back to qsort. */
static void sort_by_addr(struct mem_region *v, size_t n)
{
	struct mem_region *tmp, *src = v;
	size_t *count;

	for (size_t i = 0; i < n; i++)
		if (v[i].addr >> ADDR_BITS) {
			qsort(v, n, sizeof *v, by_addr);
			return;
		}
	if (n < 2)
		return;
	tmp = xmalloc(n * sizeof *tmp);
	count = xmalloc(65537 * sizeof *count);
	for (unsigned d = 0; d < ADDR_BITS / 16; d++) {
		struct mem_region *dst = src == v ? tmp : v;

		memset(count, 0, 65537 * sizeof *count);
		for (size_t i = 0; i < n; i++)
			count[digit(&src[i], d) + 1]++;
		if (count[digit(&src[0], d) + 1] == n)
			continue;
		for (unsigned k = 0; k < 65536; k++)
			count[k + 1] += count[k];
		for (size_t i = 0; i < n; i++)
			dst[count[digit(&src[i], d)]++] = src[i];
		src = dst;
	}
	if (src != v)
		memcpy(v, src, n * sizeof *v);
	free(tmp);
	free(count);
}

static bool holds(const struct mem_region *r, uint64_t addr, uint64_t len)
{
	return addr >= r->addr && len <= r->len && addr - r->addr <= r->len - len;
}

/* The wanted ranges that no kept batch serves, copied to *a and *l (to free); n when none does. */
static size_t not_held(struct mem *m, const uint64_t *addr, const uint32_t *len, size_t n, uint64_t **a, uint32_t **l)
{
	size_t k = 0;

	*a = xmalloc((n + 1) * sizeof **a);
	*l = xmalloc((n + 1) * sizeof **l);
	for (size_t i = 0; i < n; i++)
		if (!mem_prefetched(m, addr[i], len[i])) {
			(*a)[k] = addr[i];
			(*l)[k++] = len[i];
		}
	return k;
}

size_t mem_prefetch(struct mem *m, const uint64_t *addr, const uint32_t *len, size_t n)
{
	struct prefetch *f = m->pf ? m->pf : xcalloc(1, sizeof *f);
	uint64_t *a = NULL;
	uint32_t *l = NULL;
	struct mem_req *reqs;
	bool *ok;
	size_t planned;

	m->pf = NULL; /* the last batch is let go, and the new one is not served from while it fills */
	if (m->serve_held && (m->nheld || m->nheldreg)) {
		n = not_held(m, addr, len, n, &a, &l);
		addr = a;
		len = l;
	}
	planned = !m->chunks || !m->pid || m->image || m->sealed_missing ? 0 : prefetch_plan(f, addr, len, n);
	free(a);
	free(l);
	if (!planned) {
		prefetch_clear(f);
		m->pf = f;
		return 0;
	}
	reqs = xcalloc(planned, sizeof *reqs);
	ok = xcalloc(planned, sizeof *ok);
	for (size_t i = 0; i < planned; i++)
		reqs[i] = (struct mem_req){ f->v[i].addr, f->buf + f->v[i].off, f->v[i].len, false };
	mem_readv(m, reqs, planned);
	for (size_t i = 0; i < planned; i++)
		ok[i] = reqs[i].ok;
	prefetch_keep(f, ok);
	free(reqs);
	free(ok);
	m->pf = f;
	return f->n;
}

void mem_prefetch_drop(struct mem *m)
{
	if (m->pf)
		prefetch_clear(m->pf);
}

void mem_prefetch_hold(struct mem *m)
{
	if (!m->pf || !m->pf->n)
		return;
	xgrow((void **)&m->held, &m->capheld, m->nheld + 1, sizeof *m->held);
	m->held[m->nheld++] = *m->pf;
	memset(m->pf, 0, sizeof *m->pf); /* the next batch gets buffers of its own */
	m->heldix_stale = true;
	m->serve_held = true;
}

void mem_hold_regions(struct mem *m, const struct mem_region *r, size_t n)
{
	if (!n)
		return;
	xgrow((void **)&m->heldreg, &m->capheldreg, m->nheldreg + n + 1, sizeof *m->heldreg);
	memcpy(m->heldreg + m->nheldreg, r, n * sizeof *r);
	m->nheldreg += n;
	m->heldix_stale = true;
	m->serve_held = true;
}

void mem_held_expire(struct mem *m)
{
	m->serve_held = false;
}

/* One sorted index over the kept batches' ranges: one search per object outside the arenas, not
 * one per batch (a census keeps one batch an arena). */
static void heldix_build(struct mem *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nheld; i++)
		n += m->held[i].n;
	n += m->nheldreg;
	free(m->heldix);
	free(m->heldend);
	m->heldix = xmalloc((n + 1) * sizeof *m->heldix);
	m->heldend = xmalloc((n + 1) * sizeof *m->heldend);
	m->nheldix = 0;
	for (size_t i = 0; i < m->nheld; i++)
		for (size_t k = 0; k < m->held[i].n; k++) {
			const struct pf_range *r = &m->held[i].v[k];
			m->heldix[m->nheldix++] = (struct mem_region){ r->addr, r->len, m->held[i].buf + r->off };
		}
	if (m->nheldreg)
		memcpy(m->heldix + m->nheldix, m->heldreg, m->nheldreg * sizeof *m->heldreg);
	m->nheldix += m->nheldreg;
	for (size_t i = 1; i < m->nheldix; i++)
		if (m->heldix[i - 1].addr > m->heldix[i].addr) { /* else in order already */
			sort_by_addr(m->heldix, m->nheldix);
			break;
		}
	for (size_t i = 0; i < m->nheldix; i++) {
		uint64_t end = m->heldix[i].addr + m->heldix[i].len;
		m->heldend[i] = i && m->heldend[i - 1] > end ? m->heldend[i - 1] : end;
	}
	m->heldix_stale = false;
}

const uint8_t *mem_prefetched(struct mem *m, uint64_t addr, uint64_t len)
{
	size_t lo = 0, hi;

	if (m->heldix_stale)
		heldix_build(m);
	/* the GC lists run about in address order: the range that answered last, or the next */
	for (size_t i = m->heldlast; i < m->nheldix && i < m->heldlast + 2; i++)
		if (holds(&m->heldix[i], addr, len)) {
			m->heldlast = i;
			return m->heldix[i].data + (addr - m->heldix[i].addr);
		}
	hi = m->nheldix;
	while (lo < hi) { /* the last range starting at or below addr */
		size_t mid = lo + (hi - lo) / 2;
		if (m->heldix[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* ranges of two batches may overlap: an earlier one that reaches past addr may hold it */
	for (size_t i = lo; i-- > 0 && m->heldend[i] > addr;)
		if (holds(&m->heldix[i], addr, len)) {
			m->heldlast = i;
			return m->heldix[i].data + (addr - m->heldix[i].addr);
		}
	return NULL;
}
