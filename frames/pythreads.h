/* pythreads.h: the Python threads of the main interpreter: thread states, ids, native ids, names
 * (from the `threading` module's registry, threading._active) and the GIL holder. Adds one
 * thread_stack per thread state to a `struct stacks` (frames are filled elsewhere). */
#ifndef PC_PYTHREADS_H
#define PC_PYTHREADS_H

#include "common/compat.h"
#include "attach/stop.h"
#include "source/pyproc.h"
#include "frames/stacks.h"

/* Walks interp->threads (bounded, cycle-checked). Native ids: PyThreadState.native_thread_id
 * (3.11+), else the stopped thread whose thread pointer (%fs base) equals thread_id (glibc:
 * pthread_self() is the TCB address). Fails only when the list head is unreadable. */
int pythreads_read(struct pyproc *p, const struct stopped *st, struct stacks *s, struct pc_err *e);

#endif
