/* arenas.c: the arena table (symbols) and copying the arenas it lists, into fresh memory or a
 * buffer kept from one census to the next. */
#include "common/compat.h"
#include "pymalloc/arenas.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include "attach/procmem.h"
#include "common/xalloc.h"
#include "pymalloc/arenascan.h"
#include "pymalloc/pool.h"

/* Under AddressSanitizer a kept buffer's unused tail is poisoned, so reading past the copies is
 * still caught (the fuzzer keeps one buffer for all its runs). */
#if defined(__SANITIZE_ADDRESS__)
#define PC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PC_ASAN 1
#endif
#endif
#ifdef PC_ASAN
#include <sanitizer/asan_interface.h>
#define poison(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define poison(p, n) ((void)(p), (void)(n))
#define unpoison(p, n) ((void)(p), (void)(n))
#endif

/* More arena objects than this would describe over 16 TiB of arenas: the table is garbage. */
#define MAX_ARENAS (1u << 24)

void heapcopy_release(struct heapcopy *hc)
{
	free(hc->v);
	if (!hc->keep)
		free(hc->buf);
	memset(hc, 0, sizeof *hc);
}

static void drop_owned(struct copybuf *b)
{
	for (size_t i = 0; i < b->nowned; i++)
		free(b->owned[i]);
	b->nowned = 0;
	b->ncopies = 0;
}

void copybuf_release(struct copybuf *b)
{
	if (b->buf)
		unpoison(b->buf, b->cap);
	free(b->buf);
	free(b->regions);
	drop_owned(b);
	free(b->owned);
	free(b->copies);
	memset(b, 0, sizeof *b);
}

void copybuf_adopt(struct copybuf *b, const struct mem_region *regions, size_t nr, uint8_t **bufs, size_t n)
{
	xgrow((void **)&b->copies, &b->capcopies, b->ncopies + nr + 1, sizeof *b->copies);
	if (nr) /* regions may be NULL then */
		memcpy(b->copies + b->ncopies, regions, nr * sizeof *regions);
	b->ncopies += nr;
	xgrow((void **)&b->owned, &b->capowned, b->nowned + n + 1, sizeof *b->owned);
	for (size_t i = 0; i < n; i++)
		if (bufs[i])
			b->owned[b->nowned++] = bufs[i];
}

void copybuf_serve(const struct copybuf *b, struct mem *m)
{
	for (size_t i = 0; i < b->nregions; i++)
		mem_add_region_unsorted(m, b->regions[i].addr, b->regions[i].data, b->regions[i].len);
	mem_sort_regions(m);
	if (b->ncopies)
		mem_hold_regions(m, b->copies, b->ncopies);
}

/* The copies of a whole fill, for copybuf_serve. */
static void copybuf_note(struct copybuf *k, const struct heapcopy *hc)
{
	k->nregions = 0;
	drop_owned(k); /* an earlier attempt's */
	xgrow((void **)&k->regions, &k->capregions, hc->n ? hc->n : 1, sizeof *k->regions);
	for (size_t i = 0; i < hc->n; i++)
		k->regions[k->nregions++] = (struct mem_region){ hc->v[i].addr, hc->v[i].len, hc->v[i].data };
}

/* The copy is as large as the arenas (GBs for big heaps): most of its cost is the kernel zeroing
 * fresh pages, which huge pages cut by 512x where transparent huge pages are in madvise mode.
 * Small copies skip it: a huge page zeroes 2 MiB on its first touch, more than they need. */
static uint8_t *copy_buffer(uint64_t total)
{
	uint8_t *b;

	if (total < (8u << 20))
		return xmalloc(total + 1);
	b = xmalloc(total + (2u << 20));
	madvise((void *)(((uintptr_t)b + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1)), total, MADV_HUGEPAGE);
	return b;
}

/* realloc keeps the pages already faulted in (mremap for a large block); only the new ones are
 * zeroed by the kernel on first touch. */
static void copybuf_grow(struct copybuf *k, uint64_t cap)
{
	if (k->buf)
		unpoison(k->buf, k->cap);
	k->buf = xrealloc(k->buf, cap + 1);
	k->cap = cap;
	if (cap >= (8u << 20))
		madvise((void *)(((uintptr_t)k->buf + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1)),
			(size_t)cap - (2u << 20), MADV_HUGEPAGE);
}

void copybuf_reserve(struct copybuf *k, uint64_t cap)
{
	uint64_t old = k->cap;

	if (cap <= k->cap)
		return;
	copybuf_grow(k, cap);
	for (uint64_t off = old; off < k->cap; off += 4096)
		((volatile uint8_t *)k->buf)[off] = 0;
}

void copybuf_prepare(struct copybuf *k, pid_t pid)
{
	uint64_t anon, want;

	if (!k->used)
		return; /* a first census: nothing to go by (the target's RSS may be mostly not Python's) */
	anon = procmem_anon(pid);
	want = k->used + (anon > k->anon_at_use ? anon - k->anon_at_use : 0);
	copybuf_reserve(k, want + want / 8);
}

/* From the kept buffer; grown here, inside the pause, only when copybuf_prepare fell short. */
static uint8_t *kept_buffer(struct copybuf *k, pid_t pid, uint64_t total)
{
	if (!k->buf || k->cap < total)
		copybuf_grow(k, total + total / 4 + (1u << 20));
	k->nregions = 0; /* a streamed copy reuses it window by window: no whole copy to serve */
	drop_owned(k);
	k->used = total;
	k->anon_at_use = pid ? procmem_anon(pid) : 0;
	unpoison(k->buf, total);
	poison(k->buf + total, k->cap - total);
	return k->buf;
}

uint8_t *heapcopy_buffer(struct heapcopy *hc, pid_t pid, uint64_t bytes)
{
	return hc->keep ? kept_buffer(hc->keep, pid, bytes) : copy_buffer(bytes);
}

void heapcopy_read(struct pyproc *p, struct mem_req *reqs, size_t n)
{
	struct mem_recorder *rec = p->mem.rec;

	if (rec && rec->skip_copies)
		p->mem.rec = NULL;
	mem_readv(&p->mem, reqs, n);
	p->mem.rec = rec;
}

/* Reads every planned region in batched reads into one buffer; drops regions that fail. */
void heapcopy_unread(const struct pyproc *p, const struct arena_copy *a, struct census *c)
{
	uint64_t pools = p->L.pool_size ? a->len / p->L.pool_size : 0;

	pools = pools ? pools : 1; /* a free-threaded build's short run of copied pages counts as one */
	census_warn(c, "arena at %#llx could not be read; its objects are missing (%llu pools counted as dropped)",
		    (unsigned long long)a->addr, (unsigned long long)pools);
	c->dropped_pools += pools;
}

int heapcopy_fill(struct pyproc *p, struct heapcopy *hc, struct census *c)
{
	struct mem_req *reqs = xcalloc(hc->n, sizeof *reqs);
	uint64_t total = 0, off = 0;
	size_t kept = 0;

	total = heapcopy_planned(hc);
	hc->buf = heapcopy_buffer(hc, p->mem.pid, total);
	for (size_t i = 0; i < hc->n; i++) {
		reqs[i] = (struct mem_req){ hc->v[i].addr, hc->buf + off, hc->v[i].len, false };
		hc->v[i].data = hc->buf + off;
		off += hc->v[i].len;
	}
	heapcopy_read(p, reqs, hc->n);
	for (size_t i = 0; i < hc->n; i++) {
		if (!reqs[i].ok) {
			heapcopy_unread(p, &hc->v[i], c);
			continue;
		}
		hc->v[kept++] = hc->v[i];
		hc->bytes += hc->v[i].len;
	}
	hc->n = kept;
	free(reqs);
	for (size_t i = 0; i < hc->n; i++)
		mem_add_region(&p->mem, hc->v[i].addr, hc->v[i].data, hc->v[i].len);
	if (hc->keep)
		copybuf_note(hc->keep, hc);
	return 0;
}

static int cmp_copy(const void *a, const void *b)
{
	const struct arena_copy *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

void heapcopy_sort(struct heapcopy *hc)
{
	if (hc->n > 1) /* qsort(NULL, 0) is undefined (no arena found: fuzzing) */
		qsort(hc->v, hc->n, sizeof *hc->v, cmp_copy);
}

/* Where the table pointer and its length live in this version (docs/cpython.md 1.5). */
static int table_location(struct pyproc *p, uint64_t *tabptr, uint64_t *maxptr, struct pc_err *e)
{
	const struct pylayout *L = &p->L;

	if (L->arenas_in_interp) {
		if (!p->obmalloc)
			return pc_fail(e, PC_ELAYOUT, "interp->obmalloc is NULL");
		*tabptr = p->obmalloc + (uint64_t)L->off.obm_arenas;
		*maxptr = p->obmalloc + (uint64_t)L->off.obm_maxarenas;
		return 0;
	}
	*tabptr = pyelf_symbol(&p->elf, "arenas");
	*maxptr = pyelf_symbol(&p->elf, "maxarenas");
	if (!*tabptr || !*maxptr)
		return pc_fail(e, PC_EUNSUPPORTED,
			       "%s has no symbol for pymalloc's arena table (stripped build); use --arenas=scan or auto",
			       p->elf.maps_path);
	return 0;
}

/* Turns one arena_object into a planned copy; false when the entry is unused or implausible. */
static bool plan_arena(struct pyproc *p, const uint8_t *ao, struct arena_copy *out, struct census *c)
{
	const struct pylayout *L = &p->L;
	uint64_t addr, pool_address, first;

	memcpy(&addr, ao + L->off.ao_address, 8);
	memcpy(&pool_address, ao + L->off.ao_pool_address, 8);
	if (addr == 0)
		return false;
	first = (addr + L->pool_size - 1) & ~(L->pool_size - 1);
	if ((addr & 4095) || pool_address < first || pool_address > addr + L->arena_size ||
	    (pool_address - first) % L->pool_size) {
		census_warn(c, "arena table entry for %#llx is inconsistent; skipped", (unsigned long long)addr);
		return false;
	}
	if (pool_address == first)
		return false; /* no pool carved yet */
	*out = (struct arena_copy){ first, pool_address - first, NULL };
	if (!pyproc_readable(p, first, out->len)) {
		census_warn(c, "arena at %#llx is not mapped; skipped", (unsigned long long)addr);
		return false;
	}
	return true;
}

/* The per-arena figures _PyObject_DebugMallocStats sums over the table (obmalloc.c, 3.8-3.15). */
static void table_add(const struct pylayout *L, const uint8_t *ao, struct arena_table_sum *t)
{
	uint64_t addr;
	uint32_t nfree;

	memcpy(&addr, ao + L->off.ao_address, 8);
	memcpy(&nfree, ao + L->off.ao_nfreepools, 4);
	if (addr == 0)
		return;
	t->known = true;
	t->narenas++;
	t->nfreepools += nfree;
	t->unaligned += (addr & (L->pool_size - 1)) != 0;
}

static int arenas_from_table(struct pyproc *p, struct heapcopy *hc, struct census *c, struct pc_err *e)
{
	uint64_t tabptr = 0, maxptr = 0, table = 0;
	uint32_t maxarenas;
	size_t aosz = (size_t)p->L.off.arena_object_size;
	uint8_t *tab;

	if (table_location(p, &tabptr, &maxptr, e) < 0)
		return -1;
	if (mem_read_u64(&p->mem, tabptr, &table, e) < 0 || mem_read_u32(&p->mem, maxptr, &maxarenas, e) < 0)
		return -1;
	if (maxarenas > MAX_ARENAS || (maxarenas && !pyproc_readable(p, table, (uint64_t)maxarenas * aosz)))
		return pc_fail(e, PC_ELAYOUT, "pymalloc arena table %#llx[%u] is implausible",
			       (unsigned long long)table, maxarenas);
	tab = xmalloc((size_t)maxarenas * aosz + 1);
	if (maxarenas && mem_read(&p->mem, table, tab, (size_t)maxarenas * aosz, e) < 0) {
		free(tab);
		return -1;
	}
	for (uint32_t i = 0; i < maxarenas; i++) {
		struct arena_copy a;
		table_add(&p->L, tab + (size_t)i * aosz, &hc->table);
		if (!plan_arena(p, tab + (size_t)i * aosz, &a, c))
			continue;
		xgrow((void **)&hc->v, &hc->cap, hc->n + 1, sizeof *hc->v);
		hc->v[hc->n++] = a;
	}
	free(tab);
	hc->source = "symbols";
	hc->table.known = true;
	return 0;
}

int arenas_locate(struct pyproc *p, enum arena_mode mode, struct heapcopy *hc, struct census *c, struct pc_err *e)
{
	struct pc_err tmp = { 0 };
	struct copybuf *keep = hc->keep;

	memset(hc, 0, sizeof *hc);
	hc->keep = keep;
	if (mode == ARENAS_SCAN) {
		if (arenas_scan(p, hc, c, e) < 0)
			return -1;
	} else if (arenas_from_table(p, hc, c, mode == ARENAS_SYMBOLS ? e : &tmp) < 0) {
		if (mode == ARENAS_SYMBOLS)
			return -1;
		heapcopy_release(hc);
		hc->keep = keep;
		if (arenas_scan(p, hc, c, e) < 0)
			return -1;
	}
	heapcopy_sort(hc);
	return 0;
}

int arenas_copy(struct pyproc *p, enum arena_mode mode, struct heapcopy *hc, struct census *c, struct pc_err *e)
{
	return arenas_locate(p, mode, hc, c, e) < 0 ? -1 : heapcopy_fill(p, hc, c);
}

uint64_t heapcopy_planned(const struct heapcopy *hc)
{
	uint64_t total = 0;

	for (size_t i = 0; i < hc->n; i++)
		total += hc->v[i].len;
	return total;
}

uint64_t arenas_estimate(struct pyproc *p, enum arena_mode mode)
{
	struct heapcopy hc = { 0 };
	struct census c;
	struct pc_err e = { 0 };
	uint64_t total = 0;
	int rc;

	census_init(&c);
	rc = mode == ARENAS_SCAN ? arenas_scan(p, &hc, &c, &e) : arenas_from_table(p, &hc, &c, &e);
	if (rc < 0 && mode == ARENAS_AUTO) {
		heapcopy_release(&hc);
		rc = arenas_scan(p, &hc, &c, &e);
	}
	if (rc == 0)
		total = heapcopy_planned(&hc);
	heapcopy_release(&hc);
	census_release(&c);
	return rc == 0 ? total : 0;
}

const struct arena_copy *heapcopy_find(const struct heapcopy *hc, uint64_t addr)
{
	size_t lo = 0, hi = hc->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct arena_copy *a = &hc->v[mid];
		if (addr < a->addr)
			hi = mid;
		else if (addr - a->addr >= a->len)
			lo = mid + 1;
		else
			return a;
	}
	return NULL;
}

void heapcopy_each_pool(const struct pylayout *L, const struct heapcopy *hc, heapcopy_pool_fn *fn, void *ctx)
{
	for (size_t a = 0; a < hc->n; a++) {
		const struct arena_copy *ac = &hc->v[a];
		uint64_t first = (ac->addr + L->pool_size - 1) & ~(L->pool_size - 1);
		if (!ac->data)
			continue; /* streamed: not in the window held now */
		for (uint64_t pa = first; pa + L->pool_size <= ac->addr + ac->len; pa += L->pool_size)
			fn(ctx, a, ac->data + (pa - ac->addr), pa);
	}
}
