/* runseize.h: a child of `run --subprocesses` traced from its discovery to its end, so that its
 * heap is censused as it ends, as the program's is: PTRACE_SEIZE of every thread (attach/launch.h
 * launch_adopt: threads, exec and exit followed, never its forks, which polling finds), served by
 * the program's event loop, and a hardware breakpoint at the entry of its finalisation
 * (source/pyready.h, attach/hwbreak.h) once a census found it ready: a child that ends by
 * sys.exit (spawn children do) is read before finalisation tears its heap down, one that ends by
 * os._exit (fork children do) at its exit stop. Owned by cli/runtree.c. */
#ifndef PC_RUNSEIZE_H
#define PC_RUNSEIZE_H

#include "common/compat.h"
#include <sys/types.h>
#include "attach/hwbreak.h"
#include "attach/launch.h"
#include "source/pyready.h"

struct runseize {
	struct launch l;      /* on the program's launch: never moves while adopted */
	struct pyready ready;
	struct hwbreak hw;    /* at its finalisation entry points */
	bool armed;           /* the breakpoint was tried (once per exec) */
	bool final_done;      /* its census at finalisation or exit is taken */
	char nofinal[200];    /* why no breakpoint could be set ("" when armed or not tried) */
};

/* Traces pid on the program's launch `group`. NULL with e (ETRACED, PERM, EXITED) when it cannot. */
struct runseize *runseize_adopt(struct launch *group, pid_t pid, struct pc_err *e);
/* After a census of it: arms the finalisation breakpoint on its main thread, once per exec. */
void runseize_arm(struct runseize *z);
/* It exec'd: the breakpoint is gone with the old image; a new interpreter is armed anew. */
void runseize_exec(struct runseize *z);
/* Disarms, lets it go (detached and running, its pending signals delivered) and frees z. NULL ok. */
void runseize_free(struct runseize *z);

#endif
