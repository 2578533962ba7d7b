/* prefault.h: the pages of pycensus's own large arrays faulted in by a thread of their own, just
 * ahead of the code that first writes them. A fresh page is zeroed by the kernel at its first write;
 * on the 2-core VMs issue 17 measures on that zeroing was 15 % of inspect's CPU (perf: folio_zero_user
 * under the graph builder's and the value records' first writes), all of it on the census's thread
 * while the second core waited. MADV_POPULATE_WRITE (Linux 5.14) faults pages in without changing a
 * byte of them, so it may run while the owner writes there. Asked for a window at a time (the next
 * block of an array that grows by blocks), resident memory stays within a window of what is used.
 * A kernel without it, or a thread refused, changes nothing: the writer faults its pages itself. */
#ifndef PC_PREFAULT_H
#define PC_PREFAULT_H

#include "common/compat.h"

#include <stddef.h>

/* Asks the thread to fault [p, p + bytes) in; returns at once. Dropped when the queue is full. */
void prefault(const void *p, size_t bytes);
/* The elements an array grows by, a block at a time: the graph builder's fast paths stop at every
 * 65536th node and reference, where the next block is asked for. */
#define PREFAULT_BLOCK ((size_t)1 << 16)
/* Asks for elements [from, from + count) of an array of cap elements of `size` bytes at base
 * (those under cap only). */
void prefault_elems(const void *base, size_t from, size_t count, size_t cap, size_t size);
/* Returns once every request made so far is done: call it before freeing or moving an array
 * that has been asked for, so that no page is faulted in after it is gone. */
void prefault_wait(void);

#endif
