/* micopy.h: the in-use memory of a free-threaded CPython's mimalloc heaps copied in a few large
 * reads, as arenas.h copies pymalloc's arenas: each segment of a gathered set (miheap.h) gives the
 * header the walk reads (its page descriptors) and, per in-use page, the bytes of blocks the walk
 * reads (miheap_page_bytes). Listed as the regions of a heapcopy, read by heapcopy_fill and
 * registered with the reader, they let miheap_walk_set over the same set run after the target
 * resumed and still see the heaps of the stop: only memory outside them (objects' buffers beyond
 * a large block's first 4 KiB, objects malloc'd outside mimalloc) meets the running target. */
#ifndef PC_MICOPY_H
#define PC_MICOPY_H

#include "common/compat.h"
#include "attach/mem.h"
#include "pymalloc/arenas.h"
#include "pymalloc/miheap.h"

/* Lists the regions of the set's segments into hc (emptied first; sorted, non-overlapping,
 * nothing read yet) and returns their bytes. The segments' headers are read here, in batches;
 * an unreadable header, an unparsable page or a region that overlaps another is left out (the
 * walk meets it again and counts it as skipped). */
uint64_t micopy_plan(struct mem *mem, const struct pymi *M, const struct miheap_set *s, struct heapcopy *hc);

/* The bytes micopy_plan lists for the heaps of p as they are now: while the target runs, an
 * estimate to size the copy's buffer before the stop. 0 when nothing can be read. */
uint64_t micopy_estimate(struct pyproc *p);

#endif
