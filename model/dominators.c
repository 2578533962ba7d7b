/* dominators.c: the dominator tree of the object graph (Lengauer-Tarjan, simple version, all
 * loops: a heap can be a linked list 1e7 deep), retained sizes per node and per kind, and the
 * dominator tree's children. None allocates per node, and none recurses. */
#include "common/compat.h"
#include "model/graph.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "common/hugepages.h"
#include "common/xalloc.h"

/* How often the long loops look at the caller's stop flag (every 65536 steps). */
#define STOP_EVERY 0xffffu

static bool stopped(const atomic_bool *stop)
{
	return stop && atomic_load_explicit(stop, memory_order_relaxed);
}

/* Depth-first numbering from the root without a stack: the path back is the parent array itself.
 * pre[v] is v's number (GRAPH_NONE when the root does not reach v), vert[i] the node numbered i,
 * parent[i] the number of i's parent in the depth-first tree; indeg[v] (zeroed by the caller)
 * counts the edges from numbered nodes to v, each met once here while pre[v] is in cache. Returns
 * how many are numbered. */
static uint32_t number(const struct graph *g, uint32_t *pre, uint32_t *vert, uint32_t *parent, uint32_t *indeg,
		       const atomic_bool *stop)
{
	uint32_t *next = xmalloc(g->n * sizeof *next); /* per number: the next edge to follow */
	uint32_t cnt = 1, cur = 0, steps = 0;

	for (uint32_t v = 0; v < g->n; v++)
		pre[v] = GRAPH_NONE;
	pre[GRAPH_ROOT] = 0;
	vert[0] = GRAPH_ROOT;
	parent[0] = 0;
	next[0] = g->first[GRAPH_ROOT];
	for (;;) {
		uint32_t v = vert[cur];

		if (!(++steps & STOP_EVERY) && stopped(stop))
			break; /* the caller gives up: the numbering is left partial */
		if (next[cur] < g->first[v + 1]) {
			uint32_t w = g->dst[next[cur]++];

			indeg[w]++;
			if (pre[w] == GRAPH_NONE) {
				pre[w] = cnt;
				vert[cnt] = w;
				parent[cnt] = cur;
				next[cnt] = g->first[w];
				cur = cnt++;
			}
		} else if (cur) {
			cur = parent[cur];
		} else {
			break;
		}
	}
	free(next);
	return cnt;
}

/* Counts in first[i + 1] become row starts: rows[first[i]++] fills each row in order, and one
 * shift afterwards (unshift) restores the starts. */
static void prefix(uint32_t *first, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		first[i + 1] += first[i];
}

static void unshift(uint32_t *first, uint32_t n)
{
	memmove(first + 1, first, n * sizeof *first);
	first[0] = 0;
}

/* The predecessors of every numbered node, as numbers, in rows by number (their counts from
 * number's indeg, which is freed: one pass over the edges, not two). */
static void predecessors(const struct graph *g, const uint32_t *pre, const uint32_t *vert, uint32_t cnt,
			 uint32_t *indeg, uint32_t **rfirst, uint32_t **rsrc)
{
	uint32_t *first = xmalloc(((size_t)cnt + 1) * sizeof *first);
	uint32_t *src;

	first[0] = 0;
	for (uint32_t i = 0; i < cnt; i++)
		first[i + 1] = indeg[vert[i]];
	free(indeg);
	prefix(first, cnt);
	src = xmalloc((first[cnt] ? first[cnt] : 1) * sizeof *src);
	for (uint32_t i = 0; i < cnt; i++)
		for (uint32_t e = g->first[vert[i]]; e < g->first[vert[i] + 1]; e++)
			src[first[pre[g->dst[e]]]++] = i;
	unshift(first, cnt);
	*rfirst = first;
	*rsrc = src;
}

/* The state of Lengauer-Tarjan's forest, all indexed by depth-first number. The forest's links are
 * the depth-first parents themselves (the simple version links w to its parent), so one array
 * serves as both: number w is linked once step w is done, i.e. w > lim. */
struct lt {
	uint32_t *anc;   /* parent, then the forest ancestor path compression leaves */
	uint32_t *semi;  /* semidominator */
	uint32_t *label; /* the node of least semidominator on the compressed path */
};

/* Path compression without recursion: the path up is threaded through anc[] (each pointer
 * reversed on the way up), then walked back down carrying the least label, every anc[] pointing
 * to the path's top. */
static void compress(struct lt *t, uint32_t v, uint32_t lim)
{
	uint32_t prev = GRAPH_NONE, x = v, top, best;

	while (t->anc[x] > lim) {
		uint32_t up = t->anc[x];

		t->anc[x] = prev;
		prev = x;
		x = up;
	}
	top = t->anc[x];
	best = t->label[x];
	while (prev != GRAPH_NONE) {
		uint32_t down = t->anc[prev];

		if (t->semi[best] < t->semi[t->label[prev]])
			t->label[prev] = best;
		else
			best = t->label[prev];
		t->anc[prev] = top;
		prev = down;
	}
}

static uint32_t eval(struct lt *t, uint32_t v, uint32_t lim)
{
	if (v <= lim)
		return v;
	if (t->anc[v] > lim)
		compress(t, v, lim);
	return t->label[v];
}

/* Semidominators, buckets and the final pass; dom[] (by number) doubles as the buckets' next
 * links: a number's link is read for the last time when its immediate dominator is written. head
 * (cnt entries, the buckets' first) is the caller's, free while this runs. dom[] lives in rfirst[]
 * one entry up, as the rows are let go: step w reads rfirst[w] and rfirst[w + 1] and then writes
 * dom[w] (rfirst[w + 1]) and dom[v] for bucket members v >= w, never a row start a later (lower) step
 * reads. */
static void lengauer_tarjan(struct lt *t, uint32_t *rfirst, const uint32_t *rsrc, uint32_t cnt, uint32_t *head,
			    const atomic_bool *stop)
{
	uint32_t *dom = rfirst + 1;

	for (uint32_t i = 0; i < cnt; i++) {
		t->semi[i] = t->label[i] = i;
		head[i] = GRAPH_NONE;
	}
	for (uint32_t w = cnt - 1; w >= 1; w--) {
		uint32_t p = t->anc[w];

		if (!(w & STOP_EVERY) && stopped(stop))
			return; /* the caller gives up: dom[] is left partial */

		for (uint32_t e = rfirst[w]; e < rfirst[w + 1]; e++) {
			uint32_t u = eval(t, rsrc[e], w);

			if (t->semi[u] < t->semi[w])
				t->semi[w] = t->semi[u];
		}
		dom[w] = head[t->semi[w]];
		head[t->semi[w]] = w;
		for (uint32_t v = head[p], nx; v != GRAPH_NONE; v = nx) {
			uint32_t u = eval(t, v, w - 1);

			nx = dom[v];
			dom[v] = t->semi[u] < t->semi[v] ? u : p;
		}
		head[p] = GRAPH_NONE;
	}
	for (uint32_t i = 1; i < cnt; i++)
		if (dom[i] != t->semi[i])
			dom[i] = dom[dom[i]];
}

/* Memory beyond the graph, for n nodes of which r are reached and e edges: 4n (pre, which
 * becomes the result, and serves as the buckets' heads once the predecessor rows are made) + 12r
 * (vert, anc, the depth-first cursor while numbering) + 4n (the in-degrees, until the predecessor
 * rows' starts are made from them) then 4r + 4e (predecessor rows, whose row starts become dom) +
 * 8r (semi, label): at most 24 bytes per node and 4 per edge at once. */
uint32_t *graph_idom(const struct graph *g)
{
	return graph_idom_unless(g, NULL);
}

uint32_t *graph_idom_unless(const struct graph *g, const atomic_bool *stop)
{
	uint32_t *pre = xmalloc((g->n ? g->n : 1) * sizeof *pre);
	uint32_t *vert, *rsrc, *dom, cnt, *rfirst, *indeg;
	struct lt t;

	if (!g->n)
		return pre;
	vert = xmalloc(g->n * sizeof *vert);
	t.anc = xmalloc(g->n * sizeof *t.anc);
	indeg = xcalloc(g->n, sizeof *indeg);
	cnt = number(g, pre, vert, t.anc, indeg, stop);
	t.semi = t.label = NULL;
	rfirst = rsrc = NULL;
	if (stopped(stop))
		free(indeg);
	else {
		predecessors(g, pre, vert, cnt, indeg, &rfirst, &rsrc);
		t.semi = xmalloc(cnt * sizeof *t.semi);
		t.label = xmalloc(cnt * sizeof *t.label);
		lengauer_tarjan(&t, rfirst, rsrc, cnt, pre, stop);
	}
	free(rsrc);
	free(t.semi);
	free(t.label);
	free(t.anc);
	if (stopped(stop)) {
		free(rfirst);
		free(vert);
		free(pre);
		return NULL;
	}
	dom = rfirst + 1;
	for (uint32_t v = 0; v < g->n; v++)
		pre[v] = GRAPH_NONE;
	for (uint32_t i = 1; i < cnt; i++)
		pre[vert[i]] = vert[dom[i]];
	free(rfirst);
	free(vert);
	return pre;
}

/* Children before parents without an order: each node waits for its pending children, and the
 * last child to finish carries its parent on up. */
void graph_retained(const struct graph *g, const uint32_t *idom, uint64_t *bytes, uint64_t *count)
{
	uint32_t *pending = xcalloc(g->n ? g->n : 1, sizeof *pending);

	for (uint32_t v = 0; v < g->n; v++) {
		bytes[v] = graph_size(g, v);
		count[v] = g->addr[v] != 0;
		if (idom[v] != GRAPH_NONE)
			pending[idom[v]]++;
	}
	for (uint32_t v = 0; v < g->n; v++)
		for (uint32_t x = v; pending[x] == 0;) {
			uint32_t p = idom[x];

			pending[x] = GRAPH_NONE; /* done */
			if (p == GRAPH_NONE)
				break;
			bytes[p] += bytes[x];
			count[p] += count[x];
			pending[p]--;
			x = p;
		}
	free(pending);
}

/* The dominator tree as first-child and next-sibling links, children in id order. */
static void sibling_links(const struct graph *g, const uint32_t *idom, uint32_t **child, uint32_t **sib)
{
	uint32_t *c = xmalloc((g->n ? g->n : 1) * sizeof *c);
	uint32_t *s = xmalloc((g->n ? g->n : 1) * sizeof *s);

	for (uint32_t v = 0; v < g->n; v++)
		c[v] = GRAPH_NONE;
	for (uint32_t v = g->n; v-- > 0;)
		if (idom[v] != GRAPH_NONE) {
			s[v] = c[idom[v]];
			c[idom[v]] = v;
		}
	*child = c;
	*sib = s;
}

struct kind_walk {
	const struct graph *g;
	const uint64_t *rbytes, *rcount;
	uint32_t nkinds;
	uint32_t *active; /* per kind: how many of the current path's nodes are of it */
	uint64_t *bytes, *count;
};

static void enter(struct kind_walk *k, uint32_t v)
{
	uint32_t kd = k->g->kind[v];

	if (kd < k->nkinds && k->active[kd]++ == 0) {
		k->bytes[kd] += k->rbytes[v];
		k->count[kd] += k->rcount[v];
	}
}

static void leave(struct kind_walk *k, uint32_t v)
{
	if (k->g->kind[v] < k->nkinds)
		k->active[k->g->kind[v]]--;
}

/* Depth-first over the subtree of r, the path back up being idom[] itself. */
static void walk_subtree(struct kind_walk *k, const uint32_t *idom, const uint32_t *child, const uint32_t *sib, uint32_t r)
{
	uint32_t x = r;

	enter(k, x);
	for (;;) {
		if (child[x] != GRAPH_NONE) {
			x = child[x];
			enter(k, x);
			continue;
		}
		for (;;) {
			leave(k, x);
			if (x == r)
				return;
			if (sib[x] != GRAPH_NONE) {
				x = sib[x];
				enter(k, x);
				break;
			}
			x = idom[x];
		}
	}
}

void graph_kind_retained(const struct graph *g, const uint32_t *idom, const uint64_t *retained_bytes,
			 const uint64_t *retained_count, uint32_t nkinds, uint64_t *bytes, uint64_t *count)
{
	struct kind_walk k = { g, retained_bytes, retained_count, nkinds, xcalloc(nkinds ? nkinds : 1, sizeof *k.active), bytes, count };
	uint32_t *child, *sib;

	memset(bytes, 0, nkinds * sizeof *bytes);
	memset(count, 0, nkinds * sizeof *count);
	sibling_links(g, idom, &child, &sib);
	for (uint32_t v = 0; v < g->n; v++)
		if (idom[v] == GRAPH_NONE)
			walk_subtree(&k, idom, child, sib, v);
	free(child);
	free(sib);
	free(k.active);
}

static int by_retained(const void *a, const void *b, void *ctx)
{
	const uint64_t *rb = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (rb[x] != rb[y])
		return rb[x] > rb[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

void graph_dom_children(const struct graph *g, const uint32_t *idom, const uint64_t *retained_bytes,
			uint32_t **first, uint32_t **kids)
{
	uint32_t *f = xcalloc((size_t)g->n + 1, sizeof *f);
	uint32_t *k = xmalloc((g->n ? g->n : 1) * sizeof *k);

	for (uint32_t v = 0; v < g->n; v++)
		if (idom[v] != GRAPH_NONE)
			f[idom[v] + 1]++;
	prefix(f, g->n);
	for (uint32_t v = 0; v < g->n; v++)
		if (idom[v] != GRAPH_NONE)
			k[f[idom[v]]++] = v;
	unshift(f, g->n);
	for (uint32_t v = 0; v < g->n; v++)
		if (f[v + 1] - f[v] > 1)
			qsort_r(k + f[v], f[v + 1] - f[v], sizeof *k, by_retained, (void *)retained_bytes);
	*first = f;
	*kids = k;
}

/* graph_retained_of's work space: each node's in-degree from reached nodes, and a stamp per node
 * (2k + 1: in the subtree of the k-th node asked, 2k + 2: and reached without it). */
struct retain_of {
	const struct graph *g;
	const uint32_t *parent;
	uint32_t *indeg, *stamp, *list, *stack;
	uint64_t work;
};

/* Whether the edge u -> w is w's edge in the tree: w's parent is u, or u is the root and w has none
 * (the caller's tree may leave the root's own references without one: census/paths.h's phases
 * start there). */
static bool tree_edge(const struct retain_of *s, uint32_t u, uint32_t w)
{
	return s->parent[w] == u || (u == GRAPH_ROOT && s->parent[w] == GRAPH_NONE && w != GRAPH_ROOT);
}

/* n zeroed counters, in 2 MiB pages when large (both are written all over: common/hugepages.h). */
static uint32_t *zeroed(uint32_t n)
{
	uint32_t *p = huge_alloc((size_t)n * sizeof *p);

	return p ? memset(p, 0, (size_t)n * sizeof *p) : xcalloc(n ? n : 1, sizeof *p);
}

bool graph_reach_prepare(const struct graph *g, const uint32_t *parent, const atomic_bool *stop, struct graph_reach *r)
{
	uint32_t *indeg = zeroed(g->n), *stamp = zeroed(g->n), u = 0;

	r->indeg = indeg;
	r->stamp = stamp;
	if (!g->n)
		return true;
	/* in-degrees from reached nodes only (those with a parent, the root and what it references,
	 * marked in stamp meanwhile): an unreached node's edge gives no path from the root */
	stamp[GRAPH_ROOT] = 1;
	for (uint32_t e = g->first[GRAPH_ROOT]; e < g->first[GRAPH_ROOT + 1]; e++)
		stamp[g->dst[e]] = 1;
	for (; u < g->n && ((u & STOP_EVERY) || !stopped(stop)); u++)
		if (stamp[u] || parent[u] != GRAPH_NONE)
			for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++)
				indeg[g->dst[e]]++;
	if (u < g->n) {
		graph_reach_release(r);
		return false;
	}
	stamp[GRAPH_ROOT] = 0;
	for (uint32_t e = g->first[GRAPH_ROOT]; e < g->first[GRAPH_ROOT + 1]; e++)
		stamp[g->dst[e]] = 0;
	return true;
}

void graph_reach_release(struct graph_reach *r)
{
	free(r->indeg);
	free(r->stamp);
	r->indeg = r->stamp = NULL;
}

/* v's subtree in the tree into list (returns its size), each node stamped `in`: the tree's edges
 * are graph edges, so its children are among its edges' targets. */
static size_t subtree(struct retain_of *s, uint32_t v, uint32_t in)
{
	const struct graph *g = s->g;
	size_t n = 0;

	s->stamp[v] = in;
	s->list[n++] = v;
	for (size_t i = 0; i < n; i++) {
		uint32_t u = s->list[i];

		for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++)
			if (s->stamp[g->dst[e]] != in && tree_edge(s, u, g->dst[e])) {
				s->stamp[g->dst[e]] = in;
				s->list[n++] = g->dst[e];
			}
		s->work += 1 + g->first[u + 1] - g->first[u];
	}
	return n;
}

/* Adds d to the in-degree of every edge from the subtree list[0..n) into it. */
static void inner_degrees(struct retain_of *s, size_t n, uint32_t in, int d)
{
	const struct graph *g = s->g;

	for (size_t i = 0; i < n; i++)
		for (uint32_t e = g->first[s->list[i]]; e < g->first[s->list[i] + 1]; e++)
			if (s->stamp[g->dst[e]] == in)
				s->indeg[g->dst[e]] += (uint32_t)d;
}

/* v's retained bytes. Every node v dominates lies in v's subtree of the tree (its tree path passes
 * v); a subtree node is reached without v when an edge from outside the subtree (a node reached
 * without v) enters it, or an edge from such a node does. The rest are v and what it dominates. */
static uint64_t retained_one(struct retain_of *s, uint32_t v, uint32_t k)
{
	const struct graph *g = s->g;
	uint32_t in = 2 * k + 1, freed = 2 * k + 2;
	size_t n = subtree(s, v, in), top = 0;
	uint64_t bytes = 0;

	inner_degrees(s, n, in, -1);
	for (size_t i = 1; i < n; i++)
		if (s->indeg[s->list[i]]) {
			s->stamp[s->list[i]] = freed;
			s->stack[top++] = s->list[i];
		}
	while (top) {
		uint32_t u = s->stack[--top];

		for (uint32_t e = g->first[u]; e < g->first[u + 1]; e++)
			if (s->stamp[g->dst[e]] == in && g->dst[e] != v) {
				s->stamp[g->dst[e]] = freed;
				s->stack[top++] = g->dst[e];
			}
	}
	for (size_t i = 0; i < n; i++) {
		if (s->stamp[s->list[i]] == freed)
			s->stamp[s->list[i]] = in; /* counted back in inner_degrees' restore */
		else
			bytes += graph_size(g, s->list[i]);
	}
	inner_degrees(s, n, in, 1);
	s->work += 2 * n;
	return bytes;
}

bool graph_retained_of_reach(const struct graph *g, const uint32_t *parent, struct graph_reach *r, const uint32_t *nodes,
			     size_t k, uint64_t budget, uint64_t *bytes)
{
	struct retain_of s = { .g = g, .parent = parent, .indeg = r->indeg, .stamp = r->stamp };
	size_t i;

	if (!g->n || !k)
		return true;
	s.list = xmalloc((size_t)g->n * sizeof *s.list); /* pages are touched only as far as used */
	s.stack = xmalloc((size_t)g->n * sizeof *s.stack);
	for (i = 0; i < k && (!budget || s.work <= budget); i++)
		bytes[i] = nodes[i] < g->n ? retained_one(&s, nodes[i], (uint32_t)i) : 0;
	free(s.list);
	free(s.stack);
	return i == k && (!budget || s.work <= budget);
}

bool graph_retained_of(const struct graph *g, const uint32_t *parent, const uint32_t *nodes, size_t k,
		       uint64_t budget, uint64_t *bytes)
{
	struct graph_reach r;
	bool ok;

	if (!g->n || !k)
		return true;
	graph_reach_prepare(g, parent, NULL, &r);
	ok = graph_retained_of_reach(g, parent, &r, nodes, k, budget, bytes);
	graph_reach_release(&r);
	return ok;
}
