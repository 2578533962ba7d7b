/* test_namespaces.c: targets in other namespaces, on every supported interpreter found.
 *  - mount namespace: the interpreter is started from a path that exists only inside its own mount
 *    namespace (a private tmpfs holding a bind mount of the installation; libpython is loaded from
 *    there through LD_LIBRARY_PATH), so pycensus can open its ELF files only through
 *    /proc/PID/root. The test checks the path is indeed unreachable from here.
 *  - PID namespace (unshare -p -f --mount-proc): the target is PID 1 in its namespace.
 * Both must census the workload's 10000 instances exactly, and `stacks --native` must list the
 * main thread once under its host id with its namespace id beside it (PID namespace) and unwind
 * down to Py_BytesMain through files only the target's root holds (mount namespace). Needs root
 * (unshare); skipped else. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/integration/harness.h"

#define OUTMAX (1 << 20)
#define CODE "import time\nclass Thing: pass\nt = [Thing() for i in range(10000)]\nprint('up', flush=True)\ntime.sleep(300)\n"

static void census_things(pid_t pid, const char *what)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[4096];
	const char *args[] = { "snap", "-f", "csv", pidtxt, NULL };
	struct table t;
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
	cr_assert_eq(rc, 0, "%s: pycensus failed (%d): %s", what, rc, err);
	cr_assert(h_parse_csv(out, &t), "%s: unparsable CSV", what);
	cr_expect_eq(h_count(&t, "__main__.Thing"), 10000, "%s: %lld Things", what, h_count(&t, "__main__.Thing"));
	fprintf(stderr, "namespaces: %s: __main__.Thing %lld\n", what, h_count(&t, "__main__.Thing"));
	h_table_free(&t);
	free(out);
}

/* `stacks --native` of pid: must holds, and the main thread is listed once. */
static void native_stacks(pid_t pid, const char *what, const char *must)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[4096], head[64];
	const char *args[] = { "stacks", "--native", pidtxt, NULL }, *at;
	int rc, n = 0;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
	cr_assert_eq(rc, 0, "%s: stacks failed (%d): %s", what, rc, err);
	snprintf(head, sizeof head, "\nThread %d ", (int)pid);
	for (at = out; (at = strstr(at, head)); at++)
		n++;
	cr_expect_eq(n, 1, "%s: thread %d listed %d times:\n%s", what, (int)pid, n, out);
	cr_expect(strstr(out, must) != NULL, "%s: no '%s' in:\n%s", what, must, out);
	fprintf(stderr, "namespaces: %s: stacks --native lists the main thread once, with '%s'\n", what, must);
	free(out);
}

/* The first mapping of the target whose path starts with prefix, or "". */
static void mapped_under(pid_t pid, const char *prefix, char *out, size_t len)
{
	char path[64], line[1024];
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	out[0] = '\0';
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof line, f)) {
		char *p = strchr(line, '/');
		if (p && strncmp(p, prefix, strlen(prefix)) == 0) {
			p[strcspn(p, "\n")] = '\0';
			snprintf(out, len, "%s", p);
			break;
		}
	}
	fclose(f);
}

ParameterizedTestParameters(namespaces, mount)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, namespaces, mount, .timeout = 300)
{
	char dir[] = "/tmp/pycensus-mntns-XXXXXX", script[4096], line[64], mapped[1024], home[512];
	char *argv[] = { "/usr/bin/unshare", "-m", "--propagation", "private", "/bin/sh", "-c", script, NULL };
	struct proc p;

	if (getuid() != 0 || access(argv[0], X_OK) != 0)
		cr_skip_test("needs root and unshare");
	cr_assert(mkdtemp(dir));
	/* pyenv layout: <home>/bin/pythonX.Y with libpython in <home>/lib; otherwise one static file */
	snprintf(home, sizeof home, "%s", py->path);
	*strrchr(home, '/') = '\0';
	if (strcmp(strrchr(home, '/'), "/bin") == 0 && strncmp(py->path, "/usr/bin/", 9) != 0) {
		*strrchr(home, '/') = '\0';
		snprintf(script, sizeof script,
			 "mount -t tmpfs pcns %s && mkdir %s/py && mount --bind %s %s/py && "
			 "LD_LIBRARY_PATH=%s/py/lib exec %s/py/bin/%s -c \"$0\"",
			 dir, dir, home, dir, dir, dir, strrchr(py->path, '/') + 1);
	} else {
		snprintf(script, sizeof script, "mount -t tmpfs pcns %s && touch %s/py && mount --bind %s %s/py && exec %s/py -c \"$0\"",
			 dir, dir, py->path, dir, dir);
	}
	argv[6] = script;
	{
		char *full[] = { argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], script, CODE, NULL };
		cr_assert(h_spawn(&p, full), "cannot start %s in a mount namespace", py->label);
	}
	cr_assert(h_wait_line(&p, "up", line, sizeof line, 60) && h_wait_sleeping(p.pid, 30), "%s: target did not start",
		  py->label);
	mapped_under(p.pid, dir, mapped, sizeof mapped);
	cr_assert(mapped[0], "%s: the interpreter is not mapped from %s", py->label, dir);
	cr_assert(access(mapped, F_OK) != 0, "%s: %s is reachable from pycensus's namespace", py->label, mapped);
	census_things(p.pid, py->label);
	native_stacks(p.pid, py->label, "] Py_BytesMain+");
	h_kill(&p);
	rmdir(dir);
}

/* The target's PID in our namespace: the child unshare -f forked. */
static pid_t child_of(pid_t parent)
{
	char path[64];
	long child = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)parent, (int)parent);
	for (int i = 0; i < 500 && !child; i++) {
		if ((f = fopen(path, "r"))) {
			if (fscanf(f, "%ld", &child) != 1)
				child = 0;
			fclose(f);
		}
		if (!child)
			usleep(10000);
	}
	return (pid_t)child;
}

ParameterizedTestParameters(namespaces, pid)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, namespaces, pid, .timeout = 300)
{
	char *argv[] = { "/usr/bin/unshare", "-p", "-f", "--mount-proc", py->path, "-c", CODE, NULL }, line[64], what[96];
	struct proc p;
	pid_t target;

	if (getuid() != 0 || access(argv[0], X_OK) != 0)
		cr_skip_test("needs root and unshare");
	cr_assert(h_spawn(&p, argv), "cannot start %s in a PID namespace", py->label);
	cr_assert(h_wait_line(&p, "up", line, sizeof line, 60), "%s: target did not start", py->label);
	target = child_of(p.pid);
	cr_assert(target > 0 && h_wait_sleeping(target, 30), "%s: no target process under unshare", py->label);
	snprintf(what, sizeof what, "%s in a PID namespace", py->label);
	census_things(target, what);
	native_stacks(target, what, "(1 in its PID namespace)");
	kill(target, SIGKILL);
	h_kill(&p);
}
