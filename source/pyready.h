/* pyready.h: is the interpreter in a freshly started process ready for a census, and where are
 * the functions that begin its finalisation? Used by `run`, which starts the process itself.
 *
 * Ready means: the ELF object defining _PyRuntime is mapped (after the dynamic loader, through
 * env/shell/shebang execs) and _PyRuntime.initialized is 1, i.e. Py_IsInitialized(): CPython
 * sets it late in Py_InitializeFromConfig, once sys.modules, builtins and __main__ exist, just
 * before site is imported (sitecustomize runs with it set; 3.8-3.15), and clears it early in
 * finalisation. The probe reads while the process runs; a
 * census still validates everything under a stop (pyproc_open). */
#ifndef PC_PYREADY_H
#define PC_PYREADY_H

#include "common/compat.h"
#include <sys/types.h>
#include "attach/mem.h"
#include "attach/procfs.h"
#include "common/error.h"
#include "symbols/pyelf.h"

/* The exported entry points through which an interpreter finalises (checked with gdb on every
 * supported build: Py_RunMain calls Py_FinalizeEx; sys.exit goes through Py_Exit, which calls
 * Py_FinalizeEx up to 3.12 but has _Py_Finalize inlined in 3.13; embedders call Py_Finalize). */
#define PYREADY_NFINAL 3

struct pyready {
	bool have_elf;
	struct maps maps;
	struct mem mem;
	struct pyelf elf;
	int32_t off_initialized;
	uint64_t finalize[PYREADY_NFINAL];
};

void pyready_init(struct pyready *r);
/* 1 when ready, 0 when not yet (no interpreter mapped, still initialising), -1 when the process
 * runs a Python pycensus cannot read (PC_EUNSUPPORTED and the like, in e). */
int pyready_probe(struct pyready *r, pid_t pid, struct pc_err *e);
/* Forgets what was found (after an exec). */
void pyready_release(struct pyready *r);

#endif
