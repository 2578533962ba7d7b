/* graphrec.c: the object graph recorded while a census walks (census/objgraph.h): the walk calls
 * walk_graph_node for every object it counts and walk_graph_ref for every reference it follows;
 * once dict owners are known each node gets its census row, and model/graph.c builds the graph. */
#include "common/compat.h"
#include "census/walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "census/inspect.h"
#include "common/xalloc.h"

static const char *const root_names[OG_FIRST] = {
	"(root)", "(interpreter)", "(thread stacks)", "(held from C)", "(unreachable: garbage)",
};

/* seed_roots' order (census/follow.c) */
static const char *const interp_names[] = { "sys.modules", "sys.__dict__", "builtins", "static types' namespaces" };

const char *objgraph_root_name(uint32_t id)
{
	return id < OG_FIRST ? root_names[id] : NULL;
}

const char *objgraph_interp_name(unsigned i)
{
	return i < PC_ARRAY_LEN(interp_names) ? interp_names[i] : NULL;
}

void objgraph_release(struct objgraph *og)
{
	if (og->pending) {
		graph_builder_release(og->pending);
		free(og->pending);
	}
	graph_release(&og->g);
	memset(og, 0, sizeof *og);
}

void objgraph_build(struct objgraph *og)
{
	if (!og->pending)
		return;
	graph_build(og->pending, &og->g, OG_HELD, OG_GARBAGE);
	graph_builder_release(og->pending);
	free(og->pending);
	og->pending = NULL;
}

void walk_graph_init(struct walk *w, struct objgraph *og, uint64_t limit)
{
	w->gcur = GRAPH_NONE;
	if (!og)
		return;
	memset(og, 0, sizeof *og);
	w->og = og;
	w->gb = xcalloc(1, sizeof *w->gb);
	graph_builder_init(w->gb);
	w->gb->limit = limit;
	for (unsigned i = 0; i < OG_FIRST; i++)
		graph_add_node(w->gb, 0, 0, GRAPH_NONE, GRAPH_NONE);
	for (unsigned i = OG_INTERP; i < OG_FIRST; i++)
		graph_add_edge(w->gb, OG_ROOT, i);
}

/* follow_is_static with the last node's mapping kept: the walk meets objects arena by arena, so
 * the mapping's binary search (a quarter of what the graph added to the walk on Sphinx) is made
 * once per mapping met, not per object. */
static bool node_is_static(struct walk *w, uint64_t addr)
{
	if (addr >= w->fo.image_lo && addr < w->fo.image_hi)
		return true;
	if (!w->gmap || addr < w->gmap->start || addr >= w->gmap->end) {
		const struct map *m = maps_find(&w->p->maps, addr);
		if (!m)
			return false;
		w->gmap = m;
	}
	return w->gmap->path[0] == '/';
}

/* Before the first object: room for a node per 32 bytes of arenas and a reference per 16 (Sphinx:
 * 60 MiB of arenas, 525000 objects and 1.7 million references), address space only until written
 * (graph_builder_reserve); more still fits. */
static void reserve_nodes(struct walk *w)
{
	uint64_t arenas = heapcopy_planned(&w->hc) + heapcopy_planned(&w->mc);

	graph_builder_reserve(w->gb, (size_t)(arenas / 32 + 4096), (size_t)(arenas / 16 + 4096));
}

void walk_graph_node(struct walk *w, const struct pytype *ty, uint64_t addr, uint64_t size, const uint8_t *ob)
{
	uint64_t r;
	uint32_t rc = GRAPH_NONE, id;

	if (!w->gb)
		return;
	if (w->gb->n == OG_FIRST)
		reserve_nodes(w);
	/* immortal and static objects: their refcount counts nothing the walk can match */
	r = py_ob_refcnt(&w->p->L, ob);
	if (!py_refcnt_immortal(&w->p->L, r) && r < GRAPH_NONE && !node_is_static(w, addr))
		rc = (uint32_t)r;
	id = graph_add_node(w->gb, addr, size, (uint32_t)(ty - w->types.v), rc);
	w->gcur = id;
	/* an instance of a heap type holds a reference to its type (Objects/typeobject.c
	 * PyType_GenericAlloc increfs it, subtype_traverse visits it) */
	if (id != GRAPH_NONE && ty->heap)
		graph_add_ref(w->gb, id, ty->addr);
}

/* Every type slot's census row, and the row of the dicts its instances own. */
static void slot_rows(struct walk *w, uint32_t *row, uint32_t *dict_row)
{
	char kind[320];

	for (size_t i = 0; i < w->types.n; i++) {
		const struct pytype *ty = &w->types.v[i];
		size_t r = census_row_index(w->c, ty->name);
		row[i] = r == STRINDEX_NONE ? GRAPH_NONE : (uint32_t)r;
		snprintf(kind, sizeof kind, "dict of %s", ty->name);
		r = census_row_index(w->c, kind);
		dict_row[i] = r == STRINDEX_NONE ? GRAPH_NONE : (uint32_t)r;
		if (cfields_scanned(w, i) && ty->count) {
			w->og->opaque_types++;
			w->og->opaque_objects += ty->count;
		}
	}
}

static void node_rows(struct walk *w)
{
	struct graph_builder *b = w->gb;
	uint32_t *row = xcalloc(w->types.n + 1, sizeof *row), *dict_row = xcalloc(w->types.n + 1, sizeof *dict_row);
	size_t r = census_row_index(w->c, "dict (no owner)");
	uint32_t nodict = r == STRINDEX_NONE ? GRAPH_NONE : (uint32_t)r;

	slot_rows(w, row, dict_row);
	for (size_t id = OG_FIRST; id < b->n; id++) {
		uint32_t slot = b->kind[id];
		uint64_t owner;
		if (slot >= w->types.n)
			continue;
		/* id < b->n: written in place (graph_set_kind, a call per node, was a fifth of this) */
		if (!w->types.v[slot].exact_dict)
			b->kind[id] = row[slot];
		else if (ptrmap_get(&w->owner, b->addr[id], &owner) && owner - 1 < w->types.n)
			b->kind[id] = dict_row[owner - 1];
		else
			b->kind[id] = nodict;
	}
	free(row);
	free(dict_row);
}

void walk_graph_ahead(struct walk *w)
{
	if (w->gb && w->gahead)
		graph_builder_ahead(w->gb);
}

void walk_graph_finish(struct walk *w)
{
	if (!w->gb)
		return;
	node_rows(w);
	w->og->pending = w->gb; /* built by objgraph_build once the copy is gone */
	w->gb = NULL;
	if (w->is) /* the walk added its last value */
		inspect_scan_sort_start(w->is);
}
