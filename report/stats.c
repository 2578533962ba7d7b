/* stats.c: the stats report as CSV (dotted metric names, one value each) and as JSON (the same
 * names nested), from one walk over the model through a small sink. */
#include "common/compat.h"
#include "report/stats.h"

#include <inttypes.h>
#include <string.h>
#include "report/escape.h"
#include "report/json_docs.h"
#include "report/output.h"

const char *stats_commas(uint64_t v, char *buf, size_t len)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
	size_t o = 0;

	for (int i = 0; i < n && o + 1 < len; i++) {
		if (i && (n - i) % 3 == 0 && o + 2 < len)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
	return buf;
}

/* Where values go: CSV rows named by the dotted path, or nested JSON. */
struct sink {
	FILE *out;
	bool is_json;
	struct json j;
	char path[256];
	size_t mark[16];
	int depth;
};

static void push(struct sink *s, const char *name)
{
	size_t l = strlen(s->path);

	if (s->depth < 16)
		s->mark[s->depth] = l;
	s->depth++;
	snprintf(s->path + l, sizeof s->path - l, "%s.", name);
}

static void s_begin(struct sink *s, const char *name, bool array)
{
	if (!s->is_json)
		push(s, name);
	else if (array)
		json_begin_array(&s->j, name);
	else
		json_begin_object(&s->j, name);
}

/* An element of an array: an object in JSON, the index in the CSV name. */
static void s_item(struct sink *s, unsigned i)
{
	char n[16];

	snprintf(n, sizeof n, "%u", i);
	if (s->is_json)
		json_begin_object(&s->j, NULL);
	else
		push(s, n);
}

static void s_end(struct sink *s, bool array)
{
	if (s->is_json) {
		if (array)
			json_end_array(&s->j);
		else
			json_end_object(&s->j);
		return;
	}
	s->depth--;
	if (s->depth < 16)
		s->path[s->mark[s->depth]] = '\0';
}

/* Names are ours (letters, digits, '_' and '.'): no quoting needed. */
static void csv_name(struct sink *s, const char *name)
{
	fprintf(s->out, "%s%s,", s->path, name);
}

static void s_opt(struct sink *s, const char *name, bool have, uint64_t v)
{
	if (s->is_json) {
		if (have)
			json_u64(&s->j, name, v);
		else
			json_str(&s->j, name, NULL);
		return;
	}
	csv_name(s, name);
	if (have)
		fprintf(s->out, "%" PRIu64, v);
	fputc('\n', s->out);
}

static void s_u64(struct sink *s, const char *name, uint64_t v)
{
	s_opt(s, name, true, v);
}

static void s_i64(struct sink *s, const char *name, int64_t v)
{
	if (s->is_json) {
		json_i64(&s->j, name, v);
		return;
	}
	csv_name(s, name);
	fprintf(s->out, "%" PRId64 "\n", v);
}

static void s_str(struct sink *s, const char *name, const char *v)
{
	if (s->is_json) {
		json_str(&s->j, name, v);
		return;
	}
	csv_name(s, name);
	if (v)
		report_put_csv_field(s->out, v);
	fputc('\n', s->out);
}

static void s_double(struct sink *s, const char *name, double v)
{
	if (s->is_json) {
		json_double(&s->j, name, v);
		return;
	}
	csv_name(s, name);
	fprintf(s->out, "%.6f\n", v);
}

static void s_bool(struct sink *s, const char *name, bool v)
{
	if (s->is_json)
		json_bool(&s->j, name, v);
	else
		s_u64(s, name, v);
}

static void put_target(struct sink *s, const struct stats *st)
{
	const struct census *c = &st->meta;

	s_u64(s, "pid", (uint64_t)c->pid);
	s_str(s, "python", c->version);
	s_str(s, "build", c->build);
	s_str(s, "arena_source", c->arena_source);
	s_u64(s, "threads", st->nthreads);
	s_double(s, "pause_s", c->pause_s);
	s_double(s, "sample_s", c->wall_s);
	s_begin(s, "warnings", true);
	for (size_t i = 0; i < c->nwarnings; i++) {
		char n[24];
		snprintf(n, sizeof n, "%zu", i);
		s_str(s, s->is_json ? NULL : n, c->warnings[i]);
	}
	s_end(s, true);
}

static void put_classes(struct sink *s, const struct mallocstats *ms)
{
	s_begin(s, "classes", true);
	for (unsigned i = 0; i < ms->nclasses; i++) {
		const struct mallocstats_class *c = &ms->cls[i];
		s_item(s, i);
		s_u64(s, "class", i);
		s_u64(s, "block_size", c->block_size);
		s_u64(s, "pools", c->pools);
		s_u64(s, "blocks", c->blocks);
		s_u64(s, "avail", c->avail);
		s_end(s, false);
	}
	s_end(s, true);
}

static void put_pymalloc(struct sink *s, const struct mallocstats *ms)
{
	s_begin(s, "pymalloc", false);
	s_u64(s, "pool_size", ms->pool_size);
	s_u64(s, "arena_size", ms->arena_size);
	put_classes(s, ms);
	s_opt(s, "arenas_allocated_total", ms->have_counters, ms->ntimes_allocated);
	s_opt(s, "arenas_reclaimed", ms->have_counters, ms->ntimes_allocated - ms->narenas);
	s_opt(s, "arenas_highwater", ms->have_counters, ms->highwater);
	s_u64(s, "arenas_current", ms->narenas);
	s_u64(s, "arenas_bytes", mallocstats_arena_bytes(ms));
	s_u64(s, "bytes_allocated_blocks", ms->allocated_bytes);
	s_u64(s, "bytes_available_blocks", ms->available_bytes);
	s_opt(s, "unused_pools", ms->have_table, ms->unused_pools);
	s_opt(s, "bytes_unused_pools", ms->have_table, ms->unused_pools * ms->pool_size);
	s_u64(s, "bytes_pool_headers", ms->pool_header_bytes);
	s_u64(s, "bytes_quantization", ms->quantization);
	s_opt(s, "bytes_arena_alignment", ms->have_table, ms->alignment_bytes);
	s_u64(s, "bytes_unused_pools_and_alignment", ms->unused_and_alignment);
	s_u64(s, "empty_pools", ms->empty_pools);
	s_str(s, "counters_unavailable", ms->have_counters ? NULL : ms->counters_why);
	s_str(s, "table_unavailable", ms->have_table ? NULL : ms->table_why);
	s_end(s, false);
}

static void put_fragmentation(struct sink *s, const struct mallocstats *ms)
{
	s_begin(s, "fragmentation", false);
	s_u64(s, "pinned_max_percent", MALLOCSTATS_PINNED_PERCENT);
	s_u64(s, "pinned_arenas", ms->pinned_arenas);
	s_u64(s, "pinned_bytes", ms->pinned_bytes);
	s_u64(s, "pinned_blocks", ms->pinned_blocks);
	s_u64(s, "pinned_block_bytes", ms->pinned_block_bytes);
	s_u64(s, "empty_arenas", ms->empty_arenas);
	s_end(s, false);
}

static void put_gc(struct sink *s, const struct gcstats *gc)
{
	s_begin(s, "gc", false);
	s_bool(s, "enabled", gc->enabled);
	s_bool(s, "collecting", gc->collecting);
	s_opt(s, "frozen", gc->frozen_complete, gc->frozen);
	s_begin(s, "generations", true);
	for (unsigned g = 0; g < gc->ngenerations; g++) {
		const struct gcstats_gen *x = &gc->gen[g];
		s_item(s, g);
		s_i64(s, "count", x->count);
		s_i64(s, "threshold", x->threshold);
		s_i64(s, "collections", x->collections);
		s_i64(s, "collected", x->collected);
		s_i64(s, "uncollectable", x->uncollectable);
		s_end(s, false);
	}
	s_end(s, true);
	s_end(s, false);
}

static void put_memory(struct sink *s, const struct stats *st)
{
	const struct procmem *m = &st->mem;

	s_begin(s, "memory", false);
	s_opt(s, "vm_rss", m->have_status, m->vm_rss);
	s_opt(s, "vm_hwm", m->have_status, m->vm_hwm);
	s_opt(s, "rss_anon", m->have_status, m->rss_anon);
	s_opt(s, "rss_file", m->have_status, m->rss_file);
	s_opt(s, "rss_shmem", m->have_status, m->rss_shmem);
	s_opt(s, "pss", m->have_rollup, m->pss);
	s_opt(s, "uss", m->have_rollup, procmem_uss(m));
	s_opt(s, "swap", m->have_rollup, m->swap);
	s_opt(s, "resident_pymalloc_arenas", st->have_arena_resident, st->arena_resident);
	s_opt(s, "resident_other_anon", st->have_arena_resident && m->have_status, stats_other_anon(st));
	s_opt(s, "resident_file_backed", m->have_status, m->rss_file + m->rss_shmem);
	s_opt(s, "swapped_pymalloc_arenas", st->have_arena_resident, st->arena_swapped);
	s_end(s, false);
}

/* A free-threaded build: mimalloc's size classes per heap (its "pymalloc" figures are zeros). */
static void put_mimalloc(struct sink *s, const struct miheap_totals *t)
{
	uint64_t live = 0, used = 0;

	if (!t)
		return;
	s_begin(s, "mimalloc", false);
	s_begin(s, "classes", true);
	for (unsigned i = 0; i < t->nclasses; i++) {
		const struct miheap_class *k = &t->classes[i];
		s_item(s, i);
		s_str(s, "heap", miheap_tag_name(k->tag));
		s_u64(s, "block_size", k->block_size);
		s_u64(s, "pages", k->pages);
		s_u64(s, "abandoned_pages", k->abandoned_pages);
		s_u64(s, "blocks", k->live);
		s_u64(s, "avail", k->capacity > k->used ? k->capacity - k->used : 0);
		s_end(s, false);
		live += k->live;
		used += k->used;
	}
	s_end(s, true);
	s_u64(s, "segments", t->segments);
	s_u64(s, "abandoned_segments", t->abandoned_segments);
	s_u64(s, "blocks_in_use", live);
	s_u64(s, "blocks_freed_by_other_threads", used - live);
	s_u64(s, "skipped_pages", t->skipped_pages);
	s_u64(s, "skipped_segments", t->skipped_segments);
	s_end(s, false);
}

static void put_all(struct sink *s, const struct stats *st)
{
	put_target(s, st);
	put_mimalloc(s, st->mi);
	put_pymalloc(s, &st->ms);
	put_fragmentation(s, &st->ms);
	put_gc(s, &st->gc);
	put_memory(s, st);
}

int report_stats_csv(FILE *out, const struct stats *st, struct pc_err *e)
{
	struct sink s = { .out = out };

	fputs("metric,value\n", out);
	put_all(&s, st);
	return output_check(out, "csv report", e);
}

int report_stats_json(FILE *out, const struct stats *st, struct pc_err *e)
{
	struct sink s = { .out = out, .is_json = true };

	json_doc_begin(&s.j, out, "stats");
	put_all(&s, st);
	return json_doc_end(&s.j, e);
}
