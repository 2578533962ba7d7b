/* arenas.h: finding pymalloc's arenas and copying them into local memory in a few large reads.
 *
 * Two independent ways, both always compiled (selected by --arenas):
 *  - symbols: the arena table itself (`arenas`/`maxarenas` statics in .symtab up to 3.11;
 *    PyInterpreterState.obmalloc from 3.12, docs/cpython.md 1.5);
 *  - scan: no symbols needed; every pool-aligned address of the anonymous writable mappings is
 *    tested against the pool-header invariants (docs/cpython.md 2), pools are grouped by arenaindex.
 * The copies are registered with the memory reader, so later reads inside them stay local. */
#ifndef PC_ARENAS_H
#define PC_ARENAS_H

#include "common/compat.h"
#include "model/census.h"
#include "source/pyproc.h"

enum arena_mode { ARENAS_AUTO, ARENAS_SYMBOLS, ARENAS_SCAN };

struct arena_copy {
	uint64_t addr, len; /* the copied part: pools from the first to the last carved one */
	uint8_t *data;      /* points into heapcopy.buf */
};

/* What the arena table says about every arena it lists, carved or not (symbols mode only): the
 * figures sys._debugmallocstats() takes from the table rather than from the pools. */
struct arena_table_sum {
	bool known;             /* false when the arenas were found by the scan */
	uint64_t narenas;       /* entries with an address */
	uint64_t nfreepools;    /* sum of nfreepools: empty pools plus pools never carved */
	uint64_t unaligned;     /* arenas whose base is not pool-aligned (one pool lost each) */
};

/* A copy buffer kept from one census to the next (sampling, fuzzing): its pages are already
 * faulted in, so a later copy does not pay the kernel's zeroing of fresh pages, which is most of
 * a large copy's cost, inside the target's pause. */
struct copybuf {
	uint8_t *buf;
	uint64_t cap;
	uint64_t used;        /* bytes the last copy took */
	uint64_t anon_at_use; /* the target's resident anonymous memory then */
	/* the arenas of the last copy made whole (not streamed), their data in buf: what a reader
	 * opened after the census may be served from (copybuf_serve) */
	struct mem_region *regions;
	size_t nregions, capregions;
	/* copies made beside the arenas, handed over when the census ends (copybuf_adopt): their
	 * regions, and their buffers, owned */
	struct mem_region *copies;
	size_t ncopies, capcopies;
	uint8_t **owned;
	size_t nowned, capowned;
};
void copybuf_release(struct copybuf *b);
/* Takes the n copies bufs (NULL ones skipped) and the nr regions in them over, to be served with
 * the arenas: a census's copies of the objects outside the arenas (census/outside.c), which the
 * labels of holder paths read again (the classes and big containers: 400 syscalls on Sphinx). */
void copybuf_adopt(struct copybuf *b, const struct mem_region *regions, size_t nr, uint8_t **bufs, size_t n);
/* Registers b's regions with m: reads inside the arenas then return them as the census copied
 * them, without a read of the target; the copies adopted are kept by m (mem_hold_regions). b must
 * outlive m's use of them. */
void copybuf_serve(const struct copybuf *b, struct mem *m);
/* Before a stop, while the target runs: grows the buffer to what the next copy likely needs (the
 * last copy plus the anonymous memory the target gained since, and an eighth more) and faults the
 * new pages in, so a growing heap does not pay for them inside the pause. */
void copybuf_prepare(struct copybuf *b, pid_t pid);
/* Grows the buffer to at least cap bytes and faults the new pages in. */
void copybuf_reserve(struct copybuf *b, uint64_t cap);

struct heapcopy {
	struct arena_copy *v;
	size_t n, cap;
	uint8_t *buf;          /* one allocation holding every copy */
	struct copybuf *keep;  /* when set (by the caller), buf comes from it and stays with it */
	uint64_t bytes;
	const char *source;    /* "symbols" or "scan" */
	uint64_t scan_rejected; /* scan: pool-aligned addresses that failed the header checks */
	struct arena_table_sum table;
	/* streamed (pymalloc/arenawin.h): buf is one window, reused; an arena's data is set while its
	 * window is held and NULL otherwise */
	bool streamed;
	uint64_t window;       /* the window's size in bytes */
	uint64_t planned;      /* bytes of every arena listed, read or not */
	unsigned nwindows;     /* windows read so far */
	struct arenawin_fetch *fetch; /* the thread reading the next window (pymalloc/arenawin.c) */
};

/* Lists every live arena (addresses and lengths, sorted; nothing read yet). Problems with single
 * arenas become census warnings; failing to find any arena table at all is an error (e.g.
 * --arenas=symbols on a stripped build). */
int arenas_locate(struct pyproc *p, enum arena_mode mode, struct heapcopy *hc, struct census *c,
		  struct pc_err *e);
/* Copies every arena arenas_locate listed into one buffer, registered with the reader. */
int heapcopy_fill(struct pyproc *p, struct heapcopy *hc, struct census *c);
/* Both: every live arena copied. */
int arenas_copy(struct pyproc *p, enum arena_mode mode, struct heapcopy *hc, struct census *c,
		struct pc_err *e);
/* A buffer of `bytes` for the copies: the kept one (grown if need be) or fresh memory, which
 * heapcopy_release frees. */
uint8_t *heapcopy_buffer(struct heapcopy *hc, pid_t pid, uint64_t bytes);
/* Reads arena bytes: a recorder that keeps the copies apart (a dump's) does not see them. */
void heapcopy_read(struct pyproc *p, struct mem_req *reqs, size_t n);
/* An arena that could not be read: warned about, and its pools counted as dropped, so the census
 * says it is partial (a live target may have let the arena go since its table was read). */
void heapcopy_unread(const struct pyproc *p, const struct arena_copy *a, struct census *c);
/* The bytes of every arena listed. */
uint64_t heapcopy_planned(const struct heapcopy *hc);
void heapcopy_release(struct heapcopy *hc);
/* The bytes arenas_copy would copy, from the arena table (or the scan) read as things are now:
 * with the target running, an estimate. 0 when the arenas cannot be found. */
uint64_t arenas_estimate(struct pyproc *p, enum arena_mode mode);
/* The copied arena holding addr, or NULL (the copies are sorted by address). */
const struct arena_copy *heapcopy_find(const struct heapcopy *hc, uint64_t addr);

/* Calls fn for every pool-aligned pool of every copied arena, in address order; `arena` is the
 * index into hc->v (one copy per arena). Local memory only: usable after the target resumed. A
 * streamed copy's arenas outside the held window are left out. */
typedef void heapcopy_pool_fn(void *ctx, size_t arena, const uint8_t *pool, uint64_t addr);
void heapcopy_each_pool(const struct pylayout *L, const struct heapcopy *hc, heapcopy_pool_fn *fn, void *ctx);

#endif
