/* dump.h: heap dumps (`pycensus dump PID -o app.pcheap`): what one census reads from a live
 * process, taken in one pause, saved compressed with who, where and when it was taken, and
 * analysed later, elsewhere, as a process would be (source_open_image over the dump's image).
 * Owns the file format (docs/dump-format.md): writing it as a stream of zstd frames, and reading
 * it back with every size, offset and checksum checked before anything is trusted.
 *
 * A dump is a container around a captured image (source/image.h): its IMAGE section is the
 * image's header, maps and symbols, its REGIONS section the image's regions and trailer, so the
 * two sections decompressed back to back are an image image_parse() reads. The regions are the
 * census's own copy of the arenas (free blocks zeroed, so they compress to nothing) and every
 * other read the census made, recorded. */
#ifndef PC_DUMP_H
#define PC_DUMP_H

#include "common/compat.h"
#include "attach/mem.h"
#include "common/error.h"
#include "source/image.h"

#define DUMP_FORMAT_VERSION 1
#define DUMP_HEADER_BYTES 64
extern const char dump_magic[8]; /* "PCHEAP\n\x1a" */

/* Who, where and when: the META section (key=value lines). */
struct dump_meta {
	uint32_t pid;
	int64_t taken;        /* seconds since the epoch when the target was stopped */
	double pause_s;       /* how long it stood stopped */
	uint64_t rss;         /* its VmRSS then (bytes), 0 when unknown */
	char host[65];        /* uname nodename */
	char arch[16];        /* uname machine */
	char writer[48];      /* "pycensus 0.9.1" */
	char build_id[48];    /* GNU build-id of the interpreter's ELF file, "" when it has none */
	char python[256];     /* the interpreter's file as the target maps it */
	char pause[16];       /* "copy" or "census" */
	uint64_t span_lo, span_hi; /* the interpreter's ELF image in memory, .bss included */
};

/* What dump_write wrote. */
struct dump_out {
	uint64_t raw_bytes;   /* decompressed size of every section */
	uint64_t file_bytes;
	uint64_t region_bytes;
	size_t nregions;
};

/* Called now and then while the regions are written: bytes done of total. */
typedef void dump_progress_fn(void *arg, uint64_t done, uint64_t total);

/* Writes a dump: head (an image without regions: image_describe), then the regions of rec (the
 * recorded reads, sorted and non-overlapping) and copies (sorted, non-overlapping: they win where
 * the two overlap), streamed through zstd at level (1-19). Memory: the compressor's buffers only.
 * A failed write removes the file. Errors: OUTPUT. */
int dump_write(const char *path, const struct dump_meta *m, const struct pyimage *head,
	       const struct mem_region *rec, size_t nrec, const struct mem_region *copies, size_t ncopies,
	       int level, dump_progress_fn *progress, void *arg, struct dump_out *out, struct pc_err *e);

/* A dump written as a streamed census reads its arenas (census over --max-memory): dump_stream_open
 * starts the file, dump_stream_arena adds one arena (in address order) while its window is held,
 * dump_stream_close writes the rest (rec's parts outside the arenas, as dump_write) and closes
 * it; dump_stream_abort removes a file that will not be finished. Errors: OUTPUT. */
struct dump_stream;
struct dump_stream *dump_stream_open(const char *path, int level, struct pc_err *e);
void dump_stream_arena(struct dump_stream *ds, uint64_t addr, const uint8_t *data, uint64_t len);
int dump_stream_close(struct dump_stream *ds, const struct dump_meta *m, const struct pyimage *head,
		      const struct mem_region *rec, size_t nrec, const struct mem_region *arenas, size_t narenas,
		      dump_progress_fn *progress, void *arg, struct dump_out *out, struct pc_err *e);
void dump_stream_abort(struct dump_stream *ds);

struct dump {
	struct dump_meta meta;
	struct pyimage img;   /* owns the decompressed bytes (img.blob) */
	uint64_t file_bytes, raw_bytes;
};

/* True when path is a file (not a directory) that starts with dump_magic. */
bool dump_sniff(const char *path);
/* Parses a dump held in memory; decompressed sections may total at most max_raw bytes. buf need
 * not outlive d. Errors: USAGE with the reason (truncated, corrupt, wrong version, another
 * architecture). */
int dump_parse(const uint8_t *buf, size_t len, uint64_t max_raw, struct dump *d, struct pc_err *e);
/* Reads a dump file; what it decompresses to must fit in this machine's memory. Errors: USAGE. */
int dump_load(const char *path, struct dump *d, struct pc_err *e);
void dump_release(struct dump *d);

/* "from dump taken at 2025-01-31 12:00:00 UTC, PID 1234, host web-1" */
void dump_origin(const struct dump_meta *m, char *buf, size_t len);

#endif
