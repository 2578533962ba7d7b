/* progress.h: progress and status on stderr while pycensus works, only when stderr is a terminal
 * and -q was not given: the phase of a census that takes more than a moment, and a status line
 * per sample for the commands that sample. One line, rewritten in place, erased when done. */
#ifndef PC_PROGRESS_H
#define PC_PROGRESS_H

#include "common/compat.h"

struct progress {
	bool on;
	bool shown;        /* a line is on the screen */
	double started;    /* when the current census began */
	char what[64];     /* "census of 1234" */
};

void progress_init(struct progress *p, bool quiet, int pid);
/* snapshot_progress_fn: a census phase, or NULL when the census is over. */
void progress_phase(void *arg, const char *phase);
/* A status line (replaces what is shown). */
void progress_status(struct progress *p, const char *fmt, ...) PC_PRINTF(2, 3);
/* Erases the line. */
void progress_clear(struct progress *p);

#endif
