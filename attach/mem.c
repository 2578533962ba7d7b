/* mem.c: the memory reader: local cache of copied regions, then process_vm_readv in batches,
 * then /proc/PID/mem. */
#include "common/compat.h"
#include "attach/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "attach/chunks.h"
#include "attach/prefetch.h"
#include "attach/record.h"
#include "common/xalloc.h"

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

void mem_init_pid(struct mem *m, pid_t pid)
{
	memset(m, 0, sizeof *m);
	m->pid = pid;
	m->memfd = -1;
	m->use_vm_readv = true;
}

void mem_use_chunks(struct mem *m)
{
	if (m->pid && !m->chunks) {
		m->chunks = xmalloc(sizeof *m->chunks);
		chunks_init(m->chunks);
	}
}

void mem_init_buffer(struct mem *m)
{
	mem_init_pid(m, 0);
	m->sealed_missing = true;
}

void mem_release(struct mem *m)
{
	if (m->memfd_open)
		close(m->memfd);
	free(m->cache);
	free(m->hints);
	if (m->chunks) {
		chunks_release(m->chunks);
		free(m->chunks);
	}
	if (m->pf) {
		prefetch_release(m->pf);
		free(m->pf);
	}
	for (size_t i = 0; i < m->nheld; i++)
		prefetch_release(&m->held[i]);
	free(m->held);
	free(m->heldix);
	free(m->heldend);
	free(m->heldreg);
	memset(m, 0, sizeof *m);
	m->memfd = -1;
}

/* A direct-mapped cache of where a KiB of addresses was last found among the regions: with tens of
 * thousands of regions (a heap's classes, copied outside the arenas) the binary search of every
 * reference followed costs more than the rest of following it. Indexes shift when regions are
 * added, so the hints are forgotten then rather than left to miss. The table grows with the
 * regions (four slots each): a fixed 4,096 pages missed on 60,000 classes of 936 bytes, four to a
 * page (with the addresses between regions, unhinted before: region_of 1.8e8 -> 0.8e8
 * instructions on such a census). */
#define HINT_SHIFT 10      /* a KiB: a type object, the smallest region met in thousands */
#define HINTS_MIN 4096u
#define HINTS_MAX (1u << 20)
#define HINTS_FROM 64u /* regions: fewer are searched in a few steps */

static void hints_reset(struct mem *m)
{
	size_t want = HINTS_MIN;

	if (m->ncache < HINTS_FROM)
		return;
	while (want < HINTS_MAX && want < 4 * m->ncache)
		want *= 2;
	if (want != m->nhints) {
		free(m->hints);
		m->hints = xcalloc(want, sizeof *m->hints);
		m->nhints = want;
	} else {
		memset(m->hints, 0, m->nhints * sizeof *m->hints);
	}
}

void mem_add_region(struct mem *m, uint64_t addr, const void *data, uint64_t len)
{
	size_t i = m->ncache;

	xgrow((void **)&m->cache, &m->capcache, m->ncache + 1, sizeof *m->cache);
	while (i > 0 && m->cache[i - 1].addr > addr) {
		m->cache[i] = m->cache[i - 1];
		i--;
	}
	m->cache[i] = (struct mem_region){ addr, len, data };
	m->ncache++;
	m->last_hit = i;
	hints_reset(m);
}

void mem_add_region_unsorted(struct mem *m, uint64_t addr, const void *data, uint64_t len)
{
	xgrow((void **)&m->cache, &m->capcache, m->ncache + 1, sizeof *m->cache);
	/* appended: no index moves, so the hints stay true until mem_sort_regions (clearing their
	 * 16 KiB here was a third of the instructions of a census with 60,000 objects outside the
	 * arenas: one region each) */
	m->cache[m->ncache++] = (struct mem_region){ addr, len, data };
}

static int cmp_region(const void *a, const void *b)
{
	const struct mem_region *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

void mem_sort_regions(struct mem *m)
{
	if (m->ncache > 1) /* qsort(NULL, 0) is undefined */
		qsort(m->cache, m->ncache, sizeof *m->cache, cmp_region);
	m->last_hit = 0;
	hints_reset(m);
}

void mem_set_image(struct mem *m, const struct mem_region *regions, size_t n)
{
	m->image = regions;
	m->nimage = n;
}

static inline bool region_has(const struct mem_region *r, uint64_t addr, uint64_t len)
{
	return addr >= r->addr && len <= r->len && addr - r->addr <= r->len - len;
}

/* The region holding [addr, addr+len), held or not; NULL when none does. A hint is the binary
 * search's answer for that KiB (the index of the first region starting after addr, plus one),
 * taken when it still brackets addr: an address between the copies is answered as fast as one in
 * them (half the lookups on 60,000 classes: a type or keys object not copied, followed again). */
static struct mem_region *region_of(struct mem *m, uint64_t addr, uint64_t len)
{
	size_t lo = 0, hi = m->ncache, h = (size_t)(addr >> HINT_SHIFT) & (m->nhints - 1);
	uint32_t hint = m->hints ? m->hints[h] : 0;

	if (hint && hint - 1u <= m->ncache && (hint == 1 || m->cache[hint - 2].addr <= addr) &&
	    (hint - 1u == m->ncache || addr < m->cache[hint - 1].addr)) {
		lo = hint - 1u;
	} else {
		while (lo < hi) { /* last region whose start <= addr */
			size_t mid = lo + (hi - lo) / 2;
			if (m->cache[mid].addr <= addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (m->hints && lo < UINT32_MAX)
			m->hints[h] = (uint32_t)lo + 1u;
	}
	return lo && region_has(&m->cache[lo - 1], addr, len) ? &m->cache[lo - 1] : NULL;
}

/* region_of, trying first the region the last lookup found: walks and reference runs (a list's
 * items, made one after another) stay in one arena for long stretches. */
static const struct mem_region *region_near(struct mem *m, uint64_t addr, uint64_t len)
{
	const struct mem_region *r;

	if (m->ncache == 0)
		return NULL;
	if (m->last_hit < m->ncache && region_has(&m->cache[m->last_hit], addr, len))
		return &m->cache[m->last_hit];
	if ((r = region_of(m, addr, len)))
		m->last_hit = (size_t)(r - m->cache);
	return r;
}

const uint8_t *mem_local(struct mem *m, uint64_t addr, uint64_t len)
{
	const struct mem_region *r = region_near(m, addr, len);

	if (!r || !r->data)
		return NULL; /* covered, not held: a window not read yet, or read and let go */
	m->stats.local_hits++;
	return r->data + (addr - r->addr);
}

bool mem_covered(struct mem *m, uint64_t addr, uint64_t len)
{
	return region_near(m, addr, len) != NULL;
}

bool mem_region_hold(struct mem *m, uint64_t addr, const void *data)
{
	struct mem_region *r = m->ncache ? region_of(m, addr, 1) : NULL;

	if (!r || r->addr != addr)
		return false;
	r->data = data;
	return true;
}

/* The index of the image region holding addr, or nimage. */
static size_t image_index(const struct mem *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nimage;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->image[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 || !region_has(&m->image[lo - 1], addr, 1) ? m->nimage : lo - 1;
}

/* Replay: the image answers where the process would, across regions that touch (a core file's
 * segments are one per mapping: an object may straddle two adjacent mappings). */
static bool read_image(struct mem *m, uint64_t addr, void *buf, size_t len)
{
	size_t i = image_index(m, addr), done = 0;

	m->stats.syscalls++;
	while (done < len && i < m->nimage && m->image[i].addr <= addr + done) {
		const struct mem_region *r = &m->image[i++];
		uint64_t at = addr + done - r->addr, n = r->len - at < len - done ? r->len - at : len - done;
		memcpy((uint8_t *)buf + done, r->data + at, n);
		done += n;
	}
	if (done < len)
		return false;
	m->stats.remote_bytes += len;
	return true;
}

static void recorded(struct mem *m, uint64_t addr, const void *buf, size_t len)
{
	if (m->rec)
		record_add(m->rec, addr, buf, len);
}

static int remote_error(struct mem *m, uint64_t addr, size_t len, int err, struct pc_err *e)
{
	if (err == ESRCH || (err == 0 && kill(m->pid, 0) < 0 && errno == ESRCH))
		return pc_fail(e, PC_EEXITED, "process %d exited during the census", (int)m->pid);
	return pc_fail(e, PC_ETARGETMEM, "cannot read %zu bytes at %#llx: %s", len,
		       (unsigned long long)addr, err ? strerror(err) : "short read");
}

/* /proc/PID/mem works where process_vm_readv is filtered (some seccomp profiles). */
static ssize_t read_procmem(struct mem *m, uint64_t addr, void *buf, size_t len)
{
	if (m->memfd < 0) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/mem", (int)m->pid);
		m->memfd = open(path, O_RDONLY | O_CLOEXEC);
		m->memfd_open = m->memfd >= 0;
		if (m->memfd < 0)
			return -1;
	}
	m->stats.syscalls++;
	return pread(m->memfd, buf, len, (off_t)addr);
}

static ssize_t read_remote(struct mem *m, uint64_t addr, void *buf, size_t len)
{
	if (m->use_vm_readv) {
		struct iovec l = { buf, len }, r = { (void *)(uintptr_t)addr, len };
		ssize_t n;
		m->stats.syscalls++;
		n = process_vm_readv(m->pid, &l, 1, &r, 1, 0);
		if (n >= 0 || (errno != ENOSYS && errno != EPERM))
			return n;
		m->use_vm_readv = false;
	}
	return read_procmem(m, addr, buf, len);
}

/* x86-64 pages: the unit a mapping starts and ends on. */
#define PAGE 4096u

/* Reads [addr, addr+len) (page-aligned, at most a chunk) and returns how many bytes from addr
 * were read before the first unreadable page. One iovec per page: process_vm_readv does not
 * split an iovec, so a chunk that runs past its mapping still yields the pages before. */
static size_t read_pages(struct mem *m, uint64_t addr, uint8_t *buf, size_t len)
{
	struct iovec l[CHUNK_SIZE / PAGE], r[CHUNK_SIZE / PAGE];
	size_t n = len / PAGE;
	ssize_t got;

	if (!m->use_vm_readv) {
		got = read_procmem(m, addr, buf, len);
		return got > 0 ? (size_t)got : 0;
	}
	for (size_t i = 0; i < n; i++) {
		l[i] = (struct iovec){ buf + i * PAGE, PAGE };
		r[i] = (struct iovec){ (void *)(uintptr_t)(addr + i * PAGE), PAGE };
	}
	m->stats.syscalls++;
	got = process_vm_readv(m->pid, l, n, r, n, 0);
	return got > 0 ? (size_t)got : 0;
}

/* Reads the chunk at base from `from` on into the store; false when nothing could be read. */
static bool chunk_fill(struct mem *m, uint64_t base, uint32_t from)
{
	struct chunks *c = m->chunks;
	struct chunk *ch;
	size_t n;

	if (!chunks_room(c, base))
		return false;
	n = read_pages(m, base + from, c->scratch, CHUNK_SIZE - from);
	if (n == 0 || !(ch = chunks_slot(c, base)))
		return false;
	memcpy(ch->data + from, c->scratch, n);
	chunks_held(ch, from, (uint32_t)n);
	m->stats.remote_bytes += n;
	recorded(m, base + from, c->scratch, n);
	return true;
}

/* Serves a small live read from its chunk, reading the chunk on a miss: the whole of it first,
 * then from the read's own page when the chunk starts before its mapping; a read across two
 * chunks takes its two parts from each. False when the bytes
 * cannot come from a chunk; the caller then reads them alone (and reports why that fails). */
static bool chunk_read(struct mem *m, uint64_t addr, void *buf, size_t len)
{
	uint64_t base = addr & ~(uint64_t)(CHUNK_SIZE - 1);
	uint32_t off = (uint32_t)(addr - base);
	const uint8_t *p = chunks_find(m->chunks, addr, len);

	if (!p && len > CHUNK_SIZE - off && len <= CHUNK_SIZE) /* runs into the next chunk */
		return chunk_read(m, addr, buf, CHUNK_SIZE - off) &&
		       chunk_read(m, base + CHUNK_SIZE, (uint8_t *)buf + (CHUNK_SIZE - off),
				  len - (CHUNK_SIZE - off));
	if (!p && len > 0 && len <= CHUNK_SIZE - off) {
		uint64_t slot;
		if (!ptrmap_get(&m->chunks->index, base, &slot))
			chunk_fill(m, base, 0);
		if (!(p = chunks_find(m->chunks, addr, len)) && chunk_fill(m, base, off & ~(PAGE - 1)))
			p = chunks_find(m->chunks, addr, len);
	}
	if (!p)
		return false;
	memcpy(buf, p, len);
	return true;
}

const uint8_t *mem_peek(struct mem *m, uint64_t addr, uint64_t len)
{
	const uint8_t *p = mem_local(m, addr, len);

	if (!p && m->pf)
		p = prefetch_find(m->pf, addr, len);
	if (!p && m->serve_held)
		p = mem_prefetched(m, addr, len);
	return p;
}

int mem_read(struct mem *m, uint64_t addr, void *buf, size_t len, struct pc_err *e)
{
	const uint8_t *p = mem_peek(m, addr, len);
	ssize_t n;

	if (p) {
		memcpy(buf, p, len);
		return 0;
	}
	if (m->image) {
		m->stats.remote_reads++;
		if (read_image(m, addr, buf, len))
			return 0;
		return pc_fail(e, PC_ETARGETMEM, "address %#llx (+%zu) is not in the captured image",
			       (unsigned long long)addr, len);
	}
	if (m->sealed_missing || m->pid == 0)
		return pc_fail(e, PC_ETARGETMEM, "address %#llx (+%zu) is not in the captured image",
			       (unsigned long long)addr, len);
	if (addr + len < addr)
		return remote_error(m, addr, len, EFAULT, e);
	m->stats.remote_reads++;
	if (m->chunks && chunk_read(m, addr, buf, len))
		return 0;
	n = read_remote(m, addr, buf, len);
	if (n == (ssize_t)len) {
		m->stats.remote_bytes += len;
		recorded(m, addr, buf, len);
		return 0;
	}
	return remote_error(m, addr, len, n < 0 ? errno : 0, e);
}

int mem_read_u64(struct mem *m, uint64_t addr, uint64_t *v, struct pc_err *e)
{
	return mem_read(m, addr, v, sizeof *v, e);
}

int mem_read_u32(struct mem *m, uint64_t addr, uint32_t *v, struct pc_err *e)
{
	return mem_read(m, addr, v, sizeof *v, e);
}

/* One process_vm_readv over reqs[0..n) (all remote); marks the ones read in full and returns how
 * many leading requests were consumed (read or failed), at least 1. */
static size_t readv_batch(struct mem *m, struct mem_req *reqs, size_t n)
{
	struct iovec l[IOV_MAX], r[IOV_MAX];
	size_t got, i;
	ssize_t res;

	if (n > IOV_MAX)
		n = IOV_MAX;
	for (i = 0; i < n; i++) {
		l[i] = (struct iovec){ reqs[i].buf, reqs[i].len };
		r[i] = (struct iovec){ (void *)(uintptr_t)reqs[i].addr, reqs[i].len };
	}
	m->stats.syscalls++;
	res = process_vm_readv(m->pid, l, n, r, n, 0);
	if (res < 0) {
		if (errno == ENOSYS || errno == EPERM) {
			m->use_vm_readv = false;
			return 0; /* the caller retries these through /proc/PID/mem */
		}
		res = 0;
	}
	got = (size_t)res;
	m->stats.remote_bytes += got;
	/* The kernel stops at the first fault: everything before it was read. */
	for (i = 0; i < n && got >= reqs[i].len; i++) {
		reqs[i].ok = true;
		got -= reqs[i].len;
		recorded(m, reqs[i].addr, reqs[i].buf, reqs[i].len);
	}
	return i < n ? i + 1 : n; /* request i faulted (or was cut): give up on it alone */
}

/* Reads reqs[0..n), all remote, from the target in as few syscalls as IOV_MAX allows. */
static void read_remote_all(struct mem *m, struct mem_req *reqs, size_t n)
{
	size_t i = 0;

	while (i < n && m->pid && !m->sealed_missing) {
		if (m->use_vm_readv) {
			i += readv_batch(m, reqs + i, n - i < IOV_MAX ? n - i : IOV_MAX);
		} else {
			reqs[i].ok = read_procmem(m, reqs[i].addr, reqs[i].buf, reqs[i].len) == (ssize_t)reqs[i].len;
			if (reqs[i].ok)
				recorded(m, reqs[i].addr, reqs[i].buf, reqs[i].len);
			i++;
		}
	}
}

/* The requests no copy or batch served, gathered before they are read: served ones between them
 * would cut the syscalls' batches short (a stopped census's references, every other one served
 * from kept batches: twice the syscalls). */
static void read_unserved(struct mem *m, struct mem_req *reqs, size_t n)
{
	struct mem_req *rest;
	size_t *at, nrest = 0;

	for (size_t k = 0; k < n; k++)
		nrest += !reqs[k].ok;
	if (nrest == 0 || !m->pid || m->sealed_missing)
		return;
	if (nrest == n) {
		read_remote_all(m, reqs, n);
		return;
	}
	rest = xmalloc(nrest * sizeof *rest);
	at = xmalloc(nrest * sizeof *at);
	nrest = 0;
	for (size_t k = 0; k < n; k++)
		if (!reqs[k].ok) {
			at[nrest] = k;
			rest[nrest++] = reqs[k];
		}
	read_remote_all(m, rest, nrest);
	for (size_t k = 0; k < nrest; k++)
		reqs[at[k]].ok = rest[k].ok;
	free(rest);
	free(at);
}

size_t mem_readv(struct mem *m, struct mem_req *reqs, size_t n)
{
	size_t nok = 0;

	for (size_t k = 0; k < n; k++) {
		const uint8_t *p = mem_local(m, reqs[k].addr, reqs[k].len);
		if (!p && m->chunks)
			p = chunks_find(m->chunks, reqs[k].addr, reqs[k].len);
		if (!p && m->pf)
			p = prefetch_find(m->pf, reqs[k].addr, reqs[k].len);
		if (!p && m->serve_held)
			p = mem_prefetched(m, reqs[k].addr, reqs[k].len);
		reqs[k].ok = p != NULL;
		if (p)
			memcpy(reqs[k].buf, p, reqs[k].len);
	}
	for (size_t k = 0; m->image && k < n; k++)
		if (!reqs[k].ok)
			reqs[k].ok = read_image(m, reqs[k].addr, reqs[k].buf, reqs[k].len);
	/* A batch of one or two is a walk's step along a chain (a GC list outside the arenas holds
	 * thousands of nodes with PYTHONMALLOC=malloc): its chunk serves the neighbours next. */
	for (size_t k = 0; m->chunks && n <= 2 && k < n; k++)
		if (!reqs[k].ok)
			reqs[k].ok = chunk_read(m, reqs[k].addr, reqs[k].buf, reqs[k].len);
	read_unserved(m, reqs, n);
	for (size_t k = 0; k < n; k++)
		nok += reqs[k].ok;
	return nok;
}

size_t mem_readv_fresh(struct mem *m, struct mem_req *reqs, size_t n)
{
	size_t ncache = m->ncache, got;
	struct chunks *chunks = m->chunks;
	struct prefetch *pf = m->pf;
	bool serve_held = m->serve_held;

	m->ncache = 0; /* hide the caches for this batch */
	m->chunks = NULL;
	m->pf = NULL;
	m->serve_held = false;
	got = mem_readv(m, reqs, n);
	m->ncache = ncache;
	m->chunks = chunks;
	m->pf = pf;
	m->serve_held = serve_held;
	return got;
}

int mem_read_cstr(struct mem *m, uint64_t addr, char *buf, size_t max, struct pc_err *e)
{
	size_t off = 0;

	if (max == 0)
		return pc_fail(e, PC_EINTERNAL, "mem_read_cstr with an empty buffer");
	/* Read in small chunks so a string near the end of a mapping (or of a captured region) still
	 * reads: a chunk that fails is retried one byte at a time. */
	while (off < max) {
		size_t chunk = max - off < 64 ? max - off : 64;
		uint64_t a = addr + off;
		size_t to_page = 4096 - (size_t)(a & 4095);
		if (chunk > to_page)
			chunk = to_page;
		if (mem_read(m, a, buf + off, chunk, NULL) < 0) {
			chunk = 1;
			if (mem_read(m, a, buf + off, 1, e) < 0)
				return -1;
		}
		if (memchr(buf + off, '\0', chunk))
			return 0;
		off += chunk;
	}
	buf[max - 1] = '\0';
	return pc_fail(e, PC_ETARGETMEM, "string at %#llx longer than %zu bytes", (unsigned long long)addr, max);
}
