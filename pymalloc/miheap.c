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

/* The gathering of a miheap_set (every segment, the delayed frees). */
struct gather {
	struct mem *mem;
	const struct pymi *M;
	struct miheap_set *s;
	size_t capsegs, capdelayed;
};

/* The walk of the gathered segments' pages. */
struct walk {
	struct mem *mem;
	const struct pymi *M;
	struct miheap_totals *t;
	const struct miheap_set *s;
	miheap_block_fn fn;
	void *arg;
	bool abandoned;        /* the segment walked now is in the abandoned pool */
};

PC_PRINTF(2, 3) static void skip_why(char *first, const char *fmt, ...)
{
	va_list ap;

	if (first[0])
		return;
	va_start(ap, fmt);
	vsnprintf(first, MIHEAP_WHY, fmt, ap);
	va_end(ap);
}

#define skip(t, ...) skip_why((t)->first_skip, __VA_ARGS__)

static void add_segment(struct gather *g, uint64_t seg)
{
	struct miheap_set *s = g->s;

	for (size_t i = 0; i < s->nsegs; i++) /* a thread owns a handful: linear is enough */
		if (s->segs[i] == seg)
			return;
	if (s->nsegs >= MIHEAP_MAX_SEGMENTS) {
		s->full = true;
		return;
	}
	if (s->nsegs == g->capsegs) {
		g->capsegs = g->capsegs ? 2 * g->capsegs : 64;
		s->segs = xrealloc(s->segs, g->capsegs * sizeof *s->segs);
	}
	s->segs[s->nsegs++] = seg;
}

/* The segments of one page queue's pages (first, linked by next, bounded). */
static void queue_segments(struct gather *g, uint64_t first)
{
	uint64_t pg = first, mask = g->M->segment_size - 1;

	for (size_t k = 0; pg && k < MIHEAP_MAX_QUEUE_PAGES; k++) {
		add_segment(g, pg & ~mask);
		if (mem_read_u64(g->mem, pg + g->M->pg_next, &pg, NULL) < 0) {
			g->s->skipped_pages++;
			skip(g->s, "page queue link at %#llx unreadable", (unsigned long long)pg);
			return;
		}
	}
}

/* A heap's thread_delayed_free list: blocks freed by other threads into its full pages. */
static void heap_delayed(struct gather *g, uint64_t heap)
{
	struct miheap_set *s = g->s;
	uint64_t b = 0;

	if (mem_read_u64(g->mem, heap + g->M->heap_delayed_free, &b, NULL) < 0)
		return;
	while (b && s->ndelayed < MIHEAP_MAX_DELAYED) {
		if (s->ndelayed == g->capdelayed) {
			g->capdelayed = g->capdelayed ? 2 * g->capdelayed : 256;
			s->delayed = xrealloc(s->delayed, g->capdelayed * sizeof *s->delayed);
		}
		s->delayed[s->ndelayed++] = b;
		if (mem_read_u64(g->mem, b, &b, NULL) < 0)
			break;
	}
}

static void thread_heaps(struct gather *g, uint64_t ts)
{
	const struct pymi *M = g->M;
	size_t qlen = (size_t)M->heap_nqueues * M->queue_size;
	uint8_t *q = xmalloc(qlen);

	for (unsigned h = 0; h < PYMI_NHEAPS; h++) {
		uint64_t heap = ts + M->ts_heaps + (uint64_t)h * M->heap_size;

		if (mem_read(g->mem, heap + M->heap_pages, q, qlen, NULL) < 0) {
			g->s->skipped_segments++;
			skip(g->s, "heap %u of thread state %#llx unreadable", h, (unsigned long long)ts);
			continue;
		}
		for (unsigned i = 0; i < M->heap_nqueues; i++) {
			uint64_t first;
			memcpy(&first, q + (size_t)i * M->queue_size, sizeof first);
			queue_segments(g, first);
		}
		heap_delayed(g, heap);
	}
	free(q);
}

/* The abandoned pool's two lists (`abandoned` tagged with a count in its low bits), each
 * linked through the segments' abandoned_next. */
static void abandoned_segments(struct gather *g, uint64_t interp)
{
	const struct pymi *M = g->M;
	uint64_t pool = interp + M->is_abandoned_pool, heads[2] = { 0, 0 };

	if (mem_read_u64(g->mem, pool + M->pool_abandoned, &heads[0], NULL) < 0 ||
	    mem_read_u64(g->mem, pool + M->pool_abandoned_visited, &heads[1], NULL) < 0) {
		skip(g->s, "the abandoned pool at %#llx unreadable", (unsigned long long)pool);
		g->s->skipped_segments++;
		return;
	}
	heads[0] &= ~(M->segment_size - 1);
	for (int l = 0; l < 2; l++)
		for (uint64_t s = heads[l], k = 0; s && k < MIHEAP_MAX_SEGMENTS; k++) {
			if (s & (M->segment_size - 1)) {
				skip(g->s, "abandoned segment link %#llx not aligned", (unsigned long long)s);
				g->s->skipped_segments++;
				break;
			}
			add_segment(g, s);
			if (mem_read_u64(g->mem, s + M->seg_abandoned_next, &s, NULL) < 0)
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
	const struct miheap_set *s = w->s;
	size_t lo = 0, hi = s->ndelayed;

	while (lo < hi) { /* the first delayed block >= pg->start */
		size_t mid = lo + (hi - lo) / 2;
		if (s->delayed[mid] < pg->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < s->ndelayed && s->delayed[i] < pg->start + pg->area; i++)
		w->t->delayed += mipage_mark_free(pg, s->delayed[i]);
}

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

uint64_t miheap_page_bytes(const struct mipage *pg)
{
	if (pg->capacity == 1)
		return pg->block_size < MIHEAP_BLOCK_PREFIX ? pg->block_size : MIHEAP_BLOCK_PREFIX;
	return pg->area > MIHEAP_MAX_AREA ? 0 : pg->area;
}

/* One in-use page: its blocks read, split, the live ones handed on. */
static void page_blocks(void *arg, uint64_t addr, const uint8_t *desc)
{
	struct walk *w = arg;
	struct miheap_totals *t = w->t;
	struct mipage *pg = xmalloc(sizeof *pg);
	char why[160];
	uint8_t *data = NULL;
	size_t dlen;

	if (mipage_parse(w->M, addr, desc, pg, why, sizeof why) < 0)
		goto bad;
	dlen = (size_t)miheap_page_bytes(pg);
	if (pg->capacity > 1 && dlen == 0) {
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
	t->abandoned_pages += w->abandoned;
	t->live[pg->tag] += pg->nlive;
	t->live_bytes[pg->tag] += pg->nlive * pg->block_size;
	t->used[pg->tag] += pg->used;
	tally_class(t, pg, w->abandoned);
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

size_t miheap_segment_header(const struct pymi *M)
{
	return M->seg_slices + (size_t)M->slices_max * M->page_size;
}

/* slices[0] is the segment's own header span, then spans follow each other by slice_count up to
 * slice_entries (Objects/mimalloc/segment.c mi_slices_start_iterate, mi_segment_visit_pages). */
int miheap_segment_each(const struct pymi *M, uint64_t seg, const uint8_t *hdr, miheap_page_fn fn, void *arg,
			char *why, size_t len)
{
	uint64_t entries = 0;
	uint32_t count;

	memcpy(&entries, hdr + M->seg_slice_entries, sizeof entries);
	if (entries == 0 || entries > M->slices_max) {
		snprintf(why, len, "segment %#llx: %llu slice entries", (unsigned long long)seg, (unsigned long long)entries);
		return -1;
	}
	for (uint64_t i = 0; i < entries; i += count) {
		const uint8_t *desc = hdr + M->seg_slices + i * M->page_size;
		uint32_t xbs;

		memcpy(&count, desc + M->pg_slice_count, sizeof count);
		memcpy(&xbs, desc + M->pg_xblock_size, sizeof xbs);
		if (count == 0 || count > entries - i) {
			snprintf(why, len, "segment %#llx: slice %llu spans %u slices", (unsigned long long)seg,
				 (unsigned long long)i, count);
			return 1;
		}
		if (i > 0 && xbs > 0)
			fn(arg, seg + M->seg_slices + i * M->page_size, desc);
	}
	return 0;
}

/* Every in-use page of one segment. */
static void segment_pages(struct walk *w, uint64_t seg, bool abandoned)
{
	size_t hdr = miheap_segment_header(w->M);
	uint8_t *buf = xmalloc(hdr);
	char why[MIHEAP_WHY];
	int rc;

	if (mem_read(w->mem, seg, buf, hdr, NULL) < 0) {
		w->t->skipped_segments++;
		skip(w->t, "segment %#llx unreadable", (unsigned long long)seg);
		free(buf);
		return;
	}
	w->abandoned = abandoned;
	rc = miheap_segment_each(w->M, seg, buf, page_blocks, w, why, sizeof why);
	if (rc != 0) {
		w->t->skipped_segments++;
		skip(w->t, "%s", why);
	}
	if (rc >= 0) {
		w->t->segments++;
		w->t->abandoned_segments += abandoned;
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

void miheap_collect(struct mem *mem, const struct pymi *M, uint64_t interp, const uint64_t *ts, size_t n,
		    struct miheap_set *s)
{
	struct gather g = { .mem = mem, .M = M, .s = s };

	memset(s, 0, sizeof *s);
	s->nthreads = n;
	if (!M)
		return;
	for (size_t i = 0; i < n; i++)
		thread_heaps(&g, ts[i]);
	s->nowned = s->nsegs;
	abandoned_segments(&g, interp);
	if (s->full)
		skip(s, "more than %d segments: the rest not walked", MIHEAP_MAX_SEGMENTS);
	if (s->ndelayed)
		qsort(s->delayed, s->ndelayed, sizeof *s->delayed, cmp_u64);
}

void miheap_set_release(struct miheap_set *s)
{
	free(s->segs);
	free(s->delayed);
	memset(s, 0, sizeof *s);
}

int miheap_walk_set(struct mem *mem, const struct pymi *M, const struct miheap_set *s, miheap_block_fn fn, void *arg,
		    struct miheap_totals *t, struct pc_err *e)
{
	struct walk w = { .mem = mem, .M = M, .t = t, .s = s, .fn = fn, .arg = arg };

	memset(t, 0, sizeof *t);
	if (!M)
		return pc_fail(e, PC_EINTERNAL, "no mimalloc layout for this build");
	t->skipped_pages = s->skipped_pages;
	t->skipped_segments = s->skipped_segments;
	memcpy(t->first_skip, s->first_skip, sizeof t->first_skip);
	for (size_t i = 0; i < s->nsegs; i++)
		segment_pages(&w, s->segs[i], i >= s->nowned);
	if (t->nclasses > 1)
		qsort(t->classes, t->nclasses, sizeof *t->classes, cmp_class);
	if (s->nthreads && t->segments == 0 && t->skipped_segments)
		return pc_fail(e, PC_ETARGETMEM, "no mimalloc segment readable: %s", t->first_skip);
	return 0;
}

int miheap_walk(struct mem *mem, const struct pymi *M, uint64_t interp, const uint64_t *ts, size_t n,
		miheap_block_fn fn, void *arg, struct miheap_totals *t, struct pc_err *e)
{
	struct miheap_set s;
	int rc;

	miheap_collect(mem, M, interp, ts, n, &s);
	rc = miheap_walk_set(mem, M, &s, fn, arg, t, e);
	miheap_set_release(&s);
	return rc;
}
