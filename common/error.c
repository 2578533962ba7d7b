/* error.c: the error table's messages, exit codes and the pc_err record. */
#include "common/compat.h"
#include "common/error.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name, *msg, *fix;
	int exit;
} table[] = {
#define X(name, code, msg, fix) { #name, msg, fix, code },
#include "common/errors.def"
#undef X
};

int pc_fail(struct pc_err *e, enum pc_code code, const char *fmt, ...)
{
	char buf[sizeof e->detail];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (e->code == PC_EOK) {
		e->code = code;
		snprintf(e->detail, sizeof e->detail, "%s", buf);
	} else {
		size_t n = strlen(e->detail), room = sizeof e->detail - n - 1, add = strlen(buf);
		if (room > 2) {
			memcpy(e->detail + n, "; ", 2);
			add = add < room - 2 ? add : room - 2;
			memcpy(e->detail + n + 2, buf, add);
			e->detail[n + 2 + add] = '\0';
		}
	}
	return -1;
}

void pc_err_clear(struct pc_err *e)
{
	e->code = PC_EOK;
	e->detail[0] = '\0';
}

static unsigned idx(enum pc_code c)
{
	return (unsigned)c < PC_E_COUNT ? (unsigned)c : PC_EINTERNAL;
}

int pc_exit_code(enum pc_code c) { return table[idx(c)].exit; }
const char *pc_code_message(enum pc_code c) { return table[idx(c)].msg; }
const char *pc_code_fix(enum pc_code c) { return table[idx(c)].fix; }
const char *pc_code_name(enum pc_code c) { return table[idx(c)].name; }

void pc_err_print(FILE *out, const struct pc_err *e)
{
	enum pc_code c = e->code == PC_EOK ? PC_EINTERNAL : e->code;

	fprintf(out, "pycensus: %s", pc_code_message(c));
	if (e->detail[0])
		fprintf(out, ": %s", e->detail);
	if (pc_code_fix(c)[0])
		fprintf(out, " (fix: %s)", pc_code_fix(c));
	fputc('\n', out);
}

void pc_exit_codes_print(FILE *out)
{
	for (unsigned i = 0; i < PC_E_COUNT; i++)
		fprintf(out, "  %3d  %s\n", table[i].exit, table[i].msg);
}

void pc_bug(const char *file, int line, const char *what)
{
	fprintf(stderr, "pycensus: BUG at %s:%d: %s\n", file, line, what);
	abort();
}
