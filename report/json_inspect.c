/* json_inspect.c: `pycensus inspect -f json` (report/inspect.h, docs/schema/pycensus.json's
 * "inspect"): the figures of the text report's header, every finding in the summary's order (most
 * bytes to save first) with its fix and the path that holds most of its objects, and the classes
 * the __slots__ advisor left out. Its numbers are the CSV's, field for field. */
#include "common/compat.h"
#include "report/inspect.h"

#include "report/json_docs.h"

static void put_finding(struct json *j, const struct census *c, const struct ins_finding *f, size_t rank)
{
	uint64_t through;

	json_begin_object(j, NULL);
	json_u64(j, "rank", rank);
	json_str(j, "inspection", report_inspect_name(f->kind));
	json_str(j, "kind", f->row < c->nrows ? c->rows[f->row].kind : "?");
	json_str(j, "what", f->what);
	json_str(j, "detail", f->detail);
	json_str(j, "fix", f->fix);
	json_u64(j, "objects", f->objects);
	json_u64(j, "bytes", f->bytes);
	json_u64(j, "save", f->save);
	json_u64(j, "after", f->after);
	json_u64(j, "selected", f->t.selected);
	json_main_path(j, c, &f->t, &through);
	json_u64(j, "held_through_path", through);
	json_end_object(j);
}

static void put_left_out(struct json *j, const struct inspection *r)
{
	json_begin_array(j, "slots_left_out");
	for (size_t i = 0; i < r->nskip; i++) {
		json_begin_object(j, NULL);
		json_str(j, "class", r->skip[i].what);
		json_u64(j, "instances", r->skip[i].objects);
		json_str(j, "why", r->skip[i].why);
		json_end_object(j);
	}
	json_end_array(j);
}

int report_inspect_json(FILE *out, const struct census *c, const struct objgraph *og, const struct inspection *r,
			const struct inspect_opts *o, struct pc_err *e)
{
	struct json j;
	uint64_t total = 0;

	json_doc_begin(&j, out, "inspect");
	json_target(&j, c);
	json_graph(&j, og);
	json_census_notes(&j, c);
	json_u64(&j, "top", o->top);
	json_u64(&j, "min_instances", o->min_instances);
	json_u64(&j, "values", r->values);
	json_u64(&j, "unhashed", r->unhashed);
	json_u64(&j, "big_ints", r->big_ints);
	json_u64(&j, "unconfirmed", r->unconfirmed);
	json_begin_object(&j, "duplicates");
	json_u64(&j, "groups", r->dup_groups);
	json_u64(&j, "objects", r->dup_objects);
	json_u64(&j, "save", r->dup_save);
	json_end_object(&j);
	for (size_t i = 0; i < r->nf; i++)
		total += r->f[i].save;
	json_u64(&j, "save", total);
	json_begin_array(&j, "findings");
	for (size_t i = 0; i < r->nf; i++)
		put_finding(&j, c, &r->f[i], i + 1);
	json_end_array(&j);
	put_left_out(&j, r);
	return json_doc_end(&j, e);
}
