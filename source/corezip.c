/* corezip.c: decompressing a systemd-coredump core (zstd, lz4 or xz) to an unlinked temporary
 * file (source/corezip.h). The stream is hostile: each library checks its own format and
 * checksums; what is bounded here is the memory it may take, the room it may fill, and a stream
 * that stops making progress. */
#include "common/compat.h"
#include "source/corezip.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zstd.h>
#include "common/xalloc.h"

#define IN_CHUNK (256u << 10)
#define OUT_CHUNK (1u << 20)
#define PAGE 4096u                  /* zero pages become holes (the kernel's core writer does too) */
#define ROOM_EVERY (64ull << 20)    /* free space checked after every this many bytes written */
#define XZ_MEMLIMIT (256ull << 20)  /* xz -9 needs 65 MiB; more is a hostile or exotic stream */

/* One decompressor. step: consumes from in[0, n) (*used), produces into out[0, cap) (*made);
 * *ended when everything given so far is decoded, flushed, and a stream or frame ended there;
 * eof: nothing follows in[0, n). Returns NULL, or why the stream is bad. */
struct codec {
	void *st;
	const char *(*step)(void *st, const uint8_t *in, size_t n, bool eof, size_t *used, uint8_t *out, size_t cap,
			    size_t *made, bool *ended);
	uint64_t size; /* the decompressed size the stream declares; 0: unknown */
};

static const char *zstd_step(void *st, const uint8_t *in, size_t n, bool eof, size_t *used, uint8_t *out, size_t cap,
			     size_t *made, bool *ended)
{
	ZSTD_inBuffer i = { in, n, 0 };
	ZSTD_outBuffer o = { out, cap, 0 };
	size_t r = ZSTD_decompressStream(st, &o, &i);

	(void)eof;
	*used = i.pos;
	*made = o.pos;
	if (ZSTD_isError(r))
		return ZSTD_getErrorName(r);
	*ended = r == 0; /* a frame decoded and flushed whole */
	return NULL;
}

static const char *lz4_step(void *st, const uint8_t *in, size_t n, bool eof, size_t *used, uint8_t *out, size_t cap,
			    size_t *made, bool *ended)
{
	size_t i = n, o = cap, r = LZ4F_decompress(st, out, &o, in, &i, NULL);

	(void)eof;
	*used = i;
	*made = o;
	if (LZ4F_isError(r))
		return LZ4F_getErrorName(r);
	*ended = r == 0;
	return NULL;
}

static const char *xz_step(void *st, const uint8_t *in, size_t n, bool eof, size_t *used, uint8_t *out, size_t cap,
			   size_t *made, bool *ended)
{
	lzma_stream *s = st;
	lzma_ret r;

	s->next_in = in;
	s->avail_in = n;
	s->next_out = out;
	s->avail_out = cap;
	r = lzma_code(s, eof ? LZMA_FINISH : LZMA_RUN); /* LZMA_CONCATENATED ends only at FINISH */
	*used = n - s->avail_in;
	*made = cap - s->avail_out;
	*ended = r == LZMA_STREAM_END;
	switch (r) {
	case LZMA_OK: case LZMA_STREAM_END: case LZMA_BUF_ERROR: /* no progress: the caller sees it */
		return NULL;
	case LZMA_MEMLIMIT_ERROR:
		return "it needs more than 256 MiB of memory to decompress";
	case LZMA_FORMAT_ERROR:
		return "not an xz stream";
	case LZMA_OPTIONS_ERROR:
		return "unsupported xz options";
	case LZMA_DATA_ERROR:
		return "corrupt data";
	default:
		return "liblzma failed";
	}
}

/* The content size an lz4 frame header declares (FLG bit 3: 8 bytes after FLG and BD), or 0. */
static uint64_t lz4_declared(const uint8_t *h, size_t n)
{
	uint64_t v = 0;

	if (n >= 14 && (h[4] & 0x08))
		memcpy(&v, h + 6, 8);
	return v;
}

/* The codec for kind, its declared size read from head[0, n). False: out of memory. */
static bool codec_init(struct codec *c, const char *kind, const uint8_t *head, size_t n)
{
	memset(c, 0, sizeof *c);
	if (strcmp(kind, "zstd") == 0) {
		unsigned long long z = ZSTD_getFrameContentSize(head, n);
		c->step = zstd_step;
		c->st = ZSTD_createDStream();
		c->size = z == ZSTD_CONTENTSIZE_UNKNOWN || z == ZSTD_CONTENTSIZE_ERROR ? 0 : z;
		return c->st && !ZSTD_isError(ZSTD_initDStream(c->st));
	}
	if (strcmp(kind, "lz4") == 0) {
		LZ4F_dctx *d = NULL;
		c->step = lz4_step;
		c->size = lz4_declared(head, n);
		if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
			return false;
		c->st = d;
		return true;
	}
	lzma_stream *s = xmalloc(sizeof *s);
	*s = (lzma_stream)LZMA_STREAM_INIT;
	c->step = xz_step;
	c->st = s;
	return lzma_stream_decoder(s, XZ_MEMLIMIT, LZMA_CONCATENATED) == LZMA_OK;
}

static void codec_end(struct codec *c, const char *kind)
{
	if (!c->st)
		return;
	if (strcmp(kind, "zstd") == 0)
		ZSTD_freeDStream(c->st);
	else if (strcmp(kind, "lz4") == 0)
		LZ4F_freeDecompressionContext(c->st);
	else {
		lzma_end(c->st);
		free(c->st);
	}
}

/* Where the decompressed bytes go: a file (fd >= 0) or the first `want` bytes into mem. */
struct sink {
	int fd;
	uint8_t *mem;
	size_t want, got;
	uint64_t total, next_check, max;
	const char *dir, *path;
};

static double mib(uint64_t n)
{
	return (double)n / 1048576.0;
}

/* Refuses when the file system under the temporary file has less than need + the reserve free
 * (need 0: while writing, the reserve alone). */
static int check_room(const struct sink *k, uint64_t need, struct pc_err *e)
{
	struct statvfs v;
	uint64_t avail;
	char what[96];

	if (fstatvfs(k->fd, &v) < 0)
		return 0; /* unknown: a full file system still stops the writes */
	avail = (uint64_t)v.f_bavail * v.f_frsize;
	if (avail >= need + CORE_ZIP_RESERVE)
		return 0;
	if (need)
		snprintf(what, sizeof what, "the core needs %.0f MiB", mib(need));
	else
		snprintf(what, sizeof what, "%.0f MiB of the core written so far, its size unknown until the end",
			 mib(k->total));
	return pc_fail(e, PC_EOUTPUT, "no room to decompress core file %s in %s: it has %.0f MiB free, %s, and "
		       "%.0f MiB are left free for others: set TMPDIR to a directory with room", k->path, k->dir,
		       mib(avail), what, mib(CORE_ZIP_RESERVE));
}

static bool zero(const uint8_t *p, size_t n)
{
	return p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
}

/* Writes p[0, n) at the file's position, skipping over whole zero pages. */
static int put_file(struct sink *k, const uint8_t *p, size_t n, struct pc_err *e)
{
	for (size_t at = 0; at < n;) {
		bool hole = n - at >= PAGE && zero(p + at, PAGE);
		size_t run = at;
		while (run < n && (n - run >= PAGE ? zero(p + run, PAGE) : false) == hole)
			run += n - run >= PAGE ? PAGE : n - run;
		if (hole ? lseek(k->fd, (off_t)(run - at), SEEK_CUR) < 0
			 : write(k->fd, p + at, run - at) != (ssize_t)(run - at)) {
			if (errno == ENOSPC && check_room(k, 0, e) < 0)
				return -1;
			return pc_fail(e, PC_EOUTPUT, "writing the decompressed core of %s to %s: %s: set TMPDIR to a "
				       "directory with room", k->path, k->dir, strerror(errno));
		}
		at = run;
	}
	k->total += n;
	if (k->total >= k->next_check) {
		k->next_check = k->total + ROOM_EVERY;
		return check_room(k, 0, e);
	}
	return 0;
}

static int put(struct sink *k, const uint8_t *p, size_t n, struct pc_err *e)
{
	size_t take;

	if (k->fd >= 0)
		return put_file(k, p, n, e);
	take = n < k->want - k->got ? n : k->want - k->got;
	memcpy(k->mem + k->got, p, take);
	k->got += take;
	return 0;
}

/* Decompresses in_fd through c into k: to the stream's end, or until k->mem is full. */
static int run(struct codec *c, const char *kind, int in_fd, struct sink *k, struct pc_err *e)
{
	uint8_t *in = xmalloc(IN_CHUNK), *out = xmalloc(OUT_CHUNK);
	size_t n = 0, pos = 0;
	uint64_t consumed = 0;
	bool eof = false, ended = false;
	int rc = 0;

	while (rc == 0 && !(k->fd < 0 && k->got == k->want)) {
		size_t used = 0, made = 0;
		bool now = false;
		const char *why;
		if (pos == n && !eof) {
			ssize_t r = read(in_fd, in, IN_CHUNK);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				rc = pc_fail(e, PC_EBADDUMP, "cannot read core file %s: %s", k->path, strerror(errno));
				break;
			}
			consumed += n;
			n = (size_t)r;
			pos = 0;
			eof = r == 0;
		}
		why = c->step(c->st, in + pos, n - pos, eof, &used, out, OUT_CHUNK, &made, &now);
		if (why) {
			rc = pc_fail(e, PC_EBADDUMP, "bad core file %s: its %s stream is damaged near byte %llu: %s "
				     "(copy it again whole)", k->path, kind, (unsigned long long)(consumed + pos), why);
			break;
		}
		pos += used;
		if (used || made || now)
			ended = now;
		if (made && k->fd >= 0 && made > k->max - k->total)
			rc = pc_fail(e, PC_EBADDUMP, "bad core file %s: it decompresses to more than %llu bytes", k->path,
				     (unsigned long long)k->max);
		else if (made)
			rc = put(k, out, made, e);
		if (!used && !made && eof)
			break;
		if (!used && !made && pos < n)
			rc = pc_fail(e, PC_EBADDUMP, "bad core file %s: its %s stream stops decompressing at byte %llu",
				     k->path, kind, (unsigned long long)(consumed + pos));
	}
	if (rc == 0 && k->fd >= 0 && !ended)
		rc = pc_fail(e, PC_EBADDUMP, "bad core file %s: truncated: its %s stream ends after %llu bytes, before "
			     "its end (cut short while copied or written?)", k->path, kind, (unsigned long long)(consumed + n));
	free(in);
	free(out);
	return rc;
}

const char *corezip_kind(const char *path)
{
	static const struct { uint8_t magic[6]; size_t n; const char *name; } kinds[] = {
		{ { 0x28, 0xb5, 0x2f, 0xfd }, 4, "zstd" }, { { 0x04, 0x22, 0x4d, 0x18 }, 4, "lz4" },
		{ { 0xfd, '7', 'z', 'X', 'Z', 0 }, 6, "xz" },
	};
	uint8_t head[6] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got = fd >= 0 ? read(fd, head, sizeof head) : -1;

	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < PC_ARRAY_LEN(kinds); i++)
		if (got >= (ssize_t)kinds[i].n && memcmp(head, kinds[i].magic, kinds[i].n) == 0)
			return kinds[i].name;
	return NULL;
}

/* Opens path and sets up its codec from the stream's first bytes. */
static int start(const char *path, const char *kind, struct codec *c, struct pc_err *e)
{
	uint8_t head[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? pread(fd, head, sizeof head, 0) : -1;

	if (n < 0) {
		pc_fail(e, PC_EBADDUMP, "cannot read core file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!codec_init(c, kind, head, (size_t)n))
		PC_BUG("out of memory for the decompressor");
	return fd;
}

long corezip_head(const char *path, const char *kind, uint8_t *buf, size_t n)
{
	struct pc_err e = { 0 };
	struct sink k = { .fd = -1, .mem = buf, .want = n, .path = path };
	struct codec c;
	int fd = start(path, kind, &c, &e), rc = fd < 0 ? -1 : run(&c, kind, fd, &k, &e);

	codec_end(&c, kind);
	if (fd >= 0)
		close(fd);
	return rc < 0 ? -1 : (long)k.got;
}

/* An unlinked file under $TMPDIR (O_TMPFILE, or a named one unlinked at once). */
static int temp_file(const char *dir, struct pc_err *e)
{
	char name[4096];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) &&
	    snprintf(name, sizeof name, "%s/pycensus-core-XXXXXX", dir) < (int)sizeof name &&
	    (fd = mkostemp(name, O_CLOEXEC)) >= 0)
		unlink(name);
	if (fd < 0)
		return pc_fail(e, PC_EOUTPUT, "cannot make a temporary file in %s for the decompressed core: %s: set "
			       "TMPDIR to a writable directory with room", dir, strerror(errno));
	return fd;
}

int corezip_open(const char *path, const char *kind, int *fd, struct pc_err *e)
{
	return corezip_open_max(path, kind, UINT64_MAX, fd, e);
}

int corezip_open_max(const char *path, const char *kind, uint64_t max, int *fd, struct pc_err *e)
{
	const char *dir = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
	struct sink k = { .fd = temp_file(dir, e), .next_check = ROOM_EVERY, .max = max, .dir = dir, .path = path };
	struct codec c = { 0 };
	int in = k.fd < 0 ? -1 : start(path, kind, &c, e), rc = in < 0 ? -1 : check_room(&k, c.size, e);

	if (rc == 0)
		rc = run(&c, kind, in, &k, e);
	if (rc == 0 && ftruncate(k.fd, (off_t)k.total) < 0) /* a trailing hole */
		rc = pc_fail(e, PC_EOUTPUT, "sizing the decompressed core in %s: %s", dir, strerror(errno));
	if (in >= 0) {
		codec_end(&c, kind);
		close(in);
	}
	if (rc < 0 && k.fd >= 0)
		close(k.fd);
	*fd = rc < 0 ? -1 : k.fd;
	return rc < 0 ? -1 : 0;
}
