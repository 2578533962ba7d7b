/* json_retained.c: `pycensus retained -f json` (report/json_docs.h): every kind by retained size
 * (as the CSV's row=kind lines) and the listed objects of the dominator tree, depth first. */
#include "common/compat.h"
#include "report/json_docs.h"

static void put_kinds(struct json *j, const struct retained_report *r)
{
	json_begin_array(j, "kinds");
	for (size_t i = 0; i < r->nkinds; i++) {
		const struct retained_kind *k = &r->kinds[i];
		const struct census_row *row = &r->c->rows[k->kind];

		json_begin_object(j, NULL);
		json_str(j, "kind", row->kind);
		json_u64(j, "count", row->count);
		json_u64(j, "size", row->size);
		json_u64(j, "retained_objects", k->retained_objects);
		json_u64(j, "retained", k->retained);
		json_end_object(j);
	}
	json_end_array(j);
}

static void put_objects(struct json *j, const struct retained_report *r)
{
	json_begin_array(j, "objects");
	for (size_t i = 0; i < r->nobjects; i++) {
		const struct retained_object *o = &r->objects[i];

		json_begin_object(j, NULL);
		json_u64(j, "depth", o->depth);
		json_str(j, "root", o->root);
		if (o->root)
			json_str(j, "address", NULL);
		else
			json_u64(j, "address", o->addr);
		json_str(j, "kind", o->root ? NULL : o->kind < r->c->nrows ? r->c->rows[o->kind].kind : "");
		json_u64(j, "size", o->root ? 0 : o->size);
		json_u64(j, "retained_objects", o->retained_objects);
		json_u64(j, "retained", o->retained);
		json_str(j, "description", o->root ? NULL : o->brief);
		json_end_object(j);
	}
	json_end_array(j);
}

int report_retained_json(FILE *out, const struct retained_report *r, struct pc_err *e)
{
	struct json j;

	json_doc_begin(&j, out, "retained");
	json_target(&j, r->c);
	json_u64(&j, "heap_objects", r->c->nobjects);
	json_u64(&j, "heap", r->heap);
	json_graph(&j, r->og);
	json_census_notes(&j, r->c);
	put_kinds(&j, r);
	put_objects(&j, r);
	return json_doc_end(&j, e);
}
