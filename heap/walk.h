/* walk.h: the object walk shared by a census: the per-census state and its passes (the pool walk
 * over copied arenas in heap/blocks.c, the GC lists outside the arenas in heap/outside.c, dict
 * ownership in heap/owners.c). Internal to heap/. */
#ifndef PC_WALK_H
#define PC_WALK_H

#include "common/compat.h"
#include "common/ptrmap.h"
#include "heap/arenas.h"
#include "heap/census.h"
#include "heap/pyproc.h"
#include "heap/types.h"

struct dict_seen {        /* an exact dict met in the walk, kind decided once owners are known */
	uint64_t addr, size;
};

struct walk {
	struct pyproc *p;
	struct census *c;
	struct typetab types;
	struct heapcopy hc;
	/* a direct-mapped cache in front of the type table: most blocks hit it */
	uint64_t tcache_addr[4096];
	int64_t tcache_slot[4096];
	/* GC nodes outside the arenas that in-arena tracked objects point to */
	uint64_t *starts;
	size_t nstarts, capstarts;
	/* exact dicts, and dict address -> owner type slot + 1 */
	struct dict_seen *dicts;
	size_t ndicts, capdicts;
	struct ptrmap owner;
	uint64_t gc_heads[8];
	unsigned ngc_heads;
	uint8_t **outside_bufs; /* copies of outside objects, registered with the reader */
	size_t noutside_bufs;
	uint64_t bad_pools, unrecognised;
	uint64_t bad_outside;   /* outside GC objects skipped: unreadable, or no valid type */
	const char *first_bad_pool;
};

void walk_init(struct walk *w, struct pyproc *p, struct census *c);
void walk_release(struct walk *w);

/* A validated type slot for the object whose header (refcnt, ob_type) is at obj; -1 if none. */
int64_t walk_type_of(struct walk *w, const uint8_t *obj);
/* Counts one object of type slot t at addr (its bytes at ob, `have` of them) into the census
 * state: size, ownership of its instance dict, exact dicts kept for later. */
void walk_count(struct walk *w, int64_t t, uint64_t addr, const uint8_t *ob, size_t have);

void walk_blocks(struct walk *w);   /* heap/blocks.c */
void walk_outside(struct walk *w);  /* heap/outside.c */
void walk_owners(struct walk *w);   /* heap/owners.c: static types' dicts; then the rows */

#endif
