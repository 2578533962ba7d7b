/* stats_text.c: the stats report as text; the pymalloc part line for line as
 * sys._debugmallocstats() prints it (Objects/obmalloc.c printone: label padded to 35 columns,
 * '=', the value right-aligned in 21 with thousands commas). */
#include "common/compat.h"
#include "report/stats.h"

#include <inttypes.h>
#include <string.h>
#include "report/escape.h"
#include "report/output.h"

#define UNAVAILABLE "unavailable"

static void printone(FILE *out, const char *label, uint64_t v)
{
	char buf[32];
	fprintf(out, "%-35s=%21s\n", label, stats_commas(v, buf, sizeof buf));
}

static void printopt(FILE *out, const char *label, bool have, uint64_t v)
{
	if (have)
		printone(out, label, v);
	else
		fprintf(out, "%-35s=%21s\n", label, UNAVAILABLE);
}

static void put_header(FILE *out, const struct stats *st)
{
	const struct census *c = &st->meta;

	fprintf(out, "pycensus: pid %ld, Python ", (long)c->pid);
	report_put_text(out, c->version, SIZE_MAX);
	fputs(", ", out);
	report_put_text(out, c->build, SIZE_MAX);
	if (c->origin[0]) {
		fputc('\n', out);
		report_put_text(out, c->origin, sizeof c->origin);
	}
	fprintf(out, "\nsample: arenas via %s; %u thread%s; pause %.3f s, sample %.3f s; %" PRIu64 " syscalls\n",
		c->arena_source, st->nthreads, st->nthreads == 1 ? "" : "s", c->pause_s, c->wall_s, c->syscalls);
	for (size_t i = 0; i < c->nwarnings; i++) {
		fputs("warning: ", out);
		report_put_text(out, c->warnings[i], SIZE_MAX);
		fputc('\n', out);
	}
}

static void put_classes(FILE *out, const struct mallocstats *ms)
{
	fprintf(out, "\npymalloc (as sys._debugmallocstats() prints it)\n"
		     "Small block threshold = %u, in %u size classes.\n\n",
		ms->nclasses ? ms->cls[ms->nclasses - 1].block_size : 0, ms->nclasses);
	fputs("class   size   num pools   blocks in use  avail blocks\n"
	      "-----   ----   ---------   -------------  ------------\n", out);
	for (unsigned i = 0; i < ms->nclasses; i++) {
		const struct mallocstats_class *c = &ms->cls[i];
		if (c->pools)
			fprintf(out, "%5u %6u %11" PRIu64 " %15" PRIu64 " %13" PRIu64 "\n", i, c->block_size, c->pools,
				c->blocks, c->avail);
	}
}

static void put_arenas(FILE *out, const struct mallocstats *ms)
{
	char label[64];

	fputc('\n', out);
	printopt(out, "# arenas allocated total", ms->have_counters, ms->ntimes_allocated);
	printopt(out, "# arenas reclaimed", ms->have_counters, ms->ntimes_allocated - ms->narenas);
	printopt(out, "# arenas highwater mark", ms->have_counters, ms->highwater);
	printone(out, "# arenas allocated current", ms->narenas);
	snprintf(label, sizeof label, "%" PRIu64 " arenas * %" PRIu64 " bytes/arena", ms->narenas, ms->arena_size);
	printone(out, label, mallocstats_arena_bytes(ms));
	fputc('\n', out);
	printone(out, "# bytes in allocated blocks", ms->allocated_bytes);
	printone(out, "# bytes in available blocks", ms->available_bytes);
	if (ms->have_table)
		snprintf(label, sizeof label, "%" PRIu64 " unused pools * %" PRIu64 " bytes", ms->unused_pools, ms->pool_size);
	else
		snprintf(label, sizeof label, "? unused pools * %" PRIu64 " bytes", ms->pool_size);
	printopt(out, label, ms->have_table, ms->unused_pools * ms->pool_size);
	printone(out, "# bytes lost to pool headers", ms->pool_header_bytes);
	printone(out, "# bytes lost to quantization", ms->quantization);
	printopt(out, "# bytes lost to arena alignment", ms->have_table, ms->alignment_bytes);
	if (!ms->have_table)
		printone(out, "# unused pools + arena alignment", ms->unused_and_alignment);
	printone(out, "Total", mallocstats_arena_bytes(ms));
	if (!ms->have_counters)
		fprintf(out, "unavailable: arenas allocated total, reclaimed, highwater mark: %s\n", ms->counters_why);
	if (!ms->have_table)
		fprintf(out, "unavailable: unused pools, arena alignment: %s\n", ms->table_why);
}

static void put_fragmentation(FILE *out, const struct mallocstats *ms)
{
	fprintf(out, "\nfragmentation (pinned: arenas with live blocks filling at most %d%% of them; pymalloc\n"
		     "frees an arena only when all its pools are empty, so those few blocks keep it mapped)\n",
		MALLOCSTATS_PINNED_PERCENT);
	printone(out, "# arenas pinned", ms->pinned_arenas);
	printone(out, "# bytes in pinned arenas", ms->pinned_bytes);
	printone(out, "# live blocks pinning them", ms->pinned_blocks);
	printone(out, "# bytes in those blocks", ms->pinned_block_bytes);
	printone(out, "# arenas without a live block", ms->empty_arenas);
	printone(out, "# empty pools (in unused pools)", ms->empty_pools);
}

static void put_gc(FILE *out, const struct gcstats *gc)
{
	fputs("\ngc (gc.get_count(), gc.get_threshold(), gc.get_stats())\n"
	      "generation       count   threshold  collections   collected  uncollectable\n", out);
	for (unsigned g = 0; g < gc->ngenerations; g++) {
		const struct gcstats_gen *x = &gc->gen[g];
		fprintf(out, "%10u %11" PRId64 " %11" PRId64 " %12" PRId64 " %11" PRId64 " %14" PRId64 "\n", g, x->count,
			x->threshold, x->collections, x->collected, x->uncollectable);
	}
	fprintf(out, "enabled: %s; collecting now: %s; frozen (gc.freeze()): ", gc->enabled ? "yes" : "no",
		gc->collecting ? "yes" : "no");
	if (gc->frozen_complete)
		fprintf(out, "%" PRIu64 " objects\n", gc->frozen);
	else
		fprintf(out, "at least %" PRIu64 " objects (%s)\n", gc->frozen, gc->frozen_why ? gc->frozen_why : "?");
}

static void put_memory(FILE *out, const struct stats *st)
{
	const struct procmem *m = &st->mem;

	fputs("\nprocess memory (/proc/PID/status, smaps_rollup, pagemap)\n", out);
	printopt(out, "VmRSS", m->have_status, m->vm_rss);
	printopt(out, "VmHWM (peak RSS)", m->have_status, m->vm_hwm);
	printopt(out, "RssAnon", m->have_status, m->rss_anon);
	printopt(out, "RssFile", m->have_status, m->rss_file);
	printopt(out, "RssShmem", m->have_status, m->rss_shmem);
	printopt(out, "Pss", m->have_rollup, m->pss);
	printopt(out, "Uss (Private_Clean+Private_Dirty)", m->have_rollup, procmem_uss(m));
	printopt(out, "Swap", m->have_rollup, m->swap);
	fputs("resident, by what holds it:\n", out);
	printopt(out, "  pymalloc arenas", st->have_arena_resident, st->arena_resident);
	printopt(out, "  other anonymous (malloc, mmaps)", st->have_arena_resident && m->have_status, stats_other_anon(st));
	printopt(out, "  file-backed and shared", m->have_status, m->rss_file + m->rss_shmem);
	if (st->have_arena_resident && st->arena_swapped)
		printone(out, "  pymalloc arenas swapped out", st->arena_swapped);
}

/* A free-threaded build: mimalloc's size classes per heap, in place of pymalloc's. */
static void put_mimalloc(FILE *out, const struct miheap_totals *t)
{
	uint64_t pages = 0, live = 0, used = 0, bytes = 0;
	char a[32], b[32];

	fputs("\nmimalloc (free-threaded: the heaps of every thread state and the pages of threads that exited)\n"
	      "heap     block size   pages  abandoned   blocks in use  avail blocks\n"
	      "------   ----------   -----  ---------   -------------  ------------\n", out);
	for (unsigned i = 0; i < t->nclasses; i++) {
		const struct miheap_class *k = &t->classes[i];
		fprintf(out, "%-6s %12" PRIu64 " %7" PRIu64 " %10" PRIu64 " %15s %13s\n", miheap_tag_name(k->tag),
			k->block_size, k->pages, k->abandoned_pages, stats_commas(k->live, a, sizeof a),
			stats_commas(k->capacity > k->used ? k->capacity - k->used : 0, b, sizeof b));
		pages += k->pages;
		live += k->live;
		used += k->used;
		bytes += k->live * k->block_size;
	}
	fputc('\n', out);
	fprintf(out, "# segments                         = %20" PRIu64 " (%" PRIu64 " abandoned by threads that exited)\n",
		t->segments, t->abandoned_segments);
	printone(out, "# pages", pages);
	printone(out, "# blocks in use", live);
	printone(out, "# bytes in used blocks", bytes);
	printone(out, "# blocks freed by other threads", used - live);
	if (t->skipped_pages || t->skipped_segments)
		fprintf(out, "# skipped: %" PRIu64 " pages, %" PRIu64 " segments (first: %s)\n", t->skipped_pages,
			t->skipped_segments, t->first_skip);
}

int report_stats_text(FILE *out, const struct stats *st, struct pc_err *e)
{
	put_header(out, st);
	if (st->mi) {
		put_mimalloc(out, st->mi);
		put_gc(out, &st->gc);
		put_memory(out, st);
		return output_check(out, "stats report", e);
	}
	put_classes(out, &st->ms);
	put_arenas(out, &st->ms);
	put_fragmentation(out, &st->ms);
	put_gc(out, &st->gc);
	put_memory(out, st);
	return output_check(out, "stats report", e);
}
