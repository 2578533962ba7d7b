/* common.c: what the subcommands share: PID parsing, error lines, the exit-code table. */
#include "common/compat.h"
#include "cli/commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_parse_pid(const char *s, int *pid, struct pc_err *e)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v <= 0 || v > 0x3fffffff)
		return pc_fail(e, PC_EUSAGE, "'%s' is not a process id", s);
	*pid = (int)v;
	return 0;
}

const char *cli_version = "unknown";

int cli_fail(const struct pc_err *e)
{
	pc_err_print(stderr, e);
	return pc_exit_code(e->code == PC_EOK ? PC_EINTERNAL : e->code);
}

void cli_print_exit_codes(FILE *out)
{
	fprintf(out, "exit codes:\n");
	pc_exit_codes_print(out);
}

int cli_parse_choice(const char *v, const char *const *choices, size_t n, const char *opt, struct pc_err *e)
{
	char list[256] = "";

	for (size_t i = 0; i < n; i++)
		if (strcmp(v, choices[i]) == 0)
			return (int)i;
	for (size_t i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? (i + 1 == n ? " or " : ", ") : "",
			 choices[i]);
	return pc_fail(e, PC_EUSAGE, "%s must be %s, not '%s'", opt, list, v);
}

static const char *const format_names[] = { "text", "csv", "json", "html", "pprof", "dot" };

int cli_parse_format(const char *s, unsigned allowed, struct pc_err *e)
{
	const char *names[PC_ARRAY_LEN(format_names)];
	int ids[PC_ARRAY_LEN(format_names)];
	size_t n = 0;
	int i;

	for (size_t f = 0; f < PC_ARRAY_LEN(format_names); f++)
		if (allowed & (1u << f)) {
			ids[n] = (int)f;
			names[n++] = format_names[f];
		}
	if ((i = cli_parse_choice(s, names, n, "--format", e)) < 0)
		return -1;
	return ids[i];
}

int cli_check_html_output(const char *output, struct pc_err *e)
{
	if ((!output || strcmp(output, "-") == 0) && isatty(STDOUT_FILENO))
		return pc_fail(e, PC_EUSAGE, "-f html writes a page for a browser: give -o FILE (e.g. -o report.html)");
	return 0;
}

/* A decimal count: digits only (strtoul alone takes "-1", " 5" and "abc" as numbers). */
static bool parse_decimal(const char *s, unsigned long *n)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*n = strtoul(s, &end, 10);
	return !errno && !*end;
}

int cli_parse_rows(const char *s, size_t *n, struct pc_err *e)
{
	unsigned long v;

	if (!parse_decimal(s, &v))
		return pc_fail(e, PC_EUSAGE, "-n needs a number of rows (0: all), not '%s'", s);
	*n = v;
	return 0;
}

int cli_parse_count(const char *s, const char *opt, const char *what, unsigned long *n, struct pc_err *e)
{
	if (!parse_decimal(s, n) || *n == 0)
		return pc_fail(e, PC_EUSAGE, "%s needs a number of %s (1 or more), not '%s'", opt, what, s);
	return 0;
}

int cli_parse_arenas(const char *s, enum arena_mode *m, struct pc_err *e)
{
	static const char *const modes[] = { "auto", "symbols", "scan" };

	for (size_t i = 0; i < PC_ARRAY_LEN(modes); i++)
		if (strcmp(s, modes[i]) == 0) {
			*m = (enum arena_mode)i;
			return 0;
		}
	return pc_fail(e, PC_EUSAGE, "--arenas must be auto, symbols or scan, not '%s'", s);
}

int cli_parse_pause(const char *s, enum pause_mode *m, struct pc_err *e)
{
	static const char *const modes[] = { "copy", "census" };
	int i = cli_parse_choice(s, modes, PC_ARRAY_LEN(modes), "--pause", e);

	if (i < 0)
		return -1;
	*m = (enum pause_mode)i;
	return 0;
}

const char cli_pause_help[] =
	"      --pause copy|census how long the target stands stopped: copy (default) resumes it once the\n"
	"                          interpreter state and the arenas are copied, and reads the few objects\n"
	"                          outside them (large ones, types, statics) as it runs, skipping and\n"
	"                          counting any that change meanwhile; census keeps it stopped to the\n"
	"                          end, so every figure is from one instant\n";

int cli_parse_memory(const char *s, uint64_t *v, struct pc_err *e)
{
	char *end;
	double n;
	uint64_t unit = 1;

	if (strcmp(s, "none") == 0) {
		*v = SNAPSHOT_UNBOUNDED;
		return 0;
	}
	n = strtod(s, &end);
	if (end != s && end[0] && !end[1] && strchr("kKmMgGtT", end[0]))
		unit = 1ull << (10 * ((strchr("kKmMgGtT", end[0]) - "kKmMgGtT") / 2 + 1));
	else if (end == s || *end)
		n = -1;
	if (!(n * (double)unit >= (double)(4u << 20) && n * (double)unit < 1e18))
		return pc_fail(e, PC_EUSAGE, "--max-memory takes a size of at least 4M (512M, 2G: K, M, G, T are powers "
			       "of 1024) or 'none', not '%s'", s);
	*v = (uint64_t)(n * (double)unit);
	return 0;
}

const char cli_memory_help[] =
	"      --max-memory SIZE|none  the most memory the copy of the target's arenas may take (default\n"
	"                          256M): larger heaps are read in windows, the target stopped until the\n"
	"                          last is walked (a longer pause in --pause copy); 'none' always copies\n"
	"                          them at once, refusing (exit 20) when this machine lacks the memory\n";

int cli_parse_interval(const char *s, double *v, struct pc_err *e)
{
	char *end;

	*v = strtod(s, &end);
	if (!*s || *end || !(*v >= 0.01 && *v <= 86400))
		return pc_fail(e, PC_EUSAGE, "-i needs seconds between 0.01 and 86400, not '%s'", s);
	return 0;
}

int cli_parse_percent(const char *s, const char *opt, double *v, struct pc_err *e)
{
	char *end;

	*v = strtod(s, &end);
	if (end == s || *end || !(*v >= 0 && *v <= 100))
		return pc_fail(e, PC_EUSAGE, "%s takes a percentage from 0 to 100, not '%s'", opt, s);
	return 0;
}
