/* mem.h: reading target memory. Everything above attach/ reads the target only through this.
 *
 * Backends: a live process (process_vm_readv with batched iovecs, falling back to
 * /proc/PID/mem), a buffer of captured regions (unit tests), and a captured image standing in for
 * the process (replay and fuzzing: reads outside the image fail as they would on unmapped
 * memory). A recorder, when attached, keeps a copy of every remote read (`pycensus capture`). On top of either sits a
 * local cache: regions copied once (pymalloc arenas, objects read in bulk) are served from local
 * memory, so only addresses outside them reach the target. Below it, a census's live reader keeps
 * the 16 KiB chunks around small reads it had to make (attach/chunks.h); mem_local() never reports
 * those, because callers use it to mean "inside the copies".
 *
 * All reads are all-or-nothing: 0 when every byte was read, -1 otherwise (with the error kind set
 * to TARGETMEM, or EXITED when the process is gone). */
#ifndef PC_MEM_H
#define PC_MEM_H

#include "common/compat.h"
#include <sys/types.h>
#include "common/error.h"

struct mem_region {          /* a region served locally */
	uint64_t addr, len;
	const uint8_t *data;     /* owned by whoever added it */
};

struct mem_stats {
	uint64_t syscalls, remote_bytes, local_hits, remote_reads;
};

struct mem_recorder; /* attach/record.h */
struct chunks;       /* attach/chunks.h */
struct prefetch;     /* attach/prefetch.h */

struct mem {
	pid_t pid;               /* 0 for a buffer-only mem */
	int memfd;               /* /proc/PID/mem, opened on first fallback; -1 before */
	bool memfd_open;         /* memfd is ours to close (a zeroed struct mem owns no fd 0) */
	bool use_vm_readv;       /* false after process_vm_readv proved unavailable */
	struct mem_region *cache; /* sorted by addr, non-overlapping */
	size_t ncache, capcache;
	size_t last_hit;
	uint32_t *hints;         /* KiB -> region index + 1 last found there (region_of), many regions only */
	size_t nhints;           /* a power of two, 0 without hints */
	bool sealed_missing;     /* buffer-only: addresses outside the cache fail */
	struct mem_stats stats;
	struct mem_recorder *rec; /* not owned: receives a copy of every successful remote read */
	const struct mem_region *image; /* not owned: sorted regions replacing the process */
	size_t nimage;
	struct chunks *chunks;   /* mem_use_chunks(): small live reads served from chunks read whole */
	struct prefetch *pf;     /* mem_prefetch(): the last batch read ahead */
	struct prefetch *held;   /* mem_prefetch_hold(): batches kept for mem_prefetched() */
	size_t nheld, capheld;
	struct mem_region *heldix; /* their ranges, sorted: built at the first mem_prefetched after a hold */
	uint64_t *heldend;         /* heldend[i]: the furthest end of heldix[0..i] */
	size_t nheldix, heldlast; /* heldlast: the range that answered last */
	bool heldix_stale;
	bool serve_held;          /* reads are served from the kept batches and copies, until mem_held_expire */
	struct mem_region *heldreg; /* mem_hold_regions(): copies kept like batches (data not owned) */
	size_t nheldreg, capheldreg;
};

/* A reader of a live process. */
void mem_init_pid(struct mem *m, pid_t pid);
/* From now on, small reads of the live process are served from 16 KiB chunks read whole
 * (attach/chunks.h). Only for a reader that lives for one census: it never sees memory it has
 * read change again (a reader that polls, like pyready's, must not use this). */
void mem_use_chunks(struct mem *m);
/* A reader over local regions only (unit tests, fuzzers, captured images). */
void mem_init_buffer(struct mem *m);
void mem_release(struct mem *m);
/* Makes a buffer mem read a captured image where a live one would read the process: reads that
 * miss the cache are served from regions (sorted, non-overlapping, outliving m) and counted as
 * remote reads; reads outside them fail with TARGETMEM. */
void mem_set_image(struct mem *m, const struct mem_region *regions, size_t n);

/* Serves [addr, addr+len) from data from now on (data must outlive m). Regions must not overlap. */
void mem_add_region(struct mem *m, uint64_t addr, const void *data, uint64_t len);
/* The same for many regions at once: append them all, then sort once (mem_add_region keeps the
 * list sorted on every call, which is quadratic for thousands of regions). */
void mem_add_region_unsorted(struct mem *m, uint64_t addr, const void *data, uint64_t len);
void mem_sort_regions(struct mem *m);
/* Local pointer for [addr, addr+len) when it lies in one cached region, else NULL. Never remote. */
const uint8_t *mem_local(struct mem *m, uint64_t addr, uint64_t len);
/* mem_local, or the batch read ahead (mem_prefetch) when it holds [addr, addr+len): bytes to
 * parse in place where mem_read would copy them (a type, 1 KiB, per class of 60,000). Valid
 * until the next mem_prefetch or mem_prefetch_drop. */
const uint8_t *mem_peek(struct mem *m, uint64_t addr, uint64_t len);
/* A region may be covered without being held (its data NULL): a streamed census registers every
 * arena so that "is this in the arenas" stays one question while only a window of them is in
 * memory. mem_local() answers NULL there and reads go to the target; mem_covered() says whether a
 * region, held or not, holds [addr, addr+len). */
bool mem_covered(struct mem *m, uint64_t addr, uint64_t len);
/* Points the region that starts at addr at data (NULL: no longer held); false when no region
 * starts there. */
bool mem_region_hold(struct mem *m, uint64_t addr, const void *data);

int mem_read(struct mem *m, uint64_t addr, void *buf, size_t len, struct pc_err *e);
int mem_read_u64(struct mem *m, uint64_t addr, uint64_t *v, struct pc_err *e);
int mem_read_u32(struct mem *m, uint64_t addr, uint32_t *v, struct pc_err *e);

/* A batch of reads. Each element succeeds or fails on its own: ok[i] says which.
 * Elements inside cached regions are copied locally; the rest go to the target in as few
 * syscalls as IOV_MAX allows. Returns the number of elements read in full. */
struct mem_req {
	uint64_t addr;
	void *buf;
	size_t len;
	bool ok;
};
size_t mem_readv(struct mem *m, struct mem_req *reqs, size_t n);

/* The same, but every element comes from the target (or image) even inside cached regions: to see
 * whether memory changed since it was copied (--nonblocking). */
size_t mem_readv_fresh(struct mem *m, struct mem_req *reqs, size_t n);

/* Reads the n ranges [addr[i], addr[i]+len[i]) of a live target ahead (attach/memfetch.c), in as few syscalls as
 * IOV_MAX allows, and serves later reads inside them locally until the next mem_prefetch or
 * mem_prefetch_drop (bounds in attach/prefetch.h: the rest is simply not read ahead). Only with
 * chunks on (a reader that lives for one census); a no-op otherwise. Returns the ranges read. */
size_t mem_prefetch(struct mem *m, const uint64_t *addr, const uint32_t *len, size_t n);
void mem_prefetch_drop(struct mem *m);
/* Keeps the last batch read ahead instead of letting it go: its bytes stay valid until
 * mem_release, and mem_prefetched finds them. Only a census of a stopped target asks for them, so
 * as not to read what it read once already: the 60,000 classes read ahead of their instances are
 * copied again as the GC objects outside the arenas, and the batches' spans hold most of their
 * keys and dicts' keys too (their malloc neighbours: 129 MiB read twice before). So until
 * mem_held_expire, reads and read-aheads are served from kept batches as from the copy. */
void mem_prefetch_hold(struct mem *m);
/* The target resumes: kept batches are as old as their read, no longer served to reads (the
 * ones mem_prefetched finds stay valid). */
void mem_held_expire(struct mem *m);
/* Copies made elsewhere (data outliving m), kept and served as kept batches are: reads find
 * them, mem_covered does not (which asks whether an address lies in the copied arenas, where no
 * class lives: objects/types.c). For a reader after the census (copybuf_serve): the census's
 * copies of the classes and other objects outside the arenas, as the census saw them. */
void mem_hold_regions(struct mem *m, const struct mem_region *r, size_t n);
/* Bytes [addr, addr+len) in a kept batch, or NULL. */
const uint8_t *mem_prefetched(struct mem *m, uint64_t addr, uint64_t len);

/* Reads a NUL-terminated string of at most max-1 bytes; fails when no NUL within max. */
int mem_read_cstr(struct mem *m, uint64_t addr, char *buf, size_t max, struct pc_err *e);

#endif
