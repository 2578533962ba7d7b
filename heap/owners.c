/* owners.c: guppy3's dict ownership (an exact dict that is some object's __dict__ is
 * "dict of <owner kind>", any other "dict (no owner)") and the census rows. */
#include "common/compat.h"
#include "heap/walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

/* Static types are not in the heap, but their namespaces are: tp_dict up to 3.11; from 3.12 the
 * static builtin types keep tp_dict in the interpreter's side table (CPYTHON.md 4.3). */
static void static_type_dicts(struct walk *w)
{
	const struct pyoffsets *o = &w->p->L.off;
	struct pytype *tt = typetab_get(&w->types, w->p, w->p->type_type);
	int64_t type_slot;

	if (!tt)
		return;
	type_slot = tt - w->types.v;
	for (size_t i = 0; i < w->types.n; i++)
		if (!w->types.v[i].heap && w->types.v[i].dict)
			ptrmap_put(&w->owner, w->types.v[i].dict, (uint64_t)type_slot + 1);
	if (o->is_static_types >= 0 && o->static_type_state_size > 0 && o->sts_tp_dict >= 0) {
		/* 200 entries: _Py_MAX_MANAGED_STATIC_BUILTIN_TYPES / _Py_MAX_STATIC_BUILTIN_TYPES (3.12, 3.13) */
		size_t n = 200, sz = (size_t)o->static_type_state_size;
		uint8_t *tab = xmalloc(n * sz);
		if (mem_read(&w->p->mem, w->p->interp + (uint64_t)o->is_static_types, tab, n * sz, NULL) == 0) {
			for (size_t i = 0; i < n; i++) {
				uint64_t d;
				memcpy(&d, tab + i * sz + o->sts_tp_dict, 8);
				if (d)
					ptrmap_put(&w->owner, d, (uint64_t)type_slot + 1);
			}
		}
		free(tab);
	}
}

static void add_rows(struct walk *w, uint64_t nodict_count, uint64_t nodict_size)
{
	char kind[320];

	for (size_t i = 0; i < w->types.n; i++) {
		const struct pytype *ty = &w->types.v[i];
		if (ty->count)
			census_add(w->c, ty->name, ty->count, ty->size);
		if (ty->dict_of_count) {
			snprintf(kind, sizeof kind, "dict of %s", ty->name);
			census_add(w->c, kind, ty->dict_of_count, ty->dict_of_size);
		}
	}
	if (nodict_count)
		census_add(w->c, "dict (no owner)", nodict_count, nodict_size);
}

void walk_owners(struct walk *w)
{
	uint64_t nodict_count = 0, nodict_size = 0;

	static_type_dicts(w);
	for (size_t i = 0; i < w->ndicts; i++) {
		uint64_t slot;
		if (ptrmap_get(&w->owner, w->dicts[i].addr, &slot)) {
			w->types.v[slot - 1].dict_of_count++;
			w->types.v[slot - 1].dict_of_size += w->dicts[i].size;
		} else {
			nodict_count++;
			nodict_size += w->dicts[i].size;
		}
	}
	add_rows(w, nodict_count, nodict_size);
}
