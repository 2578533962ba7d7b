/* image.c: writing, parsing and opening captured images (format in image.h). */
#include "common/compat.h"
#include "source/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

const char image_magic[8] = "PCIMAGE\n", image_trailer[8] = "PCEND\n\0\0";
#define MAGIC image_magic
#define TRAILER image_trailer

/* Bounds a hostile image can claim before it is refused. */
#define MAX_MAPS (1u << 20)
#define MAX_SYMS 4096u
#define MAX_REGIONS (1u << 24)

struct wbuf {
	uint8_t *v;
	size_t n, cap;
};

static void put(struct wbuf *b, const void *p, size_t len)
{
	xgrow((void **)&b->v, &b->cap, b->n + len, 1);
	memcpy(b->v + b->n, p, len);
	b->n += len;
}

static void put32(struct wbuf *b, uint32_t v) { put(b, &v, 4); }
static void put64(struct wbuf *b, uint64_t v) { put(b, &v, 8); }

static void put_str(struct wbuf *b, const char *s)
{
	size_t n = strlen(s);
	uint16_t len = (uint16_t)(n > 0xffff ? 0xffff : n);

	put(b, &len, 2);
	put(b, s, len);
}

static void put_header(struct wbuf *b, const struct pyimage *img)
{
	uint8_t flags[2] = { img->shared, img->has_symtab };

	put(b, MAGIC, 8);
	put32(b, IMAGE_FORMAT_VERSION);
	put32(b, 16);
	put32(b, img->pid);
	put32(b, (uint32_t)img->major);
	put32(b, (uint32_t)img->minor);
	put32(b, (uint32_t)img->micro);
	put32(b, img->version_hex);
	put(b, flags, 2);
	put_str(b, img->version);
	put_str(b, img->version_source);
	put_str(b, img->build);
	put_str(b, img->maps_path);
	put64(b, img->runtime);
	put64(b, img->bias);
}

static void put_maps(struct wbuf *b, const struct maps *m)
{
	put32(b, (uint32_t)m->n);
	for (size_t i = 0; i < m->n; i++) {
		const struct map *x = &m->v[i];
		uint8_t f = (uint8_t)(x->r | x->w << 1 | x->x << 2 | x->priv << 3);
		put64(b, x->start);
		put64(b, x->end);
		put64(b, x->offset);
		put64(b, x->inode);
		put(b, &f, 1);
		put_str(b, x->path);
	}
}

static int write_file(const char *path, const struct wbuf *b, struct pc_err *e)
{
	FILE *f = fopen(path, "wbe");
	bool ok;

	if (!f)
		return pc_fail(e, PC_EOUTPUT, "cannot create %s: %s", path, strerror(errno));
	ok = fwrite(b->v, 1, b->n, f) == b->n;
	ok = fflush(f) == 0 && ok && !ferror(f);
	if (fclose(f) != 0 || !ok)
		return pc_fail(e, PC_EOUTPUT, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

/* Header, maps and symbols: everything before the regions. */
static void put_head(struct wbuf *b, const struct pyimage *img)
{
	put_header(b, img);
	put_maps(b, &img->maps);
	put32(b, (uint32_t)img->syms.n);
	for (size_t i = 0; i < img->syms.n; i++) {
		put_str(b, img->syms.v[i].name);
		put64(b, img->syms.v[i].value);
	}
}

size_t image_encode_head(const struct pyimage *img, uint8_t **out)
{
	struct wbuf b = { 0 };

	put_head(&b, img);
	*out = b.v;
	return b.n;
}

int image_write(const char *path, const struct pyimage *img, struct pc_err *e)
{
	struct wbuf b = { 0 };
	int rc;

	put_head(&b, img);
	put32(&b, (uint32_t)img->nregions);
	for (size_t i = 0; i < img->nregions; i++) {
		put64(&b, img->regions[i].addr);
		put64(&b, img->regions[i].len);
		put(&b, img->regions[i].data, img->regions[i].len);
	}
	put(&b, TRAILER, 8);
	rc = write_file(path, &b, e);
	free(b.v);
	return rc;
}

void image_describe(struct pyimage *img, const struct pyproc *p, const struct pyelf_symcache *syms)
{
	const struct pyelf *el = &p->elf;

	*img = (struct pyimage){
		.pid = (uint32_t)p->pid, .major = el->major, .minor = el->minor, .micro = el->micro,
		.version_hex = el->version_hex, .shared = el->shared, .has_symtab = el->has_symtab,
		.runtime = el->runtime, .bias = el->bias, .maps = p->maps,
	};
	if (syms)
		img->syms = *syms;
	snprintf(img->version, sizeof img->version, "%s", el->version);
	snprintf(img->version_source, sizeof img->version_source, "%s", el->version_source);
	snprintf(img->build, sizeof img->build, "%s", el->build);
	snprintf(img->maps_path, sizeof img->maps_path, "%.255s", el->maps_path);
}

int image_save(const char *path, const struct pyproc *p, struct mem_recorder *rec,
	       const struct pyelf_symcache *syms, struct pc_err *e)
{
	struct pyimage img;
	int rc;

	image_describe(&img, p, syms);
	img.nregions = record_regions(rec, &img.regions);
	rc = image_write(path, &img, e);
	free(img.regions);
	return rc;
}

/* A bounded reader: every get fails once the input runs out, and stays failed. */
struct cur {
	const uint8_t *p;
	size_t n, off;
	const char *bad;
};

static bool get(struct cur *c, void *out, size_t len)
{
	if (c->bad || len > c->n - c->off) {
		if (!c->bad)
			c->bad = "truncated";
		memset(out, 0, len);
		return false;
	}
	memcpy(out, c->p + c->off, len);
	c->off += len;
	return true;
}

static uint32_t get32(struct cur *c) { uint32_t v; get(c, &v, 4); return v; }
static uint64_t get64(struct cur *c) { uint64_t v; get(c, &v, 8); return v; }

static void get_str(struct cur *c, char *out, size_t max)
{
	uint16_t len = 0;

	get(c, &len, 2);
	if (!c->bad && len >= max)
		c->bad = "string field too long";
	if (c->bad) {
		out[0] = '\0';
		return;
	}
	get(c, out, len);
	out[len] = '\0';
	if (memchr(out, '\0', len))
		c->bad = "string field holds a NUL";
}

static void get_header(struct cur *c, struct pyimage *img)
{
	char magic[8];
	uint8_t flags[2];

	get(c, magic, 8);
	if (!c->bad && memcmp(magic, MAGIC, 8) != 0)
		c->bad = "not a pycensus image (bad magic)";
	if (!c->bad && get32(c) != IMAGE_FORMAT_VERSION)
		c->bad = "unknown image format version (this pycensus reads version 1)";
	if (!c->bad && get32(c) != 16)
		c->bad = "bad header size";
	img->pid = get32(c);
	img->major = (int)get32(c);
	img->minor = (int)get32(c);
	img->micro = (int)get32(c);
	img->version_hex = get32(c);
	get(c, flags, 2);
	img->shared = flags[0] != 0;
	img->has_symtab = flags[1] != 0;
	get_str(c, img->version, sizeof img->version);
	get_str(c, img->version_source, sizeof img->version_source);
	get_str(c, img->build, sizeof img->build);
	get_str(c, img->maps_path, sizeof img->maps_path);
	img->runtime = get64(c);
	img->bias = get64(c);
}

static void get_maps(struct cur *c, struct maps *m)
{
	uint32_t n = get32(c);
	char path[4096];

	if (!c->bad && n > MAX_MAPS)
		c->bad = "too many maps";
	for (uint32_t i = 0; i < n && !c->bad; i++) {
		struct map x = { 0 };
		uint8_t f = 0;
		x.start = get64(c);
		x.end = get64(c);
		x.offset = get64(c);
		x.inode = get64(c);
		get(c, &f, 1);
		get_str(c, path, sizeof path);
		if (c->bad)
			break;
		if (x.end <= x.start || (m->n && x.start < m->v[m->n - 1].end)) {
			c->bad = "maps not sorted or empty";
			break;
		}
		x.r = f & 1, x.w = (f >> 1) & 1, x.x = (f >> 2) & 1, x.priv = (f >> 3) & 1;
		x.path = xstrdup(path);
		xgrow((void **)&m->v, &m->cap, m->n + 1, sizeof *m->v);
		m->v[m->n++] = x;
	}
}

static void get_syms(struct cur *c, struct pyelf_symcache *s)
{
	uint32_t n = get32(c);

	if (!c->bad && n > MAX_SYMS)
		c->bad = "too many symbols";
	for (uint32_t i = 0; i < n && !c->bad; i++) {
		struct pyelf_sym y;
		get_str(c, y.name, sizeof y.name);
		y.value = get64(c);
		if (c->bad)
			break;
		xgrow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v);
		s->v[s->n++] = y;
	}
}

static void get_regions(struct cur *c, struct pyimage *img)
{
	uint32_t n = get32(c);

	if (!c->bad && n > MAX_REGIONS)
		c->bad = "too many regions";
	if (c->bad)
		return;
	img->regions = xcalloc((size_t)n + 1, sizeof *img->regions);
	for (uint32_t i = 0; i < n && !c->bad; i++) {
		uint64_t addr = get64(c), len = get64(c);
		if (c->bad)
			break;
		if (len == 0 || len > c->n - c->off || addr + len < addr ||
		    (i && addr < img->regions[i - 1].addr + img->regions[i - 1].len)) {
			c->bad = "region empty, truncated, or out of order";
			break;
		}
		img->regions[i] = (struct mem_region){ addr, len, c->p + c->off };
		c->off += len;
		img->nregions++;
	}
}

int image_parse(const uint8_t *buf, size_t len, struct pyimage *img, struct pc_err *e)
{
	struct cur c = { buf, len, 0, NULL };
	char trailer[8];

	memset(img, 0, sizeof *img);
	get_header(&c, img);
	get_maps(&c, &img->maps);
	get_syms(&c, &img->syms);
	get_regions(&c, img);
	get(&c, trailer, 8);
	if (!c.bad && memcmp(trailer, TRAILER, 8) != 0)
		c.bad = "bad trailer";
	if (!c.bad && c.off != len)
		c.bad = "trailing bytes";
	if (c.bad) {
		image_release(img);
		return pc_fail(e, PC_EUSAGE, "bad pycensus image: %s (at byte %zu)", c.bad, c.off);
	}
	return 0;
}

int image_load(const char *path, struct pyimage *img, struct pc_err *e)
{
	FILE *f = fopen(path, "rbe");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, got;

	memset(img, 0, sizeof *img);
	if (!f)
		return pc_fail(e, PC_EUSAGE, "cannot open image %s: %s", path, strerror(errno));
	do {
		xgrow((void **)&buf, &cap, n + (1u << 20), 1);
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return pc_fail(e, PC_EUSAGE, "cannot read image %s: %s", path, strerror(errno));
	}
	fclose(f);
	if (image_parse(buf, n, img, e) < 0) {
		free(buf);
		return pc_fail(e, PC_EUSAGE, "in %s", path);
	}
	img->blob = buf;
	return 0;
}

void image_release(struct pyimage *img)
{
	maps_release(&img->maps);
	pyelf_symcache_release(&img->syms);
	free(img->regions);
	free(img->blob);
	memset(img, 0, sizeof *img);
}

void image_copy_maps(struct maps *dst, const struct maps *src)
{
	memset(dst, 0, sizeof *dst);
	dst->v = xcalloc(src->n + 1, sizeof *dst->v);
	dst->n = dst->cap = src->n;
	for (size_t i = 0; i < src->n; i++) {
		dst->v[i] = src->v[i];
		dst->v[i].path = xstrdup(src->v[i].path);
	}
}

int pyproc_open_image(struct pyproc *p, const struct pyimage *img, struct pc_err *e)
{
	struct pyelf *el = &p->elf;

	memset(p, 0, sizeof *p);
	p->pid = (pid_t)img->pid;
	image_copy_maps(&p->maps, &img->maps);
	mem_init_buffer(&p->mem);
	mem_set_image(&p->mem, img->regions, img->nregions);
	el->major = img->major;
	el->minor = img->minor;
	el->micro = img->micro;
	el->version_hex = img->version_hex;
	el->shared = img->shared;
	el->has_symtab = img->has_symtab;
	el->runtime = img->runtime;
	el->bias = img->bias;
	el->span_lo = img->span_lo;
	el->span_hi = img->span_hi;
	snprintf(el->version, sizeof el->version, "%s", img->version);
	snprintf(el->version_source, sizeof el->version_source, "%s", img->version_source);
	snprintf(el->build, sizeof el->build, "%s", img->build);
	snprintf(el->maps_path, sizeof el->maps_path, "%s", img->maps_path);
	/* the image's symbols answer lookups; nothing records into them (the image is const) */
	el->syms = (struct pyelf_symcache *)&img->syms;
	if (pyproc_finish(p, e) < 0) {
		pyproc_close(p);
		return -1;
	}
	return 0;
}
