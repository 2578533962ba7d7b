/* miheap.c: the walk of miheap.h. */
#include "common/compat.h"
#include "pymalloc/miheap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

/* Bytes of a live block handed to the callback: enough for any object header and its first
 * fields; a bigger block is cut there. */
#define MIHEAP_BLOCK_PREFIX 4096
/* A page's block area read whole up to this (a medium page is 512 KiB); above it only a page of
 * one block (large and huge pages) is read, its first bytes. */
#define MIHEAP_MAX_AREA (1u << 20)

struct segset {
	uint64_t *v;
	size_t n, cap;
	bool full;
};

struct walk {
	struct mem *mem;
	const struct pymi *M;
	struct miheap_totals *t;
	struct segset segs;
	size_t nowned;         /* segs.v[0..nowned) came from thread states, the rest abandoned */
	uint64_t *delayed;     /* thread_delayed_free blocks, sorted before use */
	size_t ndelayed, capdelayed;
	miheap_block_fn fn;
	void *arg;
};

PC_PRINTF(2, 3) static void skip(struct miheap_totals *t, const char *fmt, ...)
{
	va_list ap;

	if (t->first_skip[0])
		return;
	va_start(ap, fmt);
	vsnprintf(t->first_skip, sizeof t->first_skip, fmt, ap);
	va_end(ap);
}

static void add_segment(struct walk *w, uint64_t seg)
{
	for (size_t i = 0; i < w->segs.n; i++) /* a thread owns a handful: linear is enough */
		if (w->segs.v[i] == seg)
			return;
	if (w->segs.n >= MIHEAP_MAX_SEGMENTS) {
		w->segs.full = true;
		return;
	}
	if (w->segs.n == w->segs.cap) {
		w->segs.cap = w->segs.cap ? 2 * w->segs.cap : 64;
		w->segs.v = xrealloc(w->segs.v, w->segs.cap * sizeof *w->segs.v);
	}
	w->segs.v[w->segs.n++] = seg;
}

/* The segments of one page queue's pages (first, linked by next, bounded). */
static void queue_segments(struct walk *w, uint64_t first)
{
	uint64_t pg = first, mask = w->M->segment_size - 1;

	for (size_t k = 0; pg && k < MIHEAP_MAX_QUEUE_PAGES; k++) {
		add_segment(w, pg & ~mask);
		if (mem_read_u64(w->mem, pg + w->M->pg_next, &pg, NULL) < 0) {
			w->t->skipped_pages++;
			skip(w->t, "page queue link at %#llx unreadable", (unsigned long long)pg);
			return;
		}
	}
}

/* A heap's thread_delayed_free list: blocks freed by other threads into its full pages. */
static void heap_delayed(struct walk *w, uint64_t heap)
{
	uint64_t b = 0;

	if (mem_read_u64(w->mem, heap + w->M->heap_delayed_free, &b, NULL) < 0)
		return;
	while (b && w->ndelayed < MIHEAP_MAX_DELAYED) {
		if (w->ndelayed == w->capdelayed) {
			w->capdelayed = w->capdelayed ? 2 * w->capdelayed : 256;
			w->delayed = xrealloc(w->delayed, w->capdelayed * sizeof *w->delayed);
		}
		w->delayed[w->ndelayed++] = b;
		if (mem_read_u64(w->mem, b, &b, NULL) < 0)
			break;
	}
}

static void thread_heaps(struct walk *w, uint64_t ts)
{
	const struct pymi *M = w->M;
	size_t qlen = (size_t)M->heap_nqueues * M->queue_size;
	uint8_t *q = xmalloc(qlen);

	for (unsigned h = 0; h < PYMI_NHEAPS; h++) {
		uint64_t heap = ts + M->ts_heaps + (uint64_t)h * M->heap_size;

		if (mem_read(w->mem, heap + M->heap_pages, q, qlen, NULL) < 0) {
			w->t->skipped_segments++;
			skip(w->t, "heap %u of thread state %#llx unreadable", h, (unsigned long long)ts);
			continue;
		}
		for (unsigned i = 0; i < M->heap_nqueues; i++) {
			uint64_t first;
			memcpy(&first, q + (size_t)i * M->queue_size, sizeof first);
			queue_segments(w, first);
		}
		heap_delayed(w, heap);
	}
	free(q);
}

/* The abandoned pool's two lists (`abandoned` tagged with a count in its low bits), each
 * linked through the segments' abandoned_next. */
static void abandoned_segments(struct walk *w, uint64_t interp)
{
	const struct pymi *M = w->M;
	uint64_t pool = interp + M->is_abandoned_pool, heads[2] = { 0, 0 };

	if (mem_read_u64(w->mem, pool + M->pool_abandoned, &heads[0], NULL) < 0 ||
	    mem_read_u64(w->mem, pool + M->pool_abandoned_visited, &heads[1], NULL) < 0) {
		skip(w->t, "the abandoned pool at %#llx unreadable", (unsigned long long)pool);
		w->t->skipped_segments++;
		return;
	}
	heads[0] &= ~(M->segment_size - 1);
	for (int l = 0; l < 2; l++)
		for (uint64_t s = heads[l], k = 0; s && k < MIHEAP_MAX_SEGMENTS; k++) {
			if (s & (M->segment_size - 1)) {
				skip(w->t, "abandoned segment link %#llx not aligned", (unsigned long long)s);
				w->t->skipped_segments++;
				break;
			}
			add_segment(w, s);
			if (mem_read_u64(w->mem, s + M->seg_abandoned_next, &s, NULL) < 0)
				break;
		}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The heaps' delayed frees that fall in pg's blocks, taken off its live blocks. */
static void page_delayed(struct walk *w, struct mipage *pg)
{
	size_t lo = 0, hi = w->ndelayed;

	while (lo < hi) { /* the first delayed block >= pg->start */
		size_t mid = lo + (hi - lo) / 2;
		if (w->delayed[mid] < pg->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < w->ndelayed && w->delayed[i] < pg->start + pg->area; i++)
		w->t->delayed += mipage_mark_free(pg, w->delayed[i]);
}

/* One in-use page: its blocks read, split, the live ones handed on. */
static void tally_class(struct miheap_totals *t, const struct mipage *pg, bool abandoned)
{
	struct miheap_class *k = NULL;

	for (unsigned i = 0; i < t->nclasses && !k; i++)
		if (t->classes[i].block_size == pg->block_size && t->classes[i].tag == pg->tag)
			k = &t->classes[i];
	if (!k && t->nclasses < MIHEAP_MAX_CLASSES) {
		k = &t->classes[t->nclasses++];
		k->block_size = pg->block_size;
		k->tag = pg->tag;
	}
	if (!k)
		k = &t->classes[MIHEAP_MAX_CLASSES - 1];
	k->pages++;
	k->abandoned_pages += abandoned;
	k->capacity += pg->capacity;
	k->used += pg->used;
	k->live += pg->nlive;
}

static int cmp_class(const void *a, const void *b)
{
	const struct miheap_class *x = a, *y = b;

	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	return x->block_size < y->block_size ? -1 : x->block_size > y->block_size;
}

static void page_blocks(struct walk *w, uint64_t addr, const uint8_t *desc, bool abandoned)
{
	struct miheap_totals *t = w->t;
	struct mipage *pg = xmalloc(sizeof *pg);
	char why[160];
	uint8_t *data = NULL;
	size_t dlen;

	if (mipage_parse(w->M, addr, desc, pg, why, sizeof why) < 0)
		goto bad;
	dlen = pg->capacity == 1 ? (size_t)(pg->block_size < MIHEAP_BLOCK_PREFIX ? pg->block_size : MIHEAP_BLOCK_PREFIX)
				 : (size_t)pg->area;
	if (pg->capacity > 1 && pg->area > MIHEAP_MAX_AREA) {
		snprintf(why, sizeof why, "page %#llx: %llu bytes of blocks", (unsigned long long)addr,
			 (unsigned long long)pg->area);
		goto bad;
	}
	data = xmalloc(dlen ? dlen : 1);
	if (pg->capacity && mem_read(w->mem, pg->start, data, dlen, NULL) < 0) {
		snprintf(why, sizeof why, "page %#llx: blocks at %#llx unreadable", (unsigned long long)addr,
			 (unsigned long long)pg->start);
		goto bad;
	}
	if (mipage_split(w->M, desc, data, pg, why, sizeof why) < 0)
		goto bad;
	page_delayed(w, pg);
	t->pages[pg->tag]++;
	t->abandoned_pages += abandoned;
	t->live[pg->tag] += pg->nlive;
	t->live_bytes[pg->tag] += pg->nlive * pg->block_size;
	t->used[pg->tag] += pg->used;
	tally_class(t, pg, abandoned);
	for (uint32_t i = 0; w->fn && i < pg->capacity; i++) {
		size_t off = (size_t)i * (size_t)pg->block_size;
		size_t len = pg->block_size < MIHEAP_BLOCK_PREFIX ? (size_t)pg->block_size : MIHEAP_BLOCK_PREFIX;
		if (mipage_live(pg, i))
			w->fn(w->arg, pg, pg->start + off, data + off, len < dlen - off ? len : dlen - off);
	}
	free(data);
	free(pg);
	return;
bad:
	t->skipped_pages++;
	skip(t, "%s", why);
	free(data);
	free(pg);
}

/* Every in-use page of one segment: slices[0] is the segment's own header span, then spans follow
 * each other by slice_count up to slice_entries (Objects/mimalloc/segment.c
 * mi_slices_start_iterate, mi_segment_visit_pages). */
static void segment_pages(struct walk *w, uint64_t seg, bool abandoned)
{
	const struct pymi *M = w->M;
	size_t hdr = M->seg_slices + (size_t)M->slices_max * M->page_size;
	uint8_t *buf = xmalloc(hdr);
	uint64_t entries = 0;
	uint32_t count;

	if (mem_read(w->mem, seg, buf, hdr, NULL) < 0) {
		w->t->skipped_segments++;
		skip(w->t, "segment %#llx unreadable", (unsigned long long)seg);
		free(buf);
		return;
	}
	memcpy(&entries, buf + M->seg_slice_entries, sizeof entries);
	if (entries == 0 || entries > M->slices_max) {
		w->t->skipped_segments++;
		skip(w->t, "segment %#llx: %llu slice entries", (unsigned long long)seg, (unsigned long long)entries);
		free(buf);
		return;
	}
	w->t->segments++;
	w->t->abandoned_segments += abandoned;
	for (uint64_t i = 0; i < entries; i += count) {
		const uint8_t *desc = buf + M->seg_slices + i * M->page_size;
		uint32_t xbs;

		memcpy(&count, desc + M->pg_slice_count, sizeof count);
		memcpy(&xbs, desc + M->pg_xblock_size, sizeof xbs);
		if (count == 0 || count > entries - i) {
			w->t->skipped_segments++;
			skip(w->t, "segment %#llx: slice %llu spans %u slices", (unsigned long long)seg,
			     (unsigned long long)i, count);
			break;
		}
		if (i > 0 && xbs > 0)
			page_blocks(w, seg + M->seg_slices + i * M->page_size, desc, abandoned);
	}
	free(buf);
}

const char *miheap_tag_name(unsigned tag)
{
	static const char *const names[PYMI_NHEAPS] = { "mem", "object", "gc", "gc_pre" };

	return tag < PYMI_NHEAPS ? names[tag] : "?";
}

/* More thread states than this on one interpreter is a list gone wrong. */
#define MIHEAP_MAX_THREADS 65536

size_t miheap_thread_states(struct pyproc *p, uint64_t **out)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t t = 0, *v = NULL;
	size_t n = 0, cap = 0;

	if (mem_read_u64(&p->mem, p->interp + (uint64_t)o->is_threads_head, &t, NULL) < 0)
		t = 0;
	while (t && n < MIHEAP_MAX_THREADS) {
		xgrow((void **)&v, &cap, n + 1, sizeof *v);
		v[n++] = t;
		if (mem_read_u64(&p->mem, t + (uint64_t)o->ts_next, &t, NULL) < 0)
			break;
	}
	*out = v;
	return n;
}

int miheap_walk(struct mem *mem, const struct pymi *M, uint64_t interp, const uint64_t *ts, size_t n,
		miheap_block_fn fn, void *arg, struct miheap_totals *t, struct pc_err *e)
{
	struct walk w = { .mem = mem, .M = M, .t = t, .fn = fn, .arg = arg };

	memset(t, 0, sizeof *t);
	if (!M)
		return pc_fail(e, PC_EINTERNAL, "no mimalloc layout for this build");
	for (size_t i = 0; i < n; i++)
		thread_heaps(&w, ts[i]);
	w.nowned = w.segs.n;
	abandoned_segments(&w, interp);
	if (w.segs.full)
		skip(t, "more than %d segments: the rest not walked", MIHEAP_MAX_SEGMENTS);
	if (w.ndelayed)
		qsort(w.delayed, w.ndelayed, sizeof *w.delayed, cmp_u64);
	for (size_t i = 0; i < w.segs.n; i++)
		segment_pages(&w, w.segs.v[i], i >= w.nowned);
	if (t->nclasses > 1)
		qsort(t->classes, t->nclasses, sizeof *t->classes, cmp_class);
	free(w.segs.v);
	free(w.delayed);
	if (n && t->segments == 0 && t->skipped_segments)
		return pc_fail(e, PC_ETARGETMEM, "no mimalloc segment readable: %s", t->first_skip);
	return 0;
}
