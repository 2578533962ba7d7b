/* paths.c: `pycensus why` as text and as Graphviz (report/paths.h). */
#include "common/compat.h"
#include "report/paths.h"

#include <inttypes.h>
#include <string.h>
#include "report/escape.h"
#include "report/output.h"
#include "report/units.h"

static const char *kind_of(const struct census *c, const struct pt_step *s)
{
	if (s->root[0])
		return s->root;
	return s->kind < c->nrows ? c->rows[s->kind].kind : "(object of no census row)";
}

/* "['cache']", or "[*] e.g. ['req-17']" when many references of the container lead here. */
static void step_label(const struct pt_step *s, char *buf, size_t len)
{
	if (s->varied && strcmp(s->key, "[]") == 0)
		snprintf(buf, len, "[*] e.g. %s", s->label);
	else
		snprintf(buf, len, "%s", s->label);
}

void report_graph_line(FILE *out, const struct objgraph *og)
{
	const struct graph *g = &og->g;

	fprintf(out, "graph: %" PRIu32 " objects, %" PRIu64 " references; %" PRIu64 " held from C (refcount above the references found), %" PRIu64
		" unreachable (garbage cycles)",
		g->n > OG_FIRST ? g->n - OG_FIRST : 0, g->nedges, g->held, g->unreachable);
	if (og->opaque_types)
		fprintf(out, "; %" PRIu64 " objects of %" PRIu32 " C types whose fields were read word by word",
			og->opaque_objects, og->opaque_types);
	fputc('\n', out);
}

static void put_step(FILE *out, const struct census *c, const struct pathtree *t, uint32_t i, unsigned depth)
{
	const struct pt_step *s = &t->v[i];
	char label[PT_LABEL + 16], bytes[32];

	report_bytes(bytes, sizeof bytes, s->retained);
	fprintf(out, "%10" PRIu64 " %10s  %*s", s->through, bytes, (int)(2 * depth), "");
	if (!s->root[0]) {
		step_label(s, label, sizeof label);
		report_put_text(out, label, sizeof label);
		fputs(" -> ", out);
	}
	report_put_text(out, kind_of(c, s), 320);
	if (s->objects > 1)
		fprintf(out, "  (%" PRIu64 " objects)", s->objects);
	if (s->ends)
		fputs(s->ends == s->through ? "  [selected]" : "  [some selected]", out);
	fputc('\n', out);
}

struct hidden {
	uint64_t min;       /* bytes a branch must retain to be shown */
	uint64_t branches, through, retained;
};

/* The step after i depth first (into i's children when `descend`), PT_NONE after the last:
 * without recursion, as a path can be PT_MAX_DEPTH long. */
static uint32_t after(const struct pathtree *t, uint32_t i, unsigned *depth, bool descend)
{
	if (descend && t->v[i].first_child != PT_NONE) {
		++*depth;
		return t->v[i].first_child;
	}
	while (t->v[i].next_sibling == PT_NONE) {
		if (t->v[i].parent == PT_NONE)
			return PT_NONE;
		i = t->v[i].parent;
		--*depth;
	}
	return t->v[i].next_sibling;
}

/* Branches retaining less than h->min are left out and summed in h. */
static void put_tree(FILE *out, const struct census *c, const struct pathtree *t, struct hidden *h)
{
	unsigned depth = 0;
	uint32_t i = t->first_root;

	while (i != PT_NONE) {
		if (t->v[i].retained < h->min) {
			h->branches++;
			h->through += t->v[i].through;
			h->retained += t->v[i].retained;
			i = after(t, i, &depth, false);
			continue;
		}
		put_step(out, c, t, i, depth);
		i = after(t, i, &depth, true);
	}
}

int report_paths_text(FILE *out, const struct census *c, const struct objgraph *og, const struct pathtree *t,
		      const char *what, double min_percent, struct pc_err *e)
{
	struct hidden h = { (uint64_t)((double)t->selected_retained * min_percent / 100), 0, 0, 0 };
	char bytes[32];

	report_bytes(bytes, sizeof bytes, t->selected_retained);
	fprintf(out, "pycensus why: pid %ld, Python ", (long)c->pid);
	report_put_text(out, c->version, sizeof c->version);
	if (c->origin[0]) {
		fputs("; ", out);
		report_put_text(out, c->origin, sizeof c->origin);
	}
	fprintf(out, "\n%" PRIu64 " %s, retaining %" PRIu64 " bytes (%s) in %" PRIu64
		" objects; shortest paths from the roots, merged\n", t->selected, what, t->selected_retained, bytes,
		t->selected_retained_objects);
	report_graph_line(out, og);
	for (size_t i = 0; i < c->nwarnings; i++)
		fprintf(out, "warning: %s\n", c->warnings[i]);
	fputs("\n  selected   retained  how each step holds the next -> kind\n", out);
	put_tree(out, c, t, &h);
	if (h.branches) {
		report_bytes(bytes, sizeof bytes, h.retained);
		fprintf(out, "%10" PRIu64 " %10s  (%" PRIu64 " smaller branch%s, each retaining less than %g %% of the selection: --min 0 shows them)\n",
			h.through, bytes, h.branches, h.branches == 1 ? "" : "es", min_percent);
	}
	if (t->via_held)
		fprintf(out, "\n%" PRIu64 " of them are reached from no Python root: only through objects whose refcount counts references pycensus did not find (held from C: an extension's state, a C local, a C type's fields)\n",
			t->via_held);
	if (t->via_garbage)
		fprintf(out, "%" PRIu64 " of them are unreachable: garbage cycles the collector has not freed yet\n", t->via_garbage);
	if (t->too_deep)
		fprintf(out, "%" PRIu64 " of them lie deeper than %u steps from every root and are not shown\n", t->too_deep,
			PT_MAX_DEPTH);
	return output_check(out, "the report", e);
}

static void dot_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(out, "\\\\x%02x", ch);
		else
			fputc(ch, out);
	}
}

int report_paths_dot(FILE *out, const struct census *c, const struct pathtree *t, const char *what, struct pc_err *e)
{
	char label[PT_LABEL + 16], bytes[32];

	fputs("digraph why {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n  label=\"", out);
	fprintf(out, "pid %ld: %" PRIu64 " ", (long)c->pid, t->selected);
	dot_text(out, what);
	fputs("\";\n", out);
	for (uint32_t i = 0; i < t->n; i++) {
		const struct pt_step *s = &t->v[i];
		report_bytes(bytes, sizeof bytes, s->retained);
		fprintf(out, "  s%" PRIu32 " [label=\"", i);
		dot_text(out, kind_of(c, s));
		fprintf(out, "\\n%" PRIu64 " selected, %s retained\"%s];\n", s->through, bytes,
			s->ends ? ", style=bold" : "");
		if (s->parent == PT_NONE)
			continue;
		step_label(s, label, sizeof label);
		fprintf(out, "  s%" PRIu32 " -> s%" PRIu32 " [label=\"", s->parent, i);
		dot_text(out, label);
		fputs("\"];\n", out);
	}
	fputs("}\n", out);
	return output_check(out, "the report", e);
}
