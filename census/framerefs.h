/* framerefs.h: the locals of Python frames as references the census follows. A big object that
 * only a running function or a suspended generator holds (a 5 MB bytes read from a file, a long
 * str being built) lives outside the arenas, where nothing else leads to it:
 *   3.11+    a thread's frames are not objects. framerefs_collect() reads the locals of every
 *            frame of every thread while the target is stopped; the walk follows them as roots.
 *            A generator, coroutine or async generator holds its frame inside itself
 *            (SHAPE_GEN): its locals are followed while it is created or suspended.
 *            A frame object whose function returned (a stored traceback keeps it) holds its
 *            frame inside itself (SHAPE_FRAME): followed too.
 *   3.8-3.10 frames are objects (SHAPE_FRAME): [f_localsplus, f_valuestack). A running one is
 *            not on the GC lists, so each thread's innermost frame is a root too.
 * Only locals (with cells and frees), never value-stack slots: 3.11 leaves a running frame's
 * stacktop stale, and a stale slot points at a freed object the census would count. A finished
 * generator's locals are not NULLed either, hence the state check. */
#ifndef PC_FRAMEREFS_H
#define PC_FRAMEREFS_H

#include "common/compat.h"
#include "census/walk.h"

/* While stopped: appends to w->frame_roots the locals of every thread's frames (3.11+), or each
 * thread's innermost frame object (3.8-3.10). */
void framerefs_collect(struct walk *w);
/* The locals a generator-like object (SHAPE_GEN) or a frame object (SHAPE_FRAME) at
 * addr holds; its bytes at ob, `have` of them. */
void framerefs_object(struct walk *w, enum ref_shape shape, uint64_t addr, const uint8_t *ob, size_t have);

#endif
