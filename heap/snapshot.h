/* snapshot.h: one census of a live process, end to end: stop it, open the interpreter, copy the
 * arenas, resume it (--pause copy; --pause census resumes it at the end), recognise every object
 * in the copies, find the objects outside the arenas, decide dict ownership, and aggregate by
 * kind. */
#ifndef PC_SNAPSHOT_H
#define PC_SNAPSHOT_H

#include "common/compat.h"
#include <sys/types.h>
#include "common/error.h"
#include "heap/arenas.h"
#include "heap/census.h"
#include "heap/stacks.h"

/* Called between the phases of a census ("stopping", "copying arenas", "walking objects", ...,
 * and NULL when it is over), so a command can show progress on a long one. */
typedef void (*snapshot_progress_fn)(void *arg, const char *phase);

/* How long a census keeps the target stopped (see 'pycensus snap --help'). */
enum pause_mode {
	PAUSE_COPY,   /* while the interpreter state and the arenas are copied; the rest is read live */
	PAUSE_CENSUS, /* for the whole census: every figure from one instant */
};

struct snapshot_opts {
	enum arena_mode arenas;
	bool size_alloc;   /* sizes are allocator footprints (--size=alloc) */
	struct stacks *stacks; /* when set, every thread's Python frames at the moment of the census */
	snapshot_progress_fn progress; /* may be NULL */
	void *progress_arg;
	const char *capture; /* when set, every byte the census reads is saved to this image file */
	bool nonblocking;    /* read while the target runs (no ptrace stop); inconsistencies are counted */
	enum pause_mode pause;
	struct copybuf *keep_copy; /* when set, the arena copy's buffer is kept there for the next census */
	/* snapshot_take_stopped with PAUSE_COPY: resumes the threads the caller stopped, once the
	 * copy is done (without it, the census keeps them stopped to the end) */
	void (*resume)(void *arg);
	void *resume_arg;
};

struct pyimage;

/* Fills c (census_init'ed by the caller). The target is resumed before this returns, on every
 * path. Errors: NOPROC, PERM, NOTPYTHON, UNSUPPORTED, LAYOUT, EXITED, TARGETMEM. */
int snapshot_take(pid_t pid, const struct snapshot_opts *o, struct census *c, struct pc_err *e);
/* The same for a process whose threads the caller keeps stopped (a traced child of `run`): no
 * stop, and no resume but through o->resume; c->pause_s is left for the caller. pid may be any thread id of the process
 * (memory is read through it: use a stopped thread when the leader may already be gone). */
int snapshot_take_stopped(pid_t pid, const struct snapshot_opts *o, struct census *c, struct pc_err *e);

/* Shared with the other sessions that stop a target (heap/stats.c). Refuses what cannot be read
 * (zombie, kernel thread) before touching it with ptrace: */
int snapshot_check_process(pid_t pid, struct pc_err *e);
/* True when the process is gone or a zombie: the cause to report for any failure mid-read. */
bool snapshot_target_gone(pid_t pid);

/* The same census over a captured image (heap/capture.h) instead of a live process. Errors:
 * LAYOUT, UNSUPPORTED (the image's layout does not validate), TARGETMEM. */
int snapshot_replay(const struct pyimage *img, const struct snapshot_opts *o, struct census *c, struct pc_err *e);

#endif
