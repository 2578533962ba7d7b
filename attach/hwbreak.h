/* hwbreak.h: x86-64 hardware execution breakpoints on one traced, stopped thread, through its
 * debug registers (PTRACE_POKEUSER into struct user's u_debugreg). Nothing is written to the
 * target's memory: this is how `run` stops the interpreter at the entry of its finalisation
 * without an int3. The kernel clears them on exec; callers clear them before detaching. */
#ifndef PC_HWBREAK_H
#define PC_HWBREAK_H

#include "common/compat.h"
#include <sys/types.h>
#include "common/error.h"

#define HWBREAK_MAX 4 /* DR0-DR3 */

/* Arms an execution breakpoint at each of addrs[0..n) (n <= HWBREAK_MAX; zero addresses are
 * skipped) on thread tid, which must be in a ptrace stop. Fails with PC_ETARGETMEM naming errno
 * (e.g. a hypervisor without debug-register support); nothing stays armed then. */
int hwbreak_set(pid_t tid, const uint64_t *addrs, size_t n, struct pc_err *e);
/* Disarms every breakpoint of tid (stopped). Errors are ignored: a thread that is gone has none. */
void hwbreak_clear(pid_t tid);
/* True when tid's last SIGTRAP came from a debug register (si_code TRAP_HWBKPT). tid stopped. */
bool hwbreak_hit(pid_t tid);

#endif
