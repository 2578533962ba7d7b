/* retained.h: the report of `pycensus retained`: the kinds that keep the most memory alive (each
 * object's retained set counted once per kind) and the dominator tree's largest objects, each with
 * its own and retained size and a short description. */
#ifndef PC_REPORT_RETAINED_H
#define PC_REPORT_RETAINED_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "census/objgraph.h"
#include "model/census.h"

struct retained_kind {
	uint32_t kind;                   /* census row */
	uint64_t retained, retained_objects;
};

struct retained_object {
	unsigned depth;                  /* in the dominator tree: 0 under a root */
	uint32_t node;
	uint64_t addr, size, retained, retained_objects;
	uint32_t kind;                   /* census row, or GRAPH_NONE for a root */
	const char *root;                /* a root's name, NULL for an object */
	char brief[64];
};

struct retained_report {
	const struct census *c;
	const struct objgraph *og;
	uint64_t heap;                   /* bytes of every object counted */
	struct retained_kind *kinds;     /* largest retained first */
	size_t nkinds;
	struct retained_object *objects; /* the dominator tree, depth first, largest first */
	size_t nobjects;
};

/* Errors: OUTPUT. */
int report_retained_text(FILE *out, const struct retained_report *r, size_t limit, struct pc_err *e);
int report_retained_csv(FILE *out, const struct retained_report *r, struct pc_err *e);

#endif
