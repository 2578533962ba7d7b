/* units.c: figures as people read them (report/units.h). */
#include "common/compat.h"
#include "report/units.h"

#include <inttypes.h>

void report_bytes(char *buf, size_t len, uint64_t n)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	if (n < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", n);
		return;
	}
	for (v /= 1024; v >= 1024 && u + 1 < PC_ARRAY_LEN(unit); u++)
		v /= 1024;
	snprintf(buf, len, "%.1f %s", v, unit[u]);
}

void report_put_bytes(FILE *out, uint64_t n)
{
	char buf[32];

	report_bytes(buf, sizeof buf, n);
	fputs(buf, out);
}
