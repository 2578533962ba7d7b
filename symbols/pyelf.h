/* pyelf.h: the ELF object that holds the interpreter in a process (the executable or a
 * libpython*.so it maps), its load bias, `_PyRuntime`, the exact CPython version and the kind of
 * build. Refuses builds pycensus cannot read correctly (PC_EUNSUPPORTED) and processes without an
 * interpreter (PC_ENOTPYTHON). */
#ifndef PC_PYELF_H
#define PC_PYELF_H

#include "common/compat.h"
#include <limits.h>
#include <sys/types.h>
#include "attach/mem.h"
#include "attach/procfs.h"
#include "common/error.h"
#include "symbols/elf.h"

/* Symbol lookups remembered for a captured image: recorded while censusing a live process,
 * answered from it when replaying (pyelf.elf is NULL then). */
struct pyelf_sym {
	char name[48];
	uint64_t value; /* runtime address; 0 when the symbol is absent */
};
struct pyelf_symcache {
	struct pyelf_sym *v;
	size_t n, cap;
};

struct pyelf {
	char maps_path[PATH_MAX]; /* as /proc/PID/maps names it */
	char file_path[PATH_MAX + 32]; /* opened through /proc/PID/root, or /proc/PID/map_files when
	                                * deleted */
	bool deleted;             /* the file was deleted or replaced since the process mapped it */
	char other[PATH_MAX];     /* another libpython the process maps that holds a _PyRuntime of its
	                           * own (not read), "" when none */
	struct elf_file *elf;
	uint64_t bias;            /* runtime = link-time + bias */
	bool shared;              /* libpython*.so rather than the executable */
	bool has_symtab;          /* a .symtab is used (static symbols such as `arenas` usable): the
	                           * file's own or its detached debug file's */
	bool stripped;            /* the file itself has no .symtab */
	/* The file whose .symtab supplies symbols: file_path itself, or the detached debug file
	 * found for a stripped one (shown without the /proc/PID/root prefix, as the target sees it);
	 * "" when only .dynsym is known. For the report header's "symbols from ...". */
	char symbols_path[PATH_MAX + 32];
	uint64_t runtime;         /* runtime address of _PyRuntime */
	int major, minor, micro;
	uint32_t version_hex;     /* PY_VERSION_HEX when known exactly, else 0 */
	char version[32];         /* "3.12.1", or "3.10" when only the minor is known */
	char version_source[24];  /* "Py_Version", "debug offsets", "sys.version text", "file name" */
	char build[200];          /* human description for the report header */
	struct pyelf_symcache *syms; /* not owned; NULL unless capturing or replaying */
	/* replaying a dump (elf NULL): the addresses the file's PT_LOAD segments span, .bss
	 * included, as the dump recorded them (0, 0 when unknown) */
	uint64_t span_lo, span_hi;
};

/* Finds the interpreter object in the maps, opens it, finds _PyRuntime, detects the version and
 * refuses unsupported builds. A stripped object's symbols come from its detached debug file when
 * one is found (elf_find_debug_for: $PYCENSUS_DEBUG_DIR, the target's /usr/lib/debug, the
 * install's own PREFIX/lib/debug); without one only .dynsym is known. On failure p is released. */
int pyelf_open(struct pyelf *p, pid_t pid, const struct maps *maps, struct mem *mem, struct pc_err *e);
void pyelf_close(struct pyelf *p);
/* The same for a process that no longer runs (a core file, source/core.h): exe is the executable
 * as the maps name it, and fn gives the path to open for each mapped file (false: none). pid only
 * names the process in errors; debug files are looked for in pycensus's own filesystem. */
typedef bool pyelf_file_fn(void *arg, const char *mapped, char *out, size_t outlen);
int pyelf_open_files(struct pyelf *p, pid_t pid, const char *exe, const struct maps *maps, struct mem *mem,
		     pyelf_file_fn *fn, void *arg, struct pc_err *e);

/* Runtime address of a symbol of the interpreter object, 0 when absent. With p->syms set, the
 * lookup is recorded there (live) or answered from there (replay, p->elf NULL). */
uint64_t pyelf_symbol(const struct pyelf *p, const char *name);

void pyelf_symcache_release(struct pyelf_symcache *c);

/* True when the interpreter object was built --without-pymalloc (decidable up to 3.11 only). */
bool pyelf_lacks_pymalloc(const struct elf_file *f, int major, int minor);

/* Parses "3.12.1" / "3.13.0rc2+" at s: fills major/minor/micro, returns chars consumed or 0. */
size_t pyelf_parse_version(const char *s, size_t len, int *major, int *minor, int *micro);

#endif
