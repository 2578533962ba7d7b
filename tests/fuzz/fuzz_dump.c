/* fuzz_dump.c: libFuzzer harness for the heap-dump reader (source/dump.c): every input must be
 * refused with a reason or read, never crash, leak or read out of bounds; what is read is then
 * censused (snapshot_replay), as `pycensus snap FILE` would. The first byte picks the mode:
 *   0: the input is the dump file itself;
 *   1: the input is split into META, IMAGE and REGIONS contents, wrapped in a valid container
 *      (compressed, checksummed: built here from docs/dump-format.md, independently of the
 *      writer), so mutations reach the parsers behind the checksums;
 *   2: a seed image (PYCENSUS_FUZZ_IMAGES, as fuzz_census) wrapped as a valid dump, then the
 *      input's (offset, byte) pairs xor'ed into the file: near-valid files;
 *   3: as 1, with a fourth section, ARENAS (a streamed census's arenas), merged into REGIONS. */
#include "common/compat.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include "common/xalloc.h"
#include "census/snapshot.h"
#include "source/dump.h"
#include "source/dumpfmt.h"

/* What a fuzzed dump may decompress to: large enough for the seeds, small enough to run fast. */
#define FUZZ_MAX_RAW (64u << 20)
#define MAX_SEEDS 8

static uint8_t *seeds[MAX_SEEDS];
static size_t seed_len[MAX_SEEDS], nseeds;

struct buf {
	uint8_t *v;
	size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	xgrow((void **)&b->v, &b->cap, b->n + n + 1, 1);
	memcpy(b->v + b->n, p, n);
	b->n += n;
}

/* A dump of nsec (3, or 4 with a streamed census's ARENAS) sections' contents, laid out as
 * docs/dump-format.md says. */
static void build(struct buf *out, const uint8_t *const raw[4], const size_t rawlen[4], unsigned nsec)
{
	uint8_t h[DUMP_HEADER_BYTES] = { 0 }, toc[4][DUMP_TOC_ENTRY];
	uint32_t toc_crc = 0;

	memset(toc, 0, sizeof toc);
	put(out, h, sizeof h);
	for (unsigned i = 0; i < nsec; i++) {
		size_t cap = ZSTD_compressBound(rawlen[i]), got;
		uint8_t *z = xmalloc(cap);
		got = ZSTD_compress(z, cap, raw[i], rawlen[i], 1);
		if (ZSTD_isError(got))
			got = 0;
		dumpfmt_put32(toc[i], (uint32_t)i + 1);
		dumpfmt_put32(toc[i] + 4, DUMP_SEC_REQUIRED);
		dumpfmt_put64(toc[i] + 8, out->n);
		dumpfmt_put64(toc[i] + 16, got);
		dumpfmt_put64(toc[i] + 24, rawlen[i]);
		dumpfmt_put32(toc[i] + 32, (uint32_t)crc32(0, raw[i], (uInt)rawlen[i]));
		put(out, z, got);
		free(z);
	}
	memcpy(h, dump_magic, 8);
	dumpfmt_put32(h + 8, DUMP_FORMAT_VERSION);
	dumpfmt_put32(h + 12, DUMP_HEADER_BYTES);
	h[16] = DUMP_MACHINE, h[18] = 8, h[19] = 1;
	dumpfmt_put32(h + 20, nsec);
	dumpfmt_put64(h + 24, out->n);
	toc_crc = (uint32_t)crc32(0, &toc[0][0], nsec * DUMP_TOC_ENTRY);
	put(out, toc, nsec * DUMP_TOC_ENTRY);
	dumpfmt_put64(h + 32, out->n);
	dumpfmt_put32(h + 40, toc_crc);
	dumpfmt_put32(h + 60, (uint32_t)crc32(0, h, 60));
	memcpy(out->v, h, sizeof h);
}

static const char META[] = "pid=4242\ntaken=1700000000\nhost=fuzz\narch=x86_64\n";

/* Each seed image whole in IMAGE, REGIONS empty: the reader parses the two back to back. */
static void load_seeds(void)
{
	const char *dir = getenv("PYCENSUS_FUZZ_IMAGES") ? getenv("PYCENSUS_FUZZ_IMAGES") : "build-fuzz/images";
	DIR *d = opendir(dir);
	struct dirent *ent;

	while (d && (ent = readdir(d)) && nseeds < MAX_SEEDS) {
		char path[1024];
		struct buf img = { 0 }, out = { 0 };
		uint8_t chunk[65536];
		size_t got;
		FILE *f;
		if (!strstr(ent->d_name, ".img"))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
		if (!(f = fopen(path, "rb")))
			continue;
		while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
			put(&img, chunk, got);
		fclose(f);
		const uint8_t *raw[4] = { (const uint8_t *)META, img.v, (const uint8_t *)"" };
		const size_t len[4] = { sizeof META - 1, img.n, 0 };
		build(&out, raw, len, 3);
		seeds[nseeds] = out.v;
		seed_len[nseeds++] = out.n;
		free(img.v);
	}
	if (d)
		closedir(d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	load_seeds();
	return 0;
}

static void read_and_census(const uint8_t *p, size_t n)
{
	struct dump d;
	struct pc_err e = { 0 };

	if (dump_parse(p, n, FUZZ_MAX_RAW, &d, &e) == 0) {
		struct snapshot_opts o = { 0 };
		struct census c;
		census_init(&c);
		pc_err_clear(&e);
		snapshot_replay(&d.img, &o, &c, &e);
		census_release(&c);
		dump_release(&d);
	} else if (!e.detail[0]) {
		abort(); /* a refusal must say why */
	}
}

/* Modes 1 and 3: nsec - 1 little-endian u16 lengths split the rest into META, IMAGE, REGIONS
 * (and ARENAS). */
static void wrapped(const uint8_t *p, size_t n, unsigned nsec)
{
	const uint8_t *raw[4];
	size_t len[4], hdr = 2 * (nsec - 1), left = n >= hdr ? n - hdr : 0, at = 0;
	const uint8_t *rest = p + (n >= hdr ? hdr : n);
	struct buf out = { 0 };

	for (unsigned i = 0; i < nsec; i++) {
		size_t want = i + 1 < nsec && n >= hdr ? (size_t)(p[2 * i] | p[2 * i + 1] << 8) : left - at;
		len[i] = want < left - at ? want : left - at;
		raw[i] = rest + at;
		at += len[i];
	}
	build(&out, raw, len, nsec);
	read_and_census(out.v, out.n);
	free(out.v);
}

/* Mode 2: a seed with (u32 offset, byte) xors. */
static void near_valid(const uint8_t *p, size_t n)
{
	size_t s;
	uint8_t *f;

	if (!nseeds || !n)
		return;
	s = p[0] % nseeds;
	f = xmalloc(seed_len[s]);
	memcpy(f, seeds[s], seed_len[s]);
	for (size_t i = 1; i + 5 <= n; i += 5)
		f[dumpfmt_get32(p + i) % seed_len[s]] ^= p[i + 4];
	read_and_census(f, seed_len[s]);
	free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0: read_and_census(data + 1, size - 1); break;
	case 1: wrapped(data + 1, size - 1, 3); break;
	case 2: near_valid(data + 1, size - 1); break;
	default: wrapped(data + 1, size - 1, 4); break;
	}
	return 0;
}
