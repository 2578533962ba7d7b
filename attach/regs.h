/* regs.h: registers of a thread that pycensus holds ptrace-stopped (attach/stop.h), read with
 * PTRACE_GETREGS. Never written. x86-64 only, like the rest of pycensus. */
#ifndef PC_REGS_H
#define PC_REGS_H

#include "common/compat.h"
#include <sys/types.h>

/* The thread pointer (%fs base). With glibc on x86-64 it equals pthread_self() of that thread,
 * which is what CPython stores as PyThreadState.thread_id. Returns 0, or -1 when the thread is
 * not stopped by us or is gone. */
int regs_fs_base(pid_t tid, uint64_t *fs_base);

#endif
