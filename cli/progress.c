/* progress.c: one rewritable status line on a terminal's stderr. */
#include "common/compat.h"
#include "cli/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include "attach/stop.h"

/* A census shorter than this shows nothing: the phases would only flicker. */
#define PROGRESS_DELAY_S 0.3

void progress_init(struct progress *p, bool quiet, int pid)
{
	p->on = !quiet && isatty(STDERR_FILENO);
	p->shown = false;
	p->started = 0;
	snprintf(p->what, sizeof p->what, "census of %d", pid);
}

void progress_clear(struct progress *p)
{
	if (p->on && p->shown)
		fputs("\r\033[K", stderr);
	p->shown = false;
}

void progress_phase(void *arg, const char *phase)
{
	struct progress *p = arg;
	double now = mono_now();

	if (!p->on)
		return;
	if (!phase) {
		progress_clear(p);
		p->started = 0;
		return;
	}
	if (p->started == 0)
		p->started = now;
	if (now - p->started < PROGRESS_DELAY_S)
		return;
	fprintf(stderr, "\r\033[Kpycensus: %s: %s (%.1f s)", p->what, phase, now - p->started);
	p->shown = true;
}

void progress_status(struct progress *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->on)
		return;
	fputs("\r\033[Kpycensus: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	p->shown = true;
}
