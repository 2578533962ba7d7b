/* source.h: where a census reads from, the same for every command. A source is one target (a live
 * process given by its PID, the child `run` launched and traces, or a captured image) and owns the
 * sequence every command follows on it: check the process before ptrace touches it, stop it,
 * locate the interpreter (source/pyproc.h: maps, ELF, layout picked and validated), let the command
 * read, resume it; and, when the layout does not validate, resume it for a moment and do it all
 * again (a stop can land in the middle of an update of the thread list or of a GC list). It also
 * owns the pause figure (how long the target stood stopped), recording for `pycensus capture`,
 * and deciding that a failure was the target exiting.
 *
 * Rules for every source:
 *  - The target is resumed on every path: source_with_stopped resumes before it returns,
 *    source_close resumes what is still stopped, and a signal to pycensus while a PID source is
 *    stopped resumes it (attach/stop.h's handlers). A source must not move in memory while stopped.
 *  - A location (the struct pyproc) lives from source_locate to the end of the source_with_stopped
 *    call that made it (or source_close): a location taken while the target ran is dropped by the
 *    next source_with_stopped, which locates anew under its own stop.
 *  - Lifecycle: source_open_*() on caller storage, then any number of source_with_stopped(), then
 *    source_close(). Opening cannot leave anything to undo when it fails.
 *
 * The located interpreter a source hands over is source/pyproc.h: opening a source includes
 * finding the interpreter in it and picking its layout (python/). */
#ifndef PC_SOURCE_H
#define PC_SOURCE_H

#include "common/compat.h"
#include <sys/types.h>
#include "attach/launch.h"
#include "attach/record.h"
#include "attach/stop.h"
#include "common/error.h"
#include "source/pyproc.h"
#include "source/image.h"
#include "source/dump.h"

/* A layout that does not validate is tried this many times in all, with the target resumed
 * 5 ms, 10 ms, 15 ms in between (measured: the soak test's stripped 3.11 target failed 1 census in
 * 30 with a single try). */
#define SOURCE_ATTEMPTS 4
#define SOURCE_RETRY_US 5000u

/* Flags of source_open_pid / source_open_launched. */
#define SOURCE_NONBLOCKING 1u /* pid: never stop the target; reads meet it running */
#define SOURCE_HOLD 2u        /* launched: stopped from the first stop to source_close; no retry */

struct source;

/* How one kind of source does the steps. stop and resume are both NULL for a target that is never
 * stopped. Set by source_open_*; source_open_ops takes any (unit tests' fakes, later backends). */
struct source_ops {
	/* Stops the target. Errors as stop_all. */
	int (*stop)(struct source *s, struct pc_err *e);
	/* Lets it run again. Cannot fail. */
	void (*resume)(struct source *s);
	/* Opens the interpreter into p; on failure p is released (pyproc_close-able either way). */
	int (*locate)(struct source *s, struct pyproc *p, struct pc_err *e);
	/* The target has exited (NULL: it cannot, e.g. an image). */
	bool (*gone)(const struct source *s);
	/* The target can change between two attempts, so retrying a layout mismatch makes sense. */
	bool changes;
};

/* Called with a phase ("stopping the process", "opening the interpreter") before each step that
 * can take a moment. Same type as snapshot_progress_fn. */
typedef void (*source_progress_fn)(void *arg, const char *phase);

/* Caller storage; the fields are read-only for users, except progress. */
struct source {
	const struct source_ops *ops;
	unsigned flags;
	pid_t pid;             /* the process; for an image, the one it was captured from */
	source_progress_fn progress; /* may be NULL */
	void *progress_arg;
	/* state */
	bool stopped;          /* a stop is in effect */
	bool located;          /* p is open */
	bool recording;        /* source_record: locations record every read and symbol */
	bool record_no_copies; /* source_record_dump: but not the arena copies */
	double stopped_at;     /* monotonic time the current stop began */
	double pause_s;        /* sum of the stops that ended since the source was opened */
	unsigned attempts;     /* locations the last source_with_stopped took */
	struct pyproc p;
	struct mem_recorder rec;
	struct pyelf_symcache syms;
	/* per kind */
	struct stopped st;     /* pid: the threads the stop holds */
	struct launch *launch; /* launched: not owned */
	pid_t tid;             /* launched: the thread to read through (0: a stopped one) */
	pid_t via;             /* the thread the last location read through (launched: for /proc) */
	const struct pyimage *img; /* image: not owned, must outlive the source */
	void *arg;             /* source_open_ops: the backend's own state */
};

/* A live process. Refuses what cannot be read (zombie, kernel thread) before touching it with
 * ptrace. flags: SOURCE_NONBLOCKING. Errors: NOPROC, PERM, NOTPYTHON. */
int source_open_pid(struct source *s, pid_t pid, unsigned flags, struct pc_err *e);
/* The program `run` launched (l outlives the source): stopped and resumed through l, read
 * through thread tid (0: a stopped thread, the leader when it is). flags: SOURCE_HOLD for the
 * census at its exit (finalisation must not start before it is read). Cannot fail. */
void source_open_launched(struct source *s, struct launch *l, pid_t tid, unsigned flags);
/* A captured image (img outlives the source): nothing to stop, never gone, no retry. Cannot fail. */
void source_open_image(struct source *s, const struct pyimage *img);
/* Any backend (flags: SOURCE_*); arg is kept in s->arg. Cannot fail. */
void source_open_ops(struct source *s, const struct source_ops *ops, pid_t pid, unsigned flags, void *arg);
/* Resumes what is still stopped (a held source too) and releases everything. Safe on a zeroed
 * source and twice. pause_s and via stay readable. */
void source_close(struct source *s);

/* From the next location on, every byte read and every symbol looked up is kept, for
 * source_save_image (live sources; an image source records nothing). */
void source_record(struct source *s);
/* source_record for a heap dump: the same, but the arena copies are not recorded (the census
 * hands its own copy to source_save_dump). */
void source_record_dump(struct source *s);
/* Writes a heap dump (source/dump.h) of the current location: what was recorded, and copies
 * (sorted, non-overlapping; they win over recorded bytes at the same addresses). Called inside
 * source_with_stopped, once the census is done. Errors: OUTPUT; INTERNAL when nothing was
 * recorded. */
int source_save_dump(struct source *s, const char *path, const struct dump_meta *m, const struct mem_region *copies,
		     size_t ncopies, int level, dump_progress_fn *progress, void *arg, struct dump_out *out,
		     struct pc_err *e);

/* source_save_dump for a dump whose arenas were streamed into ds as the census walked them: the
 * recorded reads outside arenas (the arenas' own addresses) and the rest; ds is gone after.
 * Errors: OUTPUT; INTERNAL when nothing was recorded. */
int source_close_dump_stream(struct source *s, struct dump_stream *ds, const struct dump_meta *m,
			     const struct mem_region *arenas, size_t narenas, dump_progress_fn *progress, void *arg,
			     struct dump_out *out, struct pc_err *e);

/* Writes the image of the current location (called inside source_with_stopped, once the census
 * is done). Errors: OUTPUT; INTERNAL when nothing was recorded. */
int source_save_image(struct source *s, const char *path, struct pc_err *e);

/* Stops the target (nothing when it is stopped already or never stopped). Errors as the kind's
 * stop: NOPROC, PERM, EXITED, TARGETMEM (threads created without end). */
int source_stop(struct source *s, struct pc_err *e);
/* The located interpreter, located now if it is not yet; NULL on failure (e set: as
 * pyproc_open, LAYOUT when the layout does not validate). The pointer is valid until the
 * location ends (see the rules above). */
struct pyproc *source_locate(struct source *s, struct pc_err *e);
/* Lets a stopped target run again; the location stays open (reads meet the target running).
 * True when it let a stopped target go; false when it was not stopped, is never stopped, or is
 * held (SOURCE_HOLD). */
bool source_resume(struct source *s);

/* What fn does with the target stopped and located. It may call source_resume to let the target
 * go early and keep reading through p. It may be called up to SOURCE_ATTEMPTS times: each call
 * starts afresh (a failed call's output is the caller's to clear), and must release what points
 * into p before it returns. Returns 0 or -1 with e set. */
typedef int source_fn(struct source *s, struct pyproc *p, void *arg, struct pc_err *e);

/* Stops, locates, runs fn, resumes and drops the location; on PC_ELAYOUT (from locating or from
 * fn) the target runs a moment and it starts again, up to SOURCE_ATTEMPTS times, unless the target
 * cannot change (an image, a held program) or is gone. The target is resumed (unless held) on
 * every path before this returns. Returns fn's result, or -1 with the error of the stop or the
 * location. */
int source_with_stopped(struct source *s, source_fn *fn, void *arg, struct pc_err *e);

/* The threads a PID source's stop holds (for stacks), NULL for other sources or when not stopped. */
const struct stopped *source_threads(const struct source *s);
/* True when the source stops its target (a live target read blocking): what a census prepares
 * its copy buffer for. */
bool source_stops(const struct source *s);
/* How long the target has stood stopped since the source was opened, a stop in progress
 * included. */
double source_paused(const struct source *s);
/* True when the target is gone (exited, zombie). */
bool source_gone(const struct source *s);
/* Whatever failed, a target that died under us is the cause to report: when it is gone, e
 * becomes PC_EEXITED "process N exited <during>" (except an output error, which is ours). */
void source_blame_exit(const struct source *s, const char *during, struct pc_err *e);

#endif
