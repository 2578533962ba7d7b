/* units.h: figures as people read them in text reports: bytes in binary units. */
#ifndef PC_UNITS_H
#define PC_UNITS_H

#include "common/compat.h"
#include <stdio.h>

/* "812 B", "1.2 KiB", "3.4 GiB". */
void report_put_bytes(FILE *out, uint64_t n);
/* The same into buf (always terminated). */
void report_bytes(char *buf, size_t len, uint64_t n);

#endif
