/* json_why.c: `pycensus why -f json` (report/json_docs.h): the selection, what it retains, and
 * every step of the merged shortest paths with its parent and its children in the text report's
 * order (largest retained first), so a reader can draw the tree or cut it where it likes. */
#include "common/compat.h"
#include "report/json_docs.h"

#include <string.h>

static void put_children(struct json *j, const char *key, const struct pathtree *t, uint32_t first)
{
	json_begin_array(j, key);
	for (uint32_t k = first; k != PT_NONE && k < t->n; k = t->v[k].next_sibling)
		json_u64(j, NULL, k);
	json_end_array(j);
}

static void put_step(struct json *j, const struct census *c, const struct pathtree *t, uint32_t i)
{
	const struct pt_step *s = &t->v[i];
	bool root = s->root[0] != '\0';

	json_begin_object(j, NULL);
	json_u64(j, "id", i);
	if (s->parent == PT_NONE)
		json_str(j, "parent", NULL);
	else
		json_u64(j, "parent", s->parent);
	json_str(j, "root", root ? s->root : NULL);
	json_str(j, "kind", root ? NULL : s->kind < c->nrows ? c->rows[s->kind].kind : "(object of no census row)");
	json_str(j, "label", root ? NULL : s->label);
	/* many references of one container lead here: the label is one example of them */
	json_bool(j, "any_item", !root && s->varied && strcmp(s->key, "[]") == 0);
	json_u64(j, "objects", s->objects);
	json_u64(j, "through", s->through);
	json_u64(j, "retained", s->retained);
	json_u64(j, "selected_here", s->ends);
	put_children(j, "children", t, s->first_child);
	json_end_object(j);
}

int report_paths_json(FILE *out, const struct census *c, const struct objgraph *og, const struct pathtree *t,
		      const char *what, struct pc_err *e)
{
	struct json j;

	json_doc_begin(&j, out, "why");
	json_target(&j, c);
	json_str(&j, "selection", what);
	json_u64(&j, "selected", t->selected);
	json_u64(&j, "selected_retained", t->selected_retained);
	json_u64(&j, "selected_retained_objects", t->selected_retained_objects);
	json_u64(&j, "via_held", t->via_held);
	json_u64(&j, "via_garbage", t->via_garbage);
	json_u64(&j, "too_deep", t->too_deep);
	json_graph(&j, og);
	json_census_notes(&j, c);
	put_children(&j, "roots", t, t->first_root);
	json_begin_array(&j, "steps");
	for (uint32_t i = 0; i < t->n; i++)
		put_step(&j, c, t, i);
	json_end_array(&j);
	return json_doc_end(&j, e);
}
