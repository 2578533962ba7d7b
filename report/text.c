/* text.c: the text report, guppy3's partition layout under a short pycensus header. */
#include "common/compat.h"
#include "report/text.h"

#include <inttypes.h>
#include <string.h>
#include "report/escape.h"
#include "report/units.h"
#include "report/output.h"

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}


static void put_target_line(FILE *out, const struct census *c)
{
	fprintf(out, "pycensus: pid %ld", (long)c->pid);
	if (c->version[0]) {
		fputs(", Python ", out);
		report_put_text(out, c->version, sizeof c->version);
	}
	if (c->build[0]) {
		fputs(", ", out);
		report_put_text(out, c->build, sizeof c->build);
	}
	fputc('\n', out);
	if (c->origin[0]) {
		report_put_text(out, c->origin, sizeof c->origin);
		fputc('\n', out);
	}
}

/* A free-threaded build's objects live in mimalloc's heaps: no pymalloc arenas, no GC lists. */
static bool mimalloc(const struct census *c)
{
	return strcmp(c->arena_source, "mimalloc") == 0;
}

static void put_cost_line(FILE *out, const struct census *c)
{
	if (mimalloc(c))
		fprintf(out, "objects: %" PRIu64 " (%" PRIu64 " in mimalloc's heaps", c->nobjects, c->objects_in_arenas);
	else
		fprintf(out, "objects: %" PRIu64 " (%" PRIu64 " in %" PRIu64 " pymalloc arena%s",
			c->nobjects, c->objects_in_arenas, c->narenas, plural(c->narenas));
	if (c->arena_source[0] && !mimalloc(c)) {
		fputs(" via ", out);
		report_put_text(out, c->arena_source, sizeof c->arena_source);
	}
	if (!mimalloc(c))
		fprintf(out, ", %" PRIu64 " on the GC lists outside them", c->objects_outside);
	fprintf(out, ", %" PRIu64 " found by references of which %" PRIu64 " static); ", c->objects_followed,
		c->objects_static);
	if (c->replayed)
		fprintf(out, "read from the file, census %.3f s; read ", c->wall_s);
	else if (c->nonblocking) /* never stopped: there is no pause to report */
		fprintf(out, "not stopped (--nonblocking), census %.3f s; read ", c->wall_s);
	else if (c->resumed_after_copy && c->stream_windows)
		fprintf(out, "pause %.3f s (for the interpreter's state; the arenas streamed and the rest read as it ran), census %.3f s; read ",
			c->pause_s, c->wall_s);
	else if (c->resumed_after_copy)
		fprintf(out, "pause %.3f s (for the copy; the rest read as it ran), census %.3f s; read ", c->pause_s,
			c->wall_s);
	else
		fprintf(out, "pause %.3f s (whole census), census %.3f s; read ", c->pause_s, c->wall_s);
	report_put_bytes(out, c->bytes_read);
	fprintf(out, " in %" PRIu64 " syscall%s\n", c->syscalls, plural(c->syscalls));
}

/* --size=alloc: how the attributed bytes reconcile with what pymalloc has allocated. */
static void put_alloc_line(FILE *out, const struct census *c)
{
	const uint64_t in = c->alloc.attributed_in_arenas, all = c->alloc.pymalloc_allocated;

	fputs("sizes: allocator footprint; pymalloc blocks allocated ", out);
	report_put_bytes(out, all);
	fputs(", claimed by objects and their buffers ", out);
	report_put_bytes(out, in);
	fputs(", unattributed ", out);
	report_put_bytes(out, all > in ? all - in : 0);
	fputs("; outside pymalloc ", out);
	report_put_bytes(out, c->alloc.outside_arenas);
	fputc('\n', out);
}

/* A file's census has the RSS the file recorded (a heap dump's, at its moment: cli/target.c) or
 * none (a core, an image: what the file holds is not what was resident); none is left out rather
 * than shown as 0. */
static void put_summary_line(FILE *out, const struct census *c)
{
	const char *sep = "";

	fputs("state: ", out);
	if (!c->replayed || c->rss) {
		fputs("RSS ", out);
		report_put_bytes(out, c->rss);
		sep = "; ";
	}
	if (!mimalloc(c)) {
		fprintf(out, "%spymalloc %" PRIu64 " arena%s, ", sep, c->narenas, plural(c->narenas));
		report_put_bytes(out, c->arena_bytes);
		fprintf(out, ", %.1f%% in allocated blocks",
			c->arena_bytes ? 100.0 * (double)c->arena_used / (double)c->arena_bytes : 0.0);
		sep = "; ";
	}
	if (c->gc_ngen) {
		fprintf(out, "%sGC counts ", sep);
		for (unsigned g = 0; g < c->gc_ngen; g++)
			fprintf(out, "%s%" PRId64, g ? "/" : "", c->gc_count[g]);
		fputs(c->gc_enabled ? " (enabled)" : " (disabled)", out);
		sep = "; ";
	}
	fprintf(out, "%s%u thread%s\n", sep, c->nthreads, plural(c->nthreads));
}

static void put_header(FILE *out, const struct census *c)
{
	put_target_line(out, c);
	put_cost_line(out, c);
	if (c->size_alloc)
		put_alloc_line(out, c);
	if (c->have_summary)
		put_summary_line(out, c);
	for (size_t i = 0; i < c->nwarnings; i++) {
		fputs("warning: ", out);
		report_put_text(out, c->warnings[i], SIZE_MAX);
		fputc('\n', out);
	}
	fputc('\n', out);
}

/* guppy3 prints int('%.0f' % (part * 100.0 / total)); "%3.0f" of the same double rounds the same
 * way (half to even) and pads like its "%3d". */
static double percent(uint64_t part, uint64_t total)
{
	return total ? (double)part * 100.0 / (double)total : 0.0;
}

static void put_row(FILE *out, const struct partition *p, size_t i)
{
	const struct partition_row *r = &p->rows[i];

	fprintf(out, "%6zu %6" PRIu64 " %3.0f %8" PRIu64 " %3.0f %9" PRIu64 " %3.0f ", i,
		r->count, percent(r->count, p->count), r->size, percent(r->size, p->size),
		r->cumulative, percent(r->cumulative, p->size));
	report_put_text(out, r->kind, SIZE_MAX);
	fputc('\n', out);
}

static void put_partition(FILE *out, const struct partition *p, size_t limit)
{
	fprintf(out, "Partition of a set of %" PRIu64 " object%s. Total size = %" PRIu64 " bytes.\n",
		p->count, plural(p->count), p->size);
	/* guppy3 leaves the column header out of an empty partition. */
	if (p->count || p->size)
		fprintf(out, " Index  Count   %%     Size   %% Cumulative  %% %s\n", p->kind_header);
	for (size_t i = 0; i < p->nrows; i++) {
		size_t more = p->nrows - 1 - i;

		put_row(out, p, i);
		if (limit && i + 1 >= limit && more > 1) {
			fprintf(out, "<%zu more rows. Use -n 0 to show all.>\n", more);
			break;
		}
	}
}

int report_text(FILE *out, const struct census *c, const struct partition *p, size_t limit,
		bool header, struct pc_err *e)
{
	if (header && c)
		put_header(out, c);
	put_partition(out, p, limit);
	return output_check(out, "text report", e);
}
