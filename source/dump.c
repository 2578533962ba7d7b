/* dump.c: reading a dump (source/dump.h, layout in source/dumpfmt.h): header, table of contents
 * and every section checked (bounds, CRC-32, zstd's own checksum) before the image inside is
 * parsed. A hostile file gets one line naming what is wrong with it, never more. */
#include "common/compat.h"
#include "source/dump.h"
#include "source/dumpfmt.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>
#include "common/xalloc.h"

const char dump_magic[8] = "PCHEAP\n\x1a";

/* The META section is a few lines: more is not a dump this pycensus wrote. */
#define META_MAX 4096u

uint32_t dumpfmt_crc(uint32_t crc, const void *p, uint64_t n)
{
	const uint8_t *b = p;

	while (n) {
		uInt k = n > (1u << 30) ? 1u << 30 : (uInt)n;
		crc = (uint32_t)crc32(crc, b, k);
		b += k;
		n -= k;
	}
	return crc;
}

bool dump_sniff(const char *path)
{
	char magic[8];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool is;

	if (fd < 0)
		return false;
	is = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, magic, 8) == 8 && memcmp(magic, dump_magic, 8) == 0;
	close(fd);
	return is;
}

/* Header checks, in the order that names the real cause first. NULL when the header is good. */
static const char *check_header(const uint8_t *h, size_t len, uint32_t *nsec, uint64_t *toc_at, uint32_t *toc_crc)
{
	static char why[160];

	if (len < 8 || memcmp(h, dump_magic, 8) != 0)
		return "not a pycensus dump (bad magic)";
	if (len < DUMP_HEADER_BYTES)
		return "truncated: the header is incomplete";
	if (dumpfmt_get32(h + 8) != DUMP_FORMAT_VERSION) {
		snprintf(why, sizeof why, "format version %u, but this pycensus reads version %u: analyse it with the "
			 "pycensus that wrote it", dumpfmt_get32(h + 8), DUMP_FORMAT_VERSION);
		return why;
	}
	if (dumpfmt_get32(h + 60) != dumpfmt_crc(0, h, 60))
		return "corrupt: the header's checksum does not match";
	if (dumpfmt_get32(h + 12) != DUMP_HEADER_BYTES)
		return "corrupt: bad header size";
	if (h[16] != DUMP_MACHINE || h[17] != 0 || h[18] != 8 || h[19] != 1) {
		snprintf(why, sizeof why, "taken on another architecture (ELF machine %u, %u-byte pointers, %s-endian): "
			 "this pycensus reads x86-64 dumps", h[16] | h[17] << 8, h[18], h[19] == 1 ? "little" : "big");
		return why;
	}
	if (dumpfmt_get64(h + 32) > len) {
		snprintf(why, sizeof why, "truncated: %zu of its %llu bytes are there (copied before it was complete?)",
			 len, (unsigned long long)dumpfmt_get64(h + 32));
		return why;
	}
	if (dumpfmt_get64(h + 32) < len)
		return "corrupt: bytes after the end the header gives";
	*nsec = dumpfmt_get32(h + 20);
	*toc_at = dumpfmt_get64(h + 24);
	*toc_crc = dumpfmt_get32(h + 40);
	if (*nsec == 0 || *nsec > DUMP_MAX_SECTIONS || *toc_at < DUMP_HEADER_BYTES || *toc_at > len ||
	    (uint64_t)*nsec * DUMP_TOC_ENTRY != len - *toc_at)
		return "corrupt: the table of contents is out of bounds";
	return NULL;
}

static const char *read_toc(const uint8_t *buf, uint64_t toc_at, uint32_t nsec, uint32_t crc, struct dump_toc *t)
{
	const uint8_t *p = buf + toc_at;

	if (dumpfmt_crc(0, p, (uint64_t)nsec * DUMP_TOC_ENTRY) != crc)
		return "corrupt: the table of contents' checksum does not match";
	for (uint32_t i = 0; i < nsec; i++, p += DUMP_TOC_ENTRY) {
		t[i] = (struct dump_toc){ dumpfmt_get32(p), dumpfmt_get32(p + 4), dumpfmt_get64(p + 8),
					  dumpfmt_get64(p + 16), dumpfmt_get64(p + 24), dumpfmt_get32(p + 32) };
		if (t[i].offset < DUMP_HEADER_BYTES || t[i].offset > toc_at || t[i].stored > toc_at - t[i].offset)
			return "corrupt: a section lies outside the file";
	}
	return NULL;
}

/* Decompresses section t into dst (t->raw bytes) and checks it. */
static const char *unpack(ZSTD_DCtx *dc, const uint8_t *buf, const struct dump_toc *t, uint8_t *dst)
{
	size_t got = ZSTD_decompressDCtx(dc, dst, t->raw, buf + t->offset, t->stored);

	if (ZSTD_isError(got))
		return ZSTD_getErrorCode(got) == ZSTD_error_checksum_wrong ? "corrupt: a section's zstd checksum does not match"
									   : "corrupt: a section does not decompress";
	if (got != t->raw)
		return "corrupt: a section decompresses to another size than the table of contents says";
	if (dumpfmt_crc(0, dst, t->raw) != t->crc)
		return "corrupt: a section's CRC-32 does not match";
	return NULL;
}

static void meta_field(struct dump_meta *m, const char *k, const char *v)
{
	struct { const char *key; char *dst; size_t size; } strs[] = {
		{ "host", m->host, sizeof m->host }, { "arch", m->arch, sizeof m->arch },
		{ "writer", m->writer, sizeof m->writer }, { "build_id", m->build_id, sizeof m->build_id },
		{ "python", m->python, sizeof m->python }, { "pause", m->pause, sizeof m->pause },
	};

	if (strcmp(k, "pid") == 0)
		m->pid = (uint32_t)strtoul(v, NULL, 10);
	else if (strcmp(k, "taken") == 0)
		m->taken = strtoll(v, NULL, 10);
	else if (strcmp(k, "pause_s") == 0)
		m->pause_s = strtod(v, NULL);
	else if (strcmp(k, "rss") == 0)
		m->rss = strtoull(v, NULL, 10);
	else if (strcmp(k, "span") == 0 && sscanf(v, "%" SCNx64 "-%" SCNx64, &m->span_lo, &m->span_hi) != 2)
		m->span_lo = m->span_hi = 0;
	for (size_t i = 0; i < PC_ARRAY_LEN(strs); i++)
		if (strcmp(k, strs[i].key) == 0)
			snprintf(strs[i].dst, strs[i].size, "%s", v);
}

/* key=value lines; unknown keys are a later writer's and are skipped. */
static const char *parse_meta(const uint8_t *p, size_t n, struct dump_meta *m)
{
	char text[META_MAX + 1], *line, *save = NULL;

	if (n > META_MAX || memchr(p, '\0', n))
		return "corrupt: bad META section";
	memcpy(text, p, n);
	text[n] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (!eq)
			return "corrupt: bad META section";
		*eq = '\0';
		for (char *c = eq + 1; *c; c++)
			if ((unsigned char)*c < 0x20)
				*c = '?'; /* shown in report headers: no control characters */
		meta_field(m, line, eq + 1);
	}
	return m->pid ? NULL : "corrupt: the META section names no PID";
}

static const struct dump_toc *find_section(const struct dump_toc *t, uint32_t n, uint32_t id, const char **why)
{
	const struct dump_toc *found = NULL;

	for (uint32_t i = 0; i < n; i++) {
		if (t[i].id == id) {
			if (found)
				*why = "corrupt: a section appears twice";
			found = &t[i];
		} else if (t[i].id > DUMP_SEC_ARENAS && (t[i].flags & DUMP_SEC_REQUIRED) && !*why) {
			*why = "written by a newer pycensus: it holds a section this one does not know";
		}
	}
	if (!found && !*why)
		*why = "corrupt: a section is missing";
	return found;
}

/* A streamed dump's ARENAS section, if any (no complaint when there is none). */
static const struct dump_toc *find_arenas(const struct dump_toc *t, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (t[i].id == DUMP_SEC_ARENAS)
			return &t[i];
	return NULL;
}

/* The ARENAS section's records (p, n bytes) merged into img's regions, in address order. */
static const char *merge_arenas(struct pyimage *img, const uint8_t *p, uint64_t n)
{
	struct mem_region *a = NULL, *v;
	size_t na = 0, cap = 0, i = 0, k = 0, nv = 0;
	uint64_t off = 0;

	for (;;) {
		uint64_t addr, len;
		if (n - off < 16) {
			free(a);
			return "corrupt: the ARENAS section is truncated";
		}
		addr = dumpfmt_get64(p + off);
		len = dumpfmt_get64(p + off + 8);
		off += 16;
		if (!addr && !len)
			break;
		if (!len || len > n - off || addr + len < addr || na >= (1u << 24) ||
		    (na && addr < a[na - 1].addr + a[na - 1].len)) {
			free(a);
			return "corrupt: an arena in the ARENAS section is empty, truncated or out of order";
		}
		xgrow((void **)&a, &cap, na + 1, sizeof *a);
		a[na++] = (struct mem_region){ addr, len, p + off };
		off += len;
	}
	v = xcalloc(img->nregions + na + 1, sizeof *v);
	while (i < img->nregions || k < na) {
		struct mem_region r = k < na && (i >= img->nregions || a[k].addr < img->regions[i].addr) ? a[k++] : img->regions[i++];
		if (nv && r.addr < v[nv - 1].addr + v[nv - 1].len) {
			free(a);
			free(v);
			return "corrupt: an arena overlaps another region";
		}
		v[nv++] = r;
	}
	free(a);
	free(img->regions);
	img->regions = v;
	img->nregions = nv;
	return off == n ? NULL : "corrupt: bytes after the last arena";
}

/* Decompresses META, then IMAGE and REGIONS back to back into one buffer (an image), and a
 * streamed dump's ARENAS after them (*arenas_at: where they start; imglen when there are none). */
static const char *inflate_all(const uint8_t *buf, const struct dump_toc *toc, uint32_t nsec, uint64_t max_raw,
			       struct dump *d, uint8_t **img, size_t *imglen, size_t *arenas_at)
{
	const char *why = NULL;
	const struct dump_toc *m = find_section(toc, nsec, DUMP_SEC_META, &why),
			      *h = find_section(toc, nsec, DUMP_SEC_IMAGE, &why),
			      *r = find_section(toc, nsec, DUMP_SEC_REGIONS, &why), *a = find_arenas(toc, nsec);
	uint64_t araw = a ? a->raw : 0;
	uint8_t meta[META_MAX];
	ZSTD_DCtx *dc;

	if (why)
		return why;
	if (m->raw > META_MAX)
		return "corrupt: bad META section";
	if (h->raw > max_raw || r->raw > max_raw - h->raw || araw > max_raw - h->raw - r->raw)
		return "too large: it decompresses to more than this machine's memory";
	if (!(dc = ZSTD_createDCtx()))
		return "out of memory";
	why = unpack(dc, buf, m, meta);
	if (!why)
		why = parse_meta(meta, m->raw, &d->meta);
	*arenas_at = h->raw + r->raw;
	*imglen = *arenas_at + araw;
	*img = xmalloc(*imglen + 1);
	if (!why)
		why = unpack(dc, buf, h, *img);
	if (!why)
		why = unpack(dc, buf, r, *img + h->raw);
	if (!why && a)
		why = unpack(dc, buf, a, *img + *arenas_at);
	ZSTD_freeDCtx(dc);
	d->raw_bytes = m->raw + *imglen;
	return why;
}

int dump_parse(const uint8_t *buf, size_t len, uint64_t max_raw, struct dump *d, struct pc_err *e)
{
	struct dump_toc toc[DUMP_MAX_SECTIONS];
	uint32_t nsec = 0, toc_crc = 0;
	uint64_t toc_at = 0;
	uint8_t *img = NULL;
	size_t imglen = 0, arenas_at = 0;
	const char *why;

	memset(d, 0, sizeof *d);
	why = check_header(buf, len, &nsec, &toc_at, &toc_crc);
	if (!why)
		why = read_toc(buf, toc_at, nsec, toc_crc, toc);
	if (!why)
		why = inflate_all(buf, toc, nsec, max_raw, d, &img, &imglen, &arenas_at);
	if (why) {
		free(img);
		return pc_fail(e, PC_EBADDUMP, "%s", why);
	}
	if (image_parse(img, arenas_at, &d->img, e) < 0) {
		free(img);
		return -1;
	}
	if (arenas_at < imglen && (why = merge_arenas(&d->img, img + arenas_at, imglen - arenas_at))) {
		image_release(&d->img);
		free(img);
		return pc_fail(e, PC_EBADDUMP, "%s", why);
	}
	d->img.blob = img;
	if (d->meta.span_lo < d->meta.span_hi) {
		d->img.span_lo = d->meta.span_lo;
		d->img.span_hi = d->meta.span_hi;
	}
	d->file_bytes = len;
	return 0;
}

/* What a dump may decompress to: this machine's memory (the analysis holds it all). */
static uint64_t memory_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

	return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : UINT64_MAX;
}

int dump_load(const char *path, struct dump *d, struct pc_err *e)
{
	struct stat st;
	void *map = MAP_FAILED;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	memset(d, 0, sizeof *d);
	if (fd < 0)
		return pc_fail(e, PC_EBADDUMP, "cannot open dump %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return pc_fail(e, PC_EBADDUMP, "dump %s is not a regular file", path);
	}
	if (st.st_size > 0)
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (st.st_size > 0 && map == MAP_FAILED)
		return pc_fail(e, PC_EBADDUMP, "cannot read dump %s: %s", path, strerror(errno));
	rc = dump_parse(map == MAP_FAILED ? (const uint8_t *)"" : map, (size_t)st.st_size, memory_bytes(), d, e);
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	if (rc < 0) {
		char why[sizeof e->detail];
		snprintf(why, sizeof why, "%s", e->detail);
		pc_err_clear(e);
		return pc_fail(e, PC_EBADDUMP, "%s: %s", path, why);
	}
	return 0;
}

void dump_release(struct dump *d)
{
	image_release(&d->img);
	memset(d, 0, sizeof *d);
}

void dump_origin(const struct dump_meta *m, char *buf, size_t len)
{
	time_t t = (time_t)m->taken;
	struct tm tm;
	char when[40] = "an unknown time";

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
	snprintf(buf, len, "from dump taken at %s, PID %u, host %s", when, m->pid, m->host[0] ? m->host : "unknown");
}
