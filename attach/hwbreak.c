/* hwbreak.c: execution breakpoints as perf events that send SIGTRAP to the thread. */
#include "common/compat.h"
#include "attach/hwbreak.h"

#include <errno.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <signal.h>
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

static int open_breakpoint(pid_t tid, uint64_t addr)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof a);
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof a;
	a.bp_type = HW_BREAKPOINT_X;
	a.bp_addr = addr;
	a.bp_len = sizeof(long); /* the length x86 requires for execution breakpoints */
	a.sample_period = 1;
	a.sigtrap = 1;
	a.remove_on_exec = 1;   /* required with sigtrap */
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

int hwbreak_set(struct hwbreak *h, pid_t tid, const uint64_t *addrs, size_t n, struct pc_err *e)
{
	hwbreak_clear(h);
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
