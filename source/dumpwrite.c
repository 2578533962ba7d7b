/* dumpwrite.c: writing a dump (source/dump.h, layout in source/dumpfmt.h) as a stream: each
 * section goes through zstd into the file as it is produced, so nothing is held twice. */
#include "common/compat.h"
#include "source/dump.h"
#include "source/dumpfmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include "common/xalloc.h"

/* The progress callback runs at most once per this many bytes. */
#define PROGRESS_STEP (32u << 20)

struct zout {
	FILE *f;
	ZSTD_CCtx *cc;
	uint8_t *buf;
	size_t cap;
	uint64_t at;           /* file offset */
	struct dump_toc toc[DUMP_MAX_SECTIONS];
	unsigned n;
	const char *bad;       /* the first failure, sticky */
	int err;
};

static void z_raw(struct zout *z, const void *p, size_t n)
{
	if (z->bad)
		return;
	if (fwrite(p, 1, n, z->f) != n) {
		z->bad = "write";
		z->err = errno;
	}
	z->at += n;
}

/* Feeds n bytes of the current section to the compressor (end: finishes its frame). */
static void z_push(struct zout *z, const void *p, size_t n, ZSTD_EndDirective end)
{
	ZSTD_inBuffer in = { p, n, 0 };
	struct dump_toc *t = &z->toc[z->n];

	t->raw += n;
	t->crc = dumpfmt_crc(t->crc, p, n);
	while (!z->bad) {
		ZSTD_outBuffer out = { z->buf, z->cap, 0 };
		size_t left = ZSTD_compressStream2(z->cc, &out, &in, end);
		if (ZSTD_isError(left)) {
			z->bad = ZSTD_getErrorName(left);
			return;
		}
		z_raw(z, z->buf, out.pos);
		t->stored += out.pos;
		if (end == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return;
	}
}

static void sec_begin(struct zout *z, uint32_t id)
{
	z->toc[z->n] = (struct dump_toc){ .id = id, .flags = DUMP_SEC_REQUIRED, .offset = z->at };
	ZSTD_CCtx_reset(z->cc, ZSTD_reset_session_only);
}

static void sec_end(struct zout *z)
{
	z_push(z, NULL, 0, ZSTD_e_end);
	z->n++;
}

static void put_meta(struct zout *z, const struct dump_meta *m, int level)
{
	char text[2048];
	int n;

	n = snprintf(text, sizeof text,
		     "pid=%u\ntaken=%lld\npause_s=%.6f\nrss=%llu\nhost=%s\narch=%s\nwriter=%s\nbuild_id=%s\n"
		     "python=%s\npause=%s\nzstd_level=%d\nspan=%#llx-%#llx\n",
		     m->pid, (long long)m->taken, m->pause_s, (unsigned long long)m->rss, m->host, m->arch,
		     m->writer, m->build_id, m->python, m->pause, level, (unsigned long long)m->span_lo,
		     (unsigned long long)m->span_hi);
	sec_begin(z, DUMP_SEC_META);
	z_push(z, text, n > 0 && (size_t)n < sizeof text ? (size_t)n : 0, ZSTD_e_continue);
	sec_end(z);
}

static void push_region(struct mem_region **v, size_t *n, size_t *cap, struct mem_region r)
{
	xgrow((void **)v, cap, *n + 1, sizeof **v);
	(*v)[(*n)++] = r;
}

/* rec's parts outside every copy (both sorted and non-overlapping), in address order. */
static size_t clip_recorded(const struct mem_region *rec, size_t nrec, const struct mem_region *cp, size_t ncp,
			    struct mem_region **out)
{
	size_t n = 0, cap = 0, j = 0;

	*out = NULL;
	for (size_t i = 0; i < nrec; i++) {
		uint64_t a = rec[i].addr, end = rec[i].addr + rec[i].len;
		while (j < ncp && cp[j].addr + cp[j].len <= a)
			j++;
		for (size_t c = j; a < end;) {
			uint64_t stop = c < ncp && cp[c].addr < end ? cp[c].addr : end;
			if (stop > a)
				push_region(out, &n, &cap, (struct mem_region){ a, stop - a, rec[i].data + (a - rec[i].addr) });
			if (stop == end)
				break;
			a = cp[c].addr + cp[c].len; /* what copy c holds comes from the copy */
			c++;
		}
	}
	return n;
}

/* The regions as the file lists them: rec's parts outside the copies, and the copies, merged in
 * address order. Descriptors only: the bytes stay where they are. */
static size_t plan_regions(const struct mem_region *rec, size_t nrec, const struct mem_region *cp, size_t ncp,
			   struct mem_region **out)
{
	struct mem_region *f, *v = NULL;
	size_t nf = clip_recorded(rec, nrec, cp, ncp, &f), n = 0, cap = 0, i = 0, k = 0;

	while (i < nf || k < ncp)
		push_region(&v, &n, &cap, k >= ncp || (i < nf && f[i].addr < cp[k].addr) ? f[i++] : cp[k++]);
	free(f);
	*out = v;
	return n;
}

static void put_regions(struct zout *z, const struct mem_region *v, size_t n, dump_progress_fn *progress,
			void *arg, uint64_t total)
{
	uint8_t head[16];
	uint64_t done = 0, shown = 0;

	sec_begin(z, DUMP_SEC_REGIONS);
	dumpfmt_put32(head, (uint32_t)n);
	z_push(z, head, 4, ZSTD_e_continue);
	for (size_t i = 0; i < n && !z->bad; i++) {
		dumpfmt_put64(head, v[i].addr);
		dumpfmt_put64(head + 8, v[i].len);
		z_push(z, head, 16, ZSTD_e_continue);
		z_push(z, v[i].data, v[i].len, ZSTD_e_continue);
		done += v[i].len;
		if (progress && done - shown >= PROGRESS_STEP) {
			progress(arg, done, total);
			shown = done;
		}
	}
	z_push(z, image_trailer, 8, ZSTD_e_continue);
	sec_end(z);
}

static void put_toc_and_header(struct zout *z)
{
	uint8_t ent[DUMP_TOC_ENTRY], h[DUMP_HEADER_BYTES] = { 0 };
	uint64_t toc_at = z->at;
	uint32_t toc_crc = 0;

	for (unsigned i = 0; i < z->n; i++) {
		const struct dump_toc *t = &z->toc[i];
		memset(ent, 0, sizeof ent);
		dumpfmt_put32(ent, t->id);
		dumpfmt_put32(ent + 4, t->flags);
		dumpfmt_put64(ent + 8, t->offset);
		dumpfmt_put64(ent + 16, t->stored);
		dumpfmt_put64(ent + 24, t->raw);
		dumpfmt_put32(ent + 32, t->crc);
		toc_crc = dumpfmt_crc(toc_crc, ent, sizeof ent);
		z_raw(z, ent, sizeof ent);
	}
	memcpy(h, dump_magic, 8);
	dumpfmt_put32(h + 8, DUMP_FORMAT_VERSION);
	dumpfmt_put32(h + 12, DUMP_HEADER_BYTES);
	h[16] = DUMP_MACHINE;
	h[18] = 8;
	h[19] = 1;
	dumpfmt_put32(h + 20, z->n);
	dumpfmt_put64(h + 24, toc_at);
	dumpfmt_put64(h + 32, z->at);
	dumpfmt_put32(h + 40, toc_crc);
	dumpfmt_put32(h + 60, dumpfmt_crc(0, h, 60));
	if (!z->bad && fseek(z->f, 0, SEEK_SET) != 0) {
		z->bad = "seek";
		z->err = errno;
	}
	z_raw(z, h, sizeof h);
}

static void z_init(struct zout *z, int level)
{
	z->cc = ZSTD_createCCtx();
	if (!z->cc)
		PC_BUG("out of memory for the compressor");
	ZSTD_CCtx_setParameter(z->cc, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(z->cc, ZSTD_c_checksumFlag, 1);
	z->cap = ZSTD_CStreamOutSize();
	z->buf = xmalloc(z->cap);
}

static int z_open(struct zout *z, const char *path, int level, struct pc_err *e)
{
	uint8_t zero[DUMP_HEADER_BYTES] = { 0 };

	memset(z, 0, sizeof *z);
	if (!(z->f = fopen(path, "wbe")))
		return pc_fail(e, PC_EOUTPUT, "cannot create %s: %s", path, strerror(errno));
	z_init(z, level);
	z_raw(z, zero, sizeof zero); /* the header, written last once the offsets are known */
	return 0;
}

/* META, IMAGE and the regions (v, n), then the table of contents and the header; closes the
 * file, and removes it when anything failed. */
static int z_finish(struct zout *z, const char *path, const struct dump_meta *m, int level, const struct pyimage *head,
		    const struct mem_region *v, size_t n, dump_progress_fn *progress, void *arg, struct dump_out *out,
		    struct pc_err *e)
{
	uint8_t *hb;
	size_t hn = image_encode_head(head, &hb);
	uint64_t bytes = 0;
	bool closed;

	for (size_t i = 0; i < n; i++)
		bytes += v[i].len;
	put_meta(z, m, level);
	sec_begin(z, DUMP_SEC_IMAGE);
	z_push(z, hb, hn, ZSTD_e_continue);
	sec_end(z);
	put_regions(z, v, n, progress, arg, bytes);
	put_toc_and_header(z);
	if (!z->bad && fflush(z->f) != 0) {
		z->bad = "write";
		z->err = errno;
	}
	closed = fclose(z->f) == 0;
	out->region_bytes += bytes;
	out->nregions += n;
	for (unsigned i = 0; i < z->n; i++)
		out->raw_bytes += z->toc[i].raw;
	out->file_bytes = z->at;
	ZSTD_freeCCtx(z->cc);
	free(z->buf);
	free(hb);
	if (z->bad || !closed) {
		unlink(path);
		return pc_fail(e, PC_EOUTPUT, "cannot write %s: %s", path,
			       z->err ? strerror(z->err) : z->bad ? z->bad : "close failed");
	}
	return 0;
}

int dump_write(const char *path, const struct dump_meta *m, const struct pyimage *head,
	       const struct mem_region *rec, size_t nrec, const struct mem_region *copies, size_t ncopies,
	       int level, dump_progress_fn *progress, void *arg, struct dump_out *out, struct pc_err *e)
{
	struct zout z;
	struct mem_region *v;
	size_t n;
	int rc;

	memset(out, 0, sizeof *out);
	if (z_open(&z, path, level, e) < 0)
		return -1;
	n = plan_regions(rec, nrec, copies, ncopies, &v);
	rc = z_finish(&z, path, m, level, head, v, n, progress, arg, out, e);
	free(v);
	return rc;
}

struct dump_stream {
	struct zout z;
	char *path;
	int level;
	uint64_t arena_bytes;
	size_t narenas;
};

struct dump_stream *dump_stream_open(const char *path, int level, struct pc_err *e)
{
	struct dump_stream *ds = xcalloc(1, sizeof *ds);

	if (z_open(&ds->z, path, level, e) < 0) {
		free(ds);
		return NULL;
	}
	ds->path = xstrdup(path);
	ds->level = level;
	sec_begin(&ds->z, DUMP_SEC_ARENAS);
	return ds;
}

void dump_stream_arena(struct dump_stream *ds, uint64_t addr, const uint8_t *data, uint64_t len)
{
	uint8_t head[16];

	if (!len)
		return;
	dumpfmt_put64(head, addr);
	dumpfmt_put64(head + 8, len);
	z_push(&ds->z, head, 16, ZSTD_e_continue);
	z_push(&ds->z, data, len, ZSTD_e_continue);
	ds->arena_bytes += len;
	ds->narenas++;
}

int dump_stream_close(struct dump_stream *ds, const struct dump_meta *m, const struct pyimage *head,
		      const struct mem_region *rec, size_t nrec, const struct mem_region *arenas, size_t narenas,
		      dump_progress_fn *progress, void *arg, struct dump_out *out, struct pc_err *e)
{
	uint8_t end[16] = { 0 };
	struct mem_region *v;
	size_t n = clip_recorded(rec, nrec, arenas, narenas, &v);
	int rc;

	memset(out, 0, sizeof *out);
	z_push(&ds->z, end, 16, ZSTD_e_continue); /* {0, 0}: the last arena */
	sec_end(&ds->z);
	out->region_bytes = ds->arena_bytes;
	out->nregions = ds->narenas;
	rc = z_finish(&ds->z, ds->path, m, ds->level, head, v, n, progress, arg, out, e);
	free(v);
	free(ds->path);
	free(ds);
	return rc;
}

void dump_stream_abort(struct dump_stream *ds)
{
	if (!ds)
		return;
	fclose(ds->z.f);
	unlink(ds->path);
	ZSTD_freeCCtx(ds->z.cc);
	free(ds->z.buf);
	free(ds->path);
	free(ds);
}
