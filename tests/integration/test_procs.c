/* test_procs.c: processes in unusual states, on every supported interpreter found, each checked
 * against what the target says about itself:
 *  - main_thread_exited: the main thread called pthread_exit and a worker runs on (workloads/
 *    mainexit.py): snap counts the 10000 instances through the worker and says the main thread
 *    exited; stacks lists the worker under its own id.
 *  - deleted_interpreter: the executable (and libpython) deleted and replaced by a file that is no
 *    ELF after the target started, as a package upgrade does: the census reads the copies the
 *    process maps (/proc/PID/map_files), the header says so, native stacks unwind through them.
 *  - pool_copies: the target holds byte copies of its pool pages at pool-aligned addresses
 *    (workloads/poolcopies.py): --arenas scan counts its 20000 objects, not the copies.
 *  - subinterpreters: two sub-interpreters (workloads/subinterp.py): the census names the count
 *    the target's own interpreter list gives; builds without the module are named as skipped.
 *  - finalising (the core set): held in an atexit handler (workloads/lifecycle.py), the heap is intact: all 10000
 *    Things counted and no word of finalisation; held in a __del__ that runs once Py_FinalizeEx
 *    tears the modules down, snap (text, CSV, JSON), stats and stacks each say the interpreter is
 *    finalising. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tests/integration/harness.h"

#define OUTMAX (1 << 20)

static const char *workload(const char *name)
{
	static char path[512];
	const char *dir = getenv("PYCENSUS_WORKLOADS");

	snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/integration/workloads", name);
	return path;
}

/* `pycensus CMD [OPT] PID`: its exit code, stdout in out (OUTMAX), stderr in err. */
static int run(const char *cmd, const char *opt, pid_t pid, char *out, char *err, size_t errlen)
{
	char pidtxt[16];
	const char *args[] = { cmd, opt ? opt : pidtxt, opt ? pidtxt : NULL, NULL };

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	return h_pycensus(out, OUTMAX, err, errlen, args);
}

/* The count of kind in a CSV census of pid (extra: one more option, or NULL). */
static long long census_count(pid_t pid, const char *extra, const char *kind, const char *what)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[4096];
	const char *args[] = { "snap", "-f", "csv", pidtxt, NULL, NULL };
	struct table t;
	long long n;
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	if (extra) {
		args[3] = extra;
		args[4] = pidtxt;
	}
	rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
	cr_assert_eq(rc, 0, "%s: pycensus failed (%d): %s", what, rc, err);
	cr_assert(h_parse_csv(out, &t), "%s: unparsable CSV", what);
	n = h_count(&t, kind);
	h_table_free(&t);
	free(out);
	return n;
}

/* The 10000 Things the target holds are counted, and its text census says `says`. */
static long long things_and_header(const struct python *py, pid_t pid, const char *says, char *out)
{
	char err[2048];
	long long things = census_count(pid, NULL, "__main__.Thing", py->label);
	int rc;

	cr_expect_eq(things, 10000, "%s: %lld Things", py->label, things);
	rc = run("snap", NULL, pid, out, err, sizeof err);
	cr_expect_eq(rc, 0, "%s: snap failed (%d): %s", py->label, rc, err);
	cr_expect(strstr(out, says) != NULL, "%s: the census does not say '%s':\n%.600s", py->label, says, out);
	return things;
}

static struct python *all_pythons(size_t *n)
{
	static struct python found[H_MAX_PYTHONS];
	struct python *params;

	*n = h_find_pythons(found, H_MAX_PYTHONS);
	params = cr_malloc(sizeof *params * (*n ? *n : 1));
	memcpy(params, found, sizeof *params * *n);
	return params;
}

ParameterizedTestParameters(procs, main_thread_exited)
{
	size_t n;
	struct python *p = all_pythons(&n);
	return cr_make_param_array(struct python, p, n);
}

ParameterizedTest(struct python *py, procs, main_thread_exited, .timeout = 120)
{
	char *argv[] = { py->path, (char *)workload("mainexit.py"), NULL }, line[64], err[2048], want[64];
	char *out = malloc(OUTMAX);
	struct proc p;
	long worker = 0;
	long long things;
	int rc;

	cr_assert(h_spawn(&p, argv) && h_wait_line(&p, "up", line, sizeof line, 60), "%s: target did not start", py->label);
	cr_assert(sscanf(line, "up %ld", &worker) == 1 && worker > 0, "%s: %s", py->label, line);
	for (int i = 0; i < 500 && h_state(p.pid) != 'Z'; i++)
		usleep(10000);
	cr_assert_eq(h_state(p.pid), 'Z', "%s: the leader did not exit", py->label);
	things = things_and_header(py, p.pid, "main thread of process", out);
	rc = run("stacks", NULL, p.pid, out, err, sizeof err);
	cr_expect_eq(rc, 0, "%s: stacks failed (%d): %s", py->label, rc, err);
	snprintf(want, sizeof want, "Thread %ld \"worker\"", worker);
	cr_expect(strstr(out, want) != NULL, "%s: stacks has no '%s':\n%s", py->label, want, out);
	fprintf(stderr, "procs: %s with its main thread exited: %lld Things, worker %ld listed\n", py->label, things,
		worker);
	h_kill(&p);
	free(out);
}

static bool copy_file(const char *from, const char *to)
{
	char buf[65536];
	size_t n;
	bool ok = true;
	FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;

	if (!out) {
		if (in)
			fclose(in);
		return false;
	}
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		ok &= fwrite(buf, 1, n, out) == n;
	fclose(in);
	ok &= fclose(out) == 0;
	return ok && chmod(to, 0755) == 0;
}

/* Deletes path and puts a file that is no ELF in its place (a package upgrade replaces files). */
static void replace(const char *path)
{
	FILE *f;

	cr_assert_eq(unlink(path), 0, "cannot delete %s", path);
	cr_assert((f = fopen(path, "w")) && fputs("not the file the process maps\n", f) >= 0 && fclose(f) == 0);
}

ParameterizedTestParameters(procs, deleted_interpreter)
{
	size_t n;
	struct python *p = all_pythons(&n);
	return cr_make_param_array(struct python, p, n);
}

ParameterizedTest(struct python *py, procs, deleted_interpreter, .timeout = 120)
{
	char dir[] = "/tmp/pycensus-deleted-XXXXXX", home[256], exe[600], lib[700], libdir[600], orig[600];
	char pyhome[700], ldpath[700], line[64], err[2048], *out = malloc(OUTMAX), *mod;
	char *argv[] = { "/usr/bin/env", pyhome, ldpath, exe, "-c",
			 "import time\nclass Thing: pass\nt = [Thing() for i in range(10000)]\nprint('up', flush=True)\ntime.sleep(300)\n",
			 NULL };
	struct proc p;
	long long things;
	bool shared;
	int rc;

	cr_assert(mkdtemp(dir));
	/* the installation's prefix: <home>/bin/python3.X, its stdlib and libpython under <home>/lib */
	snprintf(home, sizeof home, "%s", py->path);
	*strrchr(home, '/') = '\0';
	*strrchr(home, '/') = '\0';
	snprintf(exe, sizeof exe, "%s/%s", dir, strrchr(py->path, '/') + 1);
	snprintf(orig, sizeof orig, "%s/lib/libpython3.%d.so.1.0", home, py->minor);
	shared = access(orig, R_OK) == 0;
	snprintf(libdir, sizeof libdir, "%s/lib", dir);
	snprintf(lib, sizeof lib, "%s/libpython3.%d.so.1.0", libdir, py->minor);
	cr_assert(copy_file(py->path, exe), "cannot copy %s", py->path);
	cr_assert(!shared || (mkdir(libdir, 0755) == 0 && copy_file(orig, lib)), "cannot copy %s", orig);
	snprintf(pyhome, sizeof pyhome, "PYTHONHOME=%s", home);
	snprintf(ldpath, sizeof ldpath, "LD_LIBRARY_PATH=%s", shared ? libdir : "");
	cr_assert(h_spawn(&p, argv) && h_wait_line(&p, "up", line, sizeof line, 60) && h_wait_sleeping(p.pid, 30),
		  "%s: target did not start from %s", py->label, dir);
	replace(exe);
	if (shared)
		replace(lib);
	things = things_and_header(py, p.pid, "deleted since mapped", out);
	/* the native stack reaches Py_BytesMain (exported, so named without a symbol table too) through
	 * the evaluation loop: the unwinder read the deleted files' tables */
	rc = run("stacks", "--native", p.pid, out, err, sizeof err);
	cr_expect_eq(rc, 0, "%s: stacks --native failed (%d): %s", py->label, rc, err);
	mod = strstr(out, "] Py_BytesMain+");
	cr_expect(mod && strstr(out, "    <module> (<string>:"), "%s: the native stack does not reach Py_BytesMain:\n%s",
		  py->label, out);
	fprintf(stderr, "procs: %s with its %s deleted: %lld Things, native stack down to Py_BytesMain: %s\n", py->label,
		shared ? "executable and libpython" : "executable", things, mod ? "yes" : "no");
	h_kill(&p);
	unlink(exe);
	unlink(lib);
	rmdir(libdir);
	rmdir(dir);
	free(out);
}

ParameterizedTestParameters(procs, pool_copies)
{
	size_t n;
	struct python *p = all_pythons(&n);
	return cr_make_param_array(struct python, p, n);
}

ParameterizedTest(struct python *py, procs, pool_copies, .timeout = 120)
{
	char pool[32], line[64];
	char *argv[] = { py->path, (char *)workload("poolcopies.py"), pool, NULL };
	struct pylayout L = h_layout(py);
	long long want = 0, pages = 0, things;
	struct proc p;

	snprintf(pool, sizeof pool, "%llu", (unsigned long long)L.pool_size);
	cr_assert(h_spawn(&p, argv) && h_wait_line(&p, "truth", line, sizeof line, 60) && h_wait_sleeping(p.pid, 30),
		  "%s: target did not start", py->label);
	cr_assert(sscanf(line, "truth %lld %lld", &want, &pages) == 2, "%s: %s", py->label, line);
	things = census_count(p.pid, "--arenas=scan", "__main__.Thing", py->label);
	cr_expect_eq(things, want, "%s: --arenas scan counted %lld Things of %lld (%lld pool pages copied)", py->label,
		     things, want, pages);
	fprintf(stderr, "procs: %s holding copies of %lld pool pages: --arenas scan counts %lld Things of %lld\n",
		py->label, pages, things, want);
	h_kill(&p);
}

ParameterizedTestParameters(procs, subinterpreters)
{
	size_t n;
	struct python *p = all_pythons(&n);
	return cr_make_param_array(struct python, p, n);
}

ParameterizedTest(struct python *py, procs, subinterpreters, .timeout = 120)
{
	char *argv[] = { py->path, (char *)workload("subinterp.py"), "2", NULL }, line[64], err[2048], want[64];
	char *out = malloc(OUTMAX);
	struct proc p;
	int total = 0, rc;

	cr_assert(h_spawn(&p, argv) && h_wait_line(&p, "", line, sizeof line, 60), "%s: target did not start", py->label);
	if (strncmp(line, "none", 4) == 0) {
		h_kill(&p);
		free(out);
		cr_skip_test("%s has neither _interpreters nor _xxsubinterpreters", py->label);
	}
	cr_assert(sscanf(line, "interpreters %d", &total) == 1 && total == 3, "%s: %s", py->label, line);
	cr_assert(h_wait_sleeping(p.pid, 30));
	rc = run("snap", NULL, p.pid, out, err, sizeof err);
	cr_expect_eq(rc, 0, "%s: snap failed (%d): %s", py->label, rc, err);
	snprintf(want, sizeof want, "%d interpreters in the process", total);
	cr_expect(strstr(out, want) && strstr(out, "2 sub-interpreters skipped"), "%s: no '%s':\n%.600s", py->label,
		  want, out);
	rc = run("stacks", NULL, p.pid, out, err, sizeof err);
	cr_expect(rc == 0 && strstr(out, want), "%s: stacks (%d) says nothing of them:\n%.600s", py->label, rc, out);
	fprintf(stderr, "procs: %s with %d interpreters: named\n", py->label, total);
	h_kill(&p);
	free(out);
}

/* The row it reads is per layout: the core set (one interpreter per layout family, each Debian
 * build; PYCENSUS_TEST_FULL=1: all) covers every table. */
ParameterizedTestParameters(procs, finalising)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons_core(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

#define FINALISING "the interpreter is finalising"

/* The target held at MODE of lifecycle.py, sleeping there. */
static void hold(struct proc *p, const struct python *py, const char *mode)
{
	char *argv[] = { (char *)py->path, (char *)workload("lifecycle.py"), (char *)mode, NULL }, line[64], want[32];

	snprintf(want, sizeof want, "held %s", mode);
	cr_assert(h_spawn(p, argv) && h_wait_line(p, want, line, sizeof line, 60) && h_wait_sleeping(p->pid, 30),
		  "%s: target not held at %s", py->label, mode);
}

/* `pycensus CMD [OPT] PID` says FINALISING (a partial census, exit 15, is what a heap coming
 * apart may give). */
static void says_finalising(const struct python *py, pid_t pid, const char *cmd, const char *opt, char *out)
{
	char err[2048];
	int rc = run(cmd, opt, pid, out, err, sizeof err);

	cr_expect(rc == 0 || rc == 15, "%s: %s %s failed (%d): %s", py->label, cmd, opt ? opt : "", rc, err);
	cr_expect(strstr(out, FINALISING) != NULL, "%s: %s %s does not say '%s':\n%.800s", py->label, cmd,
		  opt ? opt : "", FINALISING, out);
}

ParameterizedTest(struct python *py, procs, finalising, .timeout = 120)
{
	char *out = malloc(OUTMAX), err[2048];
	struct proc p;
	long long things;
	int rc;

	hold(&p, py, "atexit");
	things = census_count(p.pid, NULL, "__main__.Thing", py->label);
	cr_expect_eq(things, 10000, "%s: in an atexit handler, %lld Things of 10000", py->label, things);
	rc = run("snap", NULL, p.pid, out, err, sizeof err);
	cr_expect(rc == 0 && !strstr(out, FINALISING), "%s: in an atexit handler (heap intact), snap (%d) says it "
		  "is finalising:\n%.800s", py->label, rc, out);
	h_kill(&p);
	hold(&p, py, "teardown");
	says_finalising(py, p.pid, "snap", NULL, out);
	says_finalising(py, p.pid, "snap", "-fcsv", out);
	says_finalising(py, p.pid, "snap", "-fjson", out);
	says_finalising(py, p.pid, "stats", NULL, out);
	says_finalising(py, p.pid, "stacks", NULL, out);
	cr_expect(strstr(out, "__del__") != NULL, "%s: stacks shows no __del__:\n%.800s", py->label, out);
	fprintf(stderr, "procs: %s at exit: %lld Things, heap intact; in teardown: said by snap, stats, stacks\n",
		py->label, things);
	h_kill(&p);
	free(out);
}
