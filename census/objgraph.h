/* objgraph.h: the object graph a census builds on the way when asked (snapshot_opts.graph): every
 * object counted is a node whose kind is its census row (guppy3's kind: `dict of Request`), every
 * reference the walk follows is an edge, and five synthetic nodes stand for what holds the heap
 * from outside it: the interpreter (sys.modules, sys.__dict__, builtins, static types'
 * namespaces), the threads' running frames, "held from C" (objects whose refcount exceeds the
 * references found to them: an extension, a C local, a reference of a type whose references are
 * not read), and the unreachable (cycles waiting for the collector). model/graph.h computes on it:
 * dominators, retained sizes, shortest paths. */
#ifndef PC_OBJGRAPH_H
#define PC_OBJGRAPH_H

#include "common/compat.h"
#include "model/graph.h"

enum objgraph_node {
	OG_ROOT,      /* the synthetic root every path starts from */
	OG_INTERP,    /* the interpreter's own references */
	OG_THREADS,   /* the locals of every thread's running frames */
	OG_HELD,      /* refcount surplus: held from C */
	OG_GARBAGE,   /* reachable from nothing found: garbage cycles */
	OG_FIRST,     /* the first object node */
};

struct objgraph {
	struct graph g;
	/* objects of C types whose fields the census read word by word, knowing no layout for them
	 * (census/cfields.c): their references are the words that led to valid objects */
	uint64_t opaque_objects;
	uint32_t opaque_types;
	uint64_t interp[8];  /* the interpreter's roots, in objgraph_interp_name's order (0: none) */
	struct graph_builder *pending; /* filled by the walk, built by objgraph_build */
};

/* The name of a synthetic node ("(held from C)"), NULL for an object node. */
const char *objgraph_root_name(uint32_t id);
/* What the interpreter's i-th root is ("sys.modules"), NULL past the last. */
const char *objgraph_interp_name(unsigned i);
void objgraph_release(struct objgraph *og);
/* Builds g from what the walk recorded (snapshot_take calls it once the census has released its
 * copy of the arenas, so the two are never in memory together). */
void objgraph_build(struct objgraph *og);

#endif
