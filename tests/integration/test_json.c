/* test_json.c: every command's -f json read by an independent reader, on the oldest and newest of the core set of interpreters (all with PYCENSUS_TEST_FULL=1):
 * Debian's python3-jsonschema validates each document against docs/schema/pycensus.json (and
 * against the definition of the document it says it is; tests/integration/jsoncheck.py), and the
 * numbers equal the CSV of the same heap (workloads/pprof.py holds still between censuses): snap's
 * rows by kind and by module, retained's kinds, a series' final kinds, diff's rows, replay's rows;
 * why counts the 4321 Products the workload made. On the newest interpreter, leaks -f json over
 * examples/leak_cache.py names the growing Answer with a dict as the common dominator. And
 * progress (issue 18's item 5): a sampling run shows its status line on a terminal's stderr, and
 * writes no escape or carriage return when stderr is a pipe, nor ever into the report. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/integration/checks.h"
#include "tests/integration/harness.h"

#define OUT_MAX (4 << 20)

/* A path relative to the workloads directory. */
static const char *beside(char *buf, size_t len, const char *rel)
{
	const char *dir = getenv("PYCENSUS_WORKLOADS");

	snprintf(buf, len, "%s/%s", dir ? dir : "tests/integration/workloads", rel);
	return buf;
}

/* Runs pycensus args; its stdout into the file path; returns the exit status. */
static int to_file(const char *const *args, const char *path, const char *label)
{
	char *out = malloc(OUT_MAX), err[4096];
	int rc = h_pycensus(out, OUT_MAX, err, sizeof err, args);
	FILE *f = fopen(path, "w");

	cr_assert(f && fputs(out, f) >= 0 && fclose(f) == 0, "cannot write %s", path);
	cr_expect_eq(rc, 0, "%s: pycensus %s %s: exit %d: %s", label, args[0], args[1], rc, err);
	free(out);
	return rc;
}

/* jsoncheck.py over path: "valid <doc>" or the validator's complaint; the view's table into t. */
static char *check(const char *path, const char *doc, const char *view, struct table *t, const char *label)
{
	char cmd[2048], schema[512], script[512], want[64], *out, *tab;
	int rc;

	snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %s %s 2>&1", beside(script, sizeof script, "../jsoncheck.py"),
		 beside(schema, sizeof schema, "../../../docs/schema/pycensus.json"), path, view ? view : "");
	out = h_command_output(cmd, OUT_MAX, &rc);
	snprintf(want, sizeof want, "valid %s\n", doc);
	cr_assert(rc == 0 && strncmp(out, want, strlen(want)) == 0, "%s: %s -f json is not a valid %s document: %.2000s",
		  label, doc, doc, out);
	if (t) {
		tab = strstr(out, "index,count,");
		cr_assert(tab && h_parse_csv(tab, t) && t->n > 0, "%s: %s: no %s table: %.500s", label, doc, view, out);
	}
	return out;
}

/* jsoncheck.py --csv view over a CSV file: the table as Python's csv module reads it. */
static void csv_view(const char *path, const char *view, struct table *t, const char *label)
{
	char cmd[1024], script[512], *out;
	int rc;

	snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s --csv %s %s 2>&1", beside(script, sizeof script, "../jsoncheck.py"),
		 view, path);
	out = h_command_output(cmd, OUT_MAX, &rc);
	cr_assert(rc == 0 && h_parse_csv(out, t), "%s: %s CSV unreadable: %.500s", label, view, out);
	free(out);
}

static void csv_table(const char *path, struct table *t, const char *label)
{
	char *text = malloc(OUT_MAX);
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert(text && f);
	n = fread(text, 1, OUT_MAX - 1, f);
	text[n] = '\0';
	fclose(f);
	cr_assert(h_parse_csv(text, t), "%s: %s is not snap CSV", label, path);
	free(text);
}

static void expect_field(const char *out, const char *name, const char *value, const char *label)
{
	char want[256];

	snprintf(want, sizeof want, "\nfield %s %s\n", name, value);
	cr_expect(strstr(out, want), "%s: no '%s %s' in the document: %.800s", label, name, value, out);
}

struct files {
	char dir[64];
	char path[24][96];
	size_t n;
};

static const char *tmp(struct files *f, const char *name)
{
	char *to = f->path[f->n];

	cr_assert(f->n < PC_ARRAY_LEN(f->path));
	strcpy(to, f->dir); /* snprintf into f from f is undefined (restrict) */
	strcat(to, "/");
	strncat(to, name, sizeof f->path[0] - strlen(to) - 1);
	return f->path[f->n++];
}

static void files_remove(struct files *f)
{
	for (size_t i = 0; i < f->n; i++)
		unlink(f->path[i]);
	rmdir(f->dir);
}

/* snap -f json against snap -f csv, by kind and by module; the target fields. */
static void check_snap(struct files *f, const char *pid, const char *version, struct table *csv, const struct python *py)
{
	static const char *const bys[] = { "kind", "module" };

	for (size_t i = 0; i < PC_ARRAY_LEN(bys); i++) {
		const char *json = tmp(f, bys[i]), *csvp = tmp(f, i ? "module.csv" : "kind.csv");
		struct table t, c;
		char *out;

		to_file((const char *[]){ "snap", "-q", "--by", bys[i], "-f", "json", pid, NULL }, json, py->label);
		to_file((const char *[]){ "snap", "-q", "--by", bys[i], "-f", "csv", pid, NULL }, csvp, py->label);
		out = check(json, "snap", "rows", &t, py->label);
		csv_table(csvp, &c, py->label);
		h_assert_same_table(&t, &c, i ? "snap -f json --by module vs csv" : "snap -f json vs csv", py);
		expect_field(out, "pid", pid, py->label);
		expect_field(out, "python", version, py->label);
		expect_field(out, "by", bys[i], py->label);
		free(out);
		h_table_free(&t);
		if (i == 0)
			*csv = c;
		else
			h_table_free(&c);
	}
}

/* retained -f json's kinds against retained -f csv's row=kind lines. */
static void check_retained(struct files *f, const char *pid, const struct python *py)
{
	const char *json = tmp(f, "retained.json"), *csvp = tmp(f, "retained.csv");
	struct table t, c;

	to_file((const char *[]){ "retained", "-q", "-f", "json", pid, NULL }, json, py->label);
	to_file((const char *[]){ "retained", "-q", "-f", "csv", pid, NULL }, csvp, py->label);
	free(check(json, "retained", "retained", &t, py->label));
	csv_view(csvp, "retained", &c, py->label);
	h_assert_same_table(&t, &c, "retained -f json vs csv (retained objects and bytes per kind)", py);
	h_table_free(&t);
	h_table_free(&c);
}

/* diff -f json against diff -f csv over two snap CSVs; a series' kinds against the census CSV. */
static void check_diff_series(struct files *f, const char *pid, const struct table *csv, const struct python *py)
{
	const char *a = f->path[1], *b = tmp(f, "b.csv"), *json = tmp(f, "diff.json"), *dcsv = tmp(f, "diff.csv"),
		   *series = tmp(f, "series.json");
	struct table t, c;

	to_file((const char *[]){ "snap", "-q", "-f", "csv", pid, NULL }, b, py->label);
	to_file((const char *[]){ "diff", "-f", "json", a, b, NULL }, json, py->label);
	to_file((const char *[]){ "diff", "-f", "csv", a, b, NULL }, dcsv, py->label);
	free(check(json, "diff", "diff", &t, py->label));
	csv_view(dcsv, "diff", &c, py->label);
	h_assert_same_table(&t, &c, "diff -f json vs csv (deltas per kind)", py);
	h_table_free(&t);
	h_table_free(&c);
	to_file((const char *[]){ "snap", "-q", "-i", "0.1", "-c", "2", "-f", "json", pid, NULL }, series, py->label);
	free(check(series, "series", "kinds", &t, py->label));
	h_assert_same_table(&t, csv, "snap -i -f json's final kinds vs snap -f csv", py);
	h_table_free(&t);
}

/* capture, then replay -f json against replay -f csv. */
static void check_replay(struct files *f, const char *pid, const struct python *py)
{
	const char *img = tmp(f, "image"), *json = tmp(f, "replay.json"), *csvp = tmp(f, "replay.csv");
	char err[4096];
	struct table t, c;

	cr_assert_eq(h_pycensus(NULL, 0, err, sizeof err, (const char *[]){ "capture", pid, img, NULL }), 0,
		     "%s: capture: %s", py->label, err);
	to_file((const char *[]){ "replay", "-f", "json", img, NULL }, json, py->label);
	to_file((const char *[]){ "replay", "-f", "csv", img, NULL }, csvp, py->label);
	free(check(json, "snap", "rows", &t, py->label));
	csv_table(csvp, &c, py->label);
	h_assert_same_table(&t, &c, "replay -f json vs csv", py);
	h_table_free(&t);
	h_table_free(&c);
}

/* stats, stacks, why and leaks: valid documents, and why counts the workload's Products. */
static void check_others(struct files *f, const char *pid, const struct python *py)
{
	const char *stats = tmp(f, "stats.json"), *stacks = tmp(f, "stacks.json"), *why = tmp(f, "why.json"),
		   *leaks = tmp(f, "leaks.json");
	char *out;

	to_file((const char *[]){ "stats", "-f", "json", pid, NULL }, stats, py->label);
	expect_field(out = check(stats, "stats", NULL, NULL, py->label), "pid", pid, py->label);
	free(out);
	to_file((const char *[]){ "stacks", "--native", "-f", "json", pid, NULL }, stacks, py->label);
	free(check(stacks, "stacks", NULL, NULL, py->label));
	to_file((const char *[]){ "why", "-q", "--kind", "__main__.Product", "-f", "json", pid, NULL }, why, py->label);
	expect_field(out = check(why, "why", NULL, NULL, py->label), "selected", "4321", py->label);
	free(out);
	to_file((const char *[]){ "leaks", "-q", "-i", "0.2", "-f", "json", pid, NULL }, leaks, py->label);
	free(check(leaks, "leaks", NULL, NULL, py->label));
}

/* The documents render censuses that the census suites check on every interpreter: here the oldest
 * and newest of the core set (all with PYCENSUS_TEST_FULL=1). */
ParameterizedTestParameters(json, documents)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons_ends(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, json, documents, .timeout = 300)
{
	char wl[512], line[256], version[64] = "", pid[16];
	char *argv[] = { py->path, (char *)beside(wl, sizeof wl, "pprof.py"), NULL };
	long long product_size, dict_bytes;
	struct files f = { .dir = "/tmp/pycensus-json-XXXXXX" };
	struct table csv;
	struct proc p;

	cr_assert(system("/usr/bin/python3 -c 'import jsonschema' 2>/dev/null") == 0,
		  "Debian's python3-jsonschema is missing (tools/install-deps installs it)");
	cr_assert(mkdtemp(f.dir));
	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	cr_assert(h_wait_line(&p, "sizes", line, sizeof line, 60) &&
		  sscanf(line, "sizes %lld %lld %63s", &product_size, &dict_bytes, version) == 3,
		  "%s: workload did not start", py->label);
	cr_assert(h_wait_line(&p, "ready", line, sizeof line, 60) && h_wait_sleeping(p.pid, 30));
	snprintf(pid, sizeof pid, "%d", (int)p.pid);
	check_snap(&f, pid, version, &csv, py);
	check_retained(&f, pid, py);
	check_diff_series(&f, pid, &csv, py);
	check_replay(&f, pid, py);
	check_others(&f, pid, py);
	fprintf(stderr, "json: %s: 8 documents valid; snap (%zu kinds), retained, diff, series and replay equal their CSV\n",
		py->label, csv.n);
	h_table_free(&csv);
	files_remove(&f);
	h_kill(&p);
}

/* The newest interpreter found (into py) runs script, a path relative to the workloads, until it
 * prints "ready"; its PID as text into pid. Skips the test when no interpreter is found. */
static void start_newest(const char *script, struct python *py, struct proc *p, char pid[16])
{
	struct python all[H_MAX_PYTHONS];
	size_t n = h_find_pythons(all, H_MAX_PYTHONS);
	char path[512], line[256];

	if (n == 0)
		cr_skip_test("no interpreter found (see the interpreters report)");
	*py = all[n - 1];
	char *argv[] = { py->path, (char *)beside(path, sizeof path, script), NULL };
	cr_assert(h_spawn(p, argv) && h_wait_line(p, "ready", line, sizeof line, 120), "%s: %s did not start", py->label,
		  script);
	snprintf(pid, 16, "%d", (int)p->pid);
}

/* leaks -f json over a real leak: the growing kind, its path and a dict as the common dominator. */
Test(json, leak_suspect, .timeout = 300)
{
	struct python py;
	char pid[16], path[] = "/tmp/pycensus-leaks-XXXXXX";
	struct table t;
	struct proc p;
	const struct row *r;
	char *out, *text = malloc(OUT_MAX), err[4096];
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	close(fd);
	start_newest("../../../examples/leak_cache.py", &py, &p, pid);
	cr_assert_eq(h_pycensus(text, OUT_MAX, err, sizeof err,
				(const char *[]){ "leaks", "-q", "-i", "1.5", "-k", "8", "-f", "json", "-o", path, pid, NULL }),
		     0, "%s: leaks: %s", py.label, err);
	out = check(path, "leaks", "growth", &t, py.label);
	r = h_row(&t, "__main__.Answer");
	cr_expect(r && r->count > 0 && r->size > 0, "%s: Answer did not grow in leaks -f json", py.label);
	FILE *f = fopen(path, "r");
	size_t got = f ? fread(text, 1, OUT_MAX - 1, f) : 0;
	text[got] = '\0';
	if (f)
		fclose(f);
	cr_expect(strstr(text, "\"dominator\": {\n") && strstr(text, "_cache") &&
		  strstr(text, "\"kind\": \"dict (no owner)\""),
		  "%s: no Answer suspect held through Resolver._cache by a dict: %.3000s", py.label, text);
	fprintf(stderr, "json: leaks on %s: __main__.Answer +%lld objects, +%lld bytes\n", py.label,
		r ? r->count : -1, r ? r->size : -1);
	free(out);
	free(text);
	h_table_free(&t);
	unlink(path);
	h_kill(&p);
}

/* pycensus args with stderr on a new pseudo-terminal: what it wrote there, and its exit status. */
static int on_terminal(const char *const *args, char *err, size_t len)
{
	const char *bin = getenv("PYCENSUS");
	int master = posix_openpt(O_RDWR | O_NOCTTY), status = 0;
	size_t n = 0;
	ssize_t got;
	pid_t pid;

	cr_assert(bin && master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
	pid = fork();
	if (pid == 0) {
		int slave = open(ptsname(master), O_RDWR | O_NOCTTY), null = open("/dev/null", O_WRONLY);
		char *argv[16] = { "pycensus" };
		for (size_t i = 0; args[i] && i < 14; i++)
			argv[i + 1] = (char *)args[i];
		dup2(null, 1);
		dup2(slave, 2);
		execv(bin, argv);
		_exit(127);
	}
	for (;;) { /* until the child is gone and the terminal has nothing more */
		struct pollfd pf = { master, POLLIN, 0 };
		if (poll(&pf, 1, 200) > 0 && (pf.revents & POLLIN) && n < len - 1 &&
		    (got = read(master, err + n, len - 1 - n)) > 0) {
			n += (size_t)got;
			continue;
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	err[n] = '\0';
	close(master);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(json, progress_only_on_a_terminal, .timeout = 120)
{
	struct python py;
	char pid[16], path[] = "/tmp/pycensus-progress-XXXXXX", err[8192], *report;
	struct proc p;
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	close(fd);
	start_newest("pprof.py", &py, &p, pid);
	const char *args[] = { "snap", "-i", "0.1", "-c", "2", "-f", "json", "-o", path, pid, NULL };
	cr_assert_eq(on_terminal(args, err, sizeof err), 0, "%s: %s", py.label, err);
	cr_expect(strstr(err, "\r\033[Kpycensus: sample 1 at "), "%s: no status line on the terminal: %s", py.label,
		  err);
	report = malloc(OUT_MAX);
	cr_assert_eq(h_pycensus(report, OUT_MAX, err, sizeof err, args), 0, "%s: %s", py.label, err);
	cr_expect(!strpbrk(err, "\r\033"), "%s: progress on a pipe: %s", py.label, err);
	FILE *f = fopen(path, "r");
	size_t got = f ? fread(report, 1, OUT_MAX - 1, f) : 0;
	report[got] = '\0';
	if (f)
		fclose(f);
	cr_expect(got > 0 && !strpbrk(report, "\r\033"), "%s: an escape or carriage return in the report", py.label);
	free(report);
	unlink(path);
	h_kill(&p);
}
