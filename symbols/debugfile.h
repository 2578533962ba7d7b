/* debugfile.h: where a stripped ELF file's detached debug file is found (see symbols/elf.h for
 * how one is checked and attached). */
#ifndef PC_DEBUGFILE_H
#define PC_DEBUGFILE_H

#include "common/compat.h"
#include <sys/types.h>
#include "common/error.h"
#include "symbols/elf.h"

/* Finds and attaches f's debug file when f lacks .symtab (returns 0 at once when it has one).
 * roots are directories like /usr/lib/debug, tried in order: first ROOT/.build-id/NN/REST.debug
 * in each, then by .gnu_debuglink: beside f, in f's .debug/, and ROOT + the directory of
 * target_path (f's path as the process sees it; NULL: f's path). A candidate that is not f's is
 * skipped. Fails when none fits, with why (the first refusal, or where it looked). */
int elf_find_debug(struct elf_file *f, const char *const *roots, size_t nroots,
		   const char *target_path, struct pc_err *e);

/* elf_find_debug with the standard roots for f opened from process pid's filesystem (pid 0:
 * ours): each directory of $PYCENSUS_DEBUG_DIR (colon-separated), the process's root
 * /proc/PID/root/usr/lib/debug, and the install's own prefix: f's directory/../lib/debug (a
 * private tree PREFIX/usr/bin/python3.X finds PREFIX/usr/lib/debug), plus LIBDIR/debug for a
 * file in a multiarch LIBDIR/x86_64-linux-gnu. */
int elf_find_debug_for(struct elf_file *f, pid_t pid, const char *target_path, struct pc_err *e);

#endif
