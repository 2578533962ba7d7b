/* stackmerge.h: merging one thread's native frames with its Python frames (pure logic).
 *
 * Both lists are innermost first. Each native frame marked `eval` (an interpreter evaluation
 * call) is replaced by the Python frames it runs: the next Python frames up to and including the
 * next one marked `entry` (3.8-3.10: every Python frame is its own call, so all are entries;
 * 3.11+: one C call runs Python frames until its entry frame). */
#ifndef PC_STACKMERGE_H
#define PC_STACKMERGE_H

#include "common/compat.h"
#include "frames/stacks.h"

/* Moves the frames of native and py into out (all three lists are the caller's; native and py
 * are left empty). An eval frame with no Python frames left stays as it is. Returns the number of
 * Python frames no eval frame claimed: they are appended after the native frames (outermost),
 * which the caller should warn about. */
size_t stackmerge(struct frame_list *native, struct frame_list *py, struct frame_list *out);

#endif
