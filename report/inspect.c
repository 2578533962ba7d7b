/* inspect.c: `pycensus inspect` as text and CSV (report/inspect.h). */
#include "common/compat.h"
#include "report/inspect.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "report/escape.h"
#include "report/leaks.h"
#include "report/output.h"
#include "report/paths.h"
#include "report/units.h"

static const char *const names[INS_NKINDS] = {
	"duplicate", "slots", "overallocated", "empty", "single", "boxed", "held",
};

static const char *const titles[INS_NKINDS] = {
	"Duplicate strings and bytes: equal values held as distinct objects",
	"__slots__: classes whose instances would be smaller with __slots__",
	"Over-allocated containers: storage far above their length",
	"Empty containers",
	"One-item containers",
	"Boxed numbers: equal int and float values held as distinct objects",
	"Held from C: objects whose refcount exceeds the references found",
};

const char *report_inspect_name(enum ins_kind k)
{
	return k < INS_NKINDS ? names[k] : "?";
}

static const char *kind_name(const struct census *c, uint32_t row)
{
	return row < c->nrows ? c->rows[row].kind : "?";
}

/* The path most of the finding's objects share, and the share. */
static size_t main_path(const struct ins_finding *f, uint32_t *steps, uint64_t *through)
{
	size_t n = leak_main_path(&f->t, steps, PT_MAX_DEPTH);

	*through = n ? f->t.v[steps[n - 1]].through : 0;
	return n;
}

static void put_holder(FILE *out, const struct census *c, const struct ins_finding *f)
{
	uint32_t steps[PT_MAX_DEPTH];
	uint64_t through;
	size_t n = main_path(f, steps, &through);

	if (!n)
		return;
	if (f->t.selected < f->objects)
		fprintf(out, "     held by (%.0f %% of %" PRIu64 " sampled): ",
			f->t.selected ? 100.0 * (double)through / (double)f->t.selected : 0, f->t.selected);
	else
		fprintf(out, "     held by (%.0f %% of them): ", f->t.selected ? 100.0 * (double)through / (double)f->t.selected : 0);
	leak_put_path(out, c, &f->t, steps, n);
	fputc('\n', out);
}

static void put_figures(FILE *out, const struct ins_finding *f)
{
	char now[32], save[32], after[32];

	report_bytes(now, sizeof now, f->bytes);
	report_bytes(save, sizeof save, f->save);
	report_bytes(after, sizeof after, f->after);
	switch (f->kind) {
	case INS_DUPLICATE:
		fprintf(out, " (%s): %" PRIu64 " copies, %s, %s to save\n", f->detail, f->objects, now, save);
		break;
	case INS_SLOTS:
		fprintf(out, ": %" PRIu64 " instances, %s now, %s with __slots__: %s to save\n     ", f->objects, now, after,
			save);
		report_put_text(out, f->detail, sizeof f->detail);
		fputc('\n', out);
		break;
	case INS_HELD:
		fprintf(out, ": %" PRIu64 " objects, %s, %s\n", f->objects, now, f->detail);
		break;
	default:
		fprintf(out, ": %" PRIu64 " objects, %s, %s to save\n", f->objects, now, save);
		if (f->detail[0]) {
			fputs("     ", out);
			report_put_text(out, f->detail, sizeof f->detail);
			fputc('\n', out);
		}
	}
}

static void put_section(FILE *out, const struct census *c, const struct inspection *r, enum ins_kind k)
{
	const char *fix = NULL;
	size_t n = 0;

	fprintf(out, "\n%s\n", titles[k]);
	if (k == INS_DUPLICATE) {
		fprintf(out, "  %" PRIu64 " values held more than once, %" PRIu64 " objects, ", r->dup_groups, r->dup_objects);
		report_put_bytes(out, r->dup_save);
		fputs(" in copies beyond the first (by hash); the largest, confirmed by reading:\n", out);
	}
	for (size_t i = 0; i < r->nf; i++) {
		const struct ins_finding *f = &r->f[i];
		if (f->kind != k)
			continue;
		fprintf(out, "  %zu. ", ++n);
		report_put_text(out, f->what, sizeof f->what);
		put_figures(out, f);
		put_holder(out, c, f);
		fix = f->fix;
	}
	if (k == INS_SLOTS)
		for (size_t i = 0; i < r->nskip; i++) {
			fputs("  left out: ", out);
			report_put_text(out, r->skip[i].what, sizeof r->skip[i].what);
			fprintf(out, " (%" PRIu64 " instances): ", r->skip[i].objects);
			report_put_text(out, r->skip[i].why, sizeof r->skip[i].why);
			fputc('\n', out);
		}
	if (!n && !(k == INS_SLOTS && r->nskip))
		fputs("  none\n", out);
	if (fix)
		fprintf(out, "  fix: %s\n", fix);
}

static void put_summary(FILE *out, const struct inspection *r)
{
	uint64_t total = 0;
	size_t shown = 0;

	fputs("\nSummary, most bytes to save first:\n       save        now   objects  inspection     what\n", out);
	for (size_t i = 0; i < r->nf; i++) {
		const struct ins_finding *f = &r->f[i];
		char save[32], now[32];
		if (!f->save)
			continue;
		report_bytes(save, sizeof save, f->save);
		report_bytes(now, sizeof now, f->bytes);
		fprintf(out, "  %9s  %9s  %8" PRIu64 "  %-13s  ", save, now, f->objects, names[f->kind]);
		report_put_text(out, f->what, 80);
		fputc('\n', out);
		total += f->save;
		shown++;
	}
	if (!shown)
		fputs("  nothing to save\n", out);
	else {
		fputs("  total: ", out);
		report_put_bytes(out, total);
		fputs(" (an instance's __dict__ may count twice: under its class's __slots__ and as a container)\n", out);
	}
}

int report_inspect_text(FILE *out, const struct census *c, const struct objgraph *og, const struct inspection *r,
			const struct inspect_opts *o, struct pc_err *e)
{
	fprintf(out, "pycensus inspect: pid %ld, Python ", (long)c->pid);
	report_put_text(out, c->version, sizeof c->version);
	if (c->origin[0]) { /* a file: the process as it was then */
		fputs("; ", out);
		report_put_text(out, c->origin, sizeof c->origin);
	}
	fprintf(out, "; %" PRIu64 " str/bytes/int/float values compared", r->values);
	if (r->unhashed || r->big_ints)
		fprintf(out, " (%" PRIu64 " str/bytes and %" PRIu64 " ints of more than 60 bits not)", r->unhashed, r->big_ints);
	if (r->unconfirmed)
		fprintf(out, "; %" PRIu64 " objects left out: changed since the census", r->unconfirmed);
	fputc('\n', out);
	report_graph_line(out, og);
	for (size_t i = 0; i < c->nwarnings; i++)
		fprintf(out, "warning: %s\n", c->warnings[i]);
	put_summary(out, r);
	for (unsigned k = 0; k < INS_NKINDS; k++)
		put_section(out, c, r, (enum ins_kind)k);
	fprintf(out, "\n(at most %zu findings per inspection; classes with at least %" PRIu64 " instances advised)\n", o->top,
		o->min_instances);
	return output_check(out, "the report", e);
}

static void csv_u64(FILE *out, uint64_t v)
{
	fprintf(out, "%" PRIu64 ",", v);
}

int report_inspect_csv(FILE *out, const struct census *c, const struct inspection *r, struct pc_err *e)
{
	fputs("rank,inspection,objects,bytes,save,after,kind,what,detail,holder,holder_share\n", out);
	for (size_t i = 0; i < r->nf; i++) {
		const struct ins_finding *f = &r->f[i];
		uint32_t steps[PT_MAX_DEPTH];
		uint64_t through;
		size_t n = main_path(f, steps, &through), len = 0;
		char *path = NULL;
		FILE *m = open_memstream(&path, &len);

		if (m) {
			leak_put_path(m, c, &f->t, steps, n);
			fclose(m);
		}
		fprintf(out, "%zu,%s,", i + 1, names[f->kind]);
		csv_u64(out, f->objects);
		csv_u64(out, f->bytes);
		csv_u64(out, f->save);
		csv_u64(out, f->after);
		report_put_csv_field(out, kind_name(c, f->row));
		fputc(',', out);
		report_put_csv_field(out, f->what);
		fputc(',', out);
		report_put_csv_field(out, f->detail);
		fputc(',', out);
		report_put_csv_field(out, path ? path : "");
		fprintf(out, ",%.1f\n", f->t.selected ? 100.0 * (double)through / (double)f->t.selected : 0);
		free(path);
	}
	fprintf(out, "# duplicates,%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", r->dup_groups, r->dup_objects, r->dup_save);
	for (size_t i = 0; i < r->nskip; i++) {
		fputs("# slots_left_out,", out);
		report_put_csv_field(out, r->skip[i].what);
		fprintf(out, ",%" PRIu64 ",", r->skip[i].objects);
		report_put_csv_field(out, r->skip[i].why);
		fputc('\n', out);
	}
	fprintf(out, "# unconfirmed,%" PRIu64 "\n", r->unconfirmed);
	return output_check(out, "the report", e);
}
