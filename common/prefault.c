/* prefault.c: pages faulted in ahead of their first write, on a thread of their own
 * (common/prefault.h). */
#include "common/compat.h"
#include "common/prefault.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14, include/uapi/asm-generic/mman-common.h */
#endif

#define PF_QUEUE 64u                  /* requests waiting at most: more are dropped */
#define PF_STEP ((size_t)2 << 20)     /* one call per 2 MiB: a huge page at a time */
#define PF_PAGE ((uintptr_t)4096)

static struct {
	pthread_mutex_t mu;
	pthread_cond_t more, idle;
	uintptr_t lo[PF_QUEUE], hi[PF_QUEUE];
	unsigned head, tail;  /* requests [head, tail) wait, modulo PF_QUEUE */
	bool busy;            /* the thread is working on one it took */
	bool started, off;    /* off: no thread, or a kernel without MADV_POPULATE_WRITE */
} pf = { .mu = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER, .idle = PTHREAD_COND_INITIALIZER };

/* EINVAL: a kernel before 5.14; ENOMEM, EFAULT: a range no longer mapped, or not writable (freed
 * without prefault_wait): nothing was changed either way. */
static bool populate(uintptr_t lo, uintptr_t hi)
{
	for (uintptr_t a = lo; a < hi; a += PF_STEP) {
		size_t n = hi - a < PF_STEP ? hi - a : PF_STEP;

		if (madvise((void *)a, n, MADV_POPULATE_WRITE) != 0)
			return errno != EINVAL;
	}
	return true;
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pf.mu);
	for (;;) {
		uintptr_t lo, hi;

		while (pf.head == pf.tail) {
			pf.busy = false;
			pthread_cond_broadcast(&pf.idle);
			pthread_cond_wait(&pf.more, &pf.mu);
		}
		lo = pf.lo[pf.head % PF_QUEUE];
		hi = pf.hi[pf.head % PF_QUEUE];
		pf.head++;
		pf.busy = true;
		pthread_mutex_unlock(&pf.mu);
		bool ok = populate(lo, hi);
		pthread_mutex_lock(&pf.mu);
		if (!ok)
			pf.off = true;
	}
	return NULL;
}

static bool start(void)
{
	pthread_t th;
	pthread_attr_t at;

	if (pthread_attr_init(&at) != 0)
		return false;
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 64u << 10);
	pf.started = pthread_create(&th, &at, worker, NULL) == 0;
	pthread_attr_destroy(&at);
	return pf.started;
}

void prefault(const void *p, size_t bytes)
{
	uintptr_t lo = (uintptr_t)p & ~(PF_PAGE - 1), hi = ((uintptr_t)p + bytes + PF_PAGE - 1) & ~(PF_PAGE - 1);

	if (!p || !bytes || hi <= lo)
		return;
	pthread_mutex_lock(&pf.mu);
	if (!pf.off && !pf.started && !start())
		pf.off = true;
	if (!pf.off && pf.tail - pf.head < PF_QUEUE) {
		pf.lo[pf.tail % PF_QUEUE] = lo;
		pf.hi[pf.tail % PF_QUEUE] = hi;
		pf.tail++;
		pf.busy = true;
		pthread_cond_signal(&pf.more);
	}
	pthread_mutex_unlock(&pf.mu);
}

void prefault_elems(const void *base, size_t from, size_t count, size_t cap, size_t size)
{
	if (base && from < cap)
		prefault((const char *)base + from * size, (cap - from < count ? cap - from : count) * size);
}

void prefault_wait(void)
{
	pthread_mutex_lock(&pf.mu);
	while (pf.started && (pf.head != pf.tail || pf.busy))
		pthread_cond_wait(&pf.idle, &pf.mu);
	pthread_mutex_unlock(&pf.mu);
}
