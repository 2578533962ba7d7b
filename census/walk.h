/* walk.h: the object walk shared by a census: the per-census state and its passes (the pool walk
 * over copied arenas in census/blocks.c, the GC lists outside the arenas in census/outside.c, dict
 * ownership in census/owners.c). Internal to heap/. */
#ifndef PC_WALK_H
#define PC_WALK_H

#include "common/compat.h"
#include "common/ptrmap.h"
#include "pymalloc/arenas.h"
#include "model/census.h"
#include "source/pyproc.h"
#include "objects/types.h"
#include "python/rules.h"
#include "census/objgraph.h"
#include "census/inspect.h"
#include "source/dump.h"

struct dict_seen {        /* an exact dict met in the walk, kind decided once owners are known */
	uint64_t addr, size;
};

/* The same, packed in 8 bytes, as most are (1e7 dicts took 160 MB of pycensus's memory at 16):
 * the address / 8 in the low DICT_ADDR_BITS bits (objects are 8-aligned, x86-64 user space ends
 * at 2^47), the size in the rest. A dict that does not fit is kept whole in dicts_big. */
#define DICT_ADDR_BITS 45
#define DICT_SIZE_MAX ((UINT64_C(1) << (64 - DICT_ADDR_BITS)) - 1)

/* Reference following (census/follow.c): reads still to do, batched per round. */
enum fjob_kind {
	FJ_HEADER,   /* a candidate object: refcnt, type and the first fields */
	FJ_OBJECT,   /* a validated object, pre-header included: count it, follow its references */
	FJ_PTRS,     /* an array of references (list items, values arrays, big tuples' items), a chunk at a
		      * time; aux: the references after this chunk */
	FJ_KEYS,     /* a dict keys object's header; aux: the split values array, or 0 */
	FJ_ENTRIES,  /* dict entries; aux: the entry size */
	FJ_SET,      /* a set's table */
};

#define WALK_TCACHE 4096 /* the type cache in front of the table: a power of 2 */

struct pool_seen;         /* census/blocks.c: one pool of the arena being walked, inspected */

struct fjob {
	uint64_t addr, len, aux;
	int64_t slot;
	enum fjob_kind kind;
	uint32_t src;   /* the graph node whose references these are (GRAPH_NONE: no graph) */
};

struct follow {
	struct ptrmap seen;       /* objects outside the copied memory, queued or counted */
	struct ptrmap keys_seen;  /* shared keys objects whose entries were followed */
	uint64_t recent[4096];    /* references lately found known: most repeat (None, small ints) */
	struct fjob *jobs;
	size_t njobs, capjobs;
	uint64_t set_dummy;       /* the set dummy key, not an object to count */
	uint64_t image_lo, image_hi; /* the interpreter's ELF image, .bss included */
	uint64_t not_objects, bad_keys;
	uint64_t broken_deques;    /* deques whose chain of blocks broke off as read */
	/* the most one batch of reads may take, 0: FOLLOW_ROUND_BYTES; under a memory budget its
	 * window: 100 lists of a million items queue 400 MB of first chunks in one round */
	uint64_t round_bytes;
	/* keep: the batches' reads are kept for a reader after the census (snapshot_opts hold_copy:
	 * the labels of inspect's holder paths read the same keys and item arrays again, 370
	 * syscalls on Sphinx), up to FOLLOW_KEEP_MAX bytes */
	bool keep;
	struct mem_region *kept;
	size_t nkept, capkept;
	uint8_t **kept_bufs;
	size_t nkept_bufs, capkept_bufs;
	uint64_t kept_bytes;
};
#define FOLLOW_KEEP_MAX (32u << 20)

struct miheap_set; /* pymalloc/miheap.h */

/* census/cfields.c: per type slot, whether its instances' fields are read word by word and which
 * words (a bit per word from the end of the header; CF_WORDS words at most: 1 KiB) */
#define CF_WORDS 128
#define CF_MASK_WORDS (CF_WORDS / 64)
struct cfields {
	uint8_t *state;
	uint64_t *mask;
	size_t cap;
	uint64_t objects;        /* instances read so */
};

struct walk {
	struct pyproc *p;
	struct census *c;
	struct typetab types;
	struct heapcopy hc;
	/* free-threaded builds: the heaps' segments gathered while the target stood stopped, and the
	 * copy of their in-use pages (pymalloc/micopy.h; empty when the census reads them in place) */
	struct miheap_set *ms;
	struct heapcopy mc;
	bool mi_copied;          /* mc read and registered: the walk may run after the target resumes */
	/* a direct-mapped cache in front of the type table: most blocks hit it */
	uint64_t tcache_addr[WALK_TCACHE];
	int64_t tcache_slot[WALK_TCACHE];
	/* GC nodes outside the arenas that in-arena tracked objects point to: pairs of the node and
	 * the GC head of the object whose _gc_next it is */
	uint64_t *starts;
	size_t nstarts, capstarts;
	struct pool_seen *pools;  /* the pools of the arena being walked, inspected once */
	size_t cappools;
	uint64_t *type_cands;     /* addresses of types its blocks name that no walk met yet */
	size_t ncands, capcands;
	bool types_known;         /* the last arena met few new types: the next is not read ahead */
	/* exact dicts, and dict address -> owner type slot + 1 */
	uint64_t *dicts;
	size_t ndicts, capdicts;
	struct dict_seen *dicts_big;
	size_t ndicts_big, capdicts_big;
	struct ptrmap owner;
	uint64_t gc_heads[8 * 17]; /* the generation heads of the main interpreter and the sub-interpreters' */
	unsigned ngc_heads;
	uint8_t **outside_bufs; /* copies of outside objects, registered with the reader */
	size_t noutside_bufs;
	struct mem_region *outside_regs; /* the regions in outside_bufs */
	size_t noutside_regs;
	struct follow fo;
	struct cfields cf;
	bool alloc;               /* --size=alloc: sizes are allocator footprints (census/footprint.c) */
	struct { uint64_t in_arenas, blocks, outside; } fp;
	uint64_t bad_pools, unrecognised;
	uint64_t bad_outside;   /* outside GC objects skipped: unreadable, or no valid type */
	uint64_t changed;       /* objects read twice (type, then fields) that differed: skipped */
	bool live;              /* arenas read while the target runs (--nonblocking; --pause copy streamed) */
	bool resumed;           /* what is not in the copies is read as the target runs (--pause copy) */
	uint64_t changed_pools; /* streamed and live: pool headers that changed, window by window */
	uint8_t *pool_buf;      /* live: a pool read again, its header caught mid-update (blocks.c) */
	uint64_t reread_pools;
	/* 3.11+: the locals of every thread's frames, read while stopped (census/framerefs.c) */
	/* 3.15+: the bytes objects holding bytearrays' buffers, counted in the bytearrays' sizes */
	uint64_t *buffer_holders;
	size_t nbuffer_holders, capbuffer_holders;
	uint64_t *frame_roots;
	size_t nframe_roots, capframe_roots;
	uint64_t frames_bad;    /* frames (or thread states) whose locals could not be read */
	const char *first_bad_pool;
	/* the object graph, when the census builds one (census/graphrec.c): nodes carry their type
	 * slot until walk_graph_kinds makes it the census row */
	bool gahead;            /* the graph resolved ahead as the walk goes (walk_graph_ahead) */
	struct graph_builder *gb;
	struct objgraph *og;
	uint32_t gcur;          /* the node whose references the walk follows now */
	const struct map *gmap; /* the mapping of the last node (graphrec.c), NULL before the first */
	struct inspect_scan *is; /* `inspect`'s values and containers, when asked (census/inspect.h) */
	/* What the census keeps per object (dict owners, the objects found by reference) grows with
	 * the heap, not with --max-memory: 1e7 dicts are 80 MB of it. Past the room pycensus had when
	 * the census began (census/room.c) it stops counting, so the kernel's OOM killer does not end
	 * it (or the target) without a word, and the census fails with what it had taken. */
	struct {
		uint64_t limit;     /* the RSS not to pass; 0: no limit known */
		uint64_t rss;       /* the RSS that passed it */
		uint64_t objects;   /* objects counted (until it passed) */
		bool out;
		char where[160];    /* what set the limit (the cgroup, or MemAvailable) */
	} room;
	struct dump_stream *ds;  /* a streamed dump: each window's arenas are written as it is let go */
	/* a dump is recorded: the contents of str and bytes outside the copies are read too, so that
	 * the file holds what `inspect` hashes (census/inspectscan.c walk_dump_value) */
	bool dump_values;
};

void walk_init(struct walk *w, struct pyproc *p, struct census *c);
/* census/room.c: sets w->room from the memory pycensus may still take; walk_room_check, every
 * ROOM_EVERY objects counted (a power of 2), sets w->room.out once its RSS passes it. */
#define ROOM_EVERY 65536u
void walk_room_init(struct walk *w);
void walk_room_check(struct walk *w);
void walk_release(struct walk *w);

/* A validated type slot for the object whose header (refcnt, ob_type) is at obj; -1 if none. */
int64_t walk_type_of(struct walk *w, const uint8_t *obj);
/* Whether the type word tp was met lately (the direct-mapped cache walk_type_of keeps). */
bool walk_type_cached(const struct walk *w, uint64_t tp);
/* Counts one object of type slot t at addr (its bytes at ob, `have` of them, the pre-header
 * before ob) into the census state: size, ownership of its instance dict, exact dicts kept for
 * later; and follows its references. */
void walk_count(struct walk *w, int64_t t, uint64_t addr, const uint8_t *ob, size_t have);
/* A refcount a live object can hold (python/rules.h): pointers and text fail this. Inline: it
 * runs for every candidate block. */
/* An object whose type was found by one read and whose fields (ob, have bytes, pre-header
 * before it) come from a later one: the same object still, when its type word and refcount
 * still say so, and the memory its size claims for itself (a str's characters, a tuple's items,
 * a list's item array) lies in readable mappings. Under --pause copy the later read meets a
 * running program: a freed and reused object must not lend its garbage length to a size. */
bool walk_same_object(const struct walk *w, int64_t t, uint64_t addr, const uint8_t *ob, size_t have);
/* Counts n objects of type slot t (-1: no type known) as dropped from the census (census_drop). */
void walk_drop(struct walk *w, int64_t t, uint64_t n);

static inline bool walk_plausible_refcnt(const struct walk *w, uint64_t r)
{
	return py_refcnt_plausible(&w->p->L, r);
}
/* The same for the object header at ob (its refcount read as python/rules.h py_ob_refcnt says):
 * a freed object left in its block (refcount 0, free-threaded freelists) fails it. */
static inline bool walk_plausible_object(const struct walk *w, const uint8_t *ob)
{
	return py_refcnt_plausible(&w->p->L, py_ob_refcnt(&w->p->L, ob));
}
/* The namespaces of 3.12+ static builtin types, kept in the interpreter (docs/cpython.md 4.3): up to
 * max dict addresses into out; returns how many. */
size_t walk_side_table_dicts(struct walk *w, uint64_t *out, size_t max);

void walk_blocks(struct walk *w);   /* census/blocks.c */
/* census/dumpsave.c: a streamed dump's arenas [from, to), free blocks zeroed, into w->ds */
void walk_dump_window(struct walk *w, size_t from, size_t to);
void walk_miheap(struct walk *w);   /* census/miblocks.c: free-threaded builds, instead of walk_blocks */
/* census/miblocks.c, with the target stopped: the segments of the heaps gathered for walk_miheap
 * (which otherwise gathers them itself) and, when `copy`, the regions of their copy listed in w->mc
 * (read by heapcopy_fill, or released when over the budget); returns the bytes listed. */
uint64_t walk_miheap_gather(struct walk *w, bool copy);
void walk_outside(struct walk *w);  /* census/outside.c */
void walk_follow(struct walk *w);   /* census/follow.c: objects only references lead to */
void walk_owners(struct walk *w);   /* census/owners.c: static types' dicts; then the rows */

/* census/footprint.c: the allocator footprint of one object and the buffers it owns; then the
 * census's reconciliation of attributed and allocated pymalloc bytes. */
uint64_t walk_footprint(struct walk *w, const struct pytype *ty, uint64_t addr, const uint8_t *ob, size_t have);
void walk_footprint_rows(struct walk *w);
/* census/footprint.c: a warning for the buffers that could not be read (numpy arrays counted
 * without their data), once per census; walk_footprint_rows says it under --size=alloc. */
void walk_buffer_warnings(struct walk *w);
/* Takes the bytes objects that hold bytearrays' buffers (3.15+) back out of the `bytes` tally:
 * the pool walk counted them, and each bytearray's size includes its holder already. Before
 * walk_owners, which turns the tallies into rows. */
void walk_discount_buffer_holders(struct walk *w);

/* census/graphrec.c: the object graph (og set in snapshot_opts). walk_graph_init adds the synthetic
 * nodes (limit: graph_builder.limit); walk_graph_node makes the object a node and the current source of references;
 * walk_graph_ref records one (inline: it runs for every reference); walk_graph_finish, after
 * walk_owners, gives every node its census row and hands the builder to the objgraph. */
void walk_graph_init(struct walk *w, struct objgraph *og, uint64_t limit);
void walk_graph_node(struct walk *w, const struct pytype *ty, uint64_t addr, uint64_t size, const uint8_t *ob);
void walk_graph_finish(struct walk *w);
/* The graph's nodes and references so far indexed and resolved on another thread while the walk
 * goes on (model/graph.h graph_builder_ahead), when w->gahead (a census that holds its copy to the
 * end): called as the walk passes a stage, it starts a job unless the last is still at work. */
void walk_graph_ahead(struct walk *w);
static inline void walk_graph_ref(struct walk *w, uint64_t ref)
{
	if (w->gb && w->gcur != GRAPH_NONE)
		graph_add_ref(w->gb, w->gcur, ref);
}

/* census/inspectscan.c: records the value or the container of the object just made a graph node
 * (w->gcur) into w->is, when set. */
void walk_inspect(struct walk *w, const struct pytype *ty, uint64_t addr, const uint8_t *ob, size_t have);
void walk_dump_value(struct walk *w, const struct pytype *ty, uint64_t addr, const uint8_t *ob, size_t have);

/* census/cfields.c: the references in the fields of a C type whose layout pycensus does not
 * know, read word by word (the type sorted on its first instance) */
void cfields_refs(struct walk *w, int64_t t, const uint8_t *ob, size_t have);
/* Whether the instances of slot s had their fields read so (the graph's "opaque" types). */
bool cfields_scanned(const struct walk *w, size_t s);
void cfields_release(struct cfields *cf);

/* census/refs.c: the references of one object (its bytes at ob, `have` of them) */
void walk_refs(struct walk *w, int64_t t, uint64_t addr, const uint8_t *ob, size_t have);

/* census/follow.c: what walk_refs hands over. Local data is handled at once, the rest is queued. */
void follow_init(struct walk *w);
void follow_release(struct walk *w);
void follow_ptr(struct walk *w, uint64_t ref);
/* A word that may be a reference (census/cfields.c): followed as one when it leads to a valid
 * object, dropped without a count when it does not. */
void follow_candidate(struct walk *w, uint64_t word);
void follow_ptrs(struct walk *w, uint64_t addr, uint64_t n);
void follow_local_ptrs(struct walk *w, const uint8_t *b, uint64_t n);
void follow_keys(struct walk *w, uint64_t keys, uint64_t values);
void follow_set(struct walk *w, uint64_t table, uint64_t n);
void follow_local_set(struct walk *w, const uint8_t *b, uint64_t n);
/* True for static objects: in a file mapping or in the interpreter's ELF image (.bss included). */
bool follow_is_static(const struct walk *w, uint64_t addr);

#endif
