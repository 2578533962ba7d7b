/* corezip.h: compressed core files. systemd-coredump keeps cores compressed
 * (/var/lib/systemd/coredump/core.*.zst, .lz4 or .xz); this module names a file's compression and
 * decompresses it for source/core.c, which then reads it as any core.
 *
 * Where the bytes go: a core is as large as the process's memory (GBs), and core.c needs it
 * addressable as one range (its segments point into it). So it is decompressed to an unlinked
 * temporary file under $TMPDIR (/tmp when unset) that the caller mmaps: its pages are the page
 * cache's, written back and dropped under pressure, where a heap buffer would be pycensus's own
 * RSS. Runs of zero 4 KiB pages are left as holes, as the kernel writes cores. pycensus's memory
 * for it: the decompressor's buffers, about 1 MiB (xz: at most 256 MiB of dictionary, refused
 * beyond).
 * Room: the file is never allowed to fill its file system. When the stream says its size (zstd
 * and lz4 frames may; xz is not looked ahead into) that size plus a reserve of CORE_ZIP_RESERVE
 * must be free before the first byte is written; while writing, the free space is checked every
 * 64 MiB and the decompression stops once it falls under the reserve. Either refusal names
 * $TMPDIR, the room and the fix (exit code OUTPUT). */
#ifndef PC_COREZIP_H
#define PC_COREZIP_H

#include "common/compat.h"
#include "common/error.h"

#define CORE_ZIP_RESERVE (64ull << 20) /* left free on $TMPDIR's file system */

/* "zstd", "lz4" or "xz" when the file starts with that format's magic, else NULL. */
const char *corezip_kind(const char *path);
/* Up to n bytes from the start of the decompressed stream of path into buf; the count, or -1
 * when the start does not decompress (a damaged stream). */
long corezip_head(const char *path, const char *kind, uint8_t *buf, size_t n);
/* Decompresses path (of the given kind) to an unlinked temporary file under $TMPDIR: *fd is open
 * for reading, its size the decompressed size. Errors: BADDUMP (a truncated or corrupt stream,
 * with the decompressor's reason), OUTPUT (no room or no temporary file under $TMPDIR). */
int corezip_open(const char *path, const char *kind, int *fd, struct pc_err *e);
/* The same, refusing (BADDUMP) a stream that decompresses to more than max bytes: the fuzzer's
 * bound (a core's own bound is the room under $TMPDIR; its zero pages take none). */
int corezip_open_max(const char *path, const char *kind, uint64_t max, int *fd, struct pc_err *e);

#endif
