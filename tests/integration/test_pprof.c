/* test_pprof.c: snap -f pprof read by its real consumer, go tool pprof (Debian's golang-go), on
 * every interpreter found (workloads/pprof.py, a quiet heap): the profile's kinds equal a CSV of
 * the same heap taken right after, row for row; its module frames sum to `--by module`'s rows;
 * Product and the Request dicts are what the workload counts itself (sys.getsizeof); every stack is
 * module -> kind; the comments name the PID and the Python version; `-top` prints the Product
 * count. snap --subprocesses -f pprof over workloads/tree.py (prefork, one interpreter): each
 * process's Work under its own "PID command" frame, exactly. And the refusals: a terminal as the
 * output, --by, -i. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/integration/checks.h"
#include "tests/integration/harness.h"

#define OUT_MAX (1 << 20)
#define MAX_FRAMES 8

/* A profile as go tool pprof -raw prints it: samples (values and location ids, leaf first) and
 * each location's function name. */
struct raw {
	struct { long long objects, bytes; unsigned long loc[MAX_FRAMES]; size_t nloc; } *s;
	size_t ns;
	char **names; /* by location id */
	size_t nnames;
	char *text;   /* the whole output, for the comments */
};

/* Runs a shell command, returning its stdout (malloc'd) and its exit status in *rc. */
static char *run(const char *cmd, int *rc)
{
	return h_command_output(cmd, OUT_MAX, rc);
}

static void parse_location(struct raw *r, const char *line)
{
	unsigned long id;
	int at = 0;
	const char *end;

	if (sscanf(line, "%lu: 0x%*x M=%*d %n", &id, &at) != 1 || !at || id == 0 || id > 100000)
		return;
	end = strstr(line + at, " :"); /* the (empty) file name and line: " :0 s=0" */
	if (!end)
		return;
	if (id >= r->nnames) {
		r->names = realloc(r->names, (id + 1) * sizeof *r->names);
		memset(r->names + r->nnames, 0, (id + 1 - r->nnames) * sizeof *r->names);
		r->nnames = id + 1;
	}
	free(r->names[id]);
	r->names[id] = strndup(line + at, (size_t)(end - (line + at)));
}

static void parse_sample(struct raw *r, const char *line)
{
	long long objects, bytes;
	int at = 0;
	char *next;

	if (sscanf(line, "%lld %lld: %n", &objects, &bytes, &at) != 2 || !at)
		return;
	r->s = realloc(r->s, (r->ns + 1) * sizeof *r->s);
	r->s[r->ns].objects = objects;
	r->s[r->ns].bytes = bytes;
	r->s[r->ns].nloc = 0;
	for (const char *p = line + at; r->s[r->ns].nloc < MAX_FRAMES; p = next) {
		unsigned long id = strtoul(p, &next, 10);
		if (next == p)
			break;
		r->s[r->ns].loc[r->s[r->ns].nloc++] = id;
	}
	r->ns++;
}

/* go tool pprof -raw over the profile at path. */
static void decode(const char *path, struct raw *r, const char *label)
{
	char cmd[512];
	int rc, section = 0; /* 1: samples, 2: locations */

	memset(r, 0, sizeof *r);
	snprintf(cmd, sizeof cmd, "go tool pprof -raw %s 2>&1", path);
	r->text = run(cmd, &rc);
	cr_assert_eq(rc, 0, "%s: go tool pprof -raw failed: %.500s", label, r->text);
	for (char *line = r->text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char one[1024];
		snprintf(one, sizeof one, "%.*s", (int)strcspn(line, "\n"), line);
		if (strcmp(one, "Samples:") == 0)
			section = 1;
		else if (strcmp(one, "Locations") == 0)
			section = 2;
		else if (strcmp(one, "Mappings") == 0)
			section = 0;
		else if (section == 1)
			parse_sample(r, one);
		else if (section == 2)
			parse_location(r, one + strspn(one, " "));
	}
	cr_assert(r->ns > 0, "%s: no samples in go tool pprof -raw: %.500s", label, r->text);
}

static const char *name_of(const struct raw *r, unsigned long id)
{
	return id < r->nnames && r->names[id] ? r->names[id] : "(unknown location)";
}

static void raw_free(struct raw *r)
{
	for (size_t i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r->names);
	free(r->s);
	free(r->text);
}

/* Adds count and size to kind's row of t. */
static void add_row(struct table *t, const char *kind, long long count, long long size)
{
	struct row *x = (struct row *)h_row(t, kind);

	if (!x) {
		t->v = realloc(t->v, (t->n + 1) * sizeof *t->v);
		x = &t->v[t->n++];
		memset(x, 0, sizeof *x);
		snprintf(x->kind, sizeof x->kind, "%s", kind);
	}
	x->count += count;
	x->size += size;
}

static const char *workload(const char *name)
{
	static char path[512];
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/integration/workloads", name);
	return path;
}

static void csv_of(const char *pidtxt, const char *by, struct table *t, const struct python *py)
{
	char *out = malloc(OUT_MAX), err[4096];
	const char *args[] = { "snap", "-f", "csv", "--by", by, "-q", pidtxt, NULL };

	cr_assert_eq(h_pycensus(out, OUT_MAX, err, sizeof err, args), 0, "%s: snap --by %s: %s", py->label, by, err);
	cr_assert(h_parse_csv(out, t), "%s: unparsable CSV", py->label);
	free(out);
}

/* The Product count in `go tool pprof -top` by objects: its flat column. */
static long long top_products(const char *path, const struct python *py)
{
	char cmd[512];
	long long flat = -1;
	int rc;
	char *out;

	snprintf(cmd, sizeof cmd, "go tool pprof -top -sample_index=inuse_objects -nodefraction=0 -nodecount=100000 %s 2>&1",
		 path);
	out = run(cmd, &rc);
	cr_expect_eq(rc, 0, "%s: go tool pprof -top: %.300s", py->label, out);
	for (const char *s = out; s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL) {
		char kind[128];
		long long v;
		if (sscanf(s, "%lld %*s %*s %*s %*s %127s", &v, kind) == 2 && strcmp(kind, "__main__.Product") == 0)
			flat = v;
	}
	free(out);
	return flat;
}

ParameterizedTestParameters(pprof, census)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, pprof, census, .timeout = 300)
{
	char *argv[] = { py->path, (char *)workload("pprof.py"), NULL }, line[256], version[64] = "", pidtxt[16],
	     path[] = "/tmp/pycensus-pprof-XXXXXX", err[4096], want[128];
	long long product_size = 0, dict_bytes = 0;
	struct table kinds = { 0 }, modules = { 0 }, csv, csv_modules;
	struct raw r;
	struct proc p;
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	close(fd);
	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	cr_assert(h_wait_line(&p, "sizes", line, sizeof line, 60) &&
		  sscanf(line, "sizes %lld %lld %63s", &product_size, &dict_bytes, version) == 3,
		  "%s: workload did not start", py->label);
	cr_assert(h_wait_line(&p, "ready", line, sizeof line, 60) && h_wait_sleeping(p.pid, 30));
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)p.pid);
	const char *args[] = { "snap", "-f", "pprof", "-q", "-o", path, pidtxt, NULL };
	cr_assert_eq(h_pycensus(NULL, 0, err, sizeof err, args), 0, "%s: snap -f pprof: %s", py->label, err);
	csv_of(pidtxt, "kind", &csv, py);
	csv_of(pidtxt, "module", &csv_modules, py);
	decode(path, &r, py->label);
	for (size_t i = 0; i < r.ns; i++) {
		cr_expect_eq(r.s[i].nloc, 2, "%s: a stack of %zu frames, not module -> kind", py->label, r.s[i].nloc);
		add_row(&kinds, name_of(&r, r.s[i].loc[0]), r.s[i].objects, r.s[i].bytes);
		add_row(&modules, name_of(&r, r.s[i].loc[r.s[i].nloc - 1]), r.s[i].objects, r.s[i].bytes);
	}
	cr_expect_eq(kinds.n, r.ns, "%s: %zu samples for %zu kinds: one sample per kind", py->label, r.ns, kinds.n);
	h_assert_same_table(&kinds, &csv, "pprof's kinds vs the CSV", py);
	h_assert_same_table(&modules, &csv_modules, "pprof's module frames vs --by module", py);
	const struct row *prod = h_row(&kinds, "__main__.Product"), *dicts = h_row(&kinds, "dict of __main__.Request");
	cr_expect(prod && prod->count == 4321 && prod->size == 4321 * product_size,
		  "%s: __main__.Product: %lld objects, %lld bytes; the workload holds 4321 of %lld bytes", py->label,
		  prod ? prod->count : -1, prod ? prod->size : -1, product_size);
	cr_expect(dicts && dicts->count == 250 && dicts->size == dict_bytes,
		  "%s: dict of __main__.Request: %lld objects, %lld bytes; the workload holds 250 of %lld bytes in all",
		  py->label, dicts ? dicts->count : -1, dicts ? dicts->size : -1, dict_bytes);
	snprintf(want, sizeof want, "Comment: pid %d\n", (int)p.pid);
	cr_expect(strstr(r.text, want), "%s: no '%s' comment", py->label, want);
	snprintf(want, sizeof want, "Comment: python %s", version);
	cr_expect(strstr(r.text, want), "%s: no '%s' comment", py->label, want);
	cr_expect(strstr(r.text, "Comment: warnings "), "%s: no warnings comment", py->label);
	cr_expect_eq(top_products(path, py), 4321, "%s: go tool pprof -top's Product count", py->label);
	fprintf(stderr, "pprof: %s: %zu kinds in %zu modules equal to the CSV, Product 4321 x %lld bytes\n", py->label,
		kinds.n, modules.n, product_size);
	raw_free(&r);
	h_table_free(&kinds);
	h_table_free(&modules);
	h_table_free(&csv);
	h_table_free(&csv_modules);
	unlink(path);
	h_kill(&p);
}

/* snap --subprocesses -f pprof: each process's Work under "PID command" (workloads/tree.py). */
Test(pprof, subprocesses, .timeout = 300)
{
	struct python all[H_MAX_PYTHONS];
	size_t n = h_find_pythons(all, H_MAX_PYTHONS), nchild = 0;
	char line[256], pidtxt[16], err[4096], path[] = "/tmp/pycensus-pprof-tree-XXXXXX", want[64];
	struct { int pid; long long want, got; } child[8];
	int nonpython = 0, fd = mkstemp(path);
	struct raw r;
	struct proc p;

	if (n == 0)
		cr_skip_test("no interpreter found (see the interpreters report)");
	cr_assert(fd >= 0);
	close(fd);
	/* the newest interpreter found runs the tree, the oldest its leaf: one run covers two layouts */
	char *argv[] = { all[n - 1].path, (char *)workload("tree.py"), "prefork", all[0].path, NULL };
	cr_assert(h_spawn(&p, argv), "cannot start %s", all[n - 1].label);
	while (h_wait_line(&p, "", line, sizeof line, 120) && strncmp(line, "ready", 5) != 0) {
		if (nchild < PC_ARRAY_LEN(child) && sscanf(line, "child %d %lld", &child[nchild].pid, &child[nchild].want) == 2)
			child[nchild++].got = 0;
		sscanf(line, "nonpython %d", &nonpython);
	}
	cr_assert(nchild >= 3 && nonpython, "%s: the tree did not come up", all[n - 1].label);
	snprintf(pidtxt, sizeof pidtxt, "%d", child[0].pid);
	const char *args[] = { "snap", "--subprocesses", "--pause", "census", "-f", "pprof", "-q", "-o", path, pidtxt, NULL };
	cr_assert_eq(h_pycensus(NULL, 0, err, sizeof err, args), 0, "%s: %s", all[n - 1].label, err);
	decode(path, &r, all[n - 1].label);
	for (size_t i = 0; i < r.ns; i++) {
		cr_expect_eq(r.s[i].nloc, 3, "a stack of %zu frames, not process -> module -> kind", r.s[i].nloc);
		if (r.s[i].nloc != 3 || strcmp(name_of(&r, r.s[i].loc[0]), "__main__.Work") != 0)
			continue;
		for (size_t k = 0; k < nchild; k++)
			if (atoi(name_of(&r, r.s[i].loc[2])) == child[k].pid)
				child[k].got += r.s[i].objects;
	}
	for (size_t k = 0; k < nchild; k++)
		cr_expect_eq(child[k].got, child[k].want, "%s: process %d holds %lld Work, its frame in the profile %lld",
			     all[n - 1].label, child[k].pid, child[k].want, child[k].got);
	snprintf(want, sizeof want, "Comment: skipped %d: not a Python process", nonpython);
	cr_expect(strstr(r.text, want), "%s: no '%s'", all[n - 1].label, want);
	fprintf(stderr, "pprof: --subprocesses on %s (leaf on %s): %zu processes, Work exact under each\n",
		all[n - 1].label, all[0].label, nchild);
	raw_free(&r);
	unlink(path);
	for (size_t k = 1; k < nchild; k++) /* the workers and the leaf outlive the root otherwise */
		if (child[k].pid > 1)
			kill(child[k].pid, SIGKILL);
	if (nonpython > 1)
		kill(nonpython, SIGKILL);
	h_kill(&p);
}

/* A binary profile is never written to a terminal; -f pprof is one census by kind. */
Test(pprof, refusals)
{
	const char *bin = getenv("PYCENSUS"), *by[] = { "snap", "-f", "pprof", "--by", "type", "-o", "/dev/null", "1", NULL },
		   *series[] = { "snap", "-f", "pprof", "-i", "1", "-o", "/dev/null", "1", NULL };
	int master = posix_openpt(O_RDWR | O_NOCTTY), errp[2], status = 0;
	char err[4096];
	size_t n = 0;
	ssize_t got;
	pid_t pid;

	cr_assert(bin && master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0 && pipe(errp) == 0);
	pid = fork();
	if (pid == 0) {
		int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
		dup2(slave, 1);
		dup2(errp[1], 2);
		execl(bin, "pycensus", "snap", "-f", "pprof", "1", (char *)NULL);
		_exit(127);
	}
	close(errp[1]);
	while (n < sizeof err - 1 && (got = read(errp[0], err + n, sizeof err - 1 - n)) > 0)
		n += (size_t)got;
	err[n] = '\0';
	waitpid(pid, &status, 0);
	close(errp[0]);
	close(master);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 2, "a terminal as the output: exit %d, not 2",
		  WEXITSTATUS(status));
	cr_expect(strstr(err, "give -o FILE"), "a terminal as the output: %s", err);
	cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, by), 2, "--by type: %s", err);
	cr_expect(strstr(err, "no --by"), "--by type: %s", err);
	cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, series), 2, "-i: %s", err);
	cr_expect(strstr(err, "no -i"), "-i: %s", err);
}
