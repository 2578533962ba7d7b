/* pace.c: the interval after each sample under a pause budget (the rule is in pace.h). */
#include "common/compat.h"
#include "cli/pace.h"

#include <stdlib.h>
#include <string.h>

const char pace_help[] =
	"      --max-overhead PCT|off\n"
	"                          keep the target stopped at most PCT % of its time (default 1): a\n"
	"                          sample that paused it P s is followed by the next 100 * P / PCT s\n"
	"                          after its start or later (as pauses shrink, the wait follows by half\n"
	"                          the difference per sample); -i is the shortest interval. The report\n"
	"                          gives the share reached. 0 or off: every -i seconds, whatever the\n"
	"                          pauses\n";

int pace_parse(const char *s, double *budget, struct pc_err *e)
{
	char *end;
	double pct;

	if (strcmp(s, "off") == 0) {
		*budget = 0;
		return 0;
	}
	pct = strtod(s, &end);
	if (end == s || *end || !(pct >= 0 && pct <= 100))
		return pc_fail(e, PC_EUSAGE, "--max-overhead takes a percentage from 0 to 100 or 'off', not '%s'", s);
	*budget = pct / 100.0;
	return 0;
}

double pace_sampled(struct pace *p, double start, double pause, double now)
{
	double period = p->interval, need;

	if (!(pause >= 0))
		pause = 0;
	if (p->samples++ == 0)
		p->t0 = start;
	p->paused += pause;
	p->level = pause > p->level ? pause : (p->level + pause) / 2;
	if (p->budget > 0) {
		need = p->level / p->budget;
		if (need > period)
			period = need;
		need = p->t0 + (p->paused + p->level) / p->budget - p->level - start;
		if (need > period)
			period = need;
	}
	p->next = p->budget > 0 ? start + period : p->next + p->interval;
	if (p->next < now) /* a census longer than its period: no burst to catch up */
		p->next = now + p->interval;
	return period;
}
