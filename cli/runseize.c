/* runseize.c: a child of `run --subprocesses` traced to its end (cli/runseize.h). */
#include "common/compat.h"
#include "cli/runseize.h"

#include <stdio.h>
#include <stdlib.h>
#include "common/xalloc.h"

struct runseize *runseize_adopt(struct launch *group, pid_t pid, struct pc_err *e)
{
	struct runseize *z = xcalloc(1, sizeof *z);

	pyready_init(&z->ready);
	hwbreak_init(&z->hw);
	if (launch_adopt(&z->l, group, pid, e) < 0) {
		pyready_release(&z->ready);
		free(z);
		return NULL;
	}
	return z;
}

void runseize_arm(struct runseize *z)
{
	struct pc_err e = { 0 };

	if (z->armed || z->l.done)
		return;
	/* Only the entry points are needed, not a finished initialisation: a census can read a child
	 * still initialising (_PyRuntime.initialized 0), which may end before the next sample. */
	if (pyready_probe(&z->ready, z->l.pid, &e) < 0 || !z->ready.have_elf) {
		if (e.code != PC_EOK)
			snprintf(z->nofinal, sizeof z->nofinal, "%s: %.150s", pc_code_message(e.code), e.detail);
		z->armed = e.code != PC_EOK;
		return;
	}
	z->armed = true; /* tried once per exec: a refusal is kept, not retried */
	if (hwbreak_set(&z->hw, z->l.pid, z->ready.finalize, PYREADY_NFINAL, &e) < 0)
		snprintf(z->nofinal, sizeof z->nofinal, "%s: %.150s", pc_code_message(e.code), e.detail);
}

void runseize_exec(struct runseize *z)
{
	hwbreak_clear(&z->hw);
	pyready_release(&z->ready);
	z->armed = z->final_done = false;
	z->nofinal[0] = '\0';
}

void runseize_free(struct runseize *z)
{
	if (!z)
		return;
	/* first: a breakpoint left armed in a process nobody traces would kill it with SIGTRAP */
	hwbreak_clear(&z->hw);
	launch_release(&z->l);
	pyready_release(&z->ready);
	free(z);
}
