/* snapshot.h: one census, end to end, over a source (source/source.h: a live process, the
 * program `run` launched, or a captured image): with the target stopped and located, copy the
 * arenas (a free-threaded build's mimalloc pages in use), resume it (--pause copy; --pause census resumes it at the end), recognise every object
 * in the copies, find the objects outside the arenas, decide dict ownership, and aggregate by
 * kind. */
#ifndef PC_SNAPSHOT_H
#define PC_SNAPSHOT_H

#include "common/compat.h"
#include <sys/types.h>
#include "common/error.h"
#include "pymalloc/arenas.h"
#include "model/census.h"
#include "frames/stacks.h"
#include "source/source.h"
#include "census/objgraph.h"
#include "census/inspect.h"
#include "census/dumpsave.h"

/* Called between the phases of a census ("stopping the process", "copying arenas", "walking
 * objects", ..., and NULL when it is over), so a command can show progress on a long one. */
typedef source_progress_fn snapshot_progress_fn;

/* How long a census keeps the target stopped (see 'pycensus snap --help'). */
enum pause_mode {
	PAUSE_COPY,   /* while the interpreter state and the arenas (mimalloc's pages) are copied; the rest is read live */
	PAUSE_CENSUS, /* for the whole census: every figure from one instant */
};

struct snapshot_opts {
	enum arena_mode arenas;
	bool size_alloc;   /* sizes are allocator footprints (--size=alloc) */
	/* when set, every thread's Python frames at the moment of the census (a PID source that
	 * stops its target only) */
	struct stacks *stacks;
	snapshot_progress_fn progress; /* may be NULL; also gets the source's phases */
	void *progress_arg;
	const char *capture; /* when set, every byte the census reads is saved to this image file */
	enum pause_mode pause; /* a source that never stops (--nonblocking, an image) or is held ignores it */
	struct copybuf *keep_copy; /* when set, the arena copy's buffer is kept there for the next census */
	/* when set (keep_copy not), the census's own copy is handed over there at its end instead of
	 * freed, with its copies of the objects outside the arenas: copybuf_serve then gives a later
	 * reader both as the census saw them */
	struct copybuf *hold_copy;
	/* when set, the object graph of the census is built into it (census/objgraph.h); the caller
	 * releases it with objgraph_release, on failure too */
	struct objgraph *graph;
	/* with graph: the values and containers `inspect` examines (census/inspect.h), recorded per
	 * graph node; cleared at each attempt, released by the caller */
	struct inspect_scan *inspect;
	/* when set, what the census reads is written as a heap dump (census/dumpsave.h) */
	struct census_dump *dump;
	/* The most memory the copy of the arenas may take (--max-memory): arenas beyond it are read a
	 * window at a time (pymalloc/arenawin.h), with the target stopped until the last window is
	 * walked. 0: SNAPSHOT_MAX_MEMORY; SNAPSHOT_UNBOUNDED: always one copy. A dump or a capture
	 * keeps the whole copy. */
	uint64_t max_memory;
	bool budget_from_room; /* set by snapshot_take: the room left lowered max_memory */
	/* set by snapshot_take with graph: the most the graph may take (graph_peak_bytes): max_memory
	 * when given (not none) and smaller than the memory pycensus may still take, else that room */
	uint64_t graph_limit;
	const char *graph_limit_name; /* what graph_limit is, for the error */
	/* what the command already holds beside this census's graph (leaks: the first census's
	 * object addresses), taken from a given --max-memory before the graph gets the rest */
	uint64_t graph_held;
};

#define SNAPSHOT_MAX_MEMORY (256ull << 20)
#define SNAPSHOT_UNBOUNDED UINT64_MAX

/* The budget a census works with: max_memory (0: SNAPSHOT_MAX_MEMORY), lowered to half the memory
 * pycensus may still take (*from_room then set); SNAPSHOT_UNBOUNDED stays so. */
uint64_t snapshot_budget(uint64_t max_memory, bool *from_room);
/* The window a streamed copy reads at a time within that budget. */
uint64_t snapshot_window(uint64_t budget);

/* Fills c (census_init'ed by the caller) from the source (opened by the caller, closed by it
 * after). The target is resumed before this returns, on every path, unless the source holds it
 * (SOURCE_HOLD; c->pause_s then counts the stop up to now). A source opened SOURCE_NONBLOCKING
 * reads the target running and counts what it skipped. Errors: NOPROC, PERM, NOTPYTHON,
 * UNSUPPORTED, LAYOUT, EXITED, TARGETMEM, OUTPUT (the capture image). */
int snapshot_take(struct source *src, const struct snapshot_opts *o, struct census *c, struct pc_err *e);

/* What a reader should know about the process beside the figures (a version newer than every
 * layout, pyproc's notes: sub-interpreters skipped, the interpreter finalising, ...), as warnings
 * of c: every command that reports on a process shows them. */
void snapshot_process_warnings(struct census *c, const struct pyproc *p);

/* snapshot_take over source_open_image(img): the fuzzers' shorthand. Errors: LAYOUT, UNSUPPORTED
 * (the image's layout does not validate), TARGETMEM. */
int snapshot_replay(const struct pyimage *img, const struct snapshot_opts *o, struct census *c, struct pc_err *e);

#endif
