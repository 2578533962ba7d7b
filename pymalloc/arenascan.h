/* arenascan.h: the symbol-free way to find pymalloc's pools (docs/cpython.md 2): test every
 * pool-aligned address of the anonymous writable mappings against the pool-header invariants and
 * group the survivors by arenaindex into arena-sized windows. Used for stripped builds and, by
 * option, to cross-check the arena table. Internal to pymalloc/arenas.c and its tests. */
#ifndef PC_ARENASCAN_H
#define PC_ARENASCAN_H

#include "pymalloc/arenas.h"

/* Plans one copy per arena found (hc->v, unsorted, data not yet read). */
int arenas_scan(struct pyproc *p, struct heapcopy *hc, struct census *c, struct pc_err *e);

/* Shared with arenas.c: read the planned copies in batches, register them with the reader. */
void heapcopy_sort(struct heapcopy *hc);

#endif
