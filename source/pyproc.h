/* pyproc.h: one CPython process as the heap walkers see it: its maps, memory reader, interpreter
 * object, validated layout, the main interpreter and the addresses every walker needs. Opening it
 * validates the layout against the live process and refuses (PC_ELAYOUT) when it does not fit. */
#ifndef PC_PYPROC_H
#define PC_PYPROC_H

#include "common/compat.h"
#include <sys/types.h>
#include "attach/mem.h"
#include "attach/procfs.h"
#include "attach/record.h"
#include "common/error.h"
#include "python/layout.h"
#include "symbols/pyelf.h"

#define PYPROC_MAX_NOTES 6

struct pyproc {
	pid_t pid;
	struct maps maps;
	struct mem mem;
	struct pyelf elf;
	struct pylayout L;
	uint64_t runtime;     /* &_PyRuntime */
	uint64_t interp;      /* main PyInterpreterState */
	uint64_t type_type;   /* &PyType_Type */
	uint64_t object_type; /* &PyBaseObject_Type */
	uint64_t gc_state;    /* struct _gc_runtime_state of the main interpreter (3.8: of the runtime) */
	uint64_t obmalloc;    /* 3.12+: struct _obmalloc_state of the main interpreter */
	unsigned nthreads;    /* Python thread states of the main interpreter */
	/* dict keys headers read from outside the copied memory: shared keys (one per class, up to
	 * 3.13 often malloc'd) are asked for once per instance dict otherwise */
	struct { uint64_t addr; uint8_t hdr[64]; } keys_cache[256];
	bool gc_collecting;   /* stopped during a GC collection: objects being collected are on its own lists */
	unsigned ninterps;    /* interpreters on the runtime's list (the main one included) */
	/* the sub-interpreters' own GC states (3.9+: the GC is per interpreter), so that a census
	 * knows their generation heads for heads, not objects, when their lists are met */
	uint64_t sub_gc_states[16];
	unsigned nsub_gc_states;
	/* What the reader should know about this process that the figures do not show: its main
	 * thread exited, sub-interpreters or a second libpython skipped, the interpreter finalising.
	 * One line each. */
	char notes[PYPROC_MAX_NOTES][400];
	unsigned nnotes;
};

/* Reads maps, finds the interpreter, picks and validates the layout. The target must already be
 * stopped (or the caller accepts reading it live). */
int pyproc_open(struct pyproc *p, pid_t pid, struct pc_err *e);
void pyproc_close(struct pyproc *p);
/* The same, recording for `pycensus capture`: every remote read after the interpreter object is
 * found goes to rec, every symbol lookup to syms (both owned by the caller, may be NULL). */
int pyproc_open_recorded(struct pyproc *p, pid_t pid, struct mem_recorder *rec, struct pyelf_symcache *syms,
			 struct pc_err *e);
/* The part of opening shared with replaying an image (source/image.c): with maps, mem and elf
 * (version, runtime, symbols) filled, picks the layout and validates it against the memory. */
int pyproc_finish(struct pyproc *p, struct pc_err *e);

/* The header's words for the interpreter: its build, then which layout describes it, e.g.
 * "/usr/bin/python3.14 (static, stripped); layout 3.14.10-debian + debug offsets". */
void pyproc_describe(const struct pyproc *p, char *buf, size_t len);

/* One line for a target newer than every layout pycensus knows (its own _Py_DebugOffsets were
 * read with the newest known positions and the layout validated against it), or NULL. */
const char *pyproc_newer_warning(const struct pyproc *p, char *buf, size_t len);

/* The i-th note about the process (struct pyproc's notes), NULL past the last. */
const char *pyproc_note(const struct pyproc *p, unsigned i);

/* True when [addr, addr+len) is readable memory of the target (per its maps). */
bool pyproc_readable(const struct pyproc *p, uint64_t addr, uint64_t len);

#endif
