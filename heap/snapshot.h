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

struct snapshot_opts {
	enum arena_mode arenas;
	const char *capture; /* when set, every byte the census reads is saved to this image file */
	bool nonblocking;    /* read while the target runs (no ptrace stop); inconsistencies are counted */
};

struct pyimage;

/* Fills c (census_init'ed by the caller). The target is resumed before this returns, on every
 * path. Errors: NOPROC, PERM, NOTPYTHON, UNSUPPORTED, LAYOUT, EXITED, TARGETMEM. */
int snapshot_take(pid_t pid, const struct snapshot_opts *o, struct census *c, struct pc_err *e);

/* The same census over a captured image (heap/capture.h) instead of a live process. Errors:
 * LAYOUT, UNSUPPORTED (the image's layout does not validate), TARGETMEM. */
int snapshot_replay(const struct pyimage *img, const struct snapshot_opts *o, struct census *c, struct pc_err *e);

#endif
