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

/* The budget's two terms for a next pause of `expect` seconds: the earliest next start. */
static double budget_start(const struct pace *p, double expect)
{
	double own = p->last + expect / p->budget, share = p->t0 + (p->paused + expect) / p->budget - expect;

	return own > share ? own : share;
}

double pace_sampled(struct pace *p, double start, double pause, double now, uint64_t rss)
{
	double period = p->interval;

	if (!(pause >= 0))
		pause = 0;
	if (p->samples++ == 0)
		p->t0 = start;
	p->last = start;
	if (rss)
		p->rss = rss;
	p->paused += pause;
	p->level = pause > p->level ? pause : (p->level + pause) / 2;
	if (p->budget > 0 && budget_start(p, p->level) - start > period)
		period = budget_start(p, p->level) - start;
	p->next = p->budget > 0 ? start + period : p->next + p->interval;
	if (p->next < now) /* a census longer than its period: no burst to catch up */
		p->next = now + p->interval;
	return period;
}

bool pace_due(struct pace *p, double now, uint64_t rss)
{
	double later;

	if (p->budget <= 0 || !p->samples || !p->rss || rss <= p->rss)
		return true;
	later = budget_start(p, p->level * (double)rss / (double)p->rss);
	if (later <= now)
		return true;
	p->next = later;
	return false;
}
