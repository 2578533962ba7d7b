/* leaks.c: `pycensus leaks` as text (report/leaks.h). */
#include "common/compat.h"
#include "report/leaks.h"

#include <inttypes.h>
#include <string.h>
#include "report/escape.h"
#include "report/output.h"
#include "report/paths.h"
#include "report/units.h"

size_t leak_main_path(const struct pathtree *t, uint32_t *steps, size_t max)
{
	uint32_t best = PT_NONE;
	size_t n = 0;

	for (uint32_t i = t->first_root; i != PT_NONE; i = t->v[i].next_sibling)
		if (best == PT_NONE || t->v[i].through > t->v[best].through)
			best = i;
	while (best != PT_NONE && n < max) {
		uint64_t half = (t->v[best].through + 1) / 2;
		uint32_t next = PT_NONE;
		steps[n++] = best;
		for (uint32_t k = t->v[best].first_child; k != PT_NONE; k = t->v[k].next_sibling)
			if (t->v[k].through >= half && (next == PT_NONE || t->v[k].through > t->v[next].through))
				next = k;
		best = next;
	}
	return n;
}

static const char *kind_name(const struct census *c, uint32_t kind)
{
	return kind < c->nrows ? c->rows[kind].kind : "?";
}

static void put_signed_bytes(FILE *out, int64_t b)
{
	fputc(b < 0 ? '-' : '+', out);
	report_put_bytes(out, (uint64_t)(b < 0 ? -b : b));
}

static void put_growth(FILE *out, const struct leak_report *r, size_t limit)
{
	fputs("\nKinds that grew, most bytes first:\n  objects      bytes  now objects  kind\n", out);
	for (size_t i = 0; i < r->ngrowth && (!limit || i < limit); i++) {
		const struct leak_growth *g = &r->growth[i];
		char b[32];
		report_bytes(b, sizeof b, (uint64_t)(g->dbytes < 0 ? -g->dbytes : g->dbytes));
		fprintf(out, "%+9" PRId64 " %c%9s %11" PRIu64 "  ", g->dcount, g->dbytes < 0 ? '-' : '+', b,
			r->c->rows[g->kind].count);
		report_put_text(out, kind_name(r->c, g->kind), 320);
		fputc('\n', out);
	}
}

void leak_put_path(FILE *out, const struct census *c, const struct pathtree *t, const uint32_t *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct pt_step *s = &t->v[steps[i]];
		if (s->root[0]) {
			report_put_text(out, s->root, sizeof s->root);
			continue;
		}
		fputc(' ', out);
		if (s->varied && strcmp(s->key, "[]") == 0)
			fputs("[*]", out);
		else
			report_put_text(out, s->label, sizeof s->label);
		fputs(" -> ", out);
		report_put_text(out, kind_name(c, s->kind), 320);
	}
}

static void put_suspect(FILE *out, const struct leak_report *r, size_t k)
{
	const struct leak_suspect *s = &r->suspects[k];
	uint32_t steps[PT_MAX_DEPTH];
	size_t n = leak_main_path(&s->t, steps, PT_MAX_DEPTH);
	uint64_t through = n ? s->t.v[steps[n - 1]].through : 0;
	char b[32];

	fprintf(out, "\nSuspect %zu: ", k + 1);
	report_put_text(out, kind_name(r->c, s->g.kind), 320);
	fprintf(out, " grew by %+" PRId64 " objects (", s->g.dcount);
	put_signed_bytes(out, s->g.dbytes);
	fprintf(out, ") in %.1f s", r->seconds);
	if (!n) {
		fputs("; none of its objects could be placed in the graph\n", out);
		return;
	}
	report_bytes(b, sizeof b, s->t.selected_retained);
	fprintf(out, "; %" PRIu64 " of the %" PRIu64 " %s (%.0f %%, retaining %s) are held through:\n  ", through,
		s->t.selected, s->new_only ? "objects new since the first census" : "objects of the kind",
		s->t.selected ? 100.0 * (double)through / (double)s->t.selected : 0, b);
	leak_put_path(out, r->c, &s->t, steps, n);
	fputc('\n', out);
	if (s->dominator == GRAPH_NONE) {
		fputs("  No single object dominates them: freeing any one holder would not free them all.\n", out);
		return;
	}
	report_bytes(b, sizeof b, s->dominator_retained);
	fprintf(out, "  Their common dominator: %s at 0x%" PRIx64, kind_name(r->c, r->og->g.kind[s->dominator]),
		r->og->g.addr[s->dominator]);
	if (s->dominator_brief[0]) {
		fputs(" (", out);
		report_put_text(out, s->dominator_brief, sizeof s->dominator_brief);
		fputc(')', out);
	}
	fprintf(out, ", retaining %s: it alone keeps %" PRIu64 " of them alive.\n", b, s->dominated);
}

int report_leaks_text(FILE *out, const struct leak_report *r, size_t limit, struct pc_err *e)
{
	fprintf(out, "pycensus leaks: pid %ld, Python ", (long)r->c->pid);
	report_put_text(out, r->c->version, sizeof r->c->version);
	fprintf(out, "; two censuses %.1f s apart, the first the baseline\n", r->seconds);
	report_graph_line(out, r->og);
	for (size_t i = 0; i < r->c->nwarnings; i++)
		fprintf(out, "warning: %s\n", r->c->warnings[i]);
	if (!r->ngrowth) {
		fputs("\nNo kind grew between the two censuses: no leak suspect.\n", out);
		return output_check(out, "the report", e);
	}
	put_growth(out, r, limit);
	for (size_t k = 0; k < r->nsuspects; k++)
		put_suspect(out, r, k);
	return output_check(out, "the report", e);
}
