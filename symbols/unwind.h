/* unwind.h: the native call stack of a ptrace-stopped thread, unwound with libunwind-ptrace
 * (DWARF CFI from .eh_frame/.debug_frame of the mapped files). Registers come from ptrace; stack
 * memory is read through our own reader (struct mem) in page-sized windows instead of libunwind's
 * one PTRACE_PEEKDATA per word. Nothing is ever written: the write paths of the accessors refuse.
 *
 * One `struct unwinder` per process (libunwind caches unwind tables in its address space). */
#ifndef PC_UNWIND_H
#define PC_UNWIND_H

#include "common/compat.h"
#include <sys/types.h>
#include "attach/mem.h"
#include "attach/procfs.h"
#include "common/error.h"

/* Native frames beyond this depth are not unwound (a corrupt stack cannot loop us). */
#define UNWIND_MAX_FRAMES 512

struct unwinder;

struct unwinder *unwinder_new(struct mem *m, const struct maps *maps);
void unwinder_free(struct unwinder *u); /* accepts NULL */

/* Instruction pointers of tid's frames, innermost first, at most max. *n is how many were found;
 * *truncated says the walk stopped on an error or the depth limit rather than at the outermost
 * frame. Fails (-1, e set) only when the thread cannot be unwound at all (not stopped, gone). */
int unwind_thread(struct unwinder *u, pid_t tid, uint64_t *ips, size_t max, size_t *n, bool *truncated,
		  struct pc_err *e);

#endif
