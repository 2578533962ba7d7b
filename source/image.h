/* image.h: captured images, the file source: everything one census reads from a live process,
 * saved to a file and replayed offline (`pycensus capture`, the fuzzers, regression tests of bad
 * heaps). Owns the file format (writing, parsing, its bounds) and opening the interpreter of an
 * image; source/source.h opens an image as a source like a live process.
 *
 * An image holds what pyproc_open derives from /proc and the ELF file (maps, version, the
 * address of _PyRuntime, every symbol the census looked up) and every region of target memory
 * the census read. Replaying it runs the same walk over a memory reader backed by the image:
 * reads outside the captured regions fail as reads of unmapped memory would.
 *
 * File format (little-endian; version 1):
 *   "PCIMAGE\n" u32 format_version u32 header_bytes(=16)
 *   u32 pid, i32 major, i32 minor, i32 micro, u32 version_hex, u8 shared, u8 has_symtab
 *   str version, str version_source, str build, str maps_path        (str: u16 length + bytes)
 *   u64 runtime, u64 bias
 *   u32 nmaps   { u64 start, end, offset, inode; u8 flags r|w<<1|x<<2|priv<<3; str path }
 *   u32 nsyms   { str name; u64 value }
 *   u32 nregions{ u64 addr, u64 len; len bytes }   sorted, non-overlapping
 *   "PCEND\n\0\0"
 * image_parse() checks every count, length and order and refuses anything else.
 * (source/pyproc.h is read from here as from source.h: see there.) */
#ifndef PC_IMAGE_H
#define PC_IMAGE_H

#include "common/compat.h"
#include "attach/record.h"
#include "common/error.h"
#include "source/pyproc.h"

#define IMAGE_FORMAT_VERSION 1

struct pyimage {
	uint32_t pid;
	int major, minor, micro;
	uint32_t version_hex;
	bool shared, has_symtab;
	char version[32], version_source[24], build[200], maps_path[256];
	uint64_t runtime, bias;
	uint64_t span_lo, span_hi; /* the ELF image's span (a dump's META; not in an image file) */
	struct maps maps;          /* paths owned */
	struct pyelf_symcache syms;
	struct mem_region *regions; /* data points into the parsed buffer (or the recorder) */
	size_t nregions;
	uint8_t *blob;             /* image_load: the file, owned */
};

/* The image's fields from p and syms (borrowed: img must not be released); no regions. */
void image_describe(struct pyimage *img, const struct pyproc *p, const struct pyelf_symcache *syms);
/* The format's parts, for a writer that streams the regions (source/dump.c): *out (malloc'd)
 * receives everything before the u32 region count; returns its length. */
size_t image_encode_head(const struct pyimage *img, uint8_t **out);
extern const char image_magic[8], image_trailer[8];

/* Writes an image of p (opened with pyproc_open_recorded) from what rec and syms hold. Errors:
 * OUTPUT. */
int image_save(const char *path, const struct pyproc *p, struct mem_recorder *rec,
	       const struct pyelf_symcache *syms, struct pc_err *e);
/* Writes img as an image file. Errors: OUTPUT. */
int image_write(const char *path, const struct pyimage *img, struct pc_err *e);
/* Parses buf (which must outlive img: regions point into it). Errors: USAGE for a file that is
 * not an image of this format version, with the reason. */
int image_parse(const uint8_t *buf, size_t len, struct pyimage *img, struct pc_err *e);
/* Reads and parses a file (img owns the bytes). Errors: USAGE (missing or bad file). */
int image_load(const char *path, struct pyimage *img, struct pc_err *e);
void image_release(struct pyimage *img);
/* dst becomes a copy of src that owns its paths. */
void image_copy_maps(struct maps *dst, const struct maps *src);

/* Opens the interpreter of a captured image as pyproc_open opens a live one (same layout
 * validation). img must outlive p. Errors: as pyproc_open, LAYOUT for a bad image. */
int pyproc_open_image(struct pyproc *p, const struct pyimage *img, struct pc_err *e);

#endif
