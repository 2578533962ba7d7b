/* owners.c: guppy3's dict ownership (an exact dict that is some object's __dict__ is
 * "dict of <owner kind>", any other "dict (no owner)") and the census rows. */
#include "common/compat.h"
#include "census/walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

/* Static types are not in the heap, but their namespaces are: tp_dict up to 3.11; from 3.12 the
 * static builtin types keep tp_dict in the interpreter's side table (docs/cpython.md 4.3). */
static void static_type_dicts(struct walk *w)
{
	struct pytype *tt = typetab_get(&w->types, w->p, w->p->type_type);
	uint64_t dicts[256];
	size_t n = walk_side_table_dicts(w, dicts, PC_ARRAY_LEN(dicts));
	int64_t type_slot;

	if (!tt)
		return;
	type_slot = tt - w->types.v;
	for (size_t i = 0; i < w->types.n; i++)
		if (!w->types.v[i].heap && w->types.v[i].dict)
			ptrmap_put(&w->owner, w->types.v[i].dict, (uint64_t)type_slot + 1);
	for (size_t i = 0; i < n; i++)
		ptrmap_put(&w->owner, dicts[i], (uint64_t)type_slot + 1);
}

static void add_rows(struct walk *w, uint64_t nodict_count, uint64_t nodict_size)
{
	char kind[320];

	census_reserve(w->c, w->types.n + 1);
	for (size_t i = 0; i < w->types.n; i++) {
		const struct pytype *ty = &w->types.v[i];
		if (ty->count)
			census_add_typed(w->c, ty->name, ty->name, ty->module ? ty->module : "builtins", ty->count, ty->size);
		if (ty->dict_of_count) {
			snprintf(kind, sizeof kind, "dict of %s", ty->name);
			census_add_typed(w->c, kind, "dict", "builtins", ty->dict_of_count, ty->dict_of_size);
		}
	}
	if (nodict_count)
		census_add_typed(w->c, "dict (no owner)", "dict", "builtins", nodict_count, nodict_size);
}

/* A dict to its owner's "dict of" row, or to the ownerless ones (nodict[0] count, [1] size). */
static void own(struct walk *w, struct dict_seen d, uint64_t nodict[2])
{
	uint64_t slot;

	if (ptrmap_get(&w->owner, d.addr, &slot)) {
		w->types.v[slot - 1].dict_of_count++;
		w->types.v[slot - 1].dict_of_size += d.size;
	} else {
		nodict[0]++;
		nodict[1] += d.size;
	}
}

void walk_owners(struct walk *w)
{
	const uint64_t mask = (UINT64_C(1) << DICT_ADDR_BITS) - 1;
	uint64_t nodict[2] = { 0, 0 };

	static_type_dicts(w);
	for (size_t i = 0; i < w->ndicts; i++)
		own(w, (struct dict_seen){ (w->dicts[i] & mask) << 3, w->dicts[i] >> DICT_ADDR_BITS }, nodict);
	for (size_t i = 0; i < w->ndicts_big; i++)
		own(w, w->dicts_big[i], nodict);
	add_rows(w, nodict[0], nodict[1]);
}
