/* paths.c: the merged shortest paths to selected objects (census/paths.h). */
#include "common/compat.h"
#include "census/paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/hugepages.h"
#include "common/ptrmap.h"
#include "common/xalloc.h"
#include "objects/referrer.h"

/* One breadth-first phase from the nodes queued in q[head..tail): every node it reaches gets its
 * predecessor; nodes reached by an earlier phase keep theirs. */
static size_t bfs_phase(const struct graph *g, uint32_t *parent, uint8_t *seen, uint32_t *q, size_t head, size_t tail)
{
	while (head < tail) {
		uint32_t u = q[head++];
		for (uint64_t e = g->first[u]; e < g->first[u + 1]; e++) {
			uint32_t v = g->dst[e];
			if (seen[v])
				continue;
			seen[v] = 1;
			parent[v] = u;
			q[tail++] = v;
		}
	}
	return tail;
}

static const uint32_t phases[] = { OG_INTERP, OG_THREADS, OG_HELD, OG_GARBAGE };

/* Whether g->parent holds the first phases already: the root's references are the phases, in
 * their order (graph.h: graph_build searched from each in turn; the garbage node had no edges
 * yet, so its phase is left). */
static bool built_phases(const struct graph *g)
{
	if (!g->parent || g->n < OG_FIRST || g->first[GRAPH_ROOT + 1] - g->first[GRAPH_ROOT] != PC_ARRAY_LEN(phases))
		return false;
	for (size_t i = 0; i < PC_ARRAY_LEN(phases); i++)
		if (g->dst[g->first[GRAPH_ROOT] + i] != phases[i])
			return false;
	return true;
}

uint32_t *paths_parents(const struct graph *g)
{
	uint32_t *parent = xmalloc((size_t)g->n * sizeof *parent), *q = xmalloc((size_t)g->n * sizeof *q);
	uint8_t *seen = xcalloc(g->n, 1);
	size_t tail = 0, ph = 0;

	if (built_phases(g)) { /* one breadth-first search over the whole graph less */
		memcpy(parent, g->parent, (size_t)g->n * sizeof *parent);
		for (uint32_t v = OG_FIRST; v < g->n; v++)
			seen[v] = parent[v] != GRAPH_NONE;
		ph = PC_ARRAY_LEN(phases) - 1;
	} else
		for (uint32_t v = 0; v < g->n; v++)
			parent[v] = GRAPH_NONE;
	for (uint32_t v = 0; v < OG_FIRST && v < g->n; v++)
		seen[v] = 1;
	for (; ph < PC_ARRAY_LEN(phases); ph++) {
		size_t head = tail;
		if (phases[ph] >= g->n)
			break;
		q[tail++] = phases[ph];
		tail = bfs_phase(g, parent, seen, q, head, tail);
	}
	free(seen);
	free(q);
	return parent;
}

struct merge {
	struct pyproc *p;
	const struct census *c;
	const struct objgraph *og;
	struct typetab types;
	struct paths_labels *labels; /* NULL: every label read */
	struct typetab *tt;          /* &types, or the labels' */
	/* node + 1 -> where it is in this tree: its step, its depth (object nodes from it up to its
	 * root) and that root. parents[] is one tree, so a node's path is the same from whichever
	 * selected object it is met: a node placed once is never walked again, and the labels of its
	 * path were read once (the 256 sampled objects of a finding share most of their paths). */
	struct ptrmap placed;
};

struct place {
	uint32_t step, depth, root;
};

static bool placed(const struct merge *m, uint32_t u, struct place *at)
{
	uint64_t v;

	if (!ptrmap_get(&m->placed, (uint64_t)u + 1, &v))
		return false;
	*at = (struct place){ (uint32_t)v, (uint32_t)(v >> 32) & 0xffff, (uint32_t)(v >> 48) };
	return true;
}

/* A new object (or a root) at step s: counted once there, and remembered. */
static void place(struct merge *m, struct pathtree *t, uint32_t u, struct place at, uint64_t retained)
{
	t->v[at.step].through++;
	t->v[at.step].retained += retained;
	t->v[at.step].objects++;
	ptrmap_put(&m->placed, (uint64_t)u + 1, (uint64_t)at.root << 48 | (uint64_t)at.depth << 32 | at.step);
}

/* Items of these hold their referents by position or key: any item is one step ("[]"), whose
 * label is read once, for the first reference met (finding it scans the container). A tuple's
 * position is read every time: tuples are small, and a position there means something (a
 * closure's cell, a named field). */
static bool container(const struct merge *m, uint32_t kind)
{
	static const char *const types[] = { "dict", "list", "set", "frozenset" };

	if (kind >= m->c->nrows)
		return false;
	for (size_t i = 0; i < PC_ARRAY_LEN(types); i++)
		if (strcmp(m->c->rows[kind].type, types[i]) == 0)
			return true;
	return false;
}

static void root_label(const struct merge *m, uint32_t from, uint32_t to, char *buf, size_t len)
{
	const struct graph *g = &m->og->g;

	buf[0] = 0;
	if (from == OG_INTERP) {
		for (unsigned i = 0; objgraph_interp_name(i); i++)
			if (m->og->interp[i] && m->og->interp[i] == g->addr[to]) {
				snprintf(buf, len, "%s", objgraph_interp_name(i));
				return;
			}
		snprintf(buf, len, "%s", objgraph_interp_name(3));
	} else if (from == OG_THREADS)
		snprintf(buf, len, "a local of a running frame");
	else if (from == OG_HELD)
		snprintf(buf, len, "%u reference%s unaccounted", g->surplus[to], g->surplus[to] == 1 ? "" : "s");
}

void paths_labels_init(struct paths_labels *l)
{
	memset(l, 0, sizeof *l);
	ptrmap_init(&l->at);
}

void paths_labels_release(struct paths_labels *l)
{
	if (l->typed)
		typetab_release(&l->types);
	ptrmap_release(&l->at);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* The labels a merge's first read reserves room for (3 MiB of address space, written as used). */
#define LABELS_ROOM (1u << 15)

/* referrer_label of the reference from -> to (nodes), once per reference when m keeps labels. */
static bool label_of(struct merge *m, uint32_t from, uint32_t to, char *buf, size_t len)
{
	const struct graph *g = &m->og->g;
	struct paths_labels *l = m->labels;
	uint64_t key = ((uint64_t)from << 32 | to) + 1, at;

	if (!l)
		return referrer_label(m->p, m->tt, g->addr[from], g->addr[to], buf, len) != 0;
	if (!ptrmap_get(&l->at, key, &at)) {
		if (!l->cap) /* room up front in 2 MiB pages: grown from small, its copies and first
			      * writes were 290 faults of 4 KiB on Sphinx's 17000 labels */
			huge_reserve((void **)&l->v, &l->cap, LABELS_ROOM, sizeof *l->v);
		if (l->n == l->cap)
			xgrow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v);
		at = l->n++;
		l->v[at].ok = referrer_label(m->p, m->tt, g->addr[from], g->addr[to], l->v[at].label,
					     sizeof l->v[at].label) != 0;
		ptrmap_put(&l->at, key, at);
	}
	if (l->v[at].ok && len) {
		size_t k = strnlen(l->v[at].label, len - 1);

		memcpy(buf, l->v[at].label, k);
		buf[k] = '\0';
	}
	return l->v[at].ok;
}

/* The label of a pending step: the reference that created it. */
static void item_label(struct merge *m, struct pathtree *t, uint32_t s)
{
	if (!label_of(m, t->v[s].ex_from, t->v[s].ex_to, t->v[s].label, sizeof t->v[s].label))
		snprintf(t->v[s].label, sizeof t->v[s].label, "[?]");
	t->v[s].pending = false;
}

/* The step for the reference from -> to under step `parent`. */
static uint32_t step_of(struct merge *m, struct pathtree *t, uint32_t parent, uint32_t from, uint32_t to)
{
	const struct graph *g = &m->og->g;
	char label[PT_LABEL];
	const char *key;
	bool created;
	uint32_t s;

	if (from < OG_FIRST) {
		root_label(m, from, to, label, sizeof label);
		key = from == OG_INTERP ? label : "";
	} else if (container(m, g->kind[from])) {
		label[0] = 0;
		key = "[]";
	} else {
		if (!label_of(m, from, to, label, sizeof label))
			snprintf(label, sizeof label, "?");
		key = label;
	}
	s = pathtree_child(t, parent, g->kind[to], "", key, label, &created);
	if (created) {
		t->v[s].ex_from = from;
		t->v[s].ex_to = to;
		if (strcmp(key, "[]") == 0) {
			t->v[s].pending = true;
			if (!m->labels)
				item_label(m, t, s);
		}
	} else if (t->v[s].ex_from != from || t->v[s].ex_to != to)
		t->v[s].varied = true;
	return s;
}

/* v's path: up from v to the first node already placed (or to its root), then down again placing
 * the new nodes; every step above counts v once more. */
static void merge_one(struct merge *m, const uint32_t *parents, uint64_t retained, uint32_t v, struct pathtree *t,
		      uint32_t *chain)
{
	struct place at = { PT_NONE, 0, GRAPH_NONE };
	size_t n = 0;
	uint32_t u;
	bool created, found = false;

	for (u = v; u != GRAPH_NONE && !(found = placed(m, u, &at)) && u >= OG_FIRST && n < PT_MAX_DEPTH; u = parents[u])
		chain[n++] = u;
	if (!found && (u == GRAPH_NONE || u == OG_ROOT))
		return; /* reached by no root: the graph attaches everything, so only a cut path */
	if ((!found && u >= OG_FIRST) || n + at.depth > PT_MAX_DEPTH) {
		t->too_deep++;
		return;
	}
	if (found) {
		for (uint32_t s = at.step; s != PT_NONE; s = t->v[s].parent) {
			t->v[s].through++;
			t->v[s].retained += retained;
		}
	} else {
		at = (struct place){ pathtree_child(t, PT_NONE, PT_NONE, objgraph_root_name(u), "", "", &created), 0, u };
		place(m, t, u, at, retained);
	}
	t->via_held += at.root == OG_HELD;
	t->via_garbage += at.root == OG_GARBAGE;
	for (uint32_t from = u; n > 0; from = chain[n]) {
		n--;
		at.step = step_of(m, t, at.step, from, chain[n]);
		at.depth++;
		place(m, t, chain[n], at, retained);
	}
	t->v[at.step].ends++;
}

/* A step reached through the items of several containers names one of them as its example: the
 * one that created it, which node order picks (a module's list of two cleanup functions named the
 * step where CALLBACKS held 300 closures). Each is taken again on the heaviest path below it (by
 * retained bytes, then objects, as the report orders steps): an object of each step on that path
 * (its heaviest child's object's holder on the shortest paths; a child is created after its
 * parent, so one pass from the last step up) and that object's holder. */
static bool heavier(const struct pt_step *a, const struct pt_step *b)
{
	return a->retained != b->retained ? a->retained > b->retained : a->through > b->through;
}

static void representative_examples(struct merge *m, struct pathtree *t, const uint32_t *parents)
{
	uint32_t *rep = xmalloc((t->n ? t->n : 1) * sizeof *rep);

	for (uint32_t s = (uint32_t)t->n; s-- > 0;) {
		struct pt_step *st = &t->v[s];
		uint32_t best = PT_NONE;

		for (uint32_t c = st->first_child; c != PT_NONE; c = t->v[c].next_sibling)
			if (rep[c] != GRAPH_NONE && (best == PT_NONE || heavier(&t->v[c], &t->v[best])))
				best = c;
		rep[s] = best != PT_NONE ? parents[rep[best]] : st->ex_to;
		if (rep[s] == GRAPH_NONE || rep[s] < OG_FIRST || rep[s] >= m->og->g.n || st->root[0]) {
			rep[s] = GRAPH_NONE;
			continue;
		}
		if (!st->varied || strcmp(st->key, "[]") != 0 || parents[rep[s]] == GRAPH_NONE ||
		    parents[rep[s]] < OG_FIRST || (st->ex_to == rep[s] && st->ex_from == parents[rep[s]]))
			continue;
		st->ex_from = parents[rep[s]];
		st->ex_to = rep[s];
		if (!st->pending)
			item_label(m, t, s);
	}
	free(rep);
}

uint32_t paths_next_selected(const uint8_t *select, uint32_t from, uint32_t n)
{
	uint32_t v = from;
	uint64_t w;

	for (; v < n && (v & 7); v++)
		if (select[v])
			return v;
	for (; v + 8 <= n; v += 8) {
		memcpy(&w, select + v, 8);
		if (w)
			break;
	}
	for (; v < n; v++)
		if (select[v])
			return v;
	return n;
}

/* Loads the entries of parents[] on the paths of nodes[0 .. n) into the cache, LANES paths a step
 * at a time: each step up a path is a miss in parents[] (2 MiB on Sphinx), and merge_one waited
 * for them one after the other (half of merge_all's time); side by side the misses overlap.
 * The sum of what was read goes to an empty asm, so that the reads are made. */
#define LANES 16
static void warm_paths(const uint32_t *parents, uint32_t nnodes, const uint32_t *nodes, size_t n)
{
	uint32_t u[LANES], depth[LANES] = { 0 }, sum = 0;
	size_t next = 0;
	bool live = true;

	for (size_t k = 0; k < LANES; k++)
		u[k] = GRAPH_NONE;
	while (live) {
		live = false;
		for (size_t k = 0; k < LANES; k++) {
			if (u[k] < OG_FIRST || u[k] >= nnodes || depth[k] >= PT_MAX_DEPTH) { /* its path ended */
				if (next == n)
					continue;
				u[k] = nodes[next++];
				depth[k] = 0;
				live = true;
				continue;
			}
			u[k] = parents[u[k]];
			depth[k]++;
			sum += u[k];
			live = true;
		}
	}
	__asm__ volatile("" : : "r"(sum));
}

/* Calls merge_one for each selected node: the nodes of select (a byte per node) when it is not
 * NULL, else nodes[0 .. n). */
static void merge_all(struct pyproc *p, const struct census *c, const struct objgraph *og, const uint32_t *parents,
		      const uint64_t *retained, const uint8_t *select, const uint32_t *nodes, size_t n,
		      struct paths_labels *labels, struct pathtree *t)
{
	struct merge m = { .p = p, .c = c, .og = og, .labels = labels };
	uint32_t *chain = xmalloc(PT_MAX_DEPTH * sizeof *chain);
	uint32_t v = select ? paths_next_selected(select, OG_FIRST, og->g.n) : 0;

	if (!labels) {
		typetab_init(&m.types, p);
		m.tt = &m.types;
	} else {
		if (!labels->typed)
			typetab_init(&labels->types, p);
		labels->typed = true;
		m.tt = &labels->types;
	}
	ptrmap_init(&m.placed);
	/* the nodes placed: some 5 per selected object on Sphinx's findings; grown from 64 they
	 * were rehashed 5 times per tree */
	ptrmap_reserve(&m.placed, (select ? 0 : n) * 8);
	if (!select)
		warm_paths(parents, og->g.n, nodes, n);
	for (size_t i = 0; select ? v < og->g.n : i < n; i++) {
		if (!select)
			v = nodes[i];
		if (v >= OG_FIRST && v < og->g.n) {
			t->selected++;
			merge_one(&m, parents, retained ? retained[v] : 0, v, t, chain);
		}
		if (select)
			v = paths_next_selected(select, v + 1, og->g.n);
	}
	free(chain);
	ptrmap_release(&m.placed);
	representative_examples(&m, t, parents);
	if (!labels)
		typetab_release(&m.types);
}

void paths_merge(struct pyproc *p, const struct census *c, const struct objgraph *og, const uint32_t *parents,
		 const uint64_t *retained, const uint8_t *select, struct pathtree *t)
{
	merge_all(p, c, og, parents, retained, select, NULL, 0, NULL, t);
}

void paths_merge_nodes(struct pyproc *p, const struct census *c, const struct objgraph *og, const uint32_t *parents,
		       const uint64_t *retained, const uint32_t *nodes, size_t n, struct paths_labels *labels,
		       struct pathtree *t)
{
	merge_all(p, c, og, parents, retained, NULL, nodes, n, labels, t);
}

void paths_label_step(struct pyproc *p, const struct objgraph *og, struct paths_labels *labels, struct pathtree *t,
		      uint32_t s)
{
	struct merge m = { .p = p, .og = og, .labels = labels };

	if (s >= t->n || !t->v[s].pending)
		return;
	if (!labels->typed)
		typetab_init(&labels->types, p);
	labels->typed = true;
	m.tt = &labels->types;
	item_label(&m, t, s);
}
