/* test_json.c: unit tests for report/json: nesting, commas, escaping, pretty layout. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "report/json.h"

static char *render(bool pretty, void (*build)(struct json *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	cr_assert(f);
	json_init(&j, f, pretty);
	build(&j);
	json_finish(&j);
	fclose(f);
	return buf;
}

static void doc(struct json *j)
{
	json_begin_object(j, NULL);
	json_str(j, "kind", "dict of \"a\\b\"\n\x01");
	json_u64(j, "count", 18446744073709551615ull);
	json_i64(j, "delta", -5);
	json_double(j, "rate", 1.5);
	json_double(j, "nan", NAN);
	json_bool(j, "ok", true);
	json_str(j, "none", NULL);
	json_begin_array(j, "rows");
	json_u64(j, NULL, 1);
	json_begin_object(j, NULL);
	json_end_object(j);
	json_end_array(j);
	json_begin_array(j, "empty");
	json_end_array(j);
	json_end_object(j);
}

Test(json, compact_document)
{
	char *s = render(false, doc);

	cr_assert_str_eq(s, "{\"kind\":\"dict of \\\"a\\\\b\\\"\\n\\u0001\",\"count\":18446744073709551615,"
			    "\"delta\":-5,\"rate\":1.5,\"nan\":null,\"ok\":true,\"none\":null,"
			    "\"rows\":[1,{}],\"empty\":[]}\n");
	free(s);
}

static void small(struct json *j)
{
	json_begin_object(j, NULL);
	json_begin_array(j, "a");
	json_u64(j, NULL, 1);
	json_u64(j, NULL, 2);
	json_end_array(j);
	json_end_object(j);
}

Test(json, pretty_document)
{
	char *s = render(true, small);

	cr_assert_str_eq(s, "{\n  \"a\": [\n    1,\n    2\n  ]\n}\n");
	free(s);
}
