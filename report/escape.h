/* escape.h: writing strings that come from the target into reports: as a CSV field (RFC 4180
 * quoting) and as terminal-safe text (control characters as \xNN). Kind names, paths and
 * versions are the target's bytes: a hostile or corrupt process must not be able to break a CSV
 * row or send escape sequences to the terminal. */
#ifndef PC_ESCAPE_H
#define PC_ESCAPE_H

#include "common/compat.h"
#include <stdio.h>

/* Quoted when it holds , " CR or LF, with quotes doubled; verbatim otherwise. */
void report_put_csv_field(FILE *out, const char *s);
/* At most max bytes of s, control characters (and DEL) as \xNN. */
void report_put_text(FILE *out, const char *s, size_t max);

#endif
