/* json_leaks.c: `pycensus leaks -f json` (report/json_docs.h): the kinds that grew and, per
 * suspect, the path most of its objects share (report/leaks.h leak_main_path) and their common
 * dominator. */
#include "common/compat.h"
#include "report/json_docs.h"

#include <string.h>

static const char *kind_name(const struct census *c, uint32_t kind)
{
	return kind < c->nrows ? c->rows[kind].kind : "?";
}

static void put_growth(struct json *j, const struct leak_report *r)
{
	json_begin_array(j, "growth");
	for (size_t i = 0; i < r->ngrowth; i++) {
		const struct leak_growth *g = &r->growth[i];

		json_begin_object(j, NULL);
		json_str(j, "kind", kind_name(r->c, g->kind));
		json_i64(j, "count_delta", g->dcount);
		json_i64(j, "size_delta", g->dbytes);
		json_u64(j, "count", g->kind < r->c->nrows ? r->c->rows[g->kind].count : 0);
		json_u64(j, "size", g->kind < r->c->nrows ? r->c->rows[g->kind].size : 0);
		json_end_object(j);
	}
	json_end_array(j);
}

void json_main_path(struct json *j, const struct census *c, const struct pathtree *t, uint64_t *through)
{
	uint32_t steps[PT_MAX_DEPTH];
	size_t n = leak_main_path(t, steps, PT_MAX_DEPTH);

	*through = n ? t->v[steps[n - 1]].through : 0;
	json_begin_array(j, "path");
	for (size_t i = 0; i < n; i++) {
		const struct pt_step *p = &t->v[steps[i]];
		bool root = p->root[0] != '\0';

		json_begin_object(j, NULL);
		json_str(j, "root", root ? p->root : NULL);
		json_str(j, "label", root ? NULL : p->varied && strcmp(p->key, "[]") == 0 ? "[*]" : p->label);
		json_str(j, "kind", root ? NULL : kind_name(c, p->kind));
		json_u64(j, "through", p->through);
		json_end_object(j);
	}
	json_end_array(j);
}

static void put_dominator(struct json *j, const struct leak_report *r, const struct leak_suspect *s)
{
	if (s->dominator == GRAPH_NONE) {
		json_str(j, "dominator", NULL);
		return;
	}
	json_begin_object(j, "dominator");
	json_u64(j, "address", r->og->g.addr[s->dominator]);
	json_str(j, "kind", kind_name(r->c, r->og->g.kind[s->dominator]));
	json_str(j, "description", s->dominator_brief);
	json_u64(j, "retained", s->dominator_retained);
	json_u64(j, "dominated", s->dominated);
	json_end_object(j);
}

static void put_suspect(struct json *j, const struct leak_report *r, const struct leak_suspect *s)
{
	uint64_t through;

	json_begin_object(j, NULL);
	json_str(j, "kind", kind_name(r->c, s->g.kind));
	json_i64(j, "count_delta", s->g.dcount);
	json_i64(j, "size_delta", s->g.dbytes);
	json_bool(j, "new_only", s->new_only);
	json_u64(j, "selected", s->t.selected);
	json_u64(j, "selected_retained", s->t.selected_retained);
	json_main_path(j, r->c, &s->t, &through);
	json_u64(j, "held_through_path", through);
	put_dominator(j, r, s);
	json_end_object(j);
}

int report_leaks_json(FILE *out, const struct leak_report *r, struct pc_err *e)
{
	struct json j;

	json_doc_begin(&j, out, "leaks");
	json_target(&j, r->c);
	json_double(&j, "seconds", r->seconds);
	json_graph(&j, r->og);
	json_census_notes(&j, r->c);
	put_growth(&j, r);
	json_begin_array(&j, "suspects");
	for (size_t i = 0; i < r->nsuspects; i++)
		put_suspect(&j, r, &r->suspects[i]);
	json_end_array(&j);
	return json_doc_end(&j, e);
}
