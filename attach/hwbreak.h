/* hwbreak.h: hardware execution breakpoints on one thread of a traced process, without writing
 * its memory: `run` stops the interpreter at the entry of its finalisation this way.
 *
 * The breakpoints are perf events (PERF_TYPE_BREAKPOINT with attr.sigtrap, Linux 5.13+) owned by
 * pycensus's file descriptors: when the event fires the kernel sends the thread a synchronous
 * SIGTRAP (si_code TRAP_PERF), which the tracer sees as a signal-delivery-stop and suppresses.
 * Closing the descriptors removes the breakpoints, and so does pycensus's death, even by SIGKILL:
 * debug registers set through PTRACE_POKEUSER would stay armed after the tracer died and kill the
 * program with SIGTRAP at its next hit, so they are not used. The kernel drops them on exec. */
#ifndef PC_HWBREAK_H
#define PC_HWBREAK_H

#include "common/compat.h"
#include <sys/types.h>
#include "common/error.h"

#define HWBREAK_MAX 4 /* the CPU's four address debug registers */

struct hwbreak {
	int fds[HWBREAK_MAX];
	size_t n;
};

void hwbreak_init(struct hwbreak *h);
/* 0 when hardware breakpoints work here: one on pycensus's own thread fired (probed once per
 * process). PC_EPERM naming the cause otherwise: refused, or accepted but never raised (some
 * virtual machines). hwbreak_set checks it first. */
int hwbreak_check(struct pc_err *e);
/* Arms an execution breakpoint at each nonzero addrs[i] (i < n <= HWBREAK_MAX) in thread tid.
 * Fails with PC_EPERM naming errno (perf_event_open refused: seccomp, kernel.perf_event_paranoid
 * above 2, a kernel older than 5.13, no debug registers under a hypervisor); nothing stays armed
 * then. */
int hwbreak_set(struct hwbreak *h, pid_t tid, const uint64_t *addrs, size_t n, struct pc_err *e);
/* Disarms them all (closes the events). Safe on an initialised or cleared h. */
void hwbreak_clear(struct hwbreak *h);
/* True when stopped thread tid's pending SIGTRAP comes from such a breakpoint. */
bool hwbreak_hit(pid_t tid);

#endif
