/* test_stacks.c: `pycensus stacks` on every supported interpreter found, against what the
 * workload (workloads/stacks.py) says about its own threads: names, native ids, idents, the
 * functions and line numbers of its frames, and which thread holds the GIL. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/integration/harness.h"

#define OUTMAX (1 << 20)
#define MAXT 4
#define MAXF 8
/* A parked thread can be caught on its way in (e.g. waiting for the GIL one instruction before
 * its call); the dump is retried until it shows the parked state, this many times at most. */
#define ATTEMPTS 20

struct want_frame {
	char func[64];
	int line;
};

struct want_thread {
	char name[32];
	long native;
	unsigned long long ident;
	struct want_frame f[MAXF];
	size_t nf;
};

struct want {
	struct want_thread t[MAXT];
	size_t n;
	char gil[32];
};

static const char *workload(void)
{
	static char path[512];
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	snprintf(path, sizeof path, "%s/stacks.py", dir ? dir : "tests/integration/workloads");
	return path;
}

static struct want_thread *by_name(struct want *w, const char *name)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->t[i].name, name) == 0)
			return &w->t[i];
	return NULL;
}

/* The workload's description lines, up to "ready". */
static bool read_want(struct proc *p, struct want *w)
{
	char line[512], name[32], func[64];
	long native;
	unsigned long long ident;
	int no;

	memset(w, 0, sizeof *w);
	while (h_wait_line(p, "", line, sizeof line, 120)) {
		struct want_thread *t;
		if (strcmp(line, "ready") == 0)
			return w->n == MAXT;
		if (sscanf(line, "thread %31s %ld %llu", name, &native, &ident) == 3 && w->n < MAXT) {
			t = &w->t[w->n++];
			snprintf(t->name, sizeof t->name, "%s", name);
			t->native = native;
			t->ident = ident;
		} else if (sscanf(line, "frame %31s %63s %d", name, func, &no) == 3 && (t = by_name(w, name)) &&
			   t->nf < MAXF) {
			snprintf(t->f[t->nf].func, sizeof t->f[0].func, "%s", func);
			t->f[t->nf++].line = no;
		} else if (sscanf(line, "gil %31s", name) == 1) {
			snprintf(w->gil, sizeof w->gil, "%s", name);
		}
	}
	return false;
}

/* The lines of one thread's block in the text report (NULL when there is none), copied. */
static char *thread_block(const char *out, const struct want_thread *t, char *why, size_t whylen)
{
	char head[128];
	const char *s, *end;

	snprintf(head, sizeof head, "\nThread %ld \"%s\" (python id %#llx)", t->native, t->name, t->ident);
	if (!(s = strstr(out, head))) {
		snprintf(why, whylen, "no line '%s'", head + 1);
		return NULL;
	}
	s++;
	end = strstr(s, "\n\n");
	end = end ? end + 1 : s + strlen(s);
	return strndup(s, (size_t)(end - s));
}

/* The workload's own Python frames in the block, innermost first, compared with the truth. */
static bool frames_match(const char *block, const struct want_thread *t, char *why, size_t whylen)
{
	size_t k = 0;
	char func[64], file[512];
	int line;

	for (const char *l = strchr(block, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
		if (sscanf(l + 1, "    %63s (%511[^:]:%d)", func, file, &line) != 3 || l[5] == '[')
			continue;
		size_t fl = strlen(file);
		if (fl < 10 || strcmp(file + fl - 10, "/stacks.py") != 0)
			continue;
		if (k >= t->nf || strcmp(func, t->f[k].func) != 0 || line != t->f[k].line) {
			snprintf(why, whylen, "thread %s: frame %zu is %s:%d, the workload says %s:%d", t->name, k, func,
				 line, k < t->nf ? t->f[k].func : "(none)", k < t->nf ? t->f[k].line : 0);
			return false;
		}
		k++;
	}
	if (k != t->nf)
		snprintf(why, whylen, "thread %s: %zu of the workload's %zu frames found", t->name, k, t->nf);
	return k == t->nf;
}

/* The first frame line of a block. */
static const char *first_frame(const char *block)
{
	const char *l = strchr(block, '\n');
	return l ? l + 1 : "";
}

/* --native: libc at the innermost end of a parked thread, the interpreter's own frames around the
 * Python ones, every evaluation frame replaced, and the Python frames placed among native ones. */
/* merged: the Python frames found their evaluation frames. A build without a symbol table
 * cannot always tell them (GCC's _PyEval_EvalFrameDefault.cold part has no .dynsym name): then
 * pycensus lists them after the native ones and says so in a warning, which the caller checks. */
static bool native_ok(const char *block, const struct want_thread *t, bool parked, bool merged, char *why,
		      size_t whylen)
{
	const char *py = NULL, *natlast = NULL;

	if (strstr(block, "_PyEval_EvalFrameDefault")) {
		snprintf(why, whylen, "thread %s: an evaluation frame was not replaced", t->name);
		return false;
	}
	if (parked && strncmp(first_frame(block), "    [libc.so", 12) != 0) {
		snprintf(why, whylen, "thread %s: innermost frame is not in libc: %.80s", t->name, first_frame(block));
		return false;
	}
	if (!strstr(block, "    [libpython3.") && !strstr(block, "    [python3.")) {
		snprintf(why, whylen, "thread %s: no native frame of the interpreter", t->name);
		return false;
	}
	py = strstr(block, t->f[t->nf - 1].func);
	for (const char *l = strstr(block, "\n    ["); l; l = strstr(l + 1, "\n    ["))
		natlast = l;
	if (merged && (!py || !natlast || natlast < py)) {
		snprintf(why, whylen, "thread %s: no native frame outside the Python ones", t->name);
		return false;
	}
	return true;
}

static bool check_text(const char *out, struct want *w, bool native, const struct python *py, char *why, size_t whylen)
{
	for (size_t i = 0; i < w->n; i++) {
		struct want_thread *t = &w->t[i];
		char *block = thread_block(out, t, why, whylen);
		bool gil, ok;
		if (!block)
			return false;
		gil = strstr(block, ", holds the GIL\n") != NULL;
		ok = frames_match(block, t, why, whylen);
		if (ok && gil != (strcmp(t->name, w->gil) == 0)) {
			snprintf(why, whylen, "thread %s: holds the GIL: %s, expected %s", t->name, gil ? "yes" : "no",
				 gil ? "no" : "yes");
			ok = false;
		}
		if (ok && native)
			ok = native_ok(block, t, strcmp(t->name, "spinner") != 0,
				       py->has_symtab || !strstr(out, "had no evaluation frame in the native stack: listed last"),
				       why, whylen);
		free(block);
		if (!ok)
			return false;
	}
	if (native && !py->has_symtab != (strstr(out, "has no symbol table (.symtab)") != NULL)) {
		snprintf(why, whylen, "the .dynsym-only note is %s", py->has_symtab ? "present" : "missing");
		return false;
	}
	return true;
}

static void stacks_until_parked(pid_t pid, struct want *w, bool native, const struct python *py)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[4096], why[512] = "";
	const char *plain[] = { "stacks", pidtxt, NULL }, *nat[] = { "stacks", "--native", pidtxt, NULL };
	bool ok = false;
	int rc = -1, i;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	for (i = 0; i < ATTEMPTS && !ok; i++) {
		if (i)
			usleep(200000);
		rc = h_pycensus(out, OUTMAX, err, sizeof err, native ? nat : plain);
		ok = rc == 0 && check_text(out, w, native, py, why, sizeof why);
	}
	if (!ok)
		fprintf(stderr, "%s: last output:\n%s\n%s\n", py->label, out, err);
	cr_expect(ok, "%s: stacks%s (exit %d, %d attempts): %s", py->label, native ? " --native" : "", rc, i, why);
	if (ok)
		fprintf(stderr, "integration: stacks%s of %s checked (attempt %d)\n", native ? " --native" : "",
			py->label, i);
	free(out);
}

static void check_json(pid_t pid, const struct want *w, const struct python *py)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[4096], needle[128];
	const char *args[] = { "stacks", "-f", "json", pidtxt, NULL };
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
	cr_expect_eq(rc, 0, "%s: stacks -f json: %s", py->label, err);
	for (size_t i = 0; i < w->n; i++) {
		snprintf(needle, sizeof needle, "\"native_id\": %ld,\n      \"thread_id\": %llu,\n      \"name\": \"%s\"",
			 w->t[i].native, w->t[i].ident, w->t[i].name);
		cr_expect(strstr(out, needle), "%s: JSON lacks %s", py->label, needle);
	}
	cr_expect(strstr(out, "\"function\": \"nap\""), "%s: JSON lacks the nap frame", py->label);
	free(out);
}

ParameterizedTestParameters(integration, stacks)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, integration, stacks, .timeout = 300)
{
	char *argv[] = { py->path, (char *)workload(), NULL };
	struct want w;
	struct proc p;

	cr_assert(h_spawn(&p, argv), "cannot start %s", py->path);
	cr_assert(read_want(&p, &w), "%s: the workload did not park its threads", py->label);
	stacks_until_parked(p.pid, &w, false, py);
	stacks_until_parked(p.pid, &w, true, py);
	check_json(p.pid, &w, py);
	cr_expect_eq(h_state(p.pid) == 'S' || h_state(p.pid) == 'R', 1, "%s: the target is not running after stacks",
		     py->label);
	h_kill(&p);
}

Test(integration, stacks_usage_errors)
{
	char err[1024];
	const char *none[] = { "stacks", NULL }, *bad[] = { "stacks", "-f", "csv", "1", NULL },
		   *two[] = { "stacks", "1", "2", NULL };

	cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, none), 2, "%s", err);
	cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, bad), 2, "%s", err);
	cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, two), 2, "%s", err);
}

Test(integration, stacks_of_a_process_without_python)
{
	char *argv[] = { "/bin/sleep", "300", NULL }, err[1024], pidtxt[16];
	const char *args[] = { "stacks", "--native", pidtxt, NULL };
	struct proc p;

	cr_assert(h_spawn(&p, argv));
	cr_assert(h_wait_sleeping(p.pid, 30));
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)p.pid);
	cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 5, "%s", err);
	cr_expect(strstr(err, "not a Python process"), "%s", err);
	cr_expect(h_wait_sleeping(p.pid, 30), "the target was not resumed (state %c)", h_state(p.pid));
	h_kill(&p);
}
