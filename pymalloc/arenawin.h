/* arenawin.h: the arenas a window at a time, for a census whose copy of the heap would not fit in
 * its memory budget (--max-memory). Every arena is registered with the reader as covered but not
 * held (attach/mem.h), so "is this address in the arenas" is answered for all of them at once;
 * each window then reads a run of consecutive arenas into one reused buffer, is walked, and is let
 * go. Reads of arena memory outside the held window go to the target, which must be stopped for
 * them to agree with the window (the census keeps it stopped while it streams). On a live process
 * the next window is read by a second thread while the walk takes this one. */
#ifndef PC_ARENAWIN_H
#define PC_ARENAWIN_H

#include "common/compat.h"
#include "pymalloc/arenas.h"

/* The smallest window: one 1 MiB arena (3.10+; 256 KiB before) must fit. */
#define ARENAWIN_MIN (1u << 20)

/* Turns the arenas arenas_locate() listed into a stream of windows of about `window` bytes. */
void arenawin_begin(struct pyproc *p, struct heapcopy *hc, uint64_t window);
/* Reads the arenas from `from` on that fit in one window into the buffer and holds them; returns
 * the index after the last one held (== from only when from == hc->n). An arena that cannot be
 * read stays unheld, with a census warning. */
size_t arenawin_hold(struct pyproc *p, struct heapcopy *hc, size_t from, struct census *c);
/* Lets go of the arenas [from, to): their memory is the window after next's. */
void arenawin_release(struct pyproc *p, struct heapcopy *hc, size_t from, size_t to);
/* After the last window: the reading thread, if any, is joined and freed. */
void arenawin_end(struct heapcopy *hc);

#endif
