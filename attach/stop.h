/* stop.h: stopping and resuming every thread of the target with ptrace (PTRACE_SEIZE +
 * PTRACE_INTERRUPT). The target is always resumed: on stop_release(), on every error path, on
 * SIGINT/SIGTERM/SIGHUP of pycensus (handlers installed by stop_install_handlers() before the
 * first stop) and, by the kernel, if pycensus dies (a tracer's exit detaches its tracees). */
#ifndef PC_STOP_H
#define PC_STOP_H

#include "common/compat.h"
#include <signal.h>
#include <sys/types.h>
#include "common/error.h"

struct stopped {
	pid_t pid;
	pid_t *tids;  /* threads we seized */
	int *sigs;    /* per thread: the signal it stopped to receive (signal-delivery-stop), or 0;
		       * handed back at detach, or the signal would be lost */
	size_t n, cap;
	double stopped_at; /* monotonic seconds */
	double pause_s;    /* how long the target stood stopped (set by stop_release) */
};

/* Installs the signal handlers that resume any stopped target and exit. Call once, early. */
void stop_install_handlers(void);

/* For commands that sample repeatedly (snap -i, top): SIGINT/SIGTERM/SIGHUP store the signal
 * number in *flag (blocking calls return EINTR) and resume a stopped target at once; stop_all
 * then refuses to stop it again. The command discards the census under way (its target ran
 * during it), ends cleanly and writes what it sampled. NULL: back to resume-and-exit. */
void stop_on_interrupt(volatile sig_atomic_t *flag);

/* Seizes and interrupts every thread of pid, re-reading the task list until it is stable (threads
 * created during the stop are stopped too). On failure everything already seized is released and
 * e says why (NOPROC, PERM with the ptrace_scope / CAP_SYS_PTRACE explanation, EXITED). */
int stop_all(struct stopped *s, pid_t pid, struct pc_err *e);

/* How long one thread may take to reach its interrupt stop. A thread in uninterruptible sleep
 * (state D) stops only when its system call ends, which may be never (a dead NFS server); the
 * others would stand stopped meanwhile. Long enough for a loaded machine's scheduler. */
#define STOP_DEADLINE_S 3.0

/* Fails e with STUCK for thread tid that did not stop in time, named with its state and what it
 * waits in (/proc/.../wchan). stop_all leaves such a thread seized (it cannot be detached until it
 * stops); the kernel detaches it when pycensus exits. */
int stop_fail_stuck(struct pc_err *e, pid_t pid, pid_t tid);

/* Fails e for a PTRACE_SEIZE of pid refused with errno err: EXITED for ESRCH, else PERM naming the
 * error, pycensus's uid and kernel.yama.ptrace_scope. */
int stop_seize_error(struct pc_err *e, pid_t pid, int err);

/* Detaches from every seized thread (they resume). Safe to call twice, and on a half-built s. */
void stop_release(struct stopped *s);

/* Monotonic clock in seconds. */
double mono_now(void);

#endif
