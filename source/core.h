/* core.h: ELF core files (gcore, the kernel's core_pattern, systemd-coredump, compressed or not)
 * as a source: the process as it was when it dumped, analysed like a heap dump. Owns parsing the
 * core (every header, offset and note bounded before it is trusted) and the memory it stands for:
 *  - the PT_LOAD segments' bytes in the core are the process's memory;
 *  - bytes a segment lacks (p_filesz < p_memsz) of a read-only file mapping come from that file
 *    (the kernel and gdb leave read-only file pages out: they are on disk), found at the path
 *    the core's NT_FILE note names, under --sysroot DIR, or at --exe for the executable;
 *  - any other absent bytes (filtered by /proc/PID/coredump_filter) are missing: reading them
 *    fails as reading unmapped memory does, and the total is reported, never read as zeros.
 * The executable is the NT_FILE mapping that holds the auxiliary vector's AT_PHDR; NT_PRSTATUS
 * notes are its threads. */
#ifndef PC_CORE_H
#define PC_CORE_H

#include "common/compat.h"
#include <limits.h>
#include "common/error.h"
#include "source/image.h"
#include "source/source.h"

#define CORE_MAX_FILES 64 /* mapped files kept open to serve read-only pages from */

struct core_opts {
	const char *exe;     /* the executable's file, NULL: its path in the core (under sysroot) */
	const char *sysroot; /* the root the mapped files are under, NULL: / */
};

struct core_file {
	char *mapped;        /* its path in the core */
	uint8_t *data;       /* mmap'd whole; NULL when it was not found */
	size_t len;
};

struct core {
	struct pyimage img;  /* pid, maps (named by NT_FILE) and regions (core bytes, then files) */
	size_t region_cap;
	struct core_opts o;
	uint8_t *buf;        /* the core, mmap'd (core_parse: borrowed) */
	bool mapped;
	size_t len;
	struct core_file files[CORE_MAX_FILES];
	size_t nfiles;
	char exe[PATH_MAX];  /* the executable as the core names it */
	int signal;          /* the signal that killed it (0: gcore of a live process) */
	unsigned nthreads;   /* NT_PRSTATUS notes */
	uint64_t mapped_bytes, missing_bytes;
	const char *zip;     /* "zstd", "lz4", "xz": the file was compressed (decompressed to $TMPDIR) */
	int64_t written;     /* the file's mtime: when the kernel, gdb or systemd-coredump wrote it */
};

/* True when path is a regular file starting with an ELF header of type ET_CORE, or compressed
 * (zstd, lz4, xz: source/corezip.h) and starting so once decompressed, or damaged from its start. */
bool core_sniff(const char *path);
/* Parses a core and opens the files it needs. Errors: BADDUMP (truncated, corrupt, another
 * architecture), COREFILE (the executable or a libpython it maps is not found). A compressed core
 * is decompressed first (source/corezip.h; OUTPUT when $TMPDIR has no room for it). */
int core_load(const char *path, const struct core_opts *o, struct core *c, struct pc_err *e);
/* The same for a core held in memory (buf outlives c): the fuzzer's entry. */
int core_parse(const uint8_t *buf, size_t len, const struct core_opts *o, struct core *c, struct pc_err *e);
void core_release(struct core *c);
/* A source over c (which must outlive it): nothing to stop, never gone, no retry. Cannot fail. */
void source_open_core(struct source *s, struct core *c);
/* "from core file core.1234 of PID 1234 (signal 6), written 2026-01-02 03:04:05 UTC, 2 threads;
 * 1.5 KiB of its 20.7 MiB not in the core" ("from zstd-compressed core file ..." for one) */
void core_origin(const struct core *c, const char *path, char *buf, size_t len);

#endif
