/* graph.h: the object graph of one census as data, and what is computed on it. Nodes are the
 * objects counted (and a few synthetic nodes the caller adds: the root, "held from C", ...),
 * each with its own size and kind; references are outgoing edges in compressed sparse rows.
 * On it: the dominator tree from node 0 (the synthetic root), retained sizes per node and per
 * kind, and the breadth-first shortest-path tree. Knows nothing of the target: census/ fills a
 * builder, report/ and cli/ read the graph. Compact by design: 32-bit node ids and edge offsets,
 * no per-node allocation. Bytes at each stage (n nodes, e references; bench/graph.c measures them):
 * a filled builder holds 20 per node, 8 per reference and 4 per run of references from one source;
 * graph_build adds an index of 4 to 8 per node while it resolves them (graph_builder_ahead makes it
 * earlier, sized for a quarter more nodes), then the rows (4 per node,
 * 4 per edge) and 1 per node of marks; the graph holds 24 per node and 4 per edge (sizes are 32-bit,
 * objects of 4 GiB or more kept apart), and 4 per node of parents until graph_drop_parents;
 * graph_idom needs 24 per node and 4 per edge more while it runs; graph_retained_of 16 per node
 * at most (8 of them from graph_reach_prepare on). Arrays of 2 MiB or more are in 2 MiB pages where the
 * kernel allows (common/hugepages.h: a fault per 4 KiB page cost a third of inspect's time on a VM):
 * at most one such page per array is resident beyond these figures, and the room the builder
 * reserves up front (graph_builder_reserve) is address space until written. */
#ifndef PC_GRAPH_H
#define PC_GRAPH_H

#include "common/compat.h"

#include <stdatomic.h>

#define GRAPH_ROOT 0u          /* the synthetic root: the first node added */
#define GRAPH_NONE UINT32_MAX  /* no node / no kind / refcount not known */
/* Node and reference caps keep every edge offset in 32 bits: references (by address and known)
 * up to GRAPH_MAX_REFS, then at most one held and one garbage edge per node. Past them what comes
 * is dropped and counted (graph_builder.full, graph.dropped): a heap that large would need over
 * 16 GiB for its graph. */
#define GRAPH_MAX_NODES ((1u << 30) - 1u)
/* No object lives at an address with this bit (user space ends below 2^57): a reference recorded
 * to one is to nothing, and the builder marks the references it resolved early with it. */
#define GRAPH_ADDR_TAG (1ull << 63)
#define GRAPH_MAX_REFS ((1u << 31) - 1u)

struct graph {
	uint32_t n;          /* nodes; node 0 is the synthetic root */
	uint64_t *addr;      /* per node: the object's address, 0 for synthetic nodes */
	uint32_t *size;      /* per node: own bytes, or GRAPH_BIG_SIZE: see graph_size */
	struct graph_big *big; /* the nodes of GRAPH_BIG_SIZE bytes or more, by node id */
	size_t nbig;
	uint32_t *kind;      /* per node: the caller's kind index, or GRAPH_NONE */
	uint32_t *surplus;   /* per node: refcount minus the references found to it, 0 if none or not known */
	uint32_t *first;     /* n + 1 entries: node v's references are dst[first[v] .. first[v + 1]) */
	uint32_t *dst;
	uint64_t nedges;
	uint64_t unresolved; /* references to addresses that are not nodes (dropped, not objects) */
	uint64_t dropped;    /* references and nodes past GRAPH_MAX_REFS and GRAPH_MAX_NODES */
	uint64_t held;       /* nodes given an edge from the held-from-C node (surplus > 0) */
	uint64_t unreachable;/* nodes reachable from the root only through the garbage node */
	/* Breadth-first predecessors, found as graph_build marks what the root reaches: from each of
	 * the root's own references in turn, the whole of one search before the next (an order of
	 * trust: census/paths.h); GRAPH_NONE for the root, its references and what only garbage
	 * entries reach. NULL once graph_drop_parents let it go. */
	uint32_t *parent;
};

/* An object of 4 GiB or more: its size, apart (graph.size holds GRAPH_BIG_SIZE). */
#define GRAPH_BIG_SIZE UINT32_MAX
struct graph_big {
	uint32_t node;
	uint64_t size;
};

/* Collects nodes and references while a census walks; graph_build turns it into a graph. */
struct graph_builder {
	uint32_t *index;       /* open addressing, address -> node id (GRAPH_NONE: empty): made by graph_build */
	size_t index_mask;
	uint64_t *addr;
	uint32_t *size, *kind, *refcnt;
	size_t n, cap;
	struct graph_big *big;
	size_t nbig, capbig;
	/* pending references' target addresses, in arrival order; bit 0 set on the first of each run
	 * of references from one source (objects are aligned: an odd address is none) */
	uint64_t *ref_dst;
	size_t nrefs, caprefs;
	/* graph_add_ref's fast path: below ref_fast_end another reference needs no check (room, the
	 * limit check every 65536, the caps: graph.c ref_fast keeps it so); run_src is the last run's
	 * source (GRAPH_NONE before the first) */
	size_t ref_fast_end;
	uint32_t run_src;
	uint32_t *runs;        /* each run's source node */
	size_t nruns, capruns;
	uint32_t *edge_src, *edge_dst; /* references between node ids known at once (synthetic nodes) */
	size_t nedges, capedges;
	uint64_t dropped;      /* nodes and references past the caps */
	uint64_t limit;        /* 0, or the most graph_peak_bytes may reach: past it `over` is set */
	bool full;             /* GRAPH_MAX_NODES reached or over: later nodes ignored */
	bool over;             /* the limit was reached: later nodes and references ignored */
	struct graph_ahead *ahead; /* graph_builder_ahead's thread and its index, NULL without */
};

void graph_builder_init(struct graph_builder *b);
void graph_builder_release(struct graph_builder *b);
/* Room for about `nodes` nodes and `refs` references taken at once (at most what the limit allows):
 * address space only until written, and in 2 MiB pages (common/hugepages.h) where growing from
 * small faults in their first MiBs 4 KiB at a time. More than this still fits (the arrays grow). */
void graph_builder_reserve(struct graph_builder *b, size_t nodes, size_t refs);
/* The most memory a graph of n nodes, e references and r runs of them takes at once, from the
 * builder to graph_idom (whose GRAPH_PEAK_NODE bytes per node and GRAPH_PEAK_REF per edge are the
 * peak unless the references come in more runs than there are nodes). A builder with a limit checks
 * it every 65536 nodes and references. */
#define GRAPH_PEAK_NODE 48u
#define GRAPH_PEAK_REF 8u
uint64_t graph_peak_bytes(uint64_t n, uint64_t e, uint64_t r);
/* A node: addr 0 for a synthetic node (never looked up by address); refcnt its reference count
 * or GRAPH_NONE when it must not be compared (immortal, static, unknown). Returns its id,
 * GRAPH_NONE when the builder is full. Each address is added once (the census counts each object
 * once): no index is kept while nodes arrive, so that a census's copy of the arenas and an index
 * are never in memory together; graph_build makes it, sized once. */
uint32_t graph_add_node_slow(struct graph_builder *b, uint64_t addr, uint64_t size, uint32_t kind, uint32_t refcnt);
static inline uint32_t graph_add_node(struct graph_builder *b, uint64_t addr, uint64_t size, uint32_t kind,
				      uint32_t refcnt)
{
	/* inline for the common case (a census adds every object: 545000 on Sphinx): room, a size
	 * under 4 GiB, away from a limit check (every 65536) */
	if (b->n < b->cap && (b->n & 0xffff) && !b->full && size < GRAPH_BIG_SIZE && b->n < GRAPH_MAX_NODES) {
		size_t id = b->n++;

		b->addr[id] = addr;
		b->size[id] = (uint32_t)size;
		b->kind[id] = kind;
		b->refcnt[id] = refcnt;
		return (uint32_t)id;
	}
	return graph_add_node_slow(b, addr, size, kind, refcnt);
}
/* The node of addr, GRAPH_NONE if none (while building: a scan, for tests and rare lookups). */
uint32_t graph_builder_find(const struct graph_builder *b, uint64_t addr);
void graph_set_kind(struct graph_builder *b, uint32_t id, uint32_t kind);
/* A reference from node src to whatever lies at addr: resolved in graph_build (dropped and
 * counted in `unresolved` when no node has that address). Repeats are kept: a list holding the
 * same object twice holds two references, as its refcount says. */
void graph_add_ref_slow(struct graph_builder *b, uint32_t src, uint64_t addr);
static inline void graph_add_ref(struct graph_builder *b, uint32_t src, uint64_t addr)
{
	/* inline for the common cases (the walk calls it for each of the 1.7 million references on
	 * Sphinx), with room, away from a limit check (every 65536): one more in the run of src, or
	 * the first of a new run (200000 of them, each a call that recomputed the bounds before) */
	if (b->nrefs < b->ref_fast_end) {
		if (b->run_src == src) {
			b->ref_dst[b->nrefs++] = addr & (1 | GRAPH_ADDR_TAG) ? 0 : addr;
			return;
		}
		if (b->nruns < b->capruns && src < b->n) {
			b->runs[b->nruns++] = b->run_src = src;
			b->ref_dst[b->nrefs++] = (addr & (1 | GRAPH_ADDR_TAG) ? 0 : addr) | 1;
			return;
		}
	}
	graph_add_ref_slow(b, src, addr);
}
/* A reference between two known nodes (the root to its groups, a group to a root object). */
void graph_add_edge(struct graph_builder *b, uint32_t src, uint32_t dst);
/* Starts indexing the nodes added so far, and resolving the references added so far to them, on
 * a thread of its own while more are added: graph_build then indexes and resolves only what came
 * after (a census's arenas hold most of its objects and references; what it follows after them is
 * the rest). The index then lives from here to graph_build, beside whatever the caller holds: for
 * a caller that holds its copy of the heap until then anyway. A refused thread changes nothing. */
void graph_builder_ahead(struct graph_builder *b);

/* Builds g and empties b. Then, for every node whose refcount exceeds the references found to it,
 * records the difference in surplus[] and adds an edge held -> node (unless held is GRAPH_NONE);
 * then every node still unreachable from the root gets reached from `garbage` (unless
 * GRAPH_NONE): nodes nothing references first, then one entry per remaining cycle, so each
 * unreachable group hangs off the garbage node by as few edges as possible (the caller gives the
 * root an edge to garbage; garbage is never an entry itself; `unreachable` is counted even when
 * garbage is GRAPH_NONE). Edges of one node keep the order they were added in: its graph_add_ref
 * references first, then its graph_add_edge edges, then the held or garbage edges. b is left
 * released (graph_builder_release again is harmless; graph_builder_init to reuse it). */
void graph_build(struct graph_builder *b, struct graph *g, uint32_t held, uint32_t garbage);
void graph_release(struct graph *g);
/* Frees g->parent (4 bytes per node) before the dominator tree's peak. */
void graph_drop_parents(struct graph *g);
/* Node v's own bytes. */
uint64_t graph_big_size(const struct graph *g, uint32_t v);
static inline uint64_t graph_size(const struct graph *g, uint32_t v)
{
	return g->size[v] != GRAPH_BIG_SIZE ? g->size[v] : graph_big_size(g, v);
}
/* The node at addr, GRAPH_NONE if none (a binary search over a sorted copy would cost memory:
 * this is a scan, for the few lookups a command makes). */
uint32_t graph_find(const struct graph *g, uint64_t addr);

/* The immediate dominator of every node (Lengauer-Tarjan, iterative: no recursion, any depth):
 * idom[v] is the last node every path from the root to v passes through; GRAPH_NONE for the root
 * and for nodes the root does not reach. Returns a malloc'ed array of g->n. */
uint32_t *graph_idom(const struct graph *g);
/* graph_idom on another thread that the caller may stop: once *stop is set it returns NULL soon
 * (within 65536 steps), having freed what it took. */
uint32_t *graph_idom_unless(const struct graph *g, const atomic_bool *stop);
/* Retained bytes and objects of every node: its own size (1 object; synthetic nodes, addr 0, count
 * no object) plus those of every node it dominates. bytes and count hold g->n each; unreachable
 * nodes retain only themselves. */
void graph_retained(const struct graph *g, const uint32_t *idom, uint64_t *bytes, uint64_t *count);
/* Per kind (0 .. nkinds-1): the bytes and objects retained by the kind's objects, each object's
 * retained set counted once: the sum over the kind's nodes that no other node of the same kind
 * dominates (Eclipse MAT's retained size of a class). bytes and count hold nkinds each. */
void graph_kind_retained(const struct graph *g, const uint32_t *idom, const uint64_t *retained_bytes,
			 const uint64_t *retained_count, uint32_t nkinds, uint64_t *bytes, uint64_t *count);
/* The retained bytes of a few nodes without the dominator tree: bytes[i] for nodes[i], each
 * equal to graph_retained's. parent[] is a tree of paths from the root (graph_bfs_parents, or
 * census/paths.h's, which leaves the nodes the root references directly without a parent); the
 * cost is each node's subtree there and its edges, after a pass over every edge. Returns false,
 * bytes unfinished, once the subtrees' nodes and edges add up past budget (0: none), where the
 * dominator tree would cost less. */
bool graph_retained_of(const struct graph *g, const uint32_t *parent, const uint32_t *nodes, size_t k,
		       uint64_t budget, uint64_t *bytes);
/* graph_retained_of in two steps, for a caller that takes the first (a pass over every edge from
 * the nodes parent[] reaches: their in-degrees) on another thread while it chooses the nodes:
 * graph_reach_prepare fills r (8 bytes per node), or returns false, r empty, once *stop is set
 * (stop may be NULL); graph_retained_of_reach then answers as graph_retained_of, once (its
 * stamps stay in r); graph_reach_release frees r. */
struct graph_reach {
	uint32_t *indeg, *stamp;
};
bool graph_reach_prepare(const struct graph *g, const uint32_t *parent, const atomic_bool *stop, struct graph_reach *r);
bool graph_retained_of_reach(const struct graph *g, const uint32_t *parent, struct graph_reach *r, const uint32_t *nodes,
			     size_t k, uint64_t budget, uint64_t *bytes);
void graph_reach_release(struct graph_reach *r);
/* Breadth-first shortest paths from the root over every edge: parent[v] is v's predecessor on one
 * shortest path (GRAPH_NONE for the root and unreachable nodes); with `avoid` non-NULL, paths never
 * pass through a node v with avoid[v] set (it may still end there; the root, where every path
 * starts, is never avoided). Returns a malloc'ed array. */
uint32_t *graph_bfs_parents(const struct graph *g, const uint8_t *avoid);
/* The children of every node in the dominator tree, as compressed rows like the edges: node v's are
 * kids[first[v] .. first[v + 1]), largest retained first (ties: lower id first). first (g->n + 1) and kids (g->n) are
 * malloc'ed into *first and *kids. */
void graph_dom_children(const struct graph *g, const uint32_t *idom, const uint64_t *retained_bytes,
			uint32_t **first, uint32_t **kids);

#endif
