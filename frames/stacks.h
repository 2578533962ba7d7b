/* stacks.h: where every thread of a CPython process is: the model `pycensus stacks` prints (and
 * `snap --stacks` can embed), and its collection from a target that is already stopped.
 *
 * Per thread of the main interpreter: Python thread id, native id, the name the `threading`
 * module gives it, whether it holds the GIL, its Python frames (innermost first) and, on request,
 * its native frames merged with them: each interpreter evaluation frame
 * (_PyEval_EvalFrameDefault) is replaced by the Python frames that C call runs. Threads of the
 * process without a Python thread state are listed with native frames only.
 *
 * The target's frames are untrusted: walks are bounded (STACKS_MAX_FRAMES), cycles end them, and
 * a frame that cannot be read becomes an "<unreadable frame>" entry plus a warning. */
#ifndef PC_STACKS_H
#define PC_STACKS_H

#include "common/compat.h"
#include <sys/types.h>
#include "attach/stop.h"
#include "common/error.h"
#include "source/pyproc.h"
#include "source/source.h"

#define STACKS_MAX_FRAMES 1024
#define STACKS_MAX_THREADS 4096

enum frame_kind {
	FRAME_PYTHON,
	FRAME_NATIVE,
	FRAME_BAD,    /* "<unreadable frame>": the walk could not read this one */
};

struct stack_frame {
	enum frame_kind kind;
	char *func;        /* owned. python: co_name; native: symbol, NULL when unknown */
	char *file;        /* owned. python: co_filename; native: the object's file name */
	int line;          /* python: line number, -1 when the code has none for this instruction */
	uint64_t addr;     /* native: instruction pointer; python: code object */
	uint64_t offset;   /* native: addr - symbol (or - load bias when no symbol) */
	bool entry;        /* python: the outermost frame its C evaluation call runs */
	bool eval;         /* native: an interpreter evaluation frame (replaced when merged) */
};

struct frame_list {
	struct stack_frame *v;
	size_t n, cap;
};

struct thread_stack {
	uint64_t tstate;      /* PyThreadState address; 0 for a thread without one */
	uint64_t thread_id;   /* PyThreadState.thread_id (threading.get_ident()) */
	pid_t native_id;      /* kernel thread id as pycensus's PID namespace sees it; 0 when unknown */
	pid_t ns_id;          /* the same thread's id in the target's own PID namespace (a container's),
	                       * 0 when the target is in pycensus's namespace or it is unknown */
	char *name;           /* owned; NULL when threading does not know the thread */
	bool holds_gil;
	bool native_truncated; /* the native unwind stopped early */
	struct frame_list frames; /* innermost first */
};

struct stacks {
	pid_t pid;
	char version[32];
	char build[300];
	char origin[200]; /* from a dump: "from dump taken at ..., PID N, host H" (cli/target.h) */
	bool native;          /* native frames were unwound and merged */
	bool gil_known;       /* the GIL state was readable */
	bool gil_locked;
	double pause_s;
	struct thread_stack *threads;
	size_t n, cap;
	char **warnings;      /* owned; deduplicated */
	size_t nwarnings, capwarnings;
	char **notes;         /* owned: limitations of this target, e.g. native names from .dynsym only */
	size_t nnotes, capnotes;
};

void stacks_init(struct stacks *s);
void stacks_release(struct stacks *s);
void stacks_warn(struct stacks *s, const char *fmt, ...) PC_PRINTF(2, 3);
void stacks_note(struct stacks *s, const char *fmt, ...) PC_PRINTF(2, 3);
struct thread_stack *stacks_add_thread(struct stacks *s);

void frame_list_release(struct frame_list *l);
/* Appends a frame (taking ownership of its strings) and returns it. */
struct stack_frame *frame_list_push(struct frame_list *l, const struct stack_frame *f);

/* Fills s from an open pyproc whose threads `st` holds stopped (p->pid == st->pid): every Python
 * thread with its frames, and with `native`, every stopped thread's native frames merged in.
 * Bad target data gives warnings, not failures; fails only when the interpreter's thread list
 * itself cannot be read (PC_ETARGETMEM). Does not resume the target. */
int stacks_collect(struct pyproc *p, const struct stopped *st, bool native, struct stacks *s, struct pc_err *e);

/* The whole command over a PID source that stops its target (opened by the caller, closed by it
 * after): stopped and located, collect; resumed on every path. Errors: as stop_all and
 * pyproc_open, TARGETMEM, EXITED. */
int stacks_take(struct source *src, bool native, struct stacks *s, struct pc_err *e);

#endif
