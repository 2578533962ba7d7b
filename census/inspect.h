/* inspect.h: where memory is wasted (`pycensus inspect`). A census asked for it
 * (snapshot_opts.inspect) records on the way what the graph does not hold: a hash of the value of
 * every exact str, bytes, int and float object (8 bytes of hash per object, no copy of the
 * contents) and the length and storage of the lists, dicts and sets that may be wasteful
 * (census/inspectscan.c). On those and on the object graph, the inspections: equal values held as
 * distinct objects (inspectdup.c), classes whose instances would be smaller with __slots__
 * (inspectslots.c), over-allocated, empty and one-item containers and objects held from C
 * (inspectcont.c); each finding with the bytes a fix would save and where its objects are held
 * (inspect.c). Reads after the census come from its copy of the arenas when the caller kept it
 * (census/snapshot.h hold_copy: `inspect` does) and otherwise meet the target running: what
 * changed is left out and counted. */
#ifndef PC_INSPECT_H
#define PC_INSPECT_H

#include "common/compat.h"
#include "census/objgraph.h"
#include "model/census.h"
#include "model/pathtree.h"
#include "census/paths.h"
#include "source/pyproc.h"

/* The form of a hashed value: its type and, for a str, its storage (PEP 393 kind). */
enum ins_form { IV_BYTES, IV_ASCII, IV_UCS1, IV_UCS2, IV_UCS4, IV_INT, IV_FLOAT, IV_NFORMS };

#define IV_LEN_BITS 28
#define IV_LEN_MAX ((1u << IV_LEN_BITS) - 1) /* 256 MiB: longer values are not hashed */
#define IV_EXACT 8  /* values of at most 8 bytes are hashed one-to-one: equal hash is equal value */

struct ins_value {
	uint64_t hash;    /* of the contents; one-to-one for contents of at most IV_EXACT bytes */
	uint32_t node;    /* the object's graph node */
	uint32_t formlen; /* form << IV_LEN_BITS | bytes of contents (int: the low bits of its size word) */
};

enum ins_container { IC_LIST, IC_DICT, IC_SET };

struct ins_container_rec {
	uint32_t node;
	uint32_t len;      /* items; sets: UINT32_MAX until counted from the graph */
	uint64_t storage;  /* bytes of its item storage now: a list's array, a dict's own keys, a set's table */
	uint64_t minimal;  /* what a copy of it would allocate for the same items (dicts; lists and sets: 0) */
	uint8_t what;      /* enum ins_container */
};

struct inspect_scan {
	struct ins_value *v;
	size_t nv, capv;
	struct ins_container_rec *ct;
	size_t nct, capct;
	uint64_t unhashed; /* str/bytes objects not hashed: legacy (non-compact) strs, too long, unreadable */
	uint64_t big_ints; /* ints of more than two digits, not compared */
	struct ins_sort *sorting; /* the values' sort under way (inspect_scan_sort_start), or NULL */
};

/* Both wait for a sort under way first. */
void inspect_scan_clear(struct inspect_scan *s);
void inspect_scan_release(struct inspect_scan *s);
/* Starts ordering s's values for inspect_duplicates on a thread of its own (inspectdup.c), once the
 * walk has added the last (walk_graph_finish): the census's end and the graph's build go on
 * meanwhile, and the sort (a tenth of what the inspections did on Sphinx's first thread) is then
 * done when asked for. Without a thread (pthread_create refused) inspect_duplicates sorts. */
void inspect_scan_sort_start(struct inspect_scan *s);
/* Waits for the sort when one is under way: true, and *values set to how many values there were
 * before those alone in their hash were dropped; false when none was started. */
bool inspect_scan_sort_wait(struct inspect_scan *s, size_t *values);

enum ins_kind {
	INS_DUPLICATE,     /* equal str or bytes values held as distinct objects */
	INS_SLOTS,         /* a class whose instances would be smaller with __slots__ */
	INS_OVERALLOCATED, /* containers whose storage is far above their length */
	INS_EMPTY,         /* empty containers */
	INS_SINGLE,        /* one-item containers */
	INS_BOXED,         /* equal int or float values held as distinct objects */
	INS_HELD,          /* objects held from C: refcount above the references found */
	INS_NKINDS
};

struct ins_finding {
	enum ins_kind kind;
	uint32_t row;         /* the census row of its objects */
	uint64_t objects;     /* objects concerned */
	uint64_t bytes;       /* what they take now */
	uint64_t save;        /* what the fix would save */
	uint64_t after;       /* INS_SLOTS: the bytes with __slots__ */
	char what[160];       /* the value (escaped, shortened), or the class */
	char detail[512];     /* INS_SLOTS: the __slots__ line to paste; others: a note */
	const char *fix;      /* what to change (static text) */
	struct pathtree t;    /* where the objects are held (merged shortest paths of a sample) */
	uint32_t *sample;     /* the nodes whose paths inspect_paths merges into t, then frees */
	uint32_t nsample;
};

struct ins_skip {        /* a class the __slots__ advisor left out */
	char what[160];
	char why[200];
	uint64_t objects;
};

struct inspect_opts {
	size_t top;           /* findings kept per inspection (duplicates confirmed) */
	uint64_t min_instances; /* classes with fewer instances are not advised */
};

struct inspection {
	struct ins_finding *f;
	size_t nf, capf;
	struct ins_skip *skip;
	size_t nskip, capskip;
	uint64_t values, unhashed, big_ints;  /* str/bytes/int/float objects hashed and not */
	uint64_t dup_groups, dup_objects, dup_save; /* every duplicate group by hash, confirmed or not */
	uint64_t unconfirmed;  /* copies left out: changed since the census, or a hash collision */
	uint64_t slots_classes; /* classes examined by the __slots__ advisor */
	uint32_t *parents;     /* the graph's shortest-path predecessors (paths_parents), for inspect_paths */
	struct paths_labels *labels; /* the labels read by inspect_paths, kept for its second call */
	/* inspect_sample_retained's pass over every edge (graph_reach_prepare), on a second thread from
	 * inspect_run on: it needs only the graph and parents, and the inspections and the first holder
	 * paths take as long on the first (Sphinx: 17 ms of 40) */
	struct inspect_reach *reach;
};

/* Every inspection on one census (c, its graph og, the scan its walk filled), reading values
 * through p (located again, the target running). Findings ranked by bytes to save, the top ones
 * kept, each with the sample of its objects whose holder paths inspect_paths then merges: the
 * inspections need no dominator tree. s->v is sorted on the way, the values alone in their hash
 * dropped (s->nv then counts the rest; r->values keeps the total). */
void inspect_run(struct pyproc *p, const struct census *c, const struct objgraph *og, struct inspect_scan *s,
		 const struct inspect_opts *o, struct inspection *r);
/* The holder paths of the findings of r that still have their sample (labels read through p),
 * ordered by the retained bytes per node of og. With retained NULL the order only decides the main
 * path when objects through tie on it (report/leaks.h leak_main_path): such findings keep their
 * sample and an empty tree, and their count is returned; the caller then computes the sampled
 * objects' retained bytes (inspect_sample_retained) and calls again with them. */
size_t inspect_paths(struct pyproc *p, const struct census *c, const struct objgraph *og, const uint64_t *retained,
		     struct inspection *r);
/* The retained bytes of the objects in the samples findings of r still hold, by node (0 for every
 * other node; malloc'ed, g.n entries), from the shortest-path tree: no dominator tree, whose
 * Lengauer-Tarjan pass over every node and edge was an eighth of inspect's instructions on Sphinx
 * (5 findings tie there, 1280 objects; their subtrees are small). NULL when their subtrees add up
 * past a few passes over the graph: the caller then takes the dominator tree. */
uint64_t *inspect_sample_retained(const struct objgraph *og, struct inspection *r);
void inspection_release(struct inspection *r);

/* What the inspections share (census/inspect.c). */
struct ins_ctx {
	struct pyproc *p;
	const struct census *c;
	const struct objgraph *og;
	uint32_t *parents;    /* paths_parents */
	uint8_t *sel;         /* g.n bytes, all zero between uses: set through ins_mark */
	uint64_t *dirty;      /* a bit per 64 nodes of sel: the blocks ins_mark wrote to since ins_paths */
	const struct inspect_opts *o;
	struct inspection *r;
};
#define PATH_SAMPLE 256 /* objects of a finding whose holder paths are merged, at most (a sample) */

/* Marks node v in x->sel (for the next ins_paths) and its block in x->dirty, so that ins_paths
 * looks at the blocks written only (90 findings each over 525000 nodes were 2 % of inspect's
 * instructions on Sphinx); returns 1 (a count of marks). */
static inline int ins_mark(struct ins_ctx *x, uint32_t v)
{
	x->sel[v] = 1;
	x->dirty[v >> 12] |= 1ull << ((v >> 6) & 63);
	return 1;
}
/* A new finding (zeroed, kind and row set); its sample is taken by ins_paths. */
struct ins_finding *ins_add(struct inspection *r, enum ins_kind kind, uint32_t row);
/* The nodes marked in x->sel (at most PATH_SAMPLE of them, evenly spread) become f's sample, whose
 * holder paths inspect_paths merges (f->t.selected then says how many); clears x->sel. */
void ins_paths(struct ins_ctx *x, struct ins_finding *f);
/* The census row whose kind is `kind`, GRAPH_NONE if none. */
uint32_t ins_row(const struct census *c, const char *kind);

void inspect_duplicates(struct ins_ctx *x, struct inspect_scan *s);  /* inspectdup.c */
void inspect_slots(struct ins_ctx *x);                                /* inspectslots.c */
void inspect_containers(struct ins_ctx *x, struct inspect_scan *s);  /* inspectcont.c */
void inspect_held(struct ins_ctx *x);                                 /* inspectcont.c */

/* inspectscan.c: the 64-bit hash of n bytes of contents of one form, whole or in pieces:
 * ins_hash_start, ins_hash_add for each piece (every piece but the last a multiple of 8 bytes),
 * ins_hash_end. Contents of at most IV_EXACT bytes hash one-to-one (ins_hash_small). */
uint64_t ins_hash_small(const uint8_t *b, size_t n);
uint64_t ins_hash_start(unsigned form, uint64_t n);
uint64_t ins_hash_add(uint64_t h, const uint8_t *b, size_t n);
uint64_t ins_hash_end(uint64_t h);

#endif
