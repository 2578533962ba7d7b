/* test_graph.c: the object graph (model/graph.c, model/dominators.c): rows in insertion order,
 * unresolved references, surplus and held-from-C edges, garbage entries; dominators, retained
 * sizes per node and per kind, dominator children and shortest paths on hand-made graphs with
 * known answers and on a few hundred seeded random graphs checked against brute force; a chain a
 * million deep (no recursion anywhere); a repeated address; the dominators given up when stopped. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "model/graph.h"

#define ADDR(i) (0x7f0000000000ULL + 32ULL * (i))

/* Node 0 is the synthetic root (address 0); node i > 0 lives at ADDR(i), is i + 16 bytes and of
 * kind i % 3. Edges into the root are known edges; the others are references by address. */
static void build(struct graph *g, uint32_t n, const uint32_t (*e)[2], size_t ne, const uint32_t *refcnt,
		  uint32_t held, uint32_t garbage)
{
	struct graph_builder b;

	graph_builder_init(&b);
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(graph_add_node(&b, i ? ADDR(i) : 0, 16 + i, i % 3, refcnt ? refcnt[i] : GRAPH_NONE), i);
	for (size_t i = 0; i < ne; i++) {
		if (e[i][1] == 0)
			graph_add_edge(&b, e[i][0], e[i][1]);
		else
			graph_add_ref(&b, e[i][0], ADDR(e[i][1]));
	}
	graph_build(&b, g, held, garbage);
	graph_builder_release(&b); /* harmless after build */
}

static void expect_row(const struct graph *g, uint32_t v, const uint32_t *want, uint64_t len)
{
	cr_assert_eq(g->first[v + 1] - g->first[v], len, "node %u has %lu edges, want %lu", v,
		     (unsigned long)(g->first[v + 1] - g->first[v]), (unsigned long)len);
	for (uint64_t i = 0; i < len; i++)
		cr_assert_eq(g->dst[g->first[v] + i], want[i], "node %u edge %lu", v, (unsigned long)i);
}

Test(graph, rows_keep_order_repeats_and_drop_unresolved)
{
	struct graph_builder b;
	struct graph g;

	graph_builder_init(&b);
	cr_assert_eq(graph_add_node(&b, 0, 0, GRAPH_NONE, GRAPH_NONE), 0);
	cr_assert_eq(graph_add_node(&b, 0x1000, 10, 1, 5), 1);
	cr_assert_eq(graph_add_node(&b, 0x2000, 20, 2, 5), 2);
	cr_assert_eq(graph_add_node(&b, 0x3000, 30, 1, 5), 3);
	cr_assert_eq(graph_builder_find(&b, 0x3000), 3);
	cr_assert_eq(graph_builder_find(&b, 0x3008), GRAPH_NONE);
	cr_assert_eq(graph_builder_find(&b, 0), GRAPH_NONE, "synthetic nodes are never found by address");
	graph_set_kind(&b, 3, 7);
	graph_add_ref(&b, 1, 0x3000);
	graph_add_ref(&b, 2, 0x1000);
	graph_add_ref(&b, 1, 0x9999);   /* not a node */
	graph_add_ref(&b, 1, 0x2000);
	graph_add_ref(&b, 1, 0x3000);   /* a repeat is kept */
	graph_add_ref(&b, 1, 0x1000);   /* itself */
	graph_add_ref(&b, 77, 0x1000);  /* no such source: ignored */
	graph_add_edge(&b, 0, 1);
	graph_add_edge(&b, 0, 3);
	graph_build(&b, &g, GRAPH_NONE, GRAPH_NONE);
	cr_assert_eq(g.n, 4);
	cr_assert_eq(g.nedges, 7);
	cr_assert_eq(g.unresolved, 1);
	expect_row(&g, 0, (uint32_t[]){ 1, 3 }, 2);
	expect_row(&g, 1, (uint32_t[]){ 3, 2, 3, 1 }, 4);
	expect_row(&g, 2, (uint32_t[]){ 1 }, 1);
	expect_row(&g, 3, NULL, 0);
	cr_assert_eq(graph_size(&g, 2), 20);
	cr_assert_eq(g.kind[3], 7);
	cr_assert_eq(g.addr[0], 0);
	cr_assert_eq(graph_find(&g, 0x2000), 2);
	cr_assert_eq(graph_find(&g, 0x2001), GRAPH_NONE);
	cr_assert_eq(graph_find(&g, 0), GRAPH_NONE);
	/* refcount 5 against 3 references found to node 1 (from 0, 2, itself), 1 to 2, 3 to 3 */
	cr_assert_eq(g.surplus[1], 2);
	cr_assert_eq(g.surplus[2], 4);
	cr_assert_eq(g.surplus[3], 2);
	cr_assert_eq(g.surplus[0], 0);
	cr_assert_eq(g.held, 0, "no held node given");
	graph_release(&g);
	graph_release(&g);
}

/* Sizes are kept in 32 bits, those of 4 GiB and more apart: each node keeps its own, and retained
 * sizes sum them in 64 bits. An odd address (no object is) is an unresolved reference. */
Test(graph, big_sizes_and_odd_addresses)
{
	static const uint64_t sizes[] = { 0, 5ull << 30, 100, UINT32_MAX, UINT32_MAX - 1, 3ull << 32 };
	struct graph_builder b;
	struct graph g;
	uint64_t rb[6], rc[6];
	uint32_t *idom;

	graph_builder_init(&b);
	for (uint32_t i = 0; i < 6; i++)
		graph_add_node(&b, i ? ADDR(i) : 0, sizes[i], 0, GRAPH_NONE);
	graph_add_edge(&b, 0, 1);
	for (uint32_t i = 1; i < 5; i++)
		graph_add_ref(&b, i, ADDR(i + 1));
	graph_add_ref(&b, 5, ADDR(1) + 1);
	graph_build(&b, &g, GRAPH_NONE, GRAPH_NONE);
	cr_assert_eq(g.unresolved, 1);
	for (uint32_t i = 0; i < 6; i++)
		cr_assert_eq(graph_size(&g, i), sizes[i], "node %u: %llu bytes, want %llu", i,
			     (unsigned long long)graph_size(&g, i), (unsigned long long)sizes[i]);
	idom = graph_idom(&g);
	graph_retained(&g, idom, rb, rc);
	cr_assert_eq(rb[1], (5ull << 30) + 100 + UINT32_MAX + (UINT32_MAX - 1ull) + (3ull << 32));
	cr_assert_eq(rb[4], (UINT32_MAX - 1ull) + (3ull << 32));
	free(idom);
	graph_release(&g);
}

/* held (node 1) gets an edge to every node whose refcount exceeds its references, after its own
 * edges and in id order; a refcount at or below the references, or unknown, gives none. */
Test(graph, surplus_gives_held_edges)
{
	static const uint32_t e[][2] = { { 0, 1 }, { 0, 2 }, { 1, 5 }, { 2, 3 }, { 2, 3 }, { 2, 4 }, { 3, 4 }, { 2, 5 } };
	static const uint32_t refcnt[] = { GRAPH_NONE, GRAPH_NONE, 1, 3, 1, GRAPH_NONE, 4 };
	struct graph g;

	build(&g, 7, e, PC_ARRAY_LEN(e), refcnt, 1, GRAPH_NONE);
	cr_assert_eq(g.surplus[2], 0, "1 reference, refcount 1");
	cr_assert_eq(g.surplus[3], 1, "2 references, refcount 3");
	cr_assert_eq(g.surplus[4], 0, "2 references, refcount 1: no negative surplus");
	cr_assert_eq(g.surplus[5], 0, "refcount not known");
	cr_assert_eq(g.surplus[6], 4, "no reference at all");
	cr_assert_eq(g.held, 2);
	expect_row(&g, 1, (uint32_t[]){ 5, 3, 6 }, 3);
	cr_assert_eq(g.nedges, PC_ARRAY_LEN(e) + 2);
	cr_assert_eq(g.unreachable, 0);
	graph_release(&g);
}

/* Root 0 -> garbage 1 and -> 2. Unreachable: 3 -> 4 (3 unreferenced), the cycle 5 <-> 6, the
 * cycle 7 <-> 8 entered from the unreferenced 9, and 10 only referenced by the unreachable 4.
 * Garbage entries: the unreferenced 3 and 9 first, then one for the cycle 5-6. */
Test(graph, garbage_entries)
{
	static const uint32_t e[][2] = { { 0, 1 }, { 0, 2 }, { 1, 2 }, { 3, 4 }, { 4, 10 }, { 5, 6 }, { 6, 5 },
					 { 7, 8 }, { 8, 7 }, { 9, 7 }, { 6, 6 } };
	struct graph g;
	uint32_t *idom;

	build(&g, 11, e, PC_ARRAY_LEN(e), NULL, GRAPH_NONE, 1);
	expect_row(&g, 1, (uint32_t[]){ 2, 3, 9, 5 }, 4);
	cr_assert_eq(g.unreachable, 8);
	cr_assert_eq(g.nedges, PC_ARRAY_LEN(e) + 3);
	expect_row(&g, 9, (uint32_t[]){ 7 }, 1);
	idom = graph_idom(&g);
	for (uint32_t v = 1; v < g.n; v++)
		cr_assert_neq(idom[v], GRAPH_NONE, "node %u reached", v);
	cr_assert_eq(idom[3], 1);
	cr_assert_eq(idom[10], 4);
	cr_assert_eq(idom[6], 5);
	cr_assert_eq(idom[7], 9);
	free(idom);
	graph_release(&g);

	build(&g, 11, e, PC_ARRAY_LEN(e), NULL, GRAPH_NONE, GRAPH_NONE);
	cr_assert_eq(g.unreachable, 8, "counted without a garbage node too");
	cr_assert_eq(g.nedges, PC_ARRAY_LEN(e));
	graph_release(&g);
}

static void expect_idom(uint32_t n, const uint32_t (*e)[2], size_t ne, const uint32_t *want)
{
	struct graph g;
	uint32_t *idom;

	build(&g, n, e, ne, NULL, GRAPH_NONE, GRAPH_NONE);
	idom = graph_idom(&g);
	for (uint32_t v = 0; v < n; v++)
		cr_assert_eq(idom[v], want[v], "idom[%u] = %u, want %u", v, idom[v], want[v]);
	free(idom);
	graph_release(&g);
}

#define N GRAPH_NONE
Test(graph, idom_hand_graphs)
{
	static const uint32_t diamond[][2] = { { 0, 1 }, { 0, 2 }, { 1, 3 }, { 2, 3 }, { 3, 4 } };
	static const uint32_t loop[][2] = { { 0, 1 }, { 1, 2 }, { 2, 3 }, { 3, 1 }, { 3, 4 }, { 2, 0 } };
	static const uint32_t selfrep[][2] = { { 0, 1 }, { 1, 1 }, { 1, 2 }, { 1, 2 }, { 2, 2 }, { 0, 0 }, { 3, 2 } };

	expect_idom(5, diamond, PC_ARRAY_LEN(diamond), (uint32_t[]){ N, 0, 0, 0, 3 });
	expect_idom(5, loop, PC_ARRAY_LEN(loop), (uint32_t[]){ N, 0, 1, 2, 3 });
	expect_idom(4, selfrep, PC_ARRAY_LEN(selfrep), (uint32_t[]){ N, 0, 1, N });
	expect_idom(1, NULL, 0, (uint32_t[]){ N });
}

/* Lengauer and Tarjan's own example (TOPLAS 1979, figure 1): R=0, A..L = 1..12. */
Test(graph, idom_lengauer_tarjan_example)
{
	enum { R, A, B, C, D, E, F, G, H, I, J, K, L };
	static const uint32_t e[][2] = { { R, A }, { R, B }, { R, C }, { A, D }, { B, A }, { B, D }, { B, E },
					 { C, F }, { C, G }, { D, L }, { E, H }, { F, I }, { G, I }, { G, J },
					 { H, E }, { H, K }, { I, K }, { J, I }, { K, I }, { K, R }, { L, H } };

	expect_idom(13, e, PC_ARRAY_LEN(e), (uint32_t[]){ N, R, R, R, R, R, C, C, R, R, G, R, D });
}
#undef N

/* --- brute force over random graphs --- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = (*s += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Breadth-first distances from the root over g, never leaving a node `cut` (GRAPH_NONE: none) nor
 * one with avoid[v] set (but reaching them); GRAPH_NONE where unreached. */
static void distances(const struct graph *g, uint32_t cut, const uint8_t *avoid, uint32_t *dist)
{
	uint32_t *q = malloc(g->n * sizeof *q);
	uint32_t h = 0, t = 0;

	for (uint32_t v = 0; v < g->n; v++)
		dist[v] = GRAPH_NONE;
	if (cut != 0) {
		dist[0] = 0;
		q[t++] = 0;
	}
	while (h < t) {
		uint32_t v = q[h++];

		if (v != 0 && avoid && avoid[v])
			continue;
		for (uint64_t e = g->first[v]; e < g->first[v + 1]; e++) {
			uint32_t w = g->dst[e];

			if (w != cut && dist[w] == GRAPH_NONE) {
				dist[w] = dist[v] + 1;
				q[t++] = w;
			}
		}
	}
	free(q);
}

/* dom[d * n + v]: d dominates v (reflexive), by removing d and seeing what the root still reaches. */
static uint8_t *brute_dominates(const struct graph *g)
{
	uint32_t n = g->n, *all = malloc(n * sizeof *all), *cut = malloc(n * sizeof *cut);
	uint8_t *dom = calloc((size_t)n * n, 1);

	distances(g, GRAPH_NONE, NULL, all);
	for (uint32_t d = 0; d < n; d++) {
		distances(g, d, NULL, cut);
		for (uint32_t v = 0; v < n; v++)
			dom[(size_t)d * n + v] = all[d] != GRAPH_NONE && all[v] != GRAPH_NONE && cut[v] == GRAPH_NONE;
	}
	free(all);
	free(cut);
	return dom;
}

static void check_idom(const struct graph *g, const uint8_t *dom, const uint32_t *idom)
{
	uint32_t n = g->n;

	for (uint32_t v = 0; v < n; v++) {
		uint32_t want = GRAPH_NONE, depth = 0;

		/* the immediate dominator is the strict dominator with the most dominators of its own */
		for (uint32_t d = 0; d < n; d++) {
			uint32_t dd = 0;

			if (d == v || !dom[(size_t)d * n + v])
				continue;
			for (uint32_t x = 0; x < n; x++)
				dd += dom[(size_t)x * n + d];
			if (want == GRAPH_NONE || dd > depth) {
				want = d;
				depth = dd;
			}
		}
		cr_assert_eq(idom[v], want, "idom[%u] = %u, brute force says %u", v, idom[v], want);
	}
}

static void check_retained(const struct graph *g, const uint8_t *dom, const uint64_t *rb, const uint64_t *rc)
{
	for (uint32_t d = 0; d < g->n; d++) {
		uint64_t b = graph_size(g, d), c = g->addr[d] != 0;

		for (uint32_t v = 0; v < g->n; v++)
			if (v != d && dom[(size_t)d * g->n + v]) {
				b += graph_size(g, v);
				c += g->addr[v] != 0;
			}
		cr_assert_eq(rb[d], b, "retained bytes of %u: %lu, brute force %lu", d, (unsigned long)rb[d], (unsigned long)b);
		cr_assert_eq(rc[d], c, "retained objects of %u", d);
	}
}

static void check_kind_retained(const struct graph *g, const uint8_t *dom, const uint32_t *idom, const uint64_t *rb,
				const uint64_t *rc, uint32_t nkinds)
{
	uint64_t kb[4], kc[4];

	graph_kind_retained(g, idom, rb, rc, nkinds, kb, kc);
	for (uint32_t k = 0; k < nkinds; k++) {
		uint64_t b = 0, c = 0;

		for (uint32_t v = 0; v < g->n; v++) {
			bool top = g->kind[v] == k;

			for (uint32_t d = 0; top && d < g->n; d++)
				if (d != v && g->kind[d] == k && dom[(size_t)d * g->n + v])
					top = false;
			if (top) {
				b += rb[v];
				c += rc[v];
			}
		}
		cr_assert_eq(kb[k], b, "kind %u retains %lu bytes, brute force %lu", k, (unsigned long)kb[k], (unsigned long)b);
		cr_assert_eq(kc[k], c, "kind %u objects", k);
	}
}

/* Each parent chain is an edge path as long as the breadth-first distance, through no avoided node. */
static void check_bfs(const struct graph *g, const uint8_t *avoid)
{
	uint32_t *parent = graph_bfs_parents(g, avoid), *dist = malloc(g->n * sizeof *dist);

	distances(g, GRAPH_NONE, avoid, dist);
	cr_assert_eq(parent[0], GRAPH_NONE);
	for (uint32_t v = 1; v < g->n; v++) {
		uint32_t len = 0;

		if (dist[v] == GRAPH_NONE) {
			cr_assert_eq(parent[v], GRAPH_NONE, "unreachable %u has no parent", v);
			continue;
		}
		for (uint32_t x = v; x != 0; x = parent[x], len++) {
			uint32_t p = parent[x];
			bool edge = false;

			cr_assert_neq(p, GRAPH_NONE, "chain of %u broken at %u", v, x);
			cr_assert(p == 0 || !avoid || !avoid[p], "path to %u passes through avoided %u", v, p);
			for (uint64_t e = g->first[p]; e < g->first[p + 1]; e++)
				edge |= g->dst[e] == x;
			cr_assert(edge, "%u -> %u is no edge", p, x);
			cr_assert_leq(len, g->n);
		}
		cr_assert_eq(len, dist[v], "path to %u is %u long, distance %u", v, len, dist[v]);
	}
	free(parent);
	free(dist);
}

static void check_children(const struct graph *g, const uint32_t *idom, const uint64_t *rb)
{
	uint32_t *first, *kids, total = 0;

	graph_dom_children(g, idom, rb, &first, &kids);
	for (uint32_t p = 0; p < g->n; p++) {
		uint32_t want = 0;

		for (uint32_t v = 0; v < g->n; v++)
			want += idom[v] == p;
		cr_assert_eq(first[p + 1] - first[p], want, "children of %u", p);
		for (uint64_t i = first[p]; i < first[p + 1]; i++) {
			cr_assert_eq(idom[kids[i]], p);
			if (i > first[p])
				cr_assert(rb[kids[i - 1]] > rb[kids[i]] || (rb[kids[i - 1]] == rb[kids[i]] && kids[i - 1] < kids[i]),
					  "children of %u in order", p);
		}
		total += want;
	}
	cr_assert_eq(first[g->n], total);
	free(first);
	free(kids);
}

/* graph_retained_of on every node equals graph_retained, on a breadth-first tree and on the same
 * tree with the root's own references left without a parent (as census/paths.c's tree leaves them);
 * the second through its two steps (graph_reach_prepare, graph_retained_of_reach) as inspect takes
 * them. */
static void check_retained_of(const struct graph *g, const uint64_t *rb, int round)
{
	uint32_t *parent = graph_bfs_parents(g, NULL), *nodes = malloc(g->n * sizeof *nodes);
	uint64_t *got = malloc(g->n * sizeof *got);

	for (uint32_t v = 0; v < g->n; v++)
		nodes[v] = g->n - 1 - v;
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			for (uint32_t v = 0; v < g->n; v++)
				if (parent[v] == GRAPH_ROOT)
					parent[v] = GRAPH_NONE;
		if (pass) {
			struct graph_reach r;
			cr_assert(graph_reach_prepare(g, parent, NULL, &r));
			cr_assert(graph_retained_of_reach(g, parent, &r, nodes, g->n, 0, got), "round %d: within its budget", round);
			graph_reach_release(&r);
		} else
			cr_assert(graph_retained_of(g, parent, nodes, g->n, 0, got), "round %d: within its budget", round);
		for (uint32_t i = 0; i < g->n; i++)
			cr_assert_eq(got[i], rb[nodes[i]], "round %d pass %d: retained bytes of %u: %lu, dominators %lu", round,
				     pass, nodes[i], (unsigned long)got[i], (unsigned long)rb[nodes[i]]);
	}
	free(parent);
	free(nodes);
	free(got);
}

/* g->parent: a breadth-first search from each of the root's references in turn, the whole of one
 * before the next (graphs without garbage entries, whose edges come after the search). */
static void check_parents(const struct graph *g, int round)
{
	uint32_t *want = malloc(g->n * sizeof *want), *q = malloc((g->n + 1) * sizeof *q);
	uint8_t *seen = calloc(g->n, 1);
	size_t tail = 0, phases;

	for (uint32_t v = 0; v < g->n; v++)
		want[v] = GRAPH_NONE;
	seen[GRAPH_ROOT] = 1;
	for (uint32_t e = g->first[GRAPH_ROOT]; e < g->first[GRAPH_ROOT + 1]; e++)
		if (!seen[g->dst[e]]) {
			seen[g->dst[e]] = 1;
			q[tail++] = g->dst[e];
		}
	phases = tail;
	for (size_t p = 0; p < phases; p++) {
		size_t head = tail;
		uint32_t u = q[p];
		for (;;) {
			for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++)
				if (!seen[g->dst[e]]) {
					seen[g->dst[e]] = 1;
					want[g->dst[e]] = u;
					q[tail++] = g->dst[e];
				}
			if (head == tail)
				break;
			u = q[head++];
		}
	}
	for (uint32_t v = 0; v < g->n; v++)
		cr_assert_eq(g->parent[v], want[v], "round %d: parent of %u: %u, want %u", round, v, g->parent[v], want[v]);
	free(want);
	free(q);
	free(seen);
}

/* Returns the garbage node (GRAPH_NONE in half the rounds), which the root references. */
static uint32_t random_graph(uint64_t *seed, struct graph *g)
{
	uint32_t n = 2 + rng_next(seed) % 59, ne = (uint32_t)(rng_next(seed) % (4 * n + 1));
	uint32_t (*e)[2] = malloc((ne + 1) * sizeof *e);
	uint32_t *refcnt = malloc(n * sizeof *refcnt);
	uint32_t mode = rng_next(seed) % 4, garbage = GRAPH_NONE;

	for (uint32_t i = 0; i < ne; i++) {
		e[i][0] = rng_next(seed) % n;
		/* mostly forward edges, so deep chains and long dominator paths are common */
		e[i][1] = rng_next(seed) % 3 ? (e[i][0] + 1 + rng_next(seed) % 3) % n : rng_next(seed) % n;
	}
	for (uint32_t v = 0; v < n; v++)
		refcnt[v] = rng_next(seed) % 2 ? GRAPH_NONE : (uint32_t)(rng_next(seed) % 6);
	if (mode % 2 && n > 2) {
		garbage = n - 1;
		e[ne][0] = 0;
		e[ne++][1] = garbage;
	}
	build(g, n, e, ne, refcnt, mode >= 2 ? 1 : GRAPH_NONE, garbage);
	free(e);
	free(refcnt);
	return garbage;
}

Test(graph, random_graphs_against_brute_force)
{
	uint64_t seed = 20240615;

	for (int round = 0; round < 400; round++) {
		struct graph g;
		uint8_t *dom, *avoid;
		uint32_t *idom, *dist, garbage;
		uint64_t *rb, *rc;

		garbage = random_graph(&seed, &g);
		dom = brute_dominates(&g);
		idom = graph_idom(&g);
		check_idom(&g, dom, idom);
		rb = malloc(g.n * sizeof *rb);
		rc = malloc(g.n * sizeof *rc);
		graph_retained(&g, idom, rb, rc);
		check_retained(&g, dom, rb, rc);
		check_retained_of(&g, rb, round);
		if (garbage == GRAPH_NONE)
			check_parents(&g, round);
		check_kind_retained(&g, dom, idom, rb, rc, 3);
		check_kind_retained(&g, dom, idom, rb, rc, 2); /* kind 2 then counts as no kind */
		check_children(&g, idom, rb);
		avoid = malloc(g.n);
		for (uint32_t v = 0; v < g.n; v++)
			avoid[v] = rng_next(&seed) % 4 == 0;
		check_bfs(&g, NULL);
		check_bfs(&g, avoid);
		dist = malloc(g.n * sizeof *dist);
		distances(&g, GRAPH_NONE, NULL, dist);
		for (uint32_t v = 0; garbage != GRAPH_NONE && v < g.n; v++)
			cr_assert_neq(dist[v], GRAPH_NONE, "round %d: garbage entries reach every node (%u)", round, v);
		free(dist);
		free(avoid);
		free(rb);
		free(rc);
		free(idom);
		free(dom);
		graph_release(&g);
	}
}

/* A chain a million deep, every node also pointing back to node 1: depth-first numbering, path
 * compression, retained sums and the kind walk all go the whole depth. */
Test(graph, deep_chain)
{
	enum { DEPTH = 1000000 };
	struct graph_builder b;
	struct graph g;
	uint32_t *idom, *parent;
	uint64_t *rb = malloc(DEPTH * sizeof *rb), *rc = malloc(DEPTH * sizeof *rc), kb[3], kc[3];

	graph_builder_init(&b);
	for (uint32_t i = 0; i < DEPTH; i++)
		graph_add_node(&b, i ? ADDR(i) : 0, 8, i % 3, GRAPH_NONE);
	for (uint32_t i = 0; i + 1 < DEPTH; i++) {
		graph_add_ref(&b, i, ADDR(i + 1));
		if (i > 1)
			graph_add_ref(&b, i, ADDR(1));
	}
	graph_build(&b, &g, GRAPH_NONE, GRAPH_NONE);
	idom = graph_idom(&g);
	for (uint32_t i = 1; i < DEPTH; i++)
		cr_assert_eq(idom[i], i - 1, "idom[%u] = %u", i, idom[i]);
	graph_retained(&g, idom, rb, rc);
	cr_assert_eq(rb[0], 8ULL * DEPTH);
	cr_assert_eq(rc[0], DEPTH - 1, "the root counts no object");
	cr_assert_eq(rb[DEPTH / 2], 8ULL * (DEPTH - DEPTH / 2));
	graph_kind_retained(&g, idom, rb, rc, 3, kb, kc);
	cr_assert_eq(kb[0], 8ULL * DEPTH, "the root, kind 0, holds all");
	cr_assert_eq(kb[1], 8ULL * (DEPTH - 1));
	cr_assert_eq(kb[2], 8ULL * (DEPTH - 2));
	cr_assert_eq(kc[2], DEPTH - 2);
	parent = graph_bfs_parents(&g, NULL);
	for (uint32_t i = 1; i < DEPTH; i++)
		cr_assert_eq(parent[i], i - 1);
	free(parent);
	free(idom);
	free(rb);
	free(rc);
	graph_release(&g);
}

/* The census adds each address once; should one come twice, its references go to its last node
 * (the index is filled last node first with no address compared, and a lookup stops at the first
 * match), whatever the addresses filling the slots around it. */
Test(graph, repeated_address_resolves_to_last_node)
{
	enum { N = 5000 };
	struct graph_builder b;
	struct graph g;

	graph_builder_init(&b);
	graph_add_node(&b, 0, 0, GRAPH_NONE, GRAPH_NONE);
	for (uint32_t i = 1; i < N; i++) /* every tenth node repeats the address of the node before */
		graph_add_node(&b, ADDR(i % 10 == 0 ? i - 1 : i), 8, 0, GRAPH_NONE);
	for (uint32_t i = 1; i < N; i++)
		graph_add_ref(&b, 0, ADDR(i));
	graph_build(&b, &g, GRAPH_NONE, GRAPH_NONE);
	cr_assert_eq(g.nedges, N - 1 - (N - 1) / 10, "the repeated addresses' own refs (ADDR(10k)) resolve to nothing");
	for (uint64_t e = g.first[0]; e < g.first[1]; e++) {
		uint32_t v = g.dst[e], want = (g.addr[v] - ADDR(0)) / 32;
		if ((want + 1) % 10 == 0 && want + 1 < N)
			want++; /* ADDR(10k - 1) is also node 10k's, the last */
		cr_assert_eq(v, want, "a reference to 0x%llx resolved to node %u, want %u", (unsigned long long)g.addr[v], v, want);
	}
	graph_release(&g);
}

/* graph_reach_prepare stopped before it starts: false, nothing left to free. */
Test(graph, reach_prepare_stops)
{
	static const uint32_t e[][2] = { { 0, 1 }, { 1, 2 }, { 2, 3 } };
	struct graph g;
	struct graph_reach r;
	atomic_bool stop;
	uint32_t *parent;

	build(&g, 4, e, PC_ARRAY_LEN(e), NULL, GRAPH_NONE, GRAPH_NONE);
	parent = graph_bfs_parents(&g, NULL);
	atomic_init(&stop, true);
	cr_assert_not(graph_reach_prepare(&g, parent, &stop, &r));
	cr_assert_null(r.indeg);
	cr_assert_null(r.stamp);
	atomic_store(&stop, false);
	cr_assert(graph_reach_prepare(&g, parent, &stop, &r));
	cr_assert_eq(r.indeg[3], 1, "2 -> 3, 2 reached");
	graph_reach_release(&r);
	free(parent);
	graph_release(&g);
}

/* graph_idom_unless: stopped before it starts it returns NULL; not stopped, graph_idom's tree. */
Test(graph, idom_unless_stops)
{
	static const uint32_t e[][2] = { { 0, 1 }, { 1, 2 }, { 2, 3 }, { 1, 3 }, { 3, 1 } };
	struct graph g;
	atomic_bool stop;
	uint32_t *idom, *want;

	build(&g, 4, e, PC_ARRAY_LEN(e), NULL, GRAPH_NONE, GRAPH_NONE);
	atomic_init(&stop, true);
	cr_assert_null(graph_idom_unless(&g, &stop));
	atomic_store(&stop, false);
	idom = graph_idom_unless(&g, &stop);
	want = graph_idom(&g);
	cr_assert_not_null(idom);
	cr_assert_arr_eq(idom, want, 4 * sizeof *idom);
	cr_assert_eq(idom[3], 1);
	free(idom);
	free(want);
	graph_release(&g);
}

/* Past RESOLVE_SPLIT references graph_build resolves them on two threads sharing chunks (the ids
 * packed after the join), into a builder reserved up front: every row, in order, the run breaks (a
 * source's references in two runs, the second after other sources'), and the unresolved ones come
 * out as one thread makes them. */
Test(graph, many_references_resolved_on_two_threads)
{
	enum { N = 60000, PER = 3 };
	struct graph_builder b;
	struct graph g;
	uint64_t unresolved = 0;

	graph_builder_init(&b);
	graph_builder_reserve(&b, N + 10, 2 * N * PER);
	graph_add_node(&b, 0, 0, GRAPH_NONE, GRAPH_NONE);
	for (uint32_t i = 1; i < N; i++)
		graph_add_node(&b, ADDR(i), 8, 0, 5);
	for (int pass = 0; pass < 2; pass++) /* each node's references in two runs, a pass apart */
		for (uint32_t v = 1; v < N; v++)
			for (uint32_t k = 0; k < PER; k++) {
				uint32_t to = (uint32_t)(((uint64_t)v * 7919 + 104729 * k + pass) % N);
				graph_add_ref(&b, v, to % 97 == 0 ? ADDR(to) + 8 : ADDR(to)); /* + 8: no node there */
				unresolved += to % 97 == 0 || to == 0; /* the root has no address */
			}
	cr_assert_geq(b.nrefs, 1u << 17, "enough references to split (RESOLVE_SPLIT)");
	graph_build(&b, &g, GRAPH_NONE, GRAPH_NONE);
	cr_assert_eq(g.unresolved, unresolved);
	for (uint32_t v = 1; v < N; v++) {
		uint32_t want[2 * PER], len = 0;
		for (int pass = 0; pass < 2; pass++)
			for (uint32_t k = 0; k < PER; k++) {
				uint32_t to = (uint32_t)(((uint64_t)v * 7919 + 104729 * k + pass) % N);
				if (to % 97 && to)
					want[len++] = to;
			}
		expect_row(&g, v, want, len);
	}
	graph_release(&g);
}

/* A seeded graph fed to b as a census feeds it: each node then its references (back and forward,
 * to no node, null), graph_builder_ahead called every `every` nodes (0: never), the arrays grown
 * as they fill (no reserve: they move while a job may read them); with `repeat`, every 50th node
 * takes the address of one 37 before it. */
static void feed(struct graph_builder *b, uint32_t n, uint32_t per, unsigned every, bool repeat)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	graph_builder_init(b);
	graph_add_node(b, 0, 0, GRAPH_NONE, GRAPH_NONE);
	for (uint32_t i = 1; i < n; i++) {
		graph_add_node(b, repeat && i % 50 == 0 && i > 37 ? ADDR(i - 37) : ADDR(i), 8 + i % 5, i % 3,
			       i % 7 ? 3 : GRAPH_NONE);
		for (uint32_t k = 0; k < per; k++) {
			uint64_t to;

			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			to = (x >> 33) % (n + n / 8); /* past n: no node there */
			graph_add_ref(b, i, to % 61 == 0 ? 0 : to % 53 == 0 ? ADDR(to) + 8 : ADDR(to));
		}
		if (every && i % every == 0)
			graph_builder_ahead(b);
	}
	graph_add_edge(b, 0, 1);
}

static void expect_same_graph(const struct graph *a, const struct graph *b)
{
	cr_assert_eq(a->n, b->n);
	cr_assert_eq(a->nedges, b->nedges);
	cr_assert_eq(a->unresolved, b->unresolved);
	cr_assert_eq(a->held, b->held);
	cr_assert_eq(a->unreachable, b->unreachable);
	cr_assert(memcmp(a->first, b->first, ((size_t)a->n + 1) * sizeof *a->first) == 0, "rows' starts differ");
	cr_assert(memcmp(a->dst, b->dst, a->nedges * sizeof *a->dst) == 0, "edges differ");
	cr_assert(memcmp(a->surplus, b->surplus, a->n * sizeof *a->surplus) == 0, "surpluses differ");
	cr_assert(memcmp(a->parent, b->parent, a->n * sizeof *a->parent) == 0, "parents differ");
}

/* The same graph whether its references are resolved ahead, in jobs that race the builder (and its
 * moves), or all at the build: on one thread's worth of references, then past RESOLVE_SPLIT, and
 * with addresses repeated after the nodes first at them were indexed and referenced ahead. */
static void ahead_against_plain(uint32_t n, uint32_t per, bool repeat)
{
	const unsigned every[] = { 1, 97, n / 3 };

	for (size_t i = 0; i < sizeof every / sizeof *every; i++) {
		struct graph_builder plain, ahead;
		struct graph want, got;

		feed(&plain, n, per, 0, repeat);
		feed(&ahead, n, per, every[i], repeat);
		cr_assert_not_null(ahead.ahead, "graph_builder_ahead started (every %u)", every[i]);
		graph_build(&plain, &want, 2, 3);
		graph_build(&ahead, &got, 2, 3);
		cr_assert_null(ahead.ahead, "graph_build released it");
		expect_same_graph(&want, &got);
		cr_assert_gt(got.nedges, n, "references were resolved");
		graph_release(&want);
		graph_release(&got);
	}
}

Test(graph, resolved_ahead_or_not_the_same_graph)
{
	ahead_against_plain(3000, 3, false);
}

Test(graph, resolved_ahead_past_the_split_the_same_graph)
{
	ahead_against_plain(60000, 3, false);
}

Test(graph, resolved_ahead_repeated_address_finds_the_last_node)
{
	ahead_against_plain(20000, 2, true);
}

/* A builder released with a job at work (a census restarted, or failed): joined, nothing leaks. */
Test(graph, released_with_a_job_ahead)
{
	struct graph_builder b;

	feed(&b, 60000, 3, 20000, false);
	graph_builder_release(&b);
	cr_assert_null(b.ahead);
}

/* Target memory may hold any word: one with the builder's own tag bit (GRAPH_ADDR_TAG) is a
 * reference to nothing, never a node id, whether resolved ahead or at the build. */
Test(graph, a_tagged_looking_address_is_no_reference)
{
	for (int ahead = 0; ahead < 2; ahead++) {
		struct graph_builder b;
		struct graph g;

		graph_builder_init(&b);
		graph_add_node(&b, 0, 0, GRAPH_NONE, GRAPH_NONE);
		graph_add_node(&b, ADDR(1), 8, 0, GRAPH_NONE);
		graph_add_node(&b, ADDR(2), 8, 0, GRAPH_NONE);
		graph_add_ref(&b, 1, GRAPH_ADDR_TAG | 2u << 1);        /* would name node 2 */
		graph_add_ref(&b, 1, GRAPH_ADDR_TAG | 0x7fffffffu << 1); /* would name no node at all */
		graph_add_ref(&b, 1, ADDR(2));
		if (ahead)
			graph_builder_ahead(&b);
		graph_add_ref(&b, 2, GRAPH_ADDR_TAG | 1u << 1);
		graph_build(&b, &g, GRAPH_NONE, GRAPH_NONE);
		cr_assert_eq(g.unresolved, 3, "ahead %d", ahead);
		expect_row(&g, 1, (uint32_t[]){ 2 }, 1);
		expect_row(&g, 2, NULL, 0);
		graph_release(&g);
	}
}
