/* test_graph.c: the object graph (pycensus why, retained) on every interpreter found, against
 * what the target computes about itself (workloads/graph.py): the retained size and object count
 * of four structures (a list of dicts, a dict of lists, a list of closures, a list of asyncio
 * futures whose results only their C fields hold) equal the target's own refcount-exact closure,
 * byte for byte; `why` names the leak's holder path (a module global list -> a closure's cell ->
 * the Request) for all 1,000 requests, and a Future's result through its C field; -f dot draws with Graphviz; the
 * retained report lists the holders and a missing kind is exit 17; a graph over --max-memory is
 * exit 20 and leaves the target running. The same on the free-threaded
 * builds under make check-ft. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "tests/integration/harness.h"

#define OUTMAX (1 << 20)
#define NTRUTH 4 /* CACHE, STORE, receivers, FUTURES (workloads/graph.py) */

struct truth {
	char name[32];
	char addr[32];
	long long bytes, objects;
};

static const char *workload(void)
{
	static char path[512];
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	snprintf(path, sizeof path, "%s/graph.py", dir ? dir : "tests/integration/workloads");
	return path;
}

static void run_ok(const struct python *py, const char *const *args, char *out)
{
	char err[4096];
	int rc = h_pycensus(out, OUTMAX, err, sizeof err, args);

	cr_assert(rc == 0, "%s: pycensus %s %s failed (%d): %s", py->label, args[0], args[1], rc, err);
}

/* "N object at ... retaining B bytes (...) in M objects" */
static void retained_of(const struct python *py, const char *pid, const struct truth *t, char *out)
{
	char addr[40];
	const char *args[] = { "why", "--addr", addr, pid, NULL }, *at;
	long long bytes = -1, objects = -1;

	snprintf(addr, sizeof addr, "0x%s", t->addr);
	run_ok(py, args, out);
	at = strstr(out, "retaining ");
	cr_assert(at && sscanf(at, "retaining %lld bytes (%*[^)]) in %lld objects", &bytes, &objects) == 2,
		  "%s: no retained figure in:\n%s", py->label, out);
	fprintf(stderr, "  %-14s %-9s retained: target %8lld bytes in %5lld objects; pycensus %8lld bytes in %5lld objects\n",
		py->label, t->name, t->bytes, t->objects, bytes, objects);
	cr_expect(bytes == t->bytes && objects == t->objects, "%s: %s retains %lld bytes in %lld objects by pycensus, %lld in %lld by the target",
		  py->label, t->name, bytes, objects, t->bytes, t->objects);
}

/* The leak's path, step by step, with all 1,000 requests through it. */
static void leak_path(const struct python *py, const char *pid, char *out)
{
	static const char *const steps[] = { "(interpreter)", "sys.modules -> dict", "['__main__'] -> module",
					     ".__dict__ -> dict of module", "['receivers'] -> list", "-> function",
					     ".__closure__ -> tuple", "[0] -> ", ".cell_contents -> __main__.Request" };
	const char *args[] = { "why", "--kind", "__main__.Request", pid, NULL }, *at = NULL;
	char line[256];

	run_ok(py, args, out);
	at = out;
	for (size_t i = 0; i < PC_ARRAY_LEN(steps); i++) {
		const char *next = strstr(at, steps[i]);
		cr_assert(next, "%s: the path misses step '%s' (in order) in:\n%s", py->label, steps[i], out);
		at = next;
	}
	snprintf(line, sizeof line, "%.*s", (int)strcspn(at, "\n"), at);
	cr_expect(strstr(line, "(1000 objects)") && strstr(line, "[selected]"), "%s: last step '%s'", py->label, line);
	cr_expect(strstr(out, "      1000 ") != NULL, "%s: 1000 requests through the path:\n%s", py->label, out);
}

/* --min: the many small branches of every str are summed in one line by default, and all shown
 * with --min 0; the selection's count is the same either way. */
static void min_branches(const struct python *py, const char *pid, char *out)
{
	const char *dflt[] = { "why", "--kind", "str", pid, NULL }, *all[] = { "why", "--kind", "str", "--min", "0", pid, NULL };
	long long n1 = -1, n2 = -2;

	run_ok(py, dflt, out);
	cr_expect(strstr(out, "smaller branch") && strstr(out, "--min 0 shows them"), "%s: no summed branches:\n%.2000s",
		  py->label, out);
	cr_expect(sscanf(strchr(out, '\n') + 1, "%lld objects of kind", &n1) == 1, "%s: no count", py->label);
	run_ok(py, all, out);
	cr_expect(!strstr(out, "smaller branch"), "%s: --min 0 still sums branches", py->label);
	cr_expect(sscanf(strchr(out, '\n') + 1, "%lld objects of kind", &n2) == 1 && n1 == n2, "%s: %lld and %lld strs",
		  py->label, n1, n2);
}

static void dot_draws(const struct python *py, const char *pid, char *out)
{
	const char *args[] = { "why", "-f", "dot", "--kind", "__main__.Request", pid, NULL };
	char path[] = "/tmp/pycensus-why-XXXXXX";
	char cmd[256];
	int fd, rc;
	FILE *f = NULL;

	run_ok(py, args, out);
	cr_assert(strncmp(out, "digraph why {", 13) == 0, "%s: not a Graphviz graph:\n%s", py->label, out);
	if (system("command -v dot >/dev/null 2>&1") != 0) {
		fprintf(stderr, "  %-14s graphviz's dot not installed (tools/install-deps): the SVG check skipped\n", py->label);
		return;
	}
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	f = fdopen(fd, "w");
	cr_assert(f);
	fputs(out, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "dot -Tsvg %s -o %s.svg 2>&1 && grep -c '<g id=\"node' %s.svg >/dev/null", path, path, path);
	rc = system(cmd);
	cr_expect(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "%s: dot could not draw the graph (%d)", py->label, rc);
	snprintf(cmd, sizeof cmd, "%s.svg", path);
	unlink(cmd);
	unlink(path);
}

/* A bytes object that only a Future's result field holds: its path ends in that field, named by
 * its offset (census/cfields.c reads the field, objects/referrer.c names it). */
static void cfield_path(const struct python *py, const char *pid, const char *result, char *out)
{
	char addr[48];
	const char *args[] = { "why", "--addr", addr, pid, NULL };

	snprintf(addr, sizeof addr, "0x%s", result);
	run_ok(py, args, out);
	cr_expect(strstr(out, "['FUTURES'] -> list") && strstr(out, "-> _asyncio.Future") && strstr(out, "(C field at +") &&
		  strstr(out, "-> bytes"),
		  "%s: the path to a Future's result does not go through its C field:\n%.3000s", py->label, out);
}

static void retained_report(const struct python *py, const char *pid, const struct truth *t, char *out)
{
	const char *args[] = { "retained", "-f", "csv", "-n", "0", "--min", "0.5", pid, NULL }, *missing[] = {
		"why", "--kind", "no such kind", pid, NULL };
	char addr[64], err[4096];

	static const char header[] = "row,depth,address,kind,objects,bytes,retained_objects,retained_bytes,description\n";

	run_ok(py, args, out);
	cr_expect(strncmp(out, header, sizeof header - 1) == 0, "%s: retained CSV header", py->label);
	cr_expect(strstr(out, "\n# end,") != NULL, "%s: retained CSV end line", py->label);
	for (int i = 0; i < NTRUTH; i++) {
		snprintf(addr, sizeof addr, ",0x%s,", t[i].addr);
		cr_expect(strstr(out, addr) != NULL, "%s: %s (%lld bytes retained) not among the objects retaining 0.5 %%",
			  py->label, t[i].name, t[i].bytes);
	}
	cr_expect(h_pycensus(out, OUTMAX, err, sizeof err, missing) == 17 && strstr(err, "no such kind"),
		  "%s: a missing kind is exit 17: %s", py->label, err);
}

/* A graph over --max-memory: 200,000 floats take about 9 MiB as a graph (48 bytes per object at its
 * peak), over 4M: exit 20 naming the graph, and the target runs on (a census without the limit
 * then finds every float). */
static void graph_over_limit(const struct python *py)
{
	static const char code[] = "import time\nx = [float(i) for i in range(200000)]\nprint('ready', flush=True)\ntime.sleep(600)\n";
	char *argv[] = { (char *)py->path, "-c", (char *)code, NULL }, line[64], pid[16], err[4096];
	const char *over[] = { "retained", "--max-memory", "4M", pid, NULL }, *ok[] = { "retained", "-n", "1", pid, NULL }, *at;
	char *out = malloc(OUTMAX);
	long long objects = -1;
	struct proc p;
	int rc;

	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	cr_assert(h_wait_line(&p, "ready", line, sizeof line, 60), "%s: workload not ready", py->label);
	cr_assert(h_wait_sleeping(p.pid, 60), "%s: workload busy", py->label);
	snprintf(pid, sizeof pid, "%d", (int)p.pid);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, over);
	cr_expect(rc == 20 && strstr(err, "the object graph of") && strstr(err, "--max-memory (4.0 MiB)"),
		  "%s: a graph over --max-memory 4M is exit 20 (got %d): %s", py->label, rc, err);
	run_ok(py, ok, out);
	at = strstr(out, "graph: ");
	cr_expect(at && sscanf(at, "graph: %lld objects", &objects) == 1 && objects > 200000,
		  "%s: after the refusal, a census finds %lld objects:\n%.1000s", py->label, objects, out);
	free(out);
	h_kill(&p);
}

ParameterizedTestParameters(integration, graph)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

static void check_graph(const struct python *py)
{
	char *argv[] = { (char *)py->path, (char *)workload(), NULL }, line[256], pid[16];
	char *out = malloc(OUTMAX);
	struct truth t[NTRUTH];
	char result[40] = "";
	struct proc p;

	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	for (int i = 0; i < NTRUTH; i++) {
		cr_assert(h_wait_line(&p, "truth retained", line, sizeof line, 120), "%s: workload did not start", py->label);
		cr_assert(sscanf(line, "truth retained %31s %31s %lld %lld", t[i].name, t[i].addr, &t[i].bytes, &t[i].objects) == 4,
			  "%s: '%s'", py->label, line);
	}
	cr_assert(h_wait_line(&p, "result", line, sizeof line, 60) && sscanf(line, "result %31s", result) == 1,
		  "%s: no result line: '%s'", py->label, line);
	cr_assert(h_wait_line(&p, "ready", line, sizeof line, 60), "%s: workload not ready", py->label);
	cr_assert(h_wait_sleeping(p.pid, 60), "%s: workload busy", py->label);
	snprintf(pid, sizeof pid, "%d", (int)p.pid);
	for (int i = 0; i < NTRUTH; i++)
		retained_of(py, pid, &t[i], out);
	cfield_path(py, pid, result, out);
	leak_path(py, pid, out);
	min_branches(py, pid, out);
	dot_draws(py, pid, out);
	retained_report(py, pid, t, out);
	free(out);
	h_kill(&p);
	graph_over_limit(py);
}

ParameterizedTest(struct python *py, integration, graph, .timeout = 300)
{
	check_graph(py);
}

/* The same on the free-threaded builds (make check-ft): objects from mimalloc's heaps. */
Test(freethreaded, graph, .timeout = 300)
{
	struct python ft[4];
	size_t n = h_pythons_ft_or_skip(ft, PC_ARRAY_LEN(ft));

	for (size_t i = 0; i < n; i++)
		check_graph(&ft[i]);
}
