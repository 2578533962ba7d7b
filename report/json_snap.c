/* json_snap.c: one census as JSON (`snap -f json`, `replay -f json`): what the text header says,
 * as numbers, and the partition's rows (report/json_docs.h). */
#include "common/compat.h"
#include "report/json_docs.h"

#include <string.h>

/* How the census was read and what it cost (the text report's "objects:" line). */
static void put_census(struct json *j, const struct census *c)
{
	json_begin_object(j, "census");
	json_u64(j, "objects", c->nobjects);
	json_u64(j, "size", c->total_size);
	json_str(j, "size_semantics", c->size_alloc ? "alloc" : "getsizeof");
	json_str(j, "arena_source", c->arena_source[0] ? c->arena_source : NULL);
	json_u64(j, "arenas", c->narenas);
	json_u64(j, "objects_in_arenas", c->objects_in_arenas);
	json_u64(j, "objects_outside_arenas", c->objects_outside);
	json_u64(j, "objects_followed", c->objects_followed);
	json_u64(j, "objects_static", c->objects_static);
	json_u64(j, "gc_tracked", c->gc_tracked);
	json_str(j, "mode", c->replayed ? "replayed" : c->nonblocking ? "nonblocking" : c->resumed_after_copy ? "copy" : "census");
	json_double(j, "pause_s", c->pause_s);
	json_u64(j, "stream_windows", c->stream_windows);
	json_double(j, "census_s", c->wall_s);
	json_u64(j, "bytes_read", c->bytes_read);
	json_u64(j, "syscalls", c->syscalls);
	json_end_object(j);
}

/* The process and interpreter state at the census (the text report's "state:" line), or null. */
static void put_state(struct json *j, const struct census *c)
{
	if (!c->have_summary) {
		json_str(j, "state", NULL);
		return;
	}
	json_begin_object(j, "state");
	json_u64(j, "rss", c->rss);
	json_u64(j, "arena_bytes", c->arena_bytes);
	json_u64(j, "arena_used", c->arena_used);
	json_u64(j, "threads", c->nthreads);
	json_bool(j, "gc_enabled", c->gc_enabled);
	json_begin_array(j, "gc_counts");
	for (unsigned g = 0; g < c->gc_ngen && g < PC_ARRAY_LEN(c->gc_count); g++)
		json_i64(j, NULL, c->gc_count[g]);
	json_end_array(j);
	json_begin_array(j, "gc_collections");
	for (unsigned g = 0; g < c->gc_ngen && g < PC_ARRAY_LEN(c->gc_collections); g++)
		json_i64(j, NULL, c->gc_collections[g]);
	json_end_array(j);
	json_end_object(j);
}

static void put_rows(struct json *j, const struct census *c, const struct partition *p, bool by_kind)
{
	json_begin_array(j, "rows");
	for (size_t i = 0; i < p->nrows; i++) {
		const struct partition_row *r = &p->rows[i];
		size_t k = by_kind ? census_row_index(c, r->kind) : STRINDEX_NONE;

		json_begin_object(j, NULL);
		json_u64(j, "index", i);
		json_str(j, "kind", r->kind);
		json_u64(j, "count", r->count);
		json_u64(j, "size", r->size);
		json_u64(j, "cumulative", r->cumulative);
		if (k != STRINDEX_NONE) { /* the treemap's levels: the module, then the type */
			json_str(j, "type", c->rows[k].type);
			json_str(j, "module", c->rows[k].module);
		}
		json_end_object(j);
	}
	json_end_array(j);
}

void json_snap_body(struct json *j, const struct census *c, const struct partition *p, const char *by)
{
	json_target(j, c);
	json_str(j, "by", by);
	json_str(j, "kind_header", p->kind_header);
	put_census(j, c);
	put_state(j, c);
	json_census_notes(j, c);
	json_u64(j, "count", p->count);
	json_u64(j, "size", p->size);
	put_rows(j, c, p, strcmp(by, "kind") == 0);
}

int report_snap_json(FILE *out, const struct census *c, const struct partition *p, const char *by, struct pc_err *e)
{
	struct json j;

	json_doc_begin(&j, out, "snap");
	json_snap_body(&j, c, p, by);
	return json_doc_end(&j, e);
}
