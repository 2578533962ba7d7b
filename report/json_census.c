/* json_census.c: what the JSON documents share: the opening fields, the target, a census's notes
 * and the object graph's account. */
#include "common/compat.h"
#include "report/json_docs.h"

#include "report/output.h"

void json_doc_begin(struct json *j, FILE *out, const char *document)
{
	json_init(j, out, true);
	json_begin_object(j, NULL);
	json_u64(j, "schema_version", JSON_SCHEMA_VERSION);
	json_str(j, "document", document);
}

int json_doc_end(struct json *j, struct pc_err *e)
{
	json_end_object(j);
	json_finish(j);
	return output_check(j->out, "json report", e);
}

void json_target(struct json *j, const struct census *c)
{
	json_i64(j, "pid", c->pid);
	json_str(j, "python", c->version);
	json_str(j, "build", c->build);
}

void json_census_notes(struct json *j, const struct census *c)
{
	json_bool(j, "partial", c && census_partial(c));
	json_begin_object(j, "dropped");
	for (size_t i = 0; c && i < c->ndropped; i++)
		json_u64(j, c->dropped[i].kind, c->dropped[i].count);
	json_end_object(j);
	json_u64(j, "dropped_pools", c ? c->dropped_pools : 0);
	json_begin_array(j, "warnings");
	for (size_t i = 0; c && i < c->nwarnings; i++)
		json_str(j, NULL, c->warnings[i]);
	json_end_array(j);
}

void json_graph(struct json *j, const struct objgraph *og)
{
	const struct graph *g = &og->g;

	json_begin_object(j, "graph");
	json_u64(j, "objects", g->n > OG_FIRST ? g->n - OG_FIRST : 0);
	json_u64(j, "references", g->nedges);
	json_u64(j, "held_from_c", g->held);
	json_u64(j, "unreachable", g->unreachable);
	json_u64(j, "opaque_types", og->opaque_types);
	json_u64(j, "opaque_objects", og->opaque_objects);
	json_end_object(j);
}
