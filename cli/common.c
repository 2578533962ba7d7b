/* common.c: what the subcommands share: PID parsing, error lines, the exit-code table. */
#include "common/compat.h"
#include "cli/commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
