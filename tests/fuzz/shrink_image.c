/* shrink_image.c: makes a small fuzzing seed from a captured image: in every arena only the first
 * few pools stay; the others are zeroed (headers too) and the arena table's pool_address is
 * lowered to match, so the census copies and walks little and the file compresses to little. A GC
 * generation whose first node was zeroed is made empty (opening validates that link).
 * usage: shrink_image IN OUT [POOLS_PER_ARENA] */
#include "common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "tests/fuzz/fuzz_image.h"

static uint64_t rd64(struct fuzz_image *f, uint64_t a)
{
	uint64_t v = 0;
	uint8_t *p = fuzz_image_at(f, a, 8);

	if (p)
		memcpy(&v, p, 8);
	return v;
}

static void wr64(struct fuzz_image *f, uint64_t a, uint64_t v)
{
	uint8_t *p = fuzz_image_at(f, a, 8);

	if (p)
		memcpy(p, &v, 8);
}

/* The arena table and its length, as pymalloc/arenas.c finds them (0 for a stripped build). */
static uint64_t arena_table(struct fuzz_image *f, struct pyproc *p, uint32_t *n)
{
	uint64_t tab = p->L.arenas_in_interp ? p->obmalloc + (uint64_t)p->L.off.obm_arenas : pyelf_symbol(&p->elf, "arenas");
	uint64_t max = p->L.arenas_in_interp ? p->obmalloc + (uint64_t)p->L.off.obm_maxarenas
					     : pyelf_symbol(&p->elf, "maxarenas");
	uint8_t *m = max ? fuzz_image_at(f, max, 4) : NULL;

	*n = 0;
	if (!tab || !m)
		return 0;
	memcpy(n, m, 4);
	return rd64(f, tab);
}

/* Marks all but the first `keep` pools (by address) of each arena index for zeroing (into *drop,
 * in address order) and lowers the arena table's pool_address; returns how many stay. */
static unsigned plan_pools(struct fuzz_image *f, struct pyproc *p, unsigned keep, struct addr_list *drop)
{
	uint32_t n, idx;
	uint64_t table = arena_table(f, p, &n), aosz = (uint64_t)p->L.off.arena_object_size;
	unsigned kept = 0, seen[1 << 12] = { 0 };

	for (size_t i = 0; i < f->pools.n; i++) { /* pools are indexed in address order */
		uint8_t *pool = fuzz_image_at(f, f->pools.v[i], f->L.pool_size);
		memcpy(&idx, pool + f->L.off.ph_arenaindex, 4);
		if (idx < PC_ARRAY_LEN(seen) && seen[idx] < keep) {
			seen[idx]++;
			kept++;
			if (table && idx < n)
				wr64(f, table + idx * aosz + (uint64_t)p->L.off.ao_pool_address, f->pools.v[i] + f->L.pool_size);
			continue;
		}
		xgrow((void **)&drop->v, &drop->cap, drop->n + 1, sizeof *drop->v);
		drop->v[drop->n++] = f->pools.v[i];
	}
	return kept;
}

static bool dropped(const struct fuzz_image *f, const struct addr_list *drop, uint64_t a)
{
	size_t lo = 0, hi = drop->n;
	uint64_t pool = a & ~(f->L.pool_size - 1);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (drop->v[mid] == pool)
			return true;
		if (drop->v[mid] < pool)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Each GC generation list loses its dropped nodes: the survivors (class objects outside the
 * arenas, objects of kept pools) are linked head -> s1 -> ... -> head again. */
static void relink_gc_heads(struct fuzz_image *f, struct pyproc *p, const struct addr_list *drop)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t nx = (uint64_t)o->gch_next, pv = (uint64_t)o->gch_prev;

	for (unsigned g = 0; g < p->L.ngenerations; g++) {
		uint64_t head = p->gc_state + (uint64_t)o->gc_generations + (uint64_t)g * (uint64_t)o->gc_gen_size;
		uint64_t n = rd64(f, head + nx) & ~(uint64_t)3, last = head;
		for (unsigned steps = 0; n && n != head && steps < 1000000; steps++) {
			uint64_t next = rd64(f, n + nx) & ~(uint64_t)3;
			if (!dropped(f, drop, n) && fuzz_image_at(f, n + pv, 8)) {
				wr64(f, last + nx, n);
				wr64(f, n + pv, last | (rd64(f, n + pv) & 3));
				last = n;
			}
			n = next;
		}
		wr64(f, last + nx, head);
		wr64(f, head + pv, last);
	}
}

int main(int argc, char **argv)
{
	struct fuzz_image f;
	struct pyproc p;
	struct pc_err e = { 0 };
	struct addr_list drop = { 0 };
	unsigned keep = argc > 3 ? (unsigned)atoi(argv[3]) : 4, kept;

	if (argc < 3) {
		fprintf(stderr, "usage: shrink_image IN OUT [POOLS_PER_ARENA]\n");
		return 2;
	}
	if (!fuzz_image_load(&f, argv[1]) || pyproc_open_image(&p, &f.img, &e) < 0)
		return 1;
	kept = plan_pools(&f, &p, keep, &drop);
	relink_gc_heads(&f, &p, &drop);
	for (size_t i = 0; i < drop.n; i++)
		memset(fuzz_image_at(&f, drop.v[i], f.L.pool_size), 0, f.L.pool_size);
	free(drop.v);
	pyproc_close(&p);
	if (image_write(argv[2], &f.img, &e) < 0) {
		pc_err_print(stderr, &e);
		return 1;
	}
	fprintf(stderr, "shrink_image: kept %u of %zu pools\n", kept, f.pools.n);
	fuzz_image_release(&f);
	return 0;
}
