/* fuzz_census.c: libFuzzer harness: the census over captured images with mutations aimed at what
 * it trusts least. The input is a program of mutations applied to one seed image (chosen by its
 * first byte): raw bytes, pool headers and free lists, pointer words, object type slots, GC links,
 * dict and str fields, whole regions dropped (unreadable memory) and maps narrowed. Each run
 * restores the image, so inputs stay small and any crash reproduces from the input alone.
 *
 * Seeds: PYCENSUS_FUZZ_IMAGES (default build-fuzz/images), every *.img in it. */
#include "common/compat.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "model/census.h"
#include "census/snapshot.h"
#include "tests/fuzz/fuzz_image.h"

#define MAX_IMAGES 16
#define MAX_OPS 64
#define MAX_TOUCH 1024

static struct fuzz_image images[MAX_IMAGES];
static size_t nimages, nfirst; /* nfirst: the seeds before the "v2-" ones (3.8, 3.12, 3.13.0, 3.11) */

struct in {
	const uint8_t *p;
	size_t n, off;
};

static uint64_t take(struct in *in, size_t len)
{
	uint64_t v = 0;

	for (size_t i = 0; i < len && in->off < in->n; i++)
		v |= (uint64_t)in->p[in->off++] << (8 * i);
	return v;
}

struct touch {
	size_t off, len;
};

struct run {
	struct fuzz_image *f;
	struct touch t[MAX_TOUCH];
	size_t nt;
	struct mem_region *regions; /* this run's region list (some may be dropped) */
	size_t nregions;
	struct map *maps;
};

/* Writes len bytes of v at target address a (when captured), remembering what to restore. */
static void poke(struct run *r, uint64_t a, uint64_t v, size_t len)
{
	uint8_t *p = fuzz_image_at(r->f, a, len);

	if (!p || r->nt >= MAX_TOUCH)
		return;
	r->t[r->nt++] = (struct touch){ (size_t)(p - r->f->work), len };
	memcpy(p, &v, len);
}

static uint64_t peek(struct run *r, uint64_t a)
{
	uint64_t v = 0;
	uint8_t *p = fuzz_image_at(r->f, a, 8);

	if (p)
		memcpy(&v, p, 8);
	return v;
}

static uint64_t pick(const struct addr_list *l, struct in *in)
{
	return l->n ? l->v[take(in, 3) % l->n] : 0;
}

/* Values that break assumptions: zero, all ones, sign and size boundaries, near misses. */
static uint64_t interesting(struct run *r, struct in *in, uint64_t old)
{
	static const uint64_t fixed[] = { 0, 1, 2, 7, 8, 15, 16, 0x7f, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff,
					  0x80000000, 0xffffffff, 0x100000000ULL, 0x7fffffffffffffffULL,
					  0x8000000000000000ULL, UINT64_MAX };
	unsigned k = (unsigned)take(in, 1);

	switch (k % 6) {
	case 0: return fixed[take(in, 1) % PC_ARRAY_LEN(fixed)];
	case 1: return old + (uint64_t)(int64_t)(int8_t)take(in, 1);
	case 2: return old ^ (1ULL << (take(in, 1) % 64));
	case 3: return pick(&r->f->ptrs, in) + (take(in, 1) % 4) * 8; /* a pointer word's address */
	case 4: return peek(r, pick(&r->f->ptrs, in));              /* a pointer's value */
	default: return take(in, 8);
	}
}

static void op_raw(struct run *r, struct in *in)
{
	const struct mem_region *reg = &r->f->img.regions[take(in, 2) % r->f->img.nregions];
	uint64_t a = reg->addr + take(in, 4) % reg->len;
	size_t len = 1 + take(in, 1) % 8;

	poke(r, a, take(in, len), len);
}

static void op_pool(struct run *r, struct in *in)
{
	const struct pyoffsets *o = &r->f->L.off;
	const int32_t fields[] = { o->ph_count, o->ph_count + 4, o->ph_freeblock, o->ph_arenaindex, o->ph_szidx,
				   o->ph_nextoffset, o->ph_maxnextoffset };
	uint64_t pool = pick(&r->f->pools, in);
	int32_t off = fields[take(in, 1) % PC_ARRAY_LEN(fields)];
	size_t len = off == o->ph_freeblock ? 8 : 4;

	if (pool)
		poke(r, pool + (uint64_t)off, interesting(r, in, peek(r, pool + (uint64_t)off)), len);
}

/* A free-list link (the first word of a block) sent to another block of the pool, itself, the
 * header, past the carved part, or off by a few bytes. */
static void op_freelist(struct run *r, struct in *in)
{
	uint64_t pool = pick(&r->f->pools, in), ps = r->f->L.pool_size, hdr = (uint64_t)r->f->L.off.pool_header_size;
	uint64_t blk = pool + hdr + (take(in, 2) * 16) % (ps - hdr);
	uint64_t to = pool + (take(in, 2) % ps) - (take(in, 1) % 3 == 0 ? take(in, 1) % 8 : 0);

	if (!pool)
		return;
	if (take(in, 1) % 2)
		blk = pool + (uint64_t)r->f->L.off.ph_freeblock;
	poke(r, blk, take(in, 1) % 5 == 0 ? blk : to, 8);
}

static void op_pointer(struct run *r, struct in *in)
{
	uint64_t a = pick(&r->f->ptrs, in);

	if (a)
		poke(r, a, interesting(r, in, peek(r, a)), 8);
}

/* An object's ob_type set to another type, a non-type object, itself, or garbage. */
static void op_type(struct run *r, struct in *in)
{
	uint64_t obj = pick(&r->f->objs, in), v;
	unsigned k = (unsigned)take(in, 1) % 4;

	if (!obj)
		return;
	v = k == 0 ? pick(&r->f->types, in) : k == 1 ? pick(&r->f->objs, in) : k == 2 ? obj : interesting(r, in, 0);
	poke(r, obj + (uint64_t)r->f->L.off.ob_type, v, 8);
}

/* GC links: the two words before an object (3.8-3.10: the GC head; later the same place). */
static void op_gc(struct run *r, struct in *in)
{
	uint64_t obj = pick(&r->f->objs, in), to = pick(&r->f->objs, in) - 16;
	uint64_t at = obj - 16 + (take(in, 1) % 2) * 8;

	if (obj)
		poke(r, at, take(in, 1) % 4 == 0 ? at : to | (take(in, 1) & 3), 8);
}

static void op_dict(struct run *r, struct in *in)
{
	const struct pyoffsets *o = &r->f->L.off;
	uint64_t d = pick(&r->f->dicts, in), keys;
	int32_t kf[] = { o->dk_refcnt, o->dk_size, o->dk_log2_size, o->dk_log2_index_bytes, o->dk_kind,
			 o->dk_usable, o->dk_nentries };
	int32_t f;

	if (!d)
		return;
	if (take(in, 1) % 2) {
		int32_t df[] = { o->dict_used, o->dict_keys, o->dict_values };
		f = df[take(in, 1) % 3];
		poke(r, d + (uint64_t)f, interesting(r, in, peek(r, d + (uint64_t)f)), 8);
		return;
	}
	keys = peek(r, d + (uint64_t)o->dict_keys);
	f = kf[take(in, 1) % PC_ARRAY_LEN(kf)];
	if (f >= 0)
		poke(r, keys + (uint64_t)f, interesting(r, in, peek(r, keys + (uint64_t)f)),
		     f == o->dk_log2_size || f == o->dk_log2_index_bytes || f == o->dk_kind ? 1 : 8);
}

static void op_str(struct run *r, struct in *in)
{
	const struct pyoffsets *o = &r->f->L.off;
	uint64_t s = pick(&r->f->strs, in);
	int32_t sf[] = { o->str_length, o->str_state, o->str_utf8, o->str_utf8_length, o->str_wstr, o->str_data };
	int32_t f = sf[take(in, 1) % PC_ARRAY_LEN(sf)];

	if (s && f >= 0)
		poke(r, s + (uint64_t)f, interesting(r, in, peek(r, s + (uint64_t)f)), f == o->str_state ? 4 : 8);
}

/* Memory that cannot be read: a region left out of the image. */
static void op_drop_region(struct run *r, struct in *in)
{
	size_t i;

	if (!r->nregions)
		return;
	i = take(in, 2) % r->nregions;
	memmove(&r->regions[i], &r->regions[i + 1], (r->nregions - i - 1) * sizeof *r->regions);
	r->nregions--;
}

/* Maps that disagree with memory: one narrowed, or made unreadable. */
static void op_maps(struct run *r, struct in *in)
{
	struct maps *m = &r->f->img.maps;
	struct map *x;

	if (!m->n)
		return;
	x = &r->maps[take(in, 2) % m->n];
	if (take(in, 1) % 2)
		x->r = false;
	else if (x->end - x->start > 4096)
		x->end = x->start + 4096 * (1 + take(in, 2) % ((x->end - x->start) / 4096 - 1));
}

static void (*const ops[])(struct run *, struct in *) = {
	op_raw, op_pool, op_freelist, op_pointer, op_type, op_gc, op_dict, op_str, op_drop_region, op_maps,
};

static int only_images(const struct dirent *de)
{
	size_t l = strlen(de->d_name);
	return l > 4 && strcmp(de->d_name + l - 4, ".img") == 0;
}

/* In name order, so an input picks the same seed on every machine (regression inputs rely on it). */
static void load_images(void)
{
	const char *dir = getenv("PYCENSUS_FUZZ_IMAGES");
	char path[4096];
	struct dirent **names = NULL;
	int n;

	if (!dir)
		dir = "build-fuzz/images";
	n = scandir(dir, &names, only_images, alphasort);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		if (nimages < MAX_IMAGES && fuzz_image_load(&images[nimages], path)) {
			if (strncmp(names[i]->d_name, "v2-", 3) != 0)
				nfirst = nimages + 1;
			nimages++;
		}
		free(names[i]);
	}
	free(names);
	if (!nimages) {
		fprintf(stderr, "fuzz: no seed image (*.img) in %s (set PYCENSUS_FUZZ_IMAGES)\n", dir);
		exit(1);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	load_images();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size, 0 };
	struct run r = { 0 };
	struct pyimage view;
	struct census c;
	struct pc_err e = { 0 };
	struct snapshot_opts o = { 0 };
	static struct copybuf keep; /* as sampling keeps it: fresh pages cost most of a run */

	/* the image is chosen by the first byte, --arenas by the second. Below 0xc0 it picks among
	 * the first seeds as it always did (every regression input starts below 0x80), from 0xc0
	 * among the "v2-" seeds added with 3.13.18, 3.14 and 3.15. */
	uint8_t pick = (uint8_t)take(&in, 1);
	if (pick < 0xc0 || nfirst == 0 || nfirst == nimages)
		r.f = &images[pick % (nfirst ? nfirst : nimages)];
	else
		r.f = &images[nfirst + (pick - 0xc0) % (nimages - nfirst)];
	o.arenas = (enum arena_mode)(take(&in, 1) % 3);
	o.keep_copy = &keep;
	r.nregions = r.f->img.nregions;
	r.regions = xmalloc((r.nregions + 1) * sizeof *r.regions);
	memcpy(r.regions, r.f->img.regions, r.nregions * sizeof *r.regions);
	r.maps = xmalloc((r.f->img.maps.n + 1) * sizeof *r.maps);
	memcpy(r.maps, r.f->img.maps.v, r.f->img.maps.n * sizeof *r.maps);
	for (int k = 0; k < MAX_OPS && in.off < in.n; k++)
		ops[take(&in, 1) % PC_ARRAY_LEN(ops)](&r, &in);
	view = r.f->img;
	view.regions = r.regions;
	view.nregions = r.nregions;
	view.maps.v = r.maps;
	census_init(&c);
	snapshot_replay(&view, &o, &c, &e);
	census_release(&c);
	for (size_t i = 0; i < r.nt; i++)
		memcpy(r.f->work + r.t[i].off, r.f->pristine + r.t[i].off, r.t[i].len);
	free(r.regions);
	free(r.maps);
	return 0;
}
