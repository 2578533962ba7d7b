/* elf.h: one ELF file read through libelf: its symbols (.dynsym and .symtab), sections, program
 * headers, build-id, and the load bias of its mapping in a process. Knows nothing of Python.
 * The file is untrusted (it comes from the target's filesystem): every table is bounds-checked. */
#ifndef PC_ELF_H
#define PC_ELF_H

#include "common/compat.h"
#include <sys/types.h>
#include "common/error.h"
#include "attach/procfs.h"

struct elf_sym {
	const char *name;  /* points into the string table owned by the elf_file */
	uint64_t value;    /* st_value: link-time address */
	uint64_t size;
	bool local;        /* STB_LOCAL (e.g. obmalloc's static `arenas`) */
	bool dynamic;      /* found in .dynsym (exported) rather than .symtab only */
};

struct elf_section {
	char name[64];
	uint64_t addr, offset, size;
	bool nobits; /* SHT_NOBITS (.bss) */
	bool writable, alloc;
};

struct elf_load {          /* a PT_LOAD segment */
	uint64_t vaddr, offset, filesz, memsz;
	bool r, w, x;
};

struct elf_file;

/* Opens path (already prefixed with /proc/PID/root by the caller when needed). Fails with
 * PC_ENOTPYTHON for "not an ELF file" and PC_ETARGETMEM-free kinds for I/O: PC_EPERM/PC_ENOPROC. */
struct elf_file *elf_open(const char *path, struct pc_err *e);
void elf_close(struct elf_file *f); /* accepts NULL */

bool elf_is_pie(const struct elf_file *f);   /* ET_DYN (PIE executable or shared object) */
const char *elf_path(const struct elf_file *f);

/* Looks a symbol up by exact name, .dynsym first, then .symtab. Returns false when absent.
 * Prefers a defined symbol (st_shndx != SHN_UNDEF); undefined ones are never returned. */
bool elf_symbol(const struct elf_file *f, const char *name, struct elf_sym *out);

/* Calls fn for every defined symbol of both tables; stops when fn returns false. */
void elf_symbols_each(const struct elf_file *f, bool (*fn)(const struct elf_sym *s, void *arg), void *arg);

bool elf_section(const struct elf_file *f, const char *name, struct elf_section *out);
size_t elf_loads(const struct elf_file *f, const struct elf_load **out);

/* Build-id as lowercase hex ("" when none). */
const char *elf_build_id(const struct elf_file *f);

/* Detached debug files. A stripped file (no .symtab) may have its symbol table in a debug file:
 * DIR/.build-id/NN/REST.debug for build-id NNREST, or the name in its .gnu_debuglink. Attaching
 * one merges its .symtab into f's symbols (elf_symbol, elf_symbols_each); values there are the
 * same link-time addresses, so f's load bias applies. Sections, segments and reads stay f's own.
 * A debug file is used only when its build-id equals f's (a file without a build-id: when its
 * CRC-32 equals the one in f's .gnu_debuglink) and its .text sits where f's does. */

/* True when symbols beyond .dynsym are known: f's own .symtab or an attached debug file's. */
bool elf_has_symtab(const struct elf_file *f);
/* The file whose .symtab f's lookups use: f's own path, the attached debug file's, or NULL. */
const char *elf_symtab_path(const struct elf_file *f);
/* The file name .gnu_debuglink records ("" when none). */
const char *elf_debuglink(const struct elf_file *f);

/* Attaches path as f's debug file. Fails (f unchanged) when it does not open as ELF, its
 * build-id differs from f's (or f has none), it has no .symtab, or f already has one attached. */
int elf_attach_debug(struct elf_file *f, const char *path, struct pc_err *e);

/* A candidate debug file for f: 0 when attached; 1 when it does not exist or was refused (the
 * reason in e). For symbols/debugfile.c, which searches the candidates. */
int elf_try_debug(struct elf_file *f, const char *path, bool by_crc, struct pc_err *e);
/* The file's inode (matches its mappings when the process names it by another path). */
uint64_t elf_inode(const struct elf_file *f);
/* f was opened as a detached debug file (its .symtab and notes only). */
bool elf_is_debug_file(const struct elf_file *f);

/* Reads len bytes of the file at link-time address vaddr (from a PT_LOAD with file backing);
 * fails when the range is not in the file (e.g. .bss). */
int elf_read_vaddr(const struct elf_file *f, uint64_t vaddr, void *buf, size_t len, struct pc_err *e);

/* Load bias: runtime address = link-time address + bias. For ET_EXEC it is 0; for ET_DYN it is
 * derived from the mapping of this file (same path, or same inode) with file offset 0 or, failing
 * that, the mapping holding the first PT_LOAD's offset. Fails when the file is not mapped. */
int elf_load_bias(const struct elf_file *f, const struct maps *maps, const char *mapped_path,
		  uint64_t *bias, struct pc_err *e);

#endif
