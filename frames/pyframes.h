/* pyframes.h: the Python frames of one thread, innermost first, with function, file and line:
 *   3.8-3.10  PyThreadState.frame -> PyFrameObject chain (f_back), line from f_lasti
 *   3.11/3.12 PyThreadState.cframe->current_frame -> _PyInterpreterFrame chain (previous)
 *   3.13      PyThreadState.current_frame -> _PyInterpreterFrame chain
 * Incomplete frames (3.11+: not yet past _co_firsttraceable) and 3.12+ C-stack shim frames are
 * skipped as CPython's own tracebacks skip them; `entry` marks the frame each evaluation call
 * started with (what stackmerge needs). Code objects are read once per walker. */
#ifndef PC_PYFRAMES_H
#define PC_PYFRAMES_H

#include "common/compat.h"
#include "source/pyproc.h"
#include "frames/stacks.h"

struct pyframes;

struct pyframes *pyframes_new(struct pyproc *p);
void pyframes_free(struct pyframes *w); /* accepts NULL */

/* The innermost frame of the thread state at tstate (0 when it runs none): a PyFrameObject on
 * 3.8-3.10, a _PyInterpreterFrame from 3.11. -1 with *why when unreadable. */
int pyframes_innermost(struct pyproc *p, uint64_t tstate, uint64_t *frame, const char **why);

/* Appends t's Python frames to t->frames. Bad frames become FRAME_BAD entries and warnings. */
void pyframes_read(struct pyframes *w, struct thread_stack *t, struct stacks *s);

#endif
