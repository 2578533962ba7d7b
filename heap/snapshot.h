/* snapshot.h: one census of a live process, end to end: stop it, open the interpreter, copy the
 * arenas, recognise every object, find GC objects outside the arenas, decide dict ownership,
 * resume it, and aggregate by kind. */
#ifndef PC_SNAPSHOT_H
#define PC_SNAPSHOT_H

#include "common/compat.h"
#include <sys/types.h>
#include "common/error.h"
#include "heap/arenas.h"
#include "heap/census.h"
#include "heap/stacks.h"

struct snapshot_opts {
	enum arena_mode arenas;
	bool size_alloc;   /* sizes are allocator footprints (--size=alloc) */
	struct stacks *stacks; /* when set, every thread's Python frames at the moment of the census */
};

/* Fills c (census_init'ed by the caller). The target is resumed before this returns, on every
 * path. Errors: NOPROC, PERM, NOTPYTHON, UNSUPPORTED, LAYOUT, EXITED, TARGETMEM. */
int snapshot_take(pid_t pid, const struct snapshot_opts *o, struct census *c, struct pc_err *e);

/* Shared with the other sessions that stop a target (heap/stats.c). Refuses what cannot be read
 * (zombie, kernel thread) before touching it with ptrace: */
int snapshot_check_process(pid_t pid, struct pc_err *e);
/* True when the process is gone or a zombie: the cause to report for any failure mid-read. */
bool snapshot_target_gone(pid_t pid);

#endif
