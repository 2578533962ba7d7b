/* json.h: a small streaming JSON writer for every report that offers `-f json` (stats, run,
 * snap). It tracks nesting and commas so callers only say what comes next; strings are escaped
 * per RFC 8259 (bytes >= 0x80 pass through: kinds and paths from the target are UTF-8 or are
 * written as they are). Write errors surface through output_check() on the stream. The documents
 * themselves (what each command writes, and the schema version) are in report/json_docs.h. */
#ifndef PC_JSON_H
#define PC_JSON_H

#include "common/compat.h"
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *out;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_key;
	bool pretty;   /* newlines and two-space indents */
	bool html_safe; /* < > & as \u003c ...: the document can sit inside an HTML <script> element */
};

void json_init(struct json *j, FILE *out, bool pretty);
/* key is the member name inside an object, NULL inside an array or at top level. */
void json_begin_object(struct json *j, const char *key);
void json_end_object(struct json *j);
void json_begin_array(struct json *j, const char *key);
void json_end_array(struct json *j);
void json_str(struct json *j, const char *key, const char *v);   /* NULL writes null */
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_double(struct json *j, const char *key, double v);     /* non-finite writes null */
void json_bool(struct json *j, const char *key, bool v);
/* Ends the document with a newline. */
void json_finish(struct json *j);

#endif
