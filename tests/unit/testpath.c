/* testpath.c: see testpath.h. */
#include "common/compat.h"
#include "tests/unit/testpath.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>

void tp_fmt(char *out, size_t len, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(out, len, f, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < len, "path too long");
}
