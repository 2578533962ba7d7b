/* retained.c: `pycensus retained` as text and CSV (report/retained.h). */
#include "common/compat.h"
#include "report/retained.h"

#include <inttypes.h>
#include "report/escape.h"
#include "report/output.h"
#include "report/paths.h"
#include "report/units.h"

static const char *kind_name(const struct retained_report *r, uint32_t kind)
{
	return kind < r->c->nrows ? r->c->rows[kind].kind : "";
}

static double percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

static void put_kinds(FILE *out, const struct retained_report *r, size_t limit)
{
	char own[32], ret[32];

	fputs("\nKinds by retained size (each object's retained set counted once per kind):\n"
	      "   objects        own   retained       %  kind\n", out);
	for (size_t i = 0; i < r->nkinds && (!limit || i < limit); i++) {
		const struct retained_kind *k = &r->kinds[i];
		const struct census_row *row = &r->c->rows[k->kind];
		report_bytes(own, sizeof own, row->size);
		report_bytes(ret, sizeof ret, k->retained);
		fprintf(out, "%10" PRIu64 " %10s %10s %6.1f%%  ", row->count, own, ret, percent(k->retained, r->heap));
		report_put_text(out, row->kind, 320);
		fputc('\n', out);
	}
}

static void put_objects(FILE *out, const struct retained_report *r)
{
	char own[32], ret[32];

	fputs("\nLargest objects by retained size (the dominator tree: each object retains what only it\n"
	      "leads to; indented under the object that dominates it):\n"
	      "  retained       %   objects        own  object\n", out);
	for (size_t i = 0; i < r->nobjects; i++) {
		const struct retained_object *o = &r->objects[i];
		report_bytes(own, sizeof own, o->size);
		report_bytes(ret, sizeof ret, o->retained);
		fprintf(out, "%10s %6.1f%% %9" PRIu64 " %10s  %*s", ret, percent(o->retained, r->heap), o->retained_objects,
			o->root ? "" : own, (int)(2 * o->depth), "");
		if (o->root) {
			fprintf(out, "%s\n", o->root);
			continue;
		}
		report_put_text(out, kind_name(r, o->kind), 320);
		fprintf(out, " at 0x%" PRIx64, o->addr);
		if (o->brief[0]) {
			fputs("  ", out);
			report_put_text(out, o->brief, sizeof o->brief);
		}
		fputc('\n', out);
	}
}

int report_retained_text(FILE *out, const struct retained_report *r, size_t limit, struct pc_err *e)
{
	char heap[32];

	report_bytes(heap, sizeof heap, r->heap);
	fprintf(out, "pycensus retained: pid %ld, Python ", (long)r->c->pid);
	report_put_text(out, r->c->version, sizeof r->c->version);
	fprintf(out, "; %" PRIu64 " objects, %s\n", r->c->nobjects, heap);
	if (r->c->origin[0]) {
		report_put_text(out, r->c->origin, sizeof r->c->origin);
		fputc('\n', out);
	}
	report_graph_line(out, r->og);
	for (size_t i = 0; i < r->c->nwarnings; i++)
		fprintf(out, "warning: %s\n", r->c->warnings[i]);
	put_kinds(out, r, limit);
	put_objects(out, r);
	return output_check(out, "the report", e);
}

int report_retained_csv(FILE *out, const struct retained_report *r, struct pc_err *e)
{
	fputs("row,depth,address,kind,objects,bytes,retained_objects,retained_bytes,description\n", out);
	for (size_t i = 0; i < r->nkinds; i++) {
		const struct retained_kind *k = &r->kinds[i];
		const struct census_row *row = &r->c->rows[k->kind];
		fputs("kind,,,", out);
		report_put_csv_field(out, row->kind);
		fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",\n", row->count, row->size, k->retained_objects,
			k->retained);
	}
	for (size_t i = 0; i < r->nobjects; i++) {
		const struct retained_object *o = &r->objects[i];
		fprintf(out, "object,%u,", o->depth);
		if (o->root) {
			fputs(",", out);
			report_put_csv_field(out, o->root);
			fprintf(out, ",0,0,%" PRIu64 ",%" PRIu64 ",\n", o->retained_objects, o->retained);
			continue;
		}
		fprintf(out, "0x%" PRIx64 ",", o->addr);
		report_put_csv_field(out, kind_name(r, o->kind));
		fprintf(out, ",1,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", o->size, o->retained_objects, o->retained);
		report_put_csv_field(out, o->brief);
		fputc('\n', out);
	}
	fprintf(out, "# end,%zu,%zu\n", r->nkinds, r->nobjects);
	return output_check(out, "the report", e);
}
