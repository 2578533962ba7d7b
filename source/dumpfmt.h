/* dumpfmt.h: the layout of a dump file that its writer (source/dumpwrite.c) and its reader
 * (source/dump.c) share; docs/dump-format.md describes it for everyone else. All integers are
 * little-endian.
 *
 *   header (64 bytes): magic[8], u32 version, u32 header_bytes, u16 ELF machine, u8 pointer
 *     bytes, u8 byte order (1: little), u32 nsections, u64 toc_offset, u64 file_bytes, u32
 *     toc_crc32, u32 flags (0), 12 bytes 0, u32 header_crc32 (of the 60 bytes before it)
 *   sections: one zstd frame each (with zstd's own content checksum)
 *   table of contents at toc_offset: nsections entries of 40 bytes:
 *     u32 id, u32 flags (bit 0: required), u64 offset, u64 stored_bytes, u64 raw_bytes,
 *     u32 raw_crc32, u32 reserved (0)
 */
#ifndef PC_DUMPFMT_H
#define PC_DUMPFMT_H

#include "common/compat.h"

#define DUMP_TOC_ENTRY 40
#define DUMP_MAX_SECTIONS 64
#define DUMP_SEC_REQUIRED 1u

enum dump_section {
	DUMP_SEC_META = 1,    /* key=value lines (struct dump_meta) */
	DUMP_SEC_IMAGE = 2,   /* the image's header, maps and symbols (source/image.h) */
	DUMP_SEC_REGIONS = 3, /* u32 count, { u64 addr, u64 len, bytes }..., the image's trailer */
	/* a streamed census's arenas, written window by window: { u64 addr, u64 len, bytes }... ended
	 * by { 0, 0 }; sorted, overlapping neither each other nor REGIONS. Optional (format 1 files
	 * written from one copy have none). */
	DUMP_SEC_ARENAS = 4,
};

/* x86-64 (ELF e_machine EM_X86_64): the only architecture pycensus reads. */
#define DUMP_MACHINE 62

struct dump_toc {
	uint32_t id, flags;
	uint64_t offset, stored, raw;
	uint32_t crc;
};

static inline void dumpfmt_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void dumpfmt_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t dumpfmt_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t dumpfmt_get64(const uint8_t *p)
{
	return (uint64_t)dumpfmt_get32(p) | (uint64_t)dumpfmt_get32(p + 4) << 32;
}

/* CRC-32 (zlib's) of any length: zlib takes at most 4 GiB a call. */
uint32_t dumpfmt_crc(uint32_t crc, const void *p, uint64_t n);

#endif
