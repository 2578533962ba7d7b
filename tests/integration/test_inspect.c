/* test_inspect.c: `pycensus inspect` against the figures the examples compute about themselves,
 * on every interpreter found: examples/waste_json.py's duplicate strings (copies and bytes beyond
 * the first, from a dict of values to ids and sys.getsizeof), examples/waste_slots.py's records
 * with and without __slots__ (tracemalloc), examples/waste_containers.py's empty and shrunk
 * containers (sys.getsizeof), examples/waste_numbers.py's boxed ints and floats (distinct objects
 * per value by id, sys.getsizeof) and examples/waste_held.py's records held only by a reference
 * taken from C (ctypes Py_IncRef; sys.getsizeof). Every figure within 1 %. And on each example,
 * inspect -f json is a valid inspect document of docs/schema/pycensus.json (Debian's
 * python3-jsonschema, tests/integration/jsoncheck.py) whose findings (objects, bytes to save)
 * equal the CSV's. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/integration/harness.h"

#define OUTMAX (1 << 20)
#define MAX_FIELDS 12

static const char *workloads(void)
{
	const char *dir = getenv("PYCENSUS_WORKLOADS");

	return dir ? dir : "tests/integration/workloads";
}

static const char *example(const char *script)
{
	static char path[512];

	/* examples/ is two levels above the workloads */
	snprintf(path, sizeof path, "%s/../../../examples/%s", workloads(), script);
	return path;
}

/* Splits one CSV line in place (RFC 4180 quotes); returns the number of fields. */
static size_t csv_fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *w = line, *r = line;

	while (n < max) {
		bool quoted = *r == '"';
		f[n++] = w;
		if (quoted)
			r++;
		while (*r && (quoted || (*r != ',' && *r != '\n'))) {
			if (quoted && *r == '"' && r[1] == '"')
				r++;
			else if (quoted && *r == '"') {
				quoted = false;
				r++;
				continue;
			}
			*w++ = *r++;
		}
		if (*r != ',') {
			*w = '\0';
			break;
		}
		*w++ = '\0';
		r++;
		w = r;
	}
	return n;
}

struct finding {
	long long objects, bytes, save, after;
	char detail[256];
};

/* The row of inspection `kind` whose field `col` (7: what, 6: the census kind) is `what`. */
static bool find_in(const char *csv, const char *kind, size_t col, const char *what, struct finding *out)
{
	char *copy = strdup(csv), *line, *save = NULL, *f[MAX_FIELDS];
	bool found = false;

	for (line = strtok_r(copy, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
		if (csv_fields(line, f, MAX_FIELDS) < 10 || strcmp(f[1], kind) != 0 || strcmp(f[col], what) != 0)
			continue;
		*out = (struct finding){ atoll(f[2]), atoll(f[3]), atoll(f[4]), atoll(f[5]), "" };
		snprintf(out->detail, sizeof out->detail, "%s", f[8]);
		found = true;
	}
	free(copy);
	return found;
}

static bool find(const char *csv, const char *kind, const char *what, struct finding *out)
{
	return find_in(csv, kind, 7, what, out);
}

static void near(const struct python *py, const char *what, const char *figure, long long got, long long want)
{
	double d = want ? (double)(got - want) / (double)want : (double)got;

	cr_expect(d <= 0.01 && d >= -0.01, "%s: %s: %s %lld, the example says %lld (%.2f %%)", py->label, what, figure, got,
		  want, 100 * d);
}

static const char *const attrs[] = { "'sensor'", "'timestamp'", "'value'", "'unit'", "'quality'", "'source'" };

static void check_line(const struct python *py, const char *csv, const char *line)
{
	char a[64], b[160], quoted[200];
	long long n, x, y;
	struct finding f;

	if (sscanf(line, "expect duplicate %159s %lld %lld", b, &n, &x) == 3) {
		snprintf(quoted, sizeof quoted, "'%s'", b);
		cr_assert(find(csv, "duplicate", quoted, &f), "%s: no duplicate %s in:\n%s", py->label, quoted, csv);
		near(py, quoted, "copies", f.objects, n);
		near(py, quoted, "bytes to save", f.save, x);
	} else if (sscanf(line, "expect slots %159s %lld %lld %lld", b, &n, &x, &y) == 4) {
		cr_assert(find(csv, "slots", b, &f), "%s: no __slots__ advice for %s in:\n%s", py->label, b, csv);
		cr_expect_eq(f.objects, n, "%s: %s: %lld instances, the example made %lld", py->label, b, f.objects, n);
		near(py, b, "bytes now", f.bytes, x);
		near(py, b, "bytes with __slots__", f.after, y);
		/* in the order of the class's shared keys: insertion order up to 3.13, sorted from 3.14 */
		for (size_t k = 0; k < PC_ARRAY_LEN(attrs); k++)
			cr_expect(strstr(f.detail, attrs[k]), "%s: the slots line lacks %s: %s", py->label, attrs[k], f.detail);
	} else if (sscanf(line, "expect boxed %63s %lld %lld", a, &n, &x) == 3) {
		/* one finding per type: the example's values and the interpreter's own few repeated ones */
		cr_assert(find_in(csv, "boxed", 6, a, &f), "%s: no boxed %s in:\n%s", py->label, a, csv);
		near(py, a, "objects held more than once", f.objects, n);
		near(py, a, "bytes to save", f.save, x);
	} else if (sscanf(line, "expect held %159s %lld %lld", b, &n, &x) == 3) {
		cr_assert(find(csv, "held", b, &f), "%s: %s not held from C in:\n%s", py->label, b, csv);
		cr_expect_eq(f.objects, n, "%s: %s: %lld held from C, the example pinned %lld", py->label, b, f.objects, n);
		near(py, b, "bytes", f.bytes, x);
	} else if (sscanf(line, "expect %63s %159s %lld %lld", a, b, &n, &x) == 4) {
		snprintf(quoted, sizeof quoted, "%s%s held by list", strcmp(a, "empty") == 0 ? "empty " : "", b);
		cr_assert(find(csv, a, quoted, &f), "%s: no %s finding '%s' in:\n%s", py->label, a, quoted, csv);
		near(py, quoted, "objects", f.objects, n);
		near(py, quoted, "bytes to save", f.save, x);
	}
}

static const char *const scripts[] = { "waste_json.py", "waste_slots.py", "waste_containers.py", "waste_numbers.py",
				       "waste_held.py" };

/* jsoncheck.py's output (args after the script) into a malloc'd string; its exit status into *rc. */
static char *jsoncheck(const char *args, int *rc)
{
	char cmd[2048];

	snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/../jsoncheck.py %s 2>&1", workloads(), args);
	return h_command_output(cmd, OUTMAX, rc);
}

/* inspect -f json of the same target: valid against the schema, and its findings' objects and
 * bytes to save are the CSV's (csv), finding for finding. */
static void check_json(const struct python *py, const char *script, const char *pid, const char *csv)
{
	char dir[] = "/tmp/pycensus-inspect-XXXXXX", json[64], csvp[64], args[512], err[4096];
	char *out = malloc(OUTMAX), *doc, *table, *tab;
	FILE *f;
	int rc;

	cr_assert(out && mkdtemp(dir));
	snprintf(json, sizeof json, "%s/inspect.json", dir);
	snprintf(csvp, sizeof csvp, "%s/inspect.csv", dir);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, (const char *[]){ "inspect", "-q", "-f", "json", "-n", "40", pid, NULL });
	cr_assert_eq(rc, 0, "%s: inspect -f json %s: %d %s", py->label, script, rc, err);
	cr_assert((f = fopen(json, "w")) && fputs(out, f) >= 0 && fclose(f) == 0);
	cr_assert((f = fopen(csvp, "w")) && fputs(csv, f) >= 0 && fclose(f) == 0);
	snprintf(args, sizeof args, "%s/../../../docs/schema/pycensus.json %s findings", workloads(), json);
	doc = jsoncheck(args, &rc);
	cr_assert(rc == 0 && strncmp(doc, "valid inspect\n", 14) == 0, "%s: %s: inspect -f json is not valid: %.2000s",
		  py->label, script, doc);
	snprintf(args, sizeof args, "--csv findings %s", csvp);
	table = jsoncheck(args, &rc);
	tab = strstr(doc, "index,count,");
	cr_assert(rc == 0 && tab, "%s: %s: no findings table: %.500s %.500s", py->label, script, doc, table);
	cr_expect_str_eq(tab, table, "%s: %s: inspect -f json's findings differ from the CSV's", py->label, script);
	unlink(json);
	unlink(csvp);
	rmdir(dir);
	free(doc);
	free(table);
	free(out);
}

ParameterizedTestParameters(integration, inspect)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, integration, inspect, .timeout = 300)
{
	char *out = malloc(OUTMAX), err[4096], pid[16], lines[64][256];

	for (size_t i = 0; i < PC_ARRAY_LEN(scripts); i++) {
		char *argv[] = { py->path, (char *)example(scripts[i]), NULL };
		const char *args[] = { "inspect", "-q", "-f", "csv", "-n", "40", pid, NULL };
		struct proc p;
		size_t n = 0;
		bool ready = false;
		int rc;

		cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
		while (!ready && n < PC_ARRAY_LEN(lines) && h_wait_line(&p, "", lines[n], sizeof lines[n], 120))
			if (!(ready = strncmp(lines[n], "ready", 5) == 0))
				n++;
		cr_assert(ready, "%s: %s did not start", py->label, scripts[i]);
		cr_assert(n > 0, "%s: %s printed no figures", py->label, scripts[i]);
		snprintf(pid, sizeof pid, "%d", (int)p.pid);
		rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
		cr_assert_eq(rc, 0, "%s: inspect %s: %d %s", py->label, scripts[i], rc, err);
		for (size_t k = 0; k < n; k++)
			check_line(py, out, lines[k]);
		check_json(py, scripts[i], pid, out);
		fprintf(stderr, "  %-14s %-20s %zu figures within 1 %%, JSON = CSV\n", py->label, scripts[i], n);
		h_kill(&p);
	}
	free(out);
}
