/* fuzz_image.c: loading seed images and indexing what to mutate. */
#include "common/compat.h"
#include "tests/fuzz/fuzz_image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "pymalloc/pool.h"

/* Enough targets of each kind for variety, few enough to index quickly. */
#define MAX_LIST 200000

static void push(struct addr_list *l, uint64_t a)
{
	if (l->n >= MAX_LIST)
		return;
	xgrow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v);
	l->v[l->n++] = a;
}

uint8_t *fuzz_image_at(struct fuzz_image *f, uint64_t a, size_t len)
{
	size_t lo = 0, hi = f->img.nregions;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->img.regions[mid].addr <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	{
		const struct mem_region *r = &f->img.regions[lo - 1];
		if (a - r->addr > r->len || len > r->len - (a - r->addr))
			return NULL;
		return (uint8_t *)(uintptr_t)r->data + (a - r->addr);
	}
}

static uint64_t sym(const struct fuzz_image *f, const char *name)
{
	for (size_t i = 0; i < f->img.syms.n; i++)
		if (strcmp(f->img.syms.v[i].name, name) == 0)
			return f->img.syms.v[i].value;
	return 0;
}

/* Every 8-aligned word that points into the image; objects are words (refcnt, ob_type) where
 * ob_type is a type (its own ob_type is `type` or a type's type). */
static void index_words(struct fuzz_image *f)
{
	uint64_t type_type = sym(f, "PyType_Type"), dict = sym(f, "PyDict_Type"), str = sym(f, "PyUnicode_Type");

	for (size_t r = 0; r < f->img.nregions; r++) {
		const struct mem_region *reg = &f->img.regions[r];
		uint64_t a0 = (reg->addr + 7) & ~(uint64_t)7;
		for (uint64_t a = a0; a + 16 <= reg->addr + reg->len; a += 8) {
			uint64_t v, rc, meta;
			uint8_t *tp;
			memcpy(&v, reg->data + (a - reg->addr), 8);
			if (!v || (v & 7) || !fuzz_image_at(f, v, 8))
				continue;
			push(&f->ptrs, a);
			memcpy(&v, reg->data + (a + 8 - reg->addr), 8);
			memcpy(&rc, reg->data + (a - reg->addr), 8);
			if (rc == 0 || rc > (1ULL << 32) || !v || !(tp = fuzz_image_at(f, v + 8, 8)))
				continue;
			memcpy(&meta, tp, 8);
			if (meta != type_type && v != type_type)
				continue;
			push(&f->objs, a);
			if (v == dict)
				push(&f->dicts, a);
			else if (v == str)
				push(&f->strs, a);
			else if (v == type_type)
				push(&f->types, a);
		}
	}
}

static void index_pools(struct fuzz_image *f)
{
	for (size_t r = 0; r < f->img.nregions; r++) {
		const struct mem_region *reg = &f->img.regions[r];
		uint64_t a = (reg->addr + f->L.pool_size - 1) & ~(f->L.pool_size - 1);
		for (; a + f->L.pool_size <= reg->addr + reg->len; a += f->L.pool_size)
			if (pool_header_ok(&f->L, reg->data + (a - reg->addr), a, NULL))
				push(&f->pools, a);
	}
}

bool fuzz_image_load(struct fuzz_image *f, const char *path)
{
	struct pc_err e = { 0 };
	struct pyproc p;

	memset(f, 0, sizeof *f);
	if (image_load(path, &f->img, &e) < 0 || pyproc_open_image(&p, &f->img, &e) < 0) {
		fprintf(stderr, "fuzz: %s: ", path);
		pc_err_print(stderr, &e);
		return false;
	}
	f->L = p.L;
	for (unsigned g = 0; g < p.L.ngenerations; g++) {
		uint64_t head = p.gc_state + (uint64_t)p.L.off.gc_generations + (uint64_t)g * (uint64_t)p.L.off.gc_gen_size;
		uint8_t *n = fuzz_image_at(f, head + (uint64_t)p.L.off.gch_next, 8);
		uint8_t *pr = fuzz_image_at(f, head + (uint64_t)p.L.off.gch_prev, 8);
		uint64_t v;
		if (n) {
			memcpy(&v, n, 8);
			push(&f->gc_ends, v & ~(uint64_t)3);
		}
		if (pr) {
			memcpy(&v, pr, 8);
			push(&f->gc_ends, v & ~(uint64_t)3);
		}
	}
	pyproc_close(&p);
	/* the image's regions point into its blob: mutate that, keep a pristine copy to restore */
	f->work = f->img.blob;
	f->len = 0;
	for (size_t i = 0; i < f->img.nregions; i++) {
		size_t end = (size_t)(f->img.regions[i].data - f->work) + f->img.regions[i].len;
		if (end > f->len)
			f->len = end;
	}
	f->pristine = xmalloc(f->len + 1);
	memcpy(f->pristine, f->work, f->len);
	index_words(f);
	index_pools(f);
	return true;
}

void fuzz_image_release(struct fuzz_image *f)
{
	image_release(&f->img);
	free(f->pristine);
	free(f->pools.v);
	free(f->ptrs.v);
	free(f->objs.v);
	free(f->dicts.v);
	free(f->strs.v);
	free(f->types.v);
	free(f->gc_ends.v);
	memset(f, 0, sizeof *f);
}
