/* hwbreak.c: debug-register execution breakpoints through ptrace. */
#include "common/compat.h"
#include "attach/hwbreak.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#ifndef TRAP_HWBKPT
#define TRAP_HWBKPT 4
#endif

static long dr_offset(int i)
{
	return (long)(offsetof(struct user, u_debugreg) + (size_t)i * sizeof(long));
}

static int poke_dr(pid_t tid, int i, uint64_t v)
{
	return (int)ptrace(PTRACE_POKEUSER, tid, (void *)dr_offset(i), (void *)(uintptr_t)v);
}

int hwbreak_set(pid_t tid, const uint64_t *addrs, size_t n, struct pc_err *e)
{
	/* DR7: local-enable bit 2*i per slot; R/W and LEN bits 0 mean "execute, 1 byte", the only
	 * length the CPU accepts for instruction breakpoints. */
	uint64_t dr7 = 0;
	int slot = 0;

	for (size_t i = 0; i < n && slot < HWBREAK_MAX; i++) {
		if (!addrs[i])
			continue;
		if (poke_dr(tid, slot, addrs[i]) < 0)
			goto fail;
		dr7 |= 1ULL << (2 * slot);
		slot++;
	}
	if (poke_dr(tid, 7, dr7) < 0)
		goto fail;
	return 0;
fail:
	{
		int err = errno;

		hwbreak_clear(tid);
		return pc_fail(e, PC_ETARGETMEM, "cannot set a debug register of thread %d: %s", (int)tid,
			       strerror(err));
	}
}

void hwbreak_clear(pid_t tid)
{
	poke_dr(tid, 7, 0);
	for (int i = 0; i < HWBREAK_MAX; i++)
		poke_dr(tid, i, 0);
}

bool hwbreak_hit(pid_t tid)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	if (ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) < 0)
		return false;
	return si.si_signo == SIGTRAP && si.si_code == TRAP_HWBKPT;
}
