/* paths.h: why objects are alive: the shortest paths from the roots to selected objects of a
 * census's object graph, merged into one tree (model/pathtree.h) whose steps are named by kind
 * and by how the step before holds them ("['receivers']", "[*]", ".__closure__"), read from the
 * target (objects/referrer.h). Paths start at the interpreter's roots and the threads' frames
 * when any reaches the object; only objects nothing there reaches are shown held from C or
 * unreachable. */
#ifndef PC_PATHS_H
#define PC_PATHS_H

#include "common/compat.h"
#include "census/objgraph.h"
#include "model/census.h"
#include "common/ptrmap.h"
#include "model/pathtree.h"
#include "objects/types.h"
#include "source/pyproc.h"

/* Shortest-path predecessors from the roots, in order of trust: first from the interpreter (the
 * modules), then from the threads' frames, then from "held from C", then from the unreachable
 * node, so a path through the program's modules is preferred to a shorter one through a running
 * frame's locals or an unaccounted reference. GRAPH_NONE for the
 * synthetic nodes and anything not reached. Returns a malloc'ed array of g->n. */
uint32_t *paths_parents(const struct graph *g);

/* The first v >= from (and < n) with select[v] set, n if none: whole zero words are skipped, so a
 * few selected among millions of nodes cost a pass at memory speed (inspect scans once per
 * finding). */
uint32_t paths_next_selected(const uint8_t *select, uint32_t from, uint32_t n);

/* Adds the path of every node v with select[v] set to t (pathtree_init'ed by the caller):
 * parents from paths_parents, retained bytes per node (NULL: counted as 0), labels read through p
 * (live: a reference that changed since the census gets an empty label), once per node met. */
void paths_merge(struct pyproc *p, const struct census *c, const struct objgraph *og, const uint32_t *parents,
		 const uint64_t *retained, const uint8_t *select, struct pathtree *t);
/* The labels of the references met, kept from one merge to the next (inspect merges some fifty
 * trees whose paths share many references: 27800 labels asked, 17000 references, on Sphinx), with
 * the types read to label them: a table per merge read the same types again each time (48 tables,
 * 7 M of the merges' 93 M instructions on Sphinx). */
struct paths_labels {
	struct ptrmap at; /* (from << 32 | to) + 1 -> its entry in v */
	struct {
		char label[PT_LABEL];
		bool ok;
	} *v;
	size_t n, cap;
	struct typetab types; /* once `typed`: made by the first merge, for its reader */
	bool typed;
};
void paths_labels_init(struct paths_labels *l);
void paths_labels_release(struct paths_labels *l);

/* paths_merge of the nodes nodes[0 .. n), given in id order (as select would give them); labels
 * read once per reference into `labels` when not NULL (the target is read once for each). With
 * labels, a step that any item of a container reaches ("[]": its label does not decide where paths
 * merge) is left pending (pt_step.pending) for paths_label_step: a caller that prints one path of
 * the tree reads the labels of that path alone (finding an item's index or key scans the
 * container; 1260 of 15170 labels read on Sphinx were of items off the printed paths). */
void paths_merge_nodes(struct pyproc *p, const struct census *c, const struct objgraph *og, const uint32_t *parents,
		       const uint64_t *retained, const uint32_t *nodes, size_t n, struct paths_labels *labels,
		       struct pathtree *t);
/* Reads the label of step s of t when pending (as paths_merge would have: "[?]" when unreadable). */
void paths_label_step(struct pyproc *p, const struct objgraph *og, struct paths_labels *labels, struct pathtree *t,
		      uint32_t s);

#endif
