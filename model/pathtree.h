/* pathtree.h: the merged shortest paths from the roots to a set of objects (Eclipse MAT's "merge
 * shortest paths to GC roots"): one tree whose steps are (kind, how the step before holds it),
 * each with the number of selected objects whose path passes there and their retained bytes.
 * Steps that reach the same kind the same way are one step, however many objects they are: a
 * list holding 10,000 requests is one step "[*] -> Request" with 10,000 objects. Pure data:
 * census/paths.c builds it from a graph, report/paths.c prints it. */
#ifndef PC_PATHTREE_H
#define PC_PATHTREE_H

#include "common/compat.h"

#define PT_NONE UINT32_MAX
#define PT_LABEL 96

struct pt_step {
	uint32_t parent, first_child, next_sibling;  /* PT_NONE when none */
	uint32_t kind;         /* the census row of the objects at this step, PT_NONE for a root */
	char root[32];         /* a root's name ("(interpreter)"), "" for objects */
	char key[PT_LABEL];    /* what merges steps: the label, or "[]" for any item of a container */
	char label[PT_LABEL];  /* how the step before holds these objects: "['cache']", ".handlers" */
	bool varied;           /* reached through more than one reference: label is one example */
	bool pending;          /* label not read yet: ex_from -> ex_to names it (census/paths.h) */
	uint32_t ex_from, ex_to; /* the reference (graph nodes) the label was read from */
	uint64_t objects;      /* distinct objects at this step */
	uint64_t through;      /* selected objects whose path passes here (or ends here) */
	uint64_t retained;     /* their retained bytes */
	uint64_t ends;         /* selected objects that are this step */
};

struct pathtree {
	struct pt_step *v;
	size_t n, cap;
	uint32_t first_root;   /* the top-level roots, chained through next_sibling */
	uint64_t selected;     /* objects selected */
	uint64_t selected_retained; /* their retained bytes, each object's set once */
	uint64_t selected_retained_objects; /* and the objects in those sets */
	uint64_t too_deep;     /* selected objects whose path was longer than PT_MAX_DEPTH: cut there */
	uint64_t via_held, via_garbage; /* selected objects that no interpreter or thread root reaches */
};

#define PT_MAX_DEPTH 256

void pathtree_init(struct pathtree *t);
void pathtree_release(struct pathtree *t);
/* The child of step `parent` (PT_NONE: a top-level root) with this kind, root name and merge key;
 * created (its label `label`) when new. Returns its index, *created set when new. */
uint32_t pathtree_child(struct pathtree *t, uint32_t parent, uint32_t kind, const char *root, const char *key,
			const char *label, bool *created);

/* Orders every step's children (and the top-level roots) by retained bytes, largest first, then
 * by objects through them; ties keep their order. */
void pathtree_sort(struct pathtree *t);

#endif
