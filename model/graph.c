/* graph.c: the object graph's builder, its compressed rows, the held-from-C and garbage edges,
 * and breadth-first shortest paths. Dominators and retained sizes are in dominators.c. */
#include "common/compat.h"
#include "model/graph.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "common/hugepages.h"
#include "common/prefault.h"
#include "common/xalloc.h"

/* How many lookups ahead the address index's slots are loaded (index_nodes, resolve_refs): enough
 * to cover a memory access (the index is 32 MiB for 545k nodes) with the lookups in between. */
#define PREFETCH_AHEAD 16
#define MARK_SEEN 1u    /* reached (from the root, or from a garbage entry) */
#define MARK_REFD 2u    /* some edge points here */
#define MARK_ENTRY 4u   /* given an edge from the garbage node */

/* An array of the graph's, in 2 MiB pages when large (common/hugepages.h): its pages are first
 * written here, and each 4 KiB one would be a fault. */
static void *big_alloc(size_t bytes)
{
	void *p = huge_alloc(bytes);

	return p ? p : xmalloc(bytes ? bytes : 1);
}

static void *big_zalloc(size_t bytes)
{
	return memset(big_alloc(bytes), 0, bytes ? bytes : 1);
}

/* xgrow, the grown array advised as big_alloc's (before its new pages are written). */
static void big_grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return;
	prefault_wait(); /* the block may move: nothing is faulted in where it was */
	xgrow_to(p, cap, need, size);
	huge_advise(*p, *cap * size);
}

static void ahead_wait(struct graph_builder *b);
static void ahead_release(struct graph_builder *b);

void graph_builder_init(struct graph_builder *b)
{
	memset(b, 0, sizeof *b);
}

/* Also what graph_build leaves: every array freed, so a second release is harmless. */
void graph_builder_release(struct graph_builder *b)
{
	prefault_wait();
	ahead_release(b);
	free(b->index);
	free(b->addr);
	free(b->size);
	free(b->kind);
	free(b->refcnt);
	free(b->ref_dst);
	free(b->runs);
	free(b->big);
	free(b->edge_src);
	free(b->edge_dst);
	memset(b, 0, sizeof *b);
}

uint64_t graph_peak_bytes(uint64_t n, uint64_t e, uint64_t r)
{
	uint64_t idom = GRAPH_PEAK_NODE * n + GRAPH_PEAK_REF * e, build = 28 * n + 8 * e + 4 * r; /* dominators; a full builder and its index */

	return idom > build ? idom : build;
}

/* Where graph_add_ref's fast path ends: the room, the next limit check (when nrefs is a multiple
 * of 65536), GRAPH_MAX_REFS; nowhere once over. Kept after every change to what it depends on. */
static void ref_fast(struct graph_builder *b)
{
	size_t end = ((b->nrefs >> 16) + 1) << 16, max = GRAPH_MAX_REFS - (b->nedges < GRAPH_MAX_REFS ? b->nedges : GRAPH_MAX_REFS);

	end = end < b->caprefs ? end : b->caprefs;
	end = end < max ? end : max;
	b->ref_fast_end = b->over || !(b->nrefs & 0xffff) ? 0 : end;
	b->run_src = b->nruns ? b->runs[b->nruns - 1] : GRAPH_NONE;
}

/* Past the limit: nothing more is recorded, and `over` tells the caller why. */
static bool over_limit(struct graph_builder *b)
{
	if (b->limit && graph_peak_bytes(b->n, b->nrefs + b->nedges, b->nruns) > b->limit)
		b->over = b->full = true;
	ref_fast(b);
	return b->over;
}

/* The next block of each array faulted in by the prefault thread (common/prefault.h), asked as
 * the writer enters the block before it. */
static void nodes_ahead(const struct graph_builder *b, size_t from)
{
	prefault_elems(b->addr, from, PREFAULT_BLOCK, b->cap, sizeof *b->addr);
	prefault_elems(b->size, from, PREFAULT_BLOCK, b->cap, sizeof *b->size);
	prefault_elems(b->kind, from, PREFAULT_BLOCK, b->cap, sizeof *b->kind);
	prefault_elems(b->refcnt, from, PREFAULT_BLOCK, b->cap, sizeof *b->refcnt);
}

/* References from refs_from on, and the runs the block's references may start (a run per
 * reference at most): runs grow slower, so theirs start where they are. */
static void refs_ahead(const struct graph_builder *b, size_t refs_from)
{
	prefault_elems(b->ref_dst, refs_from, PREFAULT_BLOCK, b->caprefs, sizeof *b->ref_dst);
	prefault_elems(b->runs, b->nruns, 2 * PREFAULT_BLOCK, b->capruns, sizeof *b->runs);
}

static void grow_nodes(struct graph_builder *b)
{
	size_t cap = b->cap ? b->cap * 2 : 1024;

	prefault_wait(); /* the arrays may move */
	ahead_wait(b);

	b->addr = xrealloc(b->addr, cap * sizeof *b->addr);
	b->size = xrealloc(b->size, cap * sizeof *b->size);
	b->kind = xrealloc(b->kind, cap * sizeof *b->kind);
	b->refcnt = xrealloc(b->refcnt, cap * sizeof *b->refcnt);
	huge_advise(b->addr, cap * sizeof *b->addr);
	huge_advise(b->size, cap * sizeof *b->size);
	huge_advise(b->kind, cap * sizeof *b->kind);
	huge_advise(b->refcnt, cap * sizeof *b->refcnt);
	b->cap = cap;
}

void graph_builder_reserve(struct graph_builder *b, size_t nodes, size_t refs)
{
	size_t cap[4] = { b->cap, b->cap, b->cap, b->cap };

	if (b->limit) { /* room past the limit would never be used */
		nodes = nodes < b->limit / GRAPH_PEAK_NODE ? nodes : (size_t)(b->limit / GRAPH_PEAK_NODE);
		refs = refs < b->limit / GRAPH_PEAK_REF ? refs : (size_t)(b->limit / GRAPH_PEAK_REF);
	}
	nodes = nodes < GRAPH_MAX_NODES ? nodes : GRAPH_MAX_NODES;
	refs = refs < GRAPH_MAX_REFS ? refs : GRAPH_MAX_REFS;
	ahead_wait(b); /* the arrays may move */
	if (nodes > b->cap) {
		huge_reserve((void **)&b->addr, &cap[0], nodes, sizeof *b->addr);
		huge_reserve((void **)&b->size, &cap[1], nodes, sizeof *b->size);
		huge_reserve((void **)&b->kind, &cap[2], nodes, sizeof *b->kind);
		huge_reserve((void **)&b->refcnt, &cap[3], nodes, sizeof *b->refcnt);
		/* one refused: the others keep their room, which grow_nodes only shrinks to what it needs */
		cap[0] = cap[0] < cap[1] ? cap[0] : cap[1];
		cap[2] = cap[2] < cap[3] ? cap[2] : cap[3];
		b->cap = cap[0] < cap[2] ? cap[0] : cap[2];
	}
	huge_reserve((void **)&b->runs, &b->capruns, nodes, sizeof *b->runs);
	huge_reserve((void **)&b->ref_dst, &b->caprefs, refs, sizeof *b->ref_dst);
	ref_fast(b);
	nodes_ahead(b, b->n);
	refs_ahead(b, b->nrefs);
}

uint32_t graph_add_node_slow(struct graph_builder *b, uint64_t addr, uint64_t size, uint32_t kind, uint32_t refcnt)
{
	uint32_t id;

	if (b->n >= GRAPH_MAX_NODES || b->full || (!(b->n & 0xffff) && over_limit(b))) {
		b->full = true;
		b->dropped++;
		return GRAPH_NONE;
	}
	if (b->n == b->cap)
		grow_nodes(b);
	if (!(b->n & (PREFAULT_BLOCK - 1)))
		nodes_ahead(b, b->n + PREFAULT_BLOCK);
	id = (uint32_t)b->n++;
	b->addr[id] = addr;
	b->size[id] = size < GRAPH_BIG_SIZE ? (uint32_t)size : GRAPH_BIG_SIZE;
	if (size >= GRAPH_BIG_SIZE) {
		xgrow((void **)&b->big, &b->capbig, b->nbig + 1, sizeof *b->big);
		b->big[b->nbig++] = (struct graph_big){ id, size };
	}
	b->kind[id] = kind;
	b->refcnt[id] = refcnt;
	return id;
}

static inline size_t addr_slot(uint64_t a, size_t mask)
{
	a ^= a >> 33;
	a *= 0xff51afd7ed558ccdULL;
	a ^= a >> 33;
	return (size_t)a & mask;
}

/* An address index: node ids in open addressing under 70 % full, the address compared through
 * addr[] (4 to 8 bytes per node where a map of address and id would take 32 to 64). */
struct lookup {
	const uint32_t *index;
	size_t mask;
	const uint64_t *addr;
	/* references resolved ahead (graph_builder_ahead) are looked up again by their node's address:
	 * a node added after them has the same address */
	bool recheck;
};

static size_t index_cap(size_t n)
{
	size_t cap = 64;

	while (cap / 10 * 7 < n)
		cap *= 2;
	return cap;
}

static uint32_t *index_alloc(size_t cap)
{
	uint32_t *index = big_alloc(cap * sizeof *index);

	return memset(index, 0xff, cap * sizeof *index);
}

/* Nodes [lo, hi) into an empty index. A repeated address finds its last node: ids go in last
 * first, each in the first free slot from its address's, and a lookup stops at the first match;
 * so no insertion compares addresses (each comparison was a cache miss in addr[]). */
static void index_fill(uint32_t *index, size_t mask, const uint64_t *addr, size_t lo, size_t hi)
{
	for (size_t id = hi; id-- > lo;) {
		size_t i;

		if (id >= lo + PREFETCH_AHEAD)
			__builtin_prefetch(&index[addr_slot(addr[id - PREFETCH_AHEAD], mask)]);
		if (!addr[id])
			continue;
		for (i = addr_slot(addr[id], mask); index[i] != GRAPH_NONE; i = (i + 1) & mask)
			;
		index[i] = (uint32_t)id;
	}
}

/* Node id into an index that holds nodes before it: one of the same address gives it its slot, so
 * that a lookup still finds the last node at an address. Returns whether one did. */
static bool index_add(uint32_t *index, size_t mask, const uint64_t *addr, uint32_t id)
{
	size_t i;

	for (i = addr_slot(addr[id], mask); index[i] != GRAPH_NONE; i = (i + 1) & mask)
		if (addr[index[i]] == addr[id]) {
			index[i] = id;
			return true;
		}
	index[i] = id;
	return false;
}

/* The index of every node, made once every node is in and sized for them at once. */
static void index_nodes(struct graph_builder *b)
{
	size_t cap = index_cap(b->n);

	b->index = index_alloc(cap);
	b->index_mask = cap - 1;
	index_fill(b->index, b->index_mask, b->addr, 0, b->n);
}

/* The node at addr from its first probe slot (addr_slot, computed once for the prefetch). */
static uint32_t find_from(const struct lookup *L, uint64_t addr, size_t i)
{
	for (; L->index[i] != GRAPH_NONE; i = (i + 1) & L->mask)
		if (L->addr[L->index[i]] == addr)
			return L->index[i];
	return GRAPH_NONE;
}

uint32_t graph_builder_find(const struct graph_builder *b, uint64_t addr)
{
	if (!addr)
		return GRAPH_NONE;
	if (b->index) {
		struct lookup L = { b->index, b->index_mask, b->addr, false };
		return find_from(&L, addr, addr_slot(addr, b->index_mask));
	}
	for (size_t id = b->n; id-- > 0;) /* before graph_build: a scan, for the rare lookup */
		if (b->addr[id] == addr)
			return (uint32_t)id;
	return GRAPH_NONE;
}

void graph_set_kind(struct graph_builder *b, uint32_t id, uint32_t kind)
{
	if (id < b->n)
		b->kind[id] = kind;
}

/* Whether one more reference fits under GRAPH_MAX_REFS (counted as dropped when not). */
static bool ref_room(struct graph_builder *b)
{
	if (b->nrefs + b->nedges < GRAPH_MAX_REFS && !b->over && ((b->nrefs & 0xffff) || !over_limit(b)))
		return true;
	b->dropped++;
	return false;
}

/* The walk adds a node's references in a few runs (the object's own fields, then each follow job
 * it queued): a run's source is kept once, not per reference. */
void graph_add_ref_slow(struct graph_builder *b, uint32_t src, uint64_t addr)
{
	if (src >= b->n || !ref_room(b))
		return; /* the node was not added (builder full) */
	bool starts = !b->nruns || b->runs[b->nruns - 1] != src;

	if (starts) {
		big_grow((void **)&b->runs, &b->capruns, b->nruns + 1, sizeof *b->runs);
		b->runs[b->nruns++] = src;
	}
	if (b->nrefs == b->caprefs)
		ahead_wait(b); /* ref_dst moves */
	big_grow((void **)&b->ref_dst, &b->caprefs, b->nrefs + 1, sizeof *b->ref_dst);
	if (!(b->nrefs & (PREFAULT_BLOCK - 1)))
		refs_ahead(b, b->nrefs + PREFAULT_BLOCK);
	b->ref_dst[b->nrefs++] = (addr & (1 | GRAPH_ADDR_TAG) ? 0 : addr) | starts;
	ref_fast(b);
}

/* Grows two parallel arrays sharing one capacity. */
static void grow_pair(void **a, size_t asize, void **b, size_t bsize, size_t *cap, size_t need)
{
	size_t c = *cap;

	xgrow(a, &c, need, asize);
	xgrow(b, cap, need, bsize);
}

void graph_add_edge(struct graph_builder *b, uint32_t src, uint32_t dst)
{
	if (src >= b->n || dst >= b->n || !ref_room(b))
		return;
	grow_pair((void **)&b->edge_src, sizeof *b->edge_src, (void **)&b->edge_dst, sizeof *b->edge_dst, &b->capedges, b->nedges + 1);
	b->edge_src[b->nedges] = src;
	b->edge_dst[b->nedges++] = dst;
	ref_fast(b);
}

/* A resolved reference: the node id (REF_NONE: no such node), RUN_START on the first of a run. */
#define RUN_START (1u << 31)
#define REF_NONE (RUN_START - 1u)

#define HOT_BITS 12 /* the recent lookups kept: 4096 of them, 48 KiB */

struct hot_entry {
	uint64_t addr;
	uint32_t id;
};

/* A reference resolved ahead (graph_builder_ahead): its node id in bits 1 to 31, bit 0 kept;
 * no address recorded has the bit (graph_add_ref). */
#define REF_TAG GRAPH_ADDR_TAG

static inline uint32_t tag_id(uint64_t a)
{
	return (uint32_t)(a >> 1);
}

/* The address reference a is looked up by: 0 for none (a null one, or one resolved ahead). */
static inline uint64_t ref_key(const struct lookup *L, uint64_t a)
{
	if (!(a & REF_TAG))
		return a & ~1ull;
	return L->recheck ? L->addr[tag_id(a)] : 0;
}

/* References refs[lo, hi) to node ids, reference i's into out[i * stride]; with out NULL (ahead)
 * those found are tagged in place, the others left for later. Each reference's first probe slot
 * is computed once, PREFETCH_AHEAD references ahead (never past hi: another thread may be writing
 * there), and kept in a ring until its turn; a direct-mapped table of recent lookups (hot,
 * 1 << HOT_BITS entries, the caller's) answers the references to a few objects that many hold
 * (each instance's class, shared strings) without the index, whose probe is a cache miss.
 * Returns how many found no node. */
static uint64_t resolve_range(const struct lookup *L, uint64_t *refs, size_t lo, size_t hi, uint32_t *out,
			      size_t stride, struct hot_entry *hot)
{
	size_t ring[PREFETCH_AHEAD];
	uint64_t unresolved = 0;

	for (size_t i = lo; i < lo + PREFETCH_AHEAD && i < hi; i++)
		ring[i % PREFETCH_AHEAD] = addr_slot(ref_key(L, refs[i]), L->mask);
	for (size_t i = lo; i < hi; i++) {
		uint64_t a = refs[i], key = ref_key(L, a);
		size_t slot = ring[i % PREFETCH_AHEAD], h = (size_t)(key >> 4) & ((1u << HOT_BITS) - 1);
		uint32_t id;

		if (i + PREFETCH_AHEAD < hi) {
			uint64_t next = ref_key(L, refs[i + PREFETCH_AHEAD]);
			size_t ahead = addr_slot(next, L->mask);

			ring[i % PREFETCH_AHEAD] = ahead;
			if (next)
				__builtin_prefetch(&L->index[ahead]);
		}
		if (i + PREFETCH_AHEAD / 2 < hi) {
			/* its slot, loaded 8 references ago, names the node whose address the probe
			 * compares: that load was half of graph_build's time (perf, Sphinx) */
			uint32_t first = L->index[ring[(i + PREFETCH_AHEAD / 2) % PREFETCH_AHEAD]];
			if (first != GRAPH_NONE)
				__builtin_prefetch(&L->addr[first]);
		}
		if ((a & REF_TAG) && !L->recheck)
			id = tag_id(a);
		else if (!key)
			id = GRAPH_NONE;
		else if (hot[h].addr == key)
			id = hot[h].id;
		else {
			id = find_from(L, key, slot);
			hot[h].addr = key;
			hot[h].id = id;
		}
		if (out) {
			unresolved += id == GRAPH_NONE;
			out[i * stride] = (id == GRAPH_NONE ? REF_NONE : id) | (a & 1 ? RUN_START : 0);
		} else if (id != GRAPH_NONE && !(a & REF_TAG))
			refs[i] = REF_TAG | (uint64_t)id << 1 | (a & 1);
	}
	return unresolved;
}

/* graph_builder_ahead's jobs, one thread at a time: the nodes and references each was given are
 * read, and the references tagged, where the builder had them (it waits for the job before it
 * moves them: ahead_wait). */
struct graph_ahead {
	pthread_t thread;
	bool running;            /* until ahead_wait joined it */
	atomic_bool done;        /* the running job is done: the next may start without a wait */
	size_t from_nodes, from_refs; /* the job's share: nodes [from_nodes, nodes), references */
	size_t nodes, refs;      /* [from_refs, refs); nodes [0, nodes) are then in index */
	size_t retried;          /* nodes when the references that found none were last looked up */
	bool recheck;            /* a node came at the address of one before it */
	const uint64_t *addr;
	uint64_t *ref_dst;
	uint32_t *index;         /* NULL once graph_build took it */
	size_t mask;
	uint32_t *fresh;         /* ahead_room's bigger index, not yet made */
	size_t fresh_mask;
	struct hot_entry *hot;
};

/* Room for n nodes in h's index and a quarter more (what comes after), when it has less: an
 * index of the new size, made again by ahead_index. Allocated by the builder's thread, whose
 * malloc arena graph_build frees it to (a job's thread would have an arena of its own). */
static void ahead_room(struct graph_ahead *h, size_t n)
{
	size_t cap = index_cap(n + n / 4);

	if (h->index && (h->mask + 1) / 10 * 7 >= n)
		return;
	h->fresh = big_alloc(cap * sizeof *h->fresh);
	h->fresh_mask = cap - 1;
}

/* Nodes [from, n) into h's index, made again first in the room ahead_room gave. */
static void ahead_index(struct graph_ahead *h, const uint64_t *addr, size_t from, size_t n)
{
	if (h->fresh) {
		free(h->index);
		h->index = memset(h->fresh, 0xff, (h->fresh_mask + 1) * sizeof *h->fresh);
		h->mask = h->fresh_mask;
		h->fresh = NULL;
		index_fill(h->index, h->mask, addr, 0, from);
	}
	for (size_t id = from; id < n; id++)
		if (addr[id])
			h->recheck |= index_add(h->index, h->mask, addr, (uint32_t)id);
}

/* A job: the new nodes in, the new references looked up, and the earlier references that found
 * none looked up again once there are 5 % more nodes (they are mostly to objects the census meets
 * later: classes and large objects, found after the arenas). */
static void *ahead_main(void *arg)
{
	struct graph_ahead *h = arg;
	struct lookup L;

	memset(h->hot, 0, (1u << HOT_BITS) * sizeof *h->hot); /* a node may have come where none was */
	ahead_index(h, h->addr, h->from_nodes, h->nodes);
	L = (struct lookup){ h->index, h->mask, h->addr, false };
	resolve_range(&L, h->ref_dst, h->from_refs, h->refs, NULL, 0, h->hot);
	if (h->from_refs && h->nodes >= h->retried + h->retried / 20) {
		resolve_range(&L, h->ref_dst, 0, h->from_refs, NULL, 0, h->hot);
		h->retried = h->nodes;
	}
	atomic_store(&h->done, true);
	return NULL;
}

void graph_builder_ahead(struct graph_builder *b)
{
	struct graph_ahead *h = b->ahead;

	if (h && h->running && !atomic_load(&h->done))
		return; /* the last job is still at work: the next takes more */
	ahead_wait(b);
	if (!h) {
		h = b->ahead = xcalloc(1, sizeof *h);
		h->hot = xcalloc(1u << HOT_BITS, sizeof *h->hot);
		atomic_init(&h->done, false);
	}
	if (b->n == h->nodes && b->nrefs == h->refs)
		return;
	ahead_room(h, b->n);
	h->from_nodes = h->nodes;
	h->from_refs = h->refs;
	h->nodes = b->n;
	h->refs = b->nrefs;
	h->addr = b->addr;
	h->ref_dst = b->ref_dst;
	atomic_store(&h->done, false);
	if (pthread_create(&h->thread, NULL, ahead_main, h) != 0) {
		h->nodes = h->from_nodes; /* not done: graph_build does it */
		h->refs = h->from_refs;
		free(h->fresh);
		h->fresh = NULL;
		return;
	}
	h->running = true;
}

/* Before the arrays a job reads move, and before its work is used. */
static void ahead_wait(struct graph_builder *b)
{
	if (b->ahead && b->ahead->running) {
		pthread_join(b->ahead->thread, NULL);
		b->ahead->running = false;
	}
}

static void ahead_release(struct graph_builder *b)
{
	ahead_wait(b);
	if (b->ahead) {
		free(b->ahead->index);
		free(b->ahead->fresh);
		free(b->ahead->hot);
	}
	free(b->ahead);
	b->ahead = NULL;
}

/* The index graph_builder_ahead's jobs made, completed with the nodes added since. Returns
 * whether a node came at the address of one before it, whose references resolved ahead must then
 * be looked up again. */
static bool index_ahead(struct graph_builder *b)
{
	struct graph_ahead *h = b->ahead;

	ahead_wait(b);
	if (!h->index)
		return false; /* no job ever ran: index_nodes makes it */
	if (h->nodes < b->n) {
		ahead_room(h, b->n);
		ahead_index(h, b->addr, h->nodes, b->n);
	}
	b->index = h->index;
	b->index_mask = h->mask;
	h->index = NULL;
	return h->recheck;
}

/* Fewer references than this are resolved on one thread (a thread costs about 50 us); the two
 * threads take them in chunks of RESOLVE_CHUNK. */
#define RESOLVE_SPLIT (1u << 17)
#define RESOLVE_CHUNK (1u << 15)

struct resolve_share {
	const struct lookup *L;
	uint64_t *refs;
	size_t nrefs;
	atomic_size_t next;          /* the first reference no thread has taken */
	atomic_uint_fast64_t unresolved;
};

/* Takes chunks until none is left, each id in the low 4 bytes of its own reference's 8 (stride
 * 2): the threads never write where the other reads. Shared by chunks, not halves: on a loaded
 * machine the second thread may get no core for a while, and the first then does its share. */
static void *resolve_chunks(void *arg)
{
	struct resolve_share *sh = arg;
	struct hot_entry *hot = xcalloc(1u << HOT_BITS, sizeof *hot);
	uint64_t unresolved = 0;
	size_t lo;

	while ((lo = atomic_fetch_add(&sh->next, RESOLVE_CHUNK)) < sh->nrefs)
		unresolved += resolve_range(sh->L, sh->refs, lo, sh->nrefs - lo < RESOLVE_CHUNK ? sh->nrefs : lo + RESOLVE_CHUNK,
					    (uint32_t *)sh->refs, 2, hot);
	atomic_fetch_add(&sh->unresolved, unresolved);
	free(hot);
	return NULL;
}

/* Turns the pending target addresses into node ids, as 32-bit ids in the same block: id i at
 * ids[i * *stride]. On one thread entry i is read before id i is written, which lies below it
 * (stride 1); past RESOLVE_SPLIT references two threads share them (the index is only read by
 * then, and each lookup is a cache miss that the other core's overlap: 1.7 million references
 * took 20 ms on one on Sphinx), each id written into its own entry (stride 2), packed by
 * count_degrees' pass over them. Frees the address index. */
static uint32_t *resolve_refs(struct graph_builder *b, uint64_t *unresolved, size_t *stride)
{
	uint32_t *ids = (uint32_t *)b->ref_dst;
	struct lookup L = { 0 };
	struct resolve_share sh = { .L = &L, .refs = b->ref_dst, .nrefs = b->nrefs };
	pthread_t th;

	if (b->ahead)
		L.recheck = index_ahead(b);
	if (!b->index)
		index_nodes(b);
	L.index = b->index;
	L.mask = b->index_mask;
	L.addr = b->addr;
	atomic_init(&sh.next, 0);
	atomic_init(&sh.unresolved, 0);
	if (b->nrefs >= RESOLVE_SPLIT && pthread_create(&th, NULL, resolve_chunks, &sh) == 0) {
		resolve_chunks(&sh);
		pthread_join(th, NULL);
		*unresolved = atomic_load(&sh.unresolved);
		*stride = 2;
	} else {
		struct hot_entry *hot = xcalloc(1u << HOT_BITS, sizeof *hot);
		*unresolved = resolve_range(&L, b->ref_dst, 0, b->nrefs, ids, 1, hot);
		free(hot);
		*stride = 1;
	}
	free(b->index);
	b->index = NULL;
	b->ref_dst = NULL;
	return ids;
}

/* The source of resolved reference i, *run being the run of i - 1 (SIZE_MAX before the first). */
static uint32_t ref_src(const struct graph_builder *b, const uint32_t *ids, size_t i, size_t *run)
{
	if (ids[i] & RUN_START)
		++*run;
	return b->runs[*run];
}

/* One more reference found to v: marked, and its refcount counted down (to the surplus, at 0 when
 * the references found reach it). */
static void add_in(uint32_t *refcnt, uint8_t *mark, uint32_t v)
{
	mark[v] = MARK_REFD;
	if (refcnt[v] != GRAPH_NONE && refcnt[v])
		refcnt[v]--;
}

/* Out-degrees into first[v + 1], over the resolved references (id i at ids[i * stride], packed
 * to ids[i] on the way: a pass of its own over 13 MiB on Sphinx before) and the known edges; each
 * target marked and its refcount counted down. */
static void count_degrees(const struct graph_builder *b, uint32_t *ids, size_t stride, uint32_t *first, uint32_t *refcnt,
			  uint8_t *mark)
{
	size_t run = SIZE_MAX;

	for (size_t i = 0; i < b->nrefs; i++) {
		uint32_t src, id, ahead;

		/* entry i * stride is read before anything is written there: writes stay below i */
		ids[i] = ids[i * stride];
		src = ref_src(b, ids, i, &run);
		id = ids[i] & ~RUN_START;
		if (i + PREFETCH_AHEAD < b->nrefs && (ahead = ids[(i + PREFETCH_AHEAD) * stride] & ~RUN_START) != REF_NONE) {
			/* the targets are spread over the nodes: their counts' misses overlap */
			__builtin_prefetch(&refcnt[ahead], 1);
			__builtin_prefetch(&mark[ahead], 1);
		}
		if (id != REF_NONE) {
			first[src + 1]++;
			add_in(refcnt, mark, id);
		}
	}
	for (size_t i = 0; i < b->nedges; i++) {
		first[b->edge_src[i] + 1]++;
		add_in(refcnt, mark, b->edge_dst[i]);
	}
}

/* surplus[v] = refcount - references found (what count_degrees left in refcnt, 0 where the
 * refcount is not known); returns how many nodes have one (each will get an edge from `held`). */
static uint64_t set_surplus(uint32_t *refcnt_surplus, uint32_t n, uint32_t held, uint8_t *mark)
{
	uint64_t count = 0;

	for (uint32_t v = 0; v < n; v++) {
		if (refcnt_surplus[v] == GRAPH_NONE)
			refcnt_surplus[v] = 0;
		if (held != GRAPH_NONE && v != held && refcnt_surplus[v]) {
			mark[v] |= MARK_REFD;
			count++;
		}
	}
	return count;
}

/* Rows in insertion order: a node's references first, then its known edges, then its held edges
 * (node id order). first[v + 1] holds v's degree on entry; first[] ends as the row starts. */
static void fill_rows(struct graph *g, const struct graph_builder *b, const uint32_t *ids, uint32_t held)
{
	uint32_t *pos = g->first;
	size_t run = SIZE_MAX;

	if (held != GRAPH_NONE)
		pos[held + 1] += (uint32_t)g->held;
	for (uint32_t v = 0; v < g->n; v++)
		pos[v + 1] += pos[v];
	/* pos[v] is v's next free slot; once filled it is v's end, so one shift makes the starts */
	g->nedges = pos[g->n];
	g->dst = big_alloc(g->nedges * sizeof *g->dst);
	for (size_t i = 0; i < b->nrefs; i++) {
		uint32_t src = ref_src(b, ids, i, &run), id = ids[i] & ~RUN_START;

		if (id != REF_NONE)
			g->dst[pos[src]++] = id;
	}
	for (size_t i = 0; i < b->nedges; i++)
		g->dst[pos[b->edge_src[i]]++] = b->edge_dst[i];
	if (held != GRAPH_NONE)
		for (uint32_t v = 0; v < g->n; v++)
			if (v != held && g->surplus[v])
				g->dst[pos[held]++] = v;
	memmove(pos + 1, pos, g->n * sizeof *pos);
	pos[0] = 0;
}

/* Marks everything start reaches that is not marked yet, appending it to queue at *tail. */
static void reach(const struct graph *g, uint32_t start, uint8_t *mark, uint32_t *queue, size_t *tail)
{
	size_t head = *tail;

	mark[start] |= MARK_SEEN;
	queue[(*tail)++] = start;
	while (head < *tail) {
		uint32_t v = queue[head++];

		for (uint32_t e = g->first[v]; e < g->first[v + 1]; e++)
			if (!(mark[g->dst[e]] & MARK_SEEN)) {
				mark[g->dst[e]] |= MARK_SEEN;
				queue[(*tail)++] = g->dst[e];
			}
	}
}

/* Adds the k entries (marked MARK_ENTRY, in queue order) at the end of garbage's row: one
 * reallocation and one move of the rows after it. */
static void insert_entries(struct graph *g, uint32_t garbage, const uint8_t *mark, const uint32_t *queue, size_t len, uint64_t k)
{
	uint32_t at = g->first[garbage + 1];

	g->dst = xrealloc(g->dst, (g->nedges + k) * sizeof *g->dst);
	memmove(g->dst + at + k, g->dst + at, (g->nedges - at) * sizeof *g->dst);
	for (size_t i = 0; i < len; i++)
		if (mark[queue[i]] & MARK_ENTRY)
			g->dst[at++] = queue[i];
	for (uint32_t v = garbage + 1; v <= g->n; v++)
		g->first[v] += (uint32_t)k;
	g->nedges += k;
}

/* Marks what the root reaches, recording g->parent: the root and its references first, then a
 * breadth-first search from each of those in turn, the whole of one before the next. */
static void reach_from_root(struct graph *g, uint8_t *mark, uint32_t *queue, size_t *tail)
{
	size_t phases;

	mark[GRAPH_ROOT] |= MARK_SEEN;
	queue[(*tail)++] = GRAPH_ROOT;
	for (uint32_t e = g->first[GRAPH_ROOT]; e < g->first[GRAPH_ROOT + 1]; e++)
		if (!(mark[g->dst[e]] & MARK_SEEN)) {
			mark[g->dst[e]] |= MARK_SEEN;
			queue[(*tail)++] = g->dst[e];
		}
	phases = *tail;
	for (size_t p = 1; p < phases; p++)
		for (size_t head = *tail, u = queue[p];; u = queue[head++]) {
			for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++)
				if (!(mark[g->dst[e]] & MARK_SEEN)) {
					mark[g->dst[e]] |= MARK_SEEN;
					g->parent[g->dst[e]] = (uint32_t)u;
					queue[(*tail)++] = g->dst[e];
				}
			if (head == *tail)
				break;
		}
}

/* Marks what the root reaches, then gives `garbage` an edge to each node nothing references that
 * is still unmarked, then to each node still unmarked (one per cycle), in id order; counts in
 * g->unreachable what only those edges reach. */
static void attach_garbage(struct graph *g, uint32_t garbage, uint8_t *mark)
{
	uint32_t *queue = big_alloc(g->n * sizeof *queue);
	size_t tail = 0, from_root;
	uint64_t k = 0;

	g->parent = big_alloc(g->n * sizeof *g->parent);
	for (uint32_t v = 0; v < g->n; v++)
		g->parent[v] = GRAPH_NONE;
	if (g->n)
		reach_from_root(g, mark, queue, &tail);
	from_root = tail;
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t v = 0; v < g->n; v++) {
			if ((mark[v] & MARK_SEEN) || v == garbage || (pass == 0 && (mark[v] & MARK_REFD)))
				continue;
			mark[v] |= MARK_ENTRY;
			k++;
			reach(g, v, mark, queue, &tail);
		}
	g->unreachable = tail - from_root;
	if (garbage != GRAPH_NONE && k)
		insert_entries(g, garbage, mark, queue, tail, k);
	free(queue);
}

/* The node arrays move from the builder to the graph, trimmed to n; refcnt becomes surplus. */
static void take_nodes(struct graph_builder *b, struct graph *g)
{
	size_t n = g->n ? g->n : 1;

	g->addr = xrealloc(b->addr, n * sizeof *g->addr);
	g->size = xrealloc(b->size, n * sizeof *g->size);
	g->kind = xrealloc(b->kind, n * sizeof *g->kind);
	g->surplus = xrealloc(b->refcnt, n * sizeof *g->surplus);
	g->big = b->big;
	g->nbig = b->nbig;
	b->addr = NULL;
	b->size = b->kind = b->refcnt = NULL;
	b->big = NULL;
}

/* Peak: the builder's nodes (24 per node), the resolved ids and their runs (4 per reference and 4
 * per run), the rows (4 per node and per edge) and the marks (1 per node). The ids take 8 per
 * reference until count_degrees has packed them, beside the rows' starts and the marks: 25 per
 * node and 8 per reference then, under the index's 28 and 8 while they are resolved. */
void graph_build(struct graph_builder *b, struct graph *g, uint32_t held, uint32_t garbage)
{
	uint32_t n = (uint32_t)b->n;
	uint32_t *ids;
	uint8_t *mark;
	size_t stride;

	memset(g, 0, sizeof *g);
	g->n = n;
	g->dropped = b->dropped;
	if (held >= n)
		held = GRAPH_NONE;
	if (garbage >= n)
		garbage = GRAPH_NONE;
	ids = resolve_refs(b, &g->unresolved, &stride);
	g->first = big_zalloc(((size_t)n + 1) * sizeof *g->first);
	mark = big_zalloc(n);
	count_degrees(b, ids, stride, g->first, b->refcnt, mark);
	ids = xrealloc(ids, (b->nrefs ? b->nrefs : 1) * sizeof *ids); /* packed: half the block */
	g->held = set_surplus(b->refcnt, n, held, mark);
	take_nodes(b, g);
	fill_rows(g, b, ids, held);
	free(ids);
	graph_builder_release(b);
	attach_garbage(g, garbage, mark);
	free(mark);
}

void graph_drop_parents(struct graph *g)
{
	free(g->parent);
	g->parent = NULL;
}

void graph_release(struct graph *g)
{
	free(g->parent);
	free(g->addr);
	free(g->size);
	free(g->big);
	free(g->kind);
	free(g->surplus);
	free(g->first);
	free(g->dst);
	memset(g, 0, sizeof *g);
}

uint64_t graph_big_size(const struct graph *g, uint32_t v)
{
	size_t lo = 0, hi = g->nbig;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->big[mid].node == v)
			return g->big[mid].size;
		if (g->big[mid].node < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return g->size[v];
}

uint32_t graph_find(const struct graph *g, uint64_t addr)
{
	if (addr)
		for (uint32_t v = 0; v < g->n; v++)
			if (g->addr[v] == addr)
				return v;
	return GRAPH_NONE;
}

uint32_t *graph_bfs_parents(const struct graph *g, const uint8_t *avoid)
{
	uint32_t *parent = big_alloc(g->n * sizeof *parent);
	uint32_t *queue;
	size_t head = 0, tail = 0;

	for (uint32_t v = 0; v < g->n; v++)
		parent[v] = GRAPH_NONE;
	if (!g->n)
		return parent;
	queue = big_alloc(g->n * sizeof *queue);
	queue[tail++] = GRAPH_ROOT;
	while (head < tail) {
		uint32_t v = queue[head++];

		if (v != GRAPH_ROOT && avoid && avoid[v])
			continue; /* reached, never passed through */
		for (uint32_t e = g->first[v]; e < g->first[v + 1]; e++) {
			uint32_t w = g->dst[e];

			if (w != GRAPH_ROOT && parent[w] == GRAPH_NONE) {
				parent[w] = v;
				queue[tail++] = w;
			}
		}
	}
	free(queue);
	return parent;
}
