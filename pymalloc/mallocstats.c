/* mallocstats.c: sys._debugmallocstats() from outside, and arena fragmentation. */
#include "common/compat.h"
#include "pymalloc/mallocstats.h"
#include "pymalloc/arenawin.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "pymalloc/pool.h"

static void init_constants(const struct pylayout *L, struct mallocstats *ms)
{
	ms->pool_size = L->pool_size;
	ms->arena_size = L->arena_size;
	/* POOL_OVERHEAD = sizeof(struct pool_header) rounded up to ALIGNMENT (obmalloc.c). */
	ms->pool_overhead = ((uint64_t)L->off.pool_header_size + L->size_class_step - 1) / L->size_class_step *
			    L->size_class_step;
	ms->nclasses = L->nsize_classes < 64 ? L->nsize_classes : 64;
	for (unsigned i = 0; i < ms->nclasses; i++)
		ms->cls[i].block_size = (i + 1) * L->size_class_step;
}

/* Where ntimes_arena_allocated and narenas_highwater live: fields of the interpreter's
 * _obmalloc_state from 3.12, file statics of obmalloc.c (.symtab only) before. */
static bool counter_addrs(struct pyproc *p, uint64_t *ntimes, uint64_t *high, struct mallocstats *ms)
{
	const struct pylayout *L = &p->L;

	if (L->arenas_in_interp) {
		if (!p->obmalloc || L->off.obm_ntimes_allocated < 0 || L->off.obm_narenas_highwater < 0) {
			ms->counters_why = "this layout has no obmalloc arena counters";
			return false;
		}
		*ntimes = p->obmalloc + (uint64_t)L->off.obm_ntimes_allocated;
		*high = p->obmalloc + (uint64_t)L->off.obm_narenas_highwater;
		return true;
	}
	*ntimes = pyelf_symbol(&p->elf, "ntimes_arena_allocated");
	*high = pyelf_symbol(&p->elf, "narenas_highwater");
	if (!*ntimes || !*high) {
		/* a heap dump (elf NULL: its image) keeps only the symbols the census looked up */
		ms->counters_why = !p->elf.has_symtab
			? "ntimes_arena_allocated and narenas_highwater are file statics of obmalloc.c, found only "
			  "in the symbol table, and this build is stripped"
			: !p->elf.elf ? "ntimes_arena_allocated and narenas_highwater are file statics of obmalloc.c, "
			  "and a heap dump keeps neither their addresses nor their memory"
			: "ntimes_arena_allocated and narenas_highwater, file statics of obmalloc.c, are not in this "
			  "build's symbol table";
		return false;
	}
	return true;
}

int mallocstats_read_counters(struct pyproc *p, struct mallocstats *ms, struct pc_err *e)
{
	uint64_t ntimes_at, high_at;

	ms->have_counters = false;
	if (!counter_addrs(p, &ntimes_at, &high_at, ms))
		return 0;
	if (!pyproc_readable(p, ntimes_at, 8) || !pyproc_readable(p, high_at, 8) ||
	    mem_read_u64(&p->mem, ntimes_at, &ms->ntimes_allocated, e) < 0 ||
	    mem_read_u64(&p->mem, high_at, &ms->highwater, e) < 0)
		return pc_fail(e, PC_ETARGETMEM, "cannot read pymalloc's arena counters");
	ms->have_counters = true;
	return 0;
}

struct tally {
	const struct pylayout *L;
	struct mallocstats *ms;
	uint64_t *arena_blocks, *arena_bytes; /* per copied arena */
};

static void tally_pool(void *ctx, size_t arena, const uint8_t *pool, uint64_t addr)
{
	struct tally *t = ctx;
	struct mallocstats_class *cl;
	struct pool_info pi;
	const char *why;

	if (!pool_inspect(t->L, pool, addr, &pi, &why)) {
		if (t->ms->bad_pools++ == 0)
			t->ms->first_bad_pool = why;
		return;
	}
	if (pi.count == 0) {
		t->ms->empty_pools++;
		return;
	}
	if (pi.szidx >= t->ms->nclasses)
		return;
	cl = &t->ms->cls[pi.szidx];
	cl->pools++;
	cl->blocks += pi.count;
	cl->avail += pi.capacity - pi.count;
	t->arena_blocks[arena] += pi.count;
	t->arena_bytes[arena] += (uint64_t)pi.count * pi.block_size;
}

/* The byte totals exactly as _PyObject_DebugMallocStats sums them over the size classes. */
static void byte_totals(struct mallocstats *ms)
{
	for (unsigned i = 0; i < ms->nclasses; i++) {
		const struct mallocstats_class *c = &ms->cls[i];
		ms->allocated_bytes += c->blocks * c->block_size;
		ms->available_bytes += c->avail * c->block_size;
		ms->pool_header_bytes += c->pools * ms->pool_overhead;
		ms->quantization += c->pools * ((ms->pool_size - ms->pool_overhead) % c->block_size);
	}
}

static void fragmentation(struct mallocstats *ms, const struct tally *t, size_t ncopies)
{
	uint64_t live = 0;

	for (size_t a = 0; a < ncopies; a++) {
		if (t->arena_blocks[a] == 0)
			continue;
		live++;
		if (t->arena_bytes[a] * 100 > ms->arena_size * MALLOCSTATS_PINNED_PERCENT)
			continue;
		ms->pinned_arenas++;
		ms->pinned_blocks += t->arena_blocks[a];
		ms->pinned_block_bytes += t->arena_bytes[a];
	}
	ms->pinned_bytes = ms->pinned_arenas * ms->arena_size;
	ms->empty_arenas = ms->narenas > live ? ms->narenas - live : 0;
}

static void tally_begin(struct tally *t, const struct pylayout *L, const struct heapcopy *hc, struct mallocstats *ms)
{
	*t = (struct tally){ L, ms, xcalloc(hc->n + 1, sizeof(uint64_t)), xcalloc(hc->n + 1, sizeof(uint64_t)) };
	init_constants(L, ms);
}

static void tally_end(struct tally *t, const struct heapcopy *hc, struct mallocstats *ms);

void mallocstats_tally(const struct pylayout *L, const struct heapcopy *hc, struct mallocstats *ms)
{
	struct tally t;

	tally_begin(&t, L, hc, ms);
	heapcopy_each_pool(L, hc, tally_pool, &t);
	tally_end(&t, hc, ms);
}

void mallocstats_tally_windows(struct pyproc *p, struct heapcopy *hc, struct mallocstats *ms, struct census *c)
{
	struct tally t;

	tally_begin(&t, &p->L, hc, ms);
	for (size_t from = 0, to; from < hc->n; from = to) {
		to = arenawin_hold(p, hc, from, c);
		heapcopy_each_pool(&p->L, hc, tally_pool, &t); /* the held window's arenas only */
		arenawin_release(p, hc, from, to);
	}
	arenawin_end(hc);
	tally_end(&t, hc, ms);
}

static void tally_end(struct tally *t, const struct heapcopy *hc, struct mallocstats *ms)
{
	uint64_t used;

	/* The table counts arenas whose first pool is not carved yet; the copies do not hold them. */
	ms->narenas = hc->table.known ? hc->table.narenas : hc->n;
	byte_totals(ms);
	ms->have_table = hc->table.known;
	ms->table_why = hc->table.known ? NULL
					: "the arenas were found by scanning pool headers, which does not tell where an "
					  "arena starts: only the sum of unused pools and alignment loss is known";
	if (hc->table.known) {
		ms->unused_pools = hc->table.nfreepools;
		ms->alignment_bytes = hc->table.unaligned * ms->pool_size;
	}
	used = ms->allocated_bytes + ms->available_bytes + ms->pool_header_bytes + ms->quantization;
	ms->unused_and_alignment = mallocstats_arena_bytes(ms) > used ? mallocstats_arena_bytes(ms) - used : 0;
	fragmentation(ms, t, hc->n);
	free(t->arena_blocks);
	free(t->arena_bytes);
}

int mallocstats_collect(struct pyproc *p, const struct heapcopy *hc, struct mallocstats *ms, struct pc_err *e)
{
	if (mallocstats_read_counters(p, ms, e) < 0)
		return -1;
	mallocstats_tally(&p->L, hc, ms);
	return 0;
}
