/* nonblock.h: what a census read while the target ran (--nonblocking) can tell about its own
 * consistency: pool headers re-read after the walk and compared with the copy that was walked. */
#ifndef PC_NONBLOCK_H
#define PC_NONBLOCK_H

#include "common/compat.h"
#include "pymalloc/arenas.h"
#include "source/pyproc.h"

/* Pools of the copied arenas [from, to) whose header differs in the target now (one batched
 * read); arenas not held are left out. */
uint64_t nonblock_changed_pools(struct pyproc *p, const struct heapcopy *hc, size_t from, size_t to);

#endif
