/* arenawin.c: the arenas a window at a time (pymalloc/arenawin.h). On a live process read with
 * process_vm_readv, the next window is read by a second thread while this one is walked, into the
 * other half of a double buffer: reading and walking overlap on two cores. */
#include "common/compat.h"
#include "pymalloc/arenawin.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "attach/record.h"
#include "common/xalloc.h"

#define WIN_ARENAS 256u /* arenas per window at most: 256 MiB of 1 MiB arenas */

struct arenawin_fetch {
	pthread_t th;
	bool running;
	pid_t pid;
	size_t from, to;         /* the arenas it reads */
	struct mem_req reqs[WIN_ARENAS];
	uint64_t syscalls, bytes;
};

/* The process's memory can be read by another thread: a live process through process_vm_readv,
 * with no recorder that would have to see the reads. */
static bool can_prefetch(const struct pyproc *p)
{
	return p->mem.pid && p->mem.use_vm_readv && !p->mem.image && !p->mem.sealed_missing &&
	       (!p->mem.rec || p->mem.rec->skip_copies);
}

void arenawin_begin(struct pyproc *p, struct heapcopy *hc, uint64_t window)
{
	uint64_t largest = 0;

	for (size_t i = 0; i < hc->n; i++) {
		hc->v[i].data = NULL;
		largest = hc->v[i].len > largest ? hc->v[i].len : largest;
		mem_add_region_unsorted(&p->mem, hc->v[i].addr, NULL, hc->v[i].len);
	}
	mem_sort_regions(&p->mem);
	hc->streamed = true;
	hc->planned = heapcopy_planned(hc);
	hc->window = window > largest ? window : largest;
	if (hc->window > hc->planned)
		hc->window = hc->planned;
	if (can_prefetch(p) && hc->window < hc->planned) {
		hc->fetch = xcalloc(1, sizeof *hc->fetch);
		hc->fetch->pid = p->mem.pid;
	}
	hc->buf = heapcopy_buffer(hc, p->mem.pid, hc->fetch ? 2 * hc->window : hc->window);
}

/* Where window number k goes: with a reading thread, even windows in the first half of the
 * buffer and odd ones in the second, so the one read ahead never lands on the one walked. */
static uint8_t *half(const struct heapcopy *hc, unsigned k)
{
	return hc->buf + (hc->fetch && k % 2 ? hc->window : 0);
}

/* The arenas from `from` on that fit in a window, as reads into buf; returns the index after. */
static size_t plan(const struct heapcopy *hc, size_t from, uint8_t *buf, struct mem_req *reqs)
{
	uint64_t off = 0;
	size_t to = from;

	while (to < hc->n && to - from < WIN_ARENAS && off + hc->v[to].len <= hc->window) {
		reqs[to - from] = (struct mem_req){ hc->v[to].addr, buf + off, hc->v[to].len, false };
		off += hc->v[to++].len;
	}
	return to;
}

static void *fetch_main(void *arg)
{
	struct arenawin_fetch *f = arg;

	for (size_t i = 0; i < f->to - f->from; i++) {
		struct mem_req *r = &f->reqs[i];
		struct iovec l = { r->buf, r->len }, rv = { (void *)(uintptr_t)r->addr, r->len };
		ssize_t got = process_vm_readv(f->pid, &l, 1, &rv, 1, 0);
		f->syscalls++;
		r->ok = got == (ssize_t)r->len;
		f->bytes += got > 0 ? (uint64_t)got : 0;
	}
	return NULL;
}

/* Starts reading the window after `from`'s into the half the walk does not use. */
static void prefetch(struct heapcopy *hc, size_t from)
{
	struct arenawin_fetch *f = hc->fetch;

	if (!f || from >= hc->n)
		return;
	f->from = from;
	f->to = plan(hc, from, half(hc, hc->nwindows), f->reqs);
	f->running = pthread_create(&f->th, NULL, fetch_main, f) == 0;
	if (!f->running)
		f->from = f->to = 0; /* no thread: the walk reads it itself */
}

/* The window's reads done: the arenas read are held, the others warned about. */
static void install(struct pyproc *p, struct heapcopy *hc, size_t from, const struct mem_req *reqs, size_t n,
		    struct census *c)
{
	for (size_t i = 0; i < n; i++) {
		struct arena_copy *a = &hc->v[from + i];
		if (!reqs[i].ok) {
			heapcopy_unread(p, a, c);
			continue;
		}
		a->data = reqs[i].buf;
		mem_region_hold(&p->mem, a->addr, a->data);
		hc->bytes += a->len;
	}
	hc->nwindows++;
}

size_t arenawin_hold(struct pyproc *p, struct heapcopy *hc, size_t from, struct census *c)
{
	struct arenawin_fetch *f = hc->fetch;
	struct mem_req reqs[WIN_ARENAS];
	size_t to;

	if (f && f->running && f->from == from) {
		pthread_join(f->th, NULL);
		f->running = false;
		p->mem.stats.syscalls += f->syscalls;
		p->mem.stats.remote_bytes += f->bytes;
		f->syscalls = f->bytes = 0;
		to = f->to;
		install(p, hc, from, f->reqs, to - from, c);
	} else {
		to = plan(hc, from, half(hc, hc->nwindows), reqs);
		if (to == from)
			return from;
		heapcopy_read(p, reqs, to - from);
		install(p, hc, from, reqs, to - from, c);
	}
	prefetch(hc, to);
	return to;
}

void arenawin_release(struct pyproc *p, struct heapcopy *hc, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		if (hc->v[i].data)
			mem_region_hold(&p->mem, hc->v[i].addr, NULL);
		hc->v[i].data = NULL;
	}
}

void arenawin_end(struct heapcopy *hc)
{
	if (!hc->fetch)
		return;
	if (hc->fetch->running)
		pthread_join(hc->fetch->th, NULL);
	free(hc->fetch);
	hc->fetch = NULL;
}
