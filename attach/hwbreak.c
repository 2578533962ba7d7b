/* hwbreak.c: execution breakpoints as perf events that send SIGTRAP to the thread. */
#include "common/compat.h"
#include "attach/hwbreak.h"

#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef TRAP_PERF
#define TRAP_PERF 6
#endif

void hwbreak_init(struct hwbreak *h)
{
	h->n = 0;
}

/* An execution breakpoint at addr, in user space (x86 requires the length of a long) */
static void breakpoint_attr(struct perf_event_attr *a, uint64_t addr)
{
	memset(a, 0, sizeof *a);
	a->type = PERF_TYPE_BREAKPOINT;
	a->size = sizeof *a;
	a->bp_type = HW_BREAKPOINT_X;
	a->bp_addr = addr;
	a->bp_len = sizeof(long);
	a->exclude_kernel = 1;
	a->exclude_hv = 1;
}

static int open_breakpoint(pid_t tid, uint64_t addr)
{
	struct perf_event_attr a;

	breakpoint_attr(&a, addr);
	a.sample_period = 1;
	a.sigtrap = 1;
	a.remove_on_exec = 1;   /* required with sigtrap */
	return (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

/* The probe's breakpoint is on this function: noinline, so it has an address of its own, called
 * through a volatile pointer so that the call stays. */
__attribute__((noinline)) static void probe_target(void)
{
	__asm__ volatile("" ::: "memory");
}

/* Counts the hits of a breakpoint on probe_target in this thread over one call. Some virtual
 * machines accept the event but never raise it (seen on a Firecracker guest, kernel 6.18: gdb's
 * hardware watchpoints and `perf stat -e mem:ADDR:x` count 0 there too): a breakpoint that cannot
 * fire must be known before `run` counts on it. -1 with errno when the event is refused. */
static long long probe_hits(void)
{
	struct perf_event_attr a;
	void (*volatile call)(void) = probe_target;
	long long hits = 0;
	int fd;

	breakpoint_attr(&a, (uint64_t)(uintptr_t)probe_target);
	fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -1;
	call();
	if (read(fd, &hits, sizeof hits) != (ssize_t)sizeof hits)
		hits = 0;
	close(fd);
	return hits;
}

int hwbreak_check(struct pc_err *e)
{
	static int fires; /* once per pycensus: 1 they fire, -1 they do not, 0 not probed */
	static int refused_errno;
	long long hits;

	if (getenv("PYCENSUS_TEST_NO_HWBREAK")) /* tests: run as where none fires */
		return pc_fail(e, PC_EPERM, "hardware breakpoints do not fire (PYCENSUS_TEST_NO_HWBREAK is set)");
	if (fires == 0) {
		hits = probe_hits();
		refused_errno = hits < 0 ? errno : 0;
		fires = hits > 0 ? 1 : -1;
	}
	if (fires > 0)
		return 0;
	if (refused_errno)
		return pc_fail(e, PC_EPERM, "perf_event_open(hardware breakpoint): %s", strerror(refused_errno));
	return pc_fail(e, PC_EPERM,
		       "hardware breakpoints do not fire on this machine (a test breakpoint counted 0 hits; a virtual "
		       "machine that does not pass debug registers through)");
}

int hwbreak_set(struct hwbreak *h, pid_t tid, const uint64_t *addrs, size_t n, struct pc_err *e)
{
	hwbreak_clear(h);
	if (hwbreak_check(e) < 0)
		return -1;
	for (size_t i = 0; i < n && h->n < HWBREAK_MAX; i++) {
		int fd;

		if (!addrs[i])
			continue;
		fd = open_breakpoint(tid, addrs[i]);
		if (fd < 0) {
			int err = errno;

			hwbreak_clear(h);
			return pc_fail(e, PC_EPERM, "perf_event_open(hardware breakpoint on thread %d): %s", (int)tid,
				       strerror(err));
		}
		h->fds[h->n++] = fd;
	}
	return 0;
}

void hwbreak_clear(struct hwbreak *h)
{
	for (size_t i = 0; i < h->n; i++)
		close(h->fds[i]);
	h->n = 0;
}

bool hwbreak_hit(pid_t tid)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	if (ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) < 0)
		return false;
	return si.si_signo == SIGTRAP && si.si_code == TRAP_PERF;
}
