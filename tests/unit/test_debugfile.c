/* test_debugfile.c: symbols from detached debug files (symbols/debugfile.c elf_find_debug*, and
 * pyelf_open on a stripped interpreter). Each test splits `make fixtures`'s executable the way a
 * distribution does (objcopy --only-keep-debug, strip), lays the halves out in a temporary
 * tree, and checks that lookups find the static symbol only through the right debug file. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "attach/mem.h"
#include "attach/procfs.h"
#include "symbols/elf.h"
#include "symbols/debugfile.h"
#include "symbols/pyelf.h"
#include "tests/unit/testpath.h"

#define LOCAL "fixture_local_counter" /* static: only .symtab names it */

static char tmpdir[PATH_MAX];


static void fixture_path(const char *name, char *out, size_t outlen)
{
	const char *dir = getenv("PYCENSUS_FIXTURES");
	char rel[PATH_MAX], abs[PATH_MAX];

	tp_fmt(rel, sizeof rel, "%s/%s", dir && dir[0] ? dir : "build/fixtures", name);
	if (!realpath(rel, abs))
		cr_skip_test("%s is missing: run make fixtures", rel);
	tp_fmt(out, outlen, "%s", abs); /* absolute: some commands run in the temporary directory */
}

static void run(const char *fmt, ...) PC_PRINTF(1, 2);
static void run(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	st = system(cmd);
	cr_assert(st == 0, "command failed (%d): %s", st, cmd);
}

static void make_tmpdir(void)
{
	tp_fmt(tmpdir, sizeof tmpdir, "/tmp/pycensus-test-debugfile-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[PATH_MAX + 16];

	if (!tmpdir[0])
		return;
	tp_fmt(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

TestSuite(debugfile, .init = make_tmpdir, .fini = remove_tmpdir);

static struct elf_file *open_ok(const char *path)
{
	struct pc_err e = { 0 };
	struct elf_file *f = elf_open(path, &e);

	cr_assert_not_null(f, "elf_open(%s): %s", path, e.detail);
	return f;
}

static uint64_t symbol_value(const char *path, const char *name)
{
	struct elf_file *f = open_ok(path);
	struct elf_sym s;
	uint64_t v;

	cr_assert(elf_symbol(f, name, &s), "%s has no %s", path, name);
	v = s.value;
	elf_close(f);
	return v;
}

static void build_id_of(const char *path, char *out, size_t outlen)
{
	struct elf_file *f = open_ok(path);

	tp_fmt(out, outlen, "%s", elf_build_id(f));
	elf_close(f);
	cr_assert(strlen(out) >= 4, "%s has no build-id (the fixtures need one)", path);
}

/* DIR/.build-id/NN/REST.debug for build-id NNREST, as the -dbg packages lay them out. */
static void place_by_build_id(const char *debug, const char *root, const char *id, char *out, size_t outlen)
{
	tp_fmt(out, outlen, "%s/.build-id/%.2s/%s.debug", root, id, id + 2);
	run("mkdir -p '%s/.build-id/%.2s' && cp '%s' '%s'", root, id, debug, out);
}

/* The stripped half and the debug half of the fixture executable in tmpdir; returns the
 * build-id in id. */
static void split_fixture(char *stripped, char *debug, size_t len, char *id, size_t idlen)
{
	char exe[PATH_MAX];

	fixture_path("fixture_exe", exe, sizeof exe);
	tp_fmt(stripped, len, "%s/bin/fixture", tmpdir);
	tp_fmt(debug, len, "%s/fixture.debug", tmpdir);
	run("mkdir -p '%s/bin' && objcopy --only-keep-debug '%s' '%s' && strip -o '%s' '%s'", tmpdir, exe,
	    debug, stripped, exe);
	build_id_of(exe, id, idlen);
}

static void expect_local_found(struct elf_file *f, const char *want_path)
{
	char exe[PATH_MAX];
	struct elf_sym s;

	fixture_path("fixture_exe", exe, sizeof exe);
	cr_assert(elf_symbol(f, LOCAL, &s), "the static symbol is not found through the debug file");
	cr_expect(s.local && !s.dynamic);
	cr_expect_eq(s.value, symbol_value(exe, LOCAL), "link-time address differs from the unstripped file's");
	cr_expect(elf_has_symtab(f));
	cr_assert_not_null(elf_symtab_path(f));
	if (want_path)
		cr_expect_str_eq(elf_symtab_path(f), want_path);
	/* Exported symbols keep coming from the file's own .dynsym. */
	cr_assert(elf_symbol(f, "fixture_exported", &s));
	cr_expect(s.dynamic);
}

Test(debugfile, build_id_finds_local_symbol)
{
	char stripped[PATH_MAX], debug[PATH_MAX], id[160], root[PATH_MAX], placed[PATH_MAX];
	const char *roots[2];
	struct pc_err e = { 0 };
	struct elf_file *f;
	struct elf_sym s;

	split_fixture(stripped, debug, sizeof stripped, id, sizeof id);
	tp_fmt(root, sizeof root, "%s/debug", tmpdir);
	place_by_build_id(debug, root, id, placed, sizeof placed);
	f = open_ok(stripped);
	cr_assert_not(elf_symbol(f, LOCAL, &s), "the stripped half must not know the static symbol");
	cr_assert_not(elf_has_symtab(f));
	cr_assert_null(elf_symtab_path(f));
	roots[0] = "/nonexistent/pycensus-debug";
	roots[1] = root;
	cr_assert_eq(elf_find_debug(f, roots, 2, NULL, &e), 0, "%s", e.detail);
	expect_local_found(f, placed);
	/* Found once; asking again is a no-op. */
	cr_expect_eq(elf_find_debug(f, roots, 2, NULL, &e), 0);
	elf_close(f);
}

Test(debugfile, mismatched_build_id_is_refused)
{
	char stripped[PATH_MAX], debug[PATH_MAX], id[160], root[PATH_MAX], placed[PATH_MAX];
	char so[PATH_MAX], sodebug[PATH_MAX];
	const char *roots[1];
	struct pc_err e = { 0 };
	struct elf_file *f;
	struct elf_sym s;

	split_fixture(stripped, debug, sizeof stripped, id, sizeof id);
	/* The shared object's debug half (another build-id, and it too defines the static symbol)
	 * where the executable's should be. */
	fixture_path("fixture.so", so, sizeof so);
	tp_fmt(sodebug, sizeof sodebug, "%s/so.debug", tmpdir);
	run("objcopy --only-keep-debug '%s' '%s'", so, sodebug);
	tp_fmt(root, sizeof root, "%s/debug", tmpdir);
	place_by_build_id(sodebug, root, id, placed, sizeof placed);
	f = open_ok(stripped);
	roots[0] = root;
	cr_assert_eq(elf_find_debug(f, roots, 1, NULL, &e), -1);
	cr_expect(strstr(e.detail, "build-id"), "the refusal names the build-id: %s", e.detail);
	cr_expect(strstr(e.detail, placed), "the refusal names the file: %s", e.detail);
	cr_assert_not(elf_symbol(f, LOCAL, &s), "a refused debug file must not supply symbols");
	cr_assert_not(elf_has_symtab(f));
	/* Directly, too. */
	pc_err_clear(&e);
	cr_assert_eq(elf_attach_debug(f, sodebug, &e), -1);
	cr_assert_not(elf_symbol(f, LOCAL, &s));
	/* The right one still attaches afterwards. */
	pc_err_clear(&e);
	cr_assert_eq(elf_attach_debug(f, debug, &e), 0, "%s", e.detail);
	expect_local_found(f, debug);
	elf_close(f);
}

Test(debugfile, missing_debug_file_says_where_it_looked)
{
	char stripped[PATH_MAX], debug[PATH_MAX], id[160];
	const char *roots[1] = { "/nonexistent/pycensus-debug" };
	struct pc_err e = { 0 };
	struct elf_file *f;

	split_fixture(stripped, debug, sizeof stripped, id, sizeof id);
	f = open_ok(stripped);
	cr_assert_eq(elf_find_debug(f, roots, 1, NULL, &e), -1);
	cr_expect(strstr(e.detail, id), "names the build-id: %s", e.detail);
	cr_assert_not(elf_has_symtab(f));
	elf_close(f);
}

Test(debugfile, unstripped_file_needs_none)
{
	char exe[PATH_MAX];
	struct pc_err e = { 0 };
	struct elf_file *f;

	fixture_path("fixture_exe", exe, sizeof exe);
	f = open_ok(exe);
	cr_assert(elf_has_symtab(f));
	cr_assert_eq(elf_find_debug(f, NULL, 0, NULL, &e), 0);
	cr_expect_str_eq(elf_symtab_path(f), exe);
	elf_close(f);
}

Test(debugfile, gnu_debuglink_is_the_fallback)
{
	char stripped[PATH_MAX], debug[PATH_MAX], id[160], linked[PATH_MAX], dotdebug[PATH_MAX];
	const char *roots[1] = { "/nonexistent/pycensus-debug" };
	struct pc_err e = { 0 };
	struct elf_file *f;

	split_fixture(stripped, debug, sizeof stripped, id, sizeof id);
	/* objcopy records the name and CRC of the file as it is now; then it moves to bin/.debug/. */
	tp_fmt(linked, sizeof linked, "%s/bin/fixture.linked", tmpdir);
	tp_fmt(dotdebug, sizeof dotdebug, "%s/bin/.debug/fixture.debug", tmpdir);
	run("cd '%s' && objcopy --add-gnu-debuglink=fixture.debug bin/fixture bin/fixture.linked && "
	    "mkdir -p bin/.debug && mv fixture.debug bin/.debug/", tmpdir);
	f = open_ok(linked);
	cr_expect_str_eq(elf_debuglink(f), "fixture.debug");
	cr_assert_eq(elf_find_debug(f, roots, 1, NULL, &e), 0, "%s", e.detail);
	expect_local_found(f, dotdebug);
	elf_close(f);
}

Test(debugfile, debuglink_under_a_root_mirrors_the_target_path)
{
	char stripped[PATH_MAX], debug[PATH_MAX], id[160], root[PATH_MAX], placed[PATH_MAX];
	const char *roots[1];
	struct pc_err e = { 0 };
	struct elf_file *f;

	split_fixture(stripped, debug, sizeof stripped, id, sizeof id);
	run("cd '%s' && objcopy --add-gnu-debuglink=fixture.debug bin/fixture bin/fixture.linked", tmpdir);
	/* As the process sees it the file is /opt/app/fixture: ROOT/opt/app/fixture.debug. */
	tp_fmt(root, sizeof root, "%s/debug", tmpdir);
	tp_fmt(placed, sizeof placed, "%s/opt/app/fixture.debug", root);
	run("mkdir -p '%s/opt/app' && mv '%s' '%s'", root, debug, placed);
	tp_fmt(stripped, sizeof stripped, "%s/bin/fixture.linked", tmpdir);
	f = open_ok(stripped);
	roots[0] = root;
	cr_assert_eq(elf_find_debug(f, roots, 1, "/opt/app/fixture", &e), 0, "%s", e.detail);
	expect_local_found(f, placed);
	elf_close(f);
}

/* Without a build-id the .gnu_debuglink CRC decides: the right file attaches, a changed one is
 * refused. */
Test(debugfile, debuglink_crc_decides_without_build_id)
{
	char exe[PATH_MAX], path[PATH_MAX];
	const char *roots[1] = { "/nonexistent/pycensus-debug" };
	struct pc_err e = { 0 };
	struct elf_file *f;
	struct elf_sym s;

	fixture_path("fixture_exe", exe, sizeof exe);
	/* objcopy warns that the notes left no longer fill their segment: harmless here. */
	run("cd '%s' && objcopy --remove-section=.note.gnu.build-id '%s' noid 2>>objcopy.log && "
	    "objcopy --only-keep-debug noid noid.debug 2>>objcopy.log && strip -o noid.stripped noid && "
	    "objcopy --add-gnu-debuglink=noid.debug noid.stripped noid.linked", tmpdir, exe);
	tp_fmt(path, sizeof path, "%s/noid.linked", tmpdir);
	f = open_ok(path);
	cr_assert_str_eq(elf_build_id(f), "");
	cr_assert_eq(elf_find_debug(f, roots, 1, NULL, &e), 0, "%s", e.detail);
	cr_assert(elf_symbol(f, LOCAL, &s));
	elf_close(f);

	/* The same name with other contents. */
	run("cd '%s' && objcopy --add-section .pycensus=noid noid.debug noid.other 2>>objcopy.log && "
	    "mv noid.other noid.debug", tmpdir);
	f = open_ok(path);
	pc_err_clear(&e);
	cr_assert_eq(elf_find_debug(f, roots, 1, NULL, &e), -1);
	cr_expect(strstr(e.detail, "CRC"), "%s", e.detail);
	cr_assert_not(elf_symbol(f, LOCAL, &s));
	/* And no build-id to match a direct attach against. */
	pc_err_clear(&e);
	tp_fmt(path, sizeof path, "%s/noid.debug", tmpdir);
	cr_assert_eq(elf_attach_debug(f, path, &e), -1);
	elf_close(f);
}

/* elf_find_debug_for: a private install PREFIX/usr/bin/X finds PREFIX/usr/lib/debug. */
Test(debugfile, install_prefix_is_searched)
{
	char stripped[PATH_MAX], debug[PATH_MAX], id[160], root[PATH_MAX], placed[PATH_MAX], exe[PATH_MAX];
	struct pc_err e = { 0 };
	struct elf_file *f;

	split_fixture(stripped, debug, sizeof stripped, id, sizeof id);
	tp_fmt(exe, sizeof exe, "%s/prefix/usr/bin/fixture", tmpdir);
	run("mkdir -p '%s/prefix/usr/bin' && cp '%s' '%s'", tmpdir, stripped, exe);
	tp_fmt(root, sizeof root, "%s/prefix/usr/lib/debug", tmpdir);
	place_by_build_id(debug, root, id, placed, sizeof placed);
	unsetenv("PYCENSUS_DEBUG_DIR");
	f = open_ok(exe);
	cr_assert_eq(elf_find_debug_for(f, getpid(), NULL, &e), 0, "%s", e.detail);
	expect_local_found(f, placed);
	elf_close(f);
}

/* A multiarch library PREFIX/usr/lib/x86_64-linux-gnu/X finds PREFIX/usr/lib/debug. */
Test(debugfile, multiarch_libdir_prefix_is_searched)
{
	char stripped[PATH_MAX], debug[PATH_MAX], id[160], root[PATH_MAX], placed[PATH_MAX], lib[PATH_MAX];
	struct pc_err e = { 0 };
	struct elf_file *f;

	split_fixture(stripped, debug, sizeof stripped, id, sizeof id);
	tp_fmt(lib, sizeof lib, "%s/prefix/usr/lib/x86_64-linux-gnu/fixture", tmpdir);
	run("mkdir -p '%s/prefix/usr/lib/x86_64-linux-gnu' && cp '%s' '%s'", tmpdir, stripped, lib);
	tp_fmt(root, sizeof root, "%s/prefix/usr/lib/debug", tmpdir);
	place_by_build_id(debug, root, id, placed, sizeof placed);
	unsetenv("PYCENSUS_DEBUG_DIR");
	f = open_ok(lib);
	cr_assert_eq(elf_find_debug_for(f, 0, NULL, &e), 0, "%s", e.detail);
	expect_local_found(f, placed);
	elf_close(f);
}

Test(debugfile, env_dirs_come_first)
{
	char stripped[PATH_MAX], debug[PATH_MAX], id[160], envroot[PATH_MAX], placed[PATH_MAX];
	char env[2 * PATH_MAX], exe[PATH_MAX], prefroot[PATH_MAX], other[PATH_MAX];
	struct pc_err e = { 0 };
	struct elf_file *f;

	split_fixture(stripped, debug, sizeof stripped, id, sizeof id);
	tp_fmt(envroot, sizeof envroot, "%s/envdebug", tmpdir);
	place_by_build_id(debug, envroot, id, placed, sizeof placed);
	/* The install prefix holds a copy too: the environment's must win. */
	tp_fmt(exe, sizeof exe, "%s/prefix/usr/bin/fixture", tmpdir);
	run("mkdir -p '%s/prefix/usr/bin' && cp '%s' '%s'", tmpdir, stripped, exe);
	tp_fmt(prefroot, sizeof prefroot, "%s/prefix/usr/lib/debug", tmpdir);
	place_by_build_id(debug, prefroot, id, other, sizeof other);
	tp_fmt(env, sizeof env, "/nonexistent/a::%s:", envroot);
	setenv("PYCENSUS_DEBUG_DIR", env, 1);
	f = open_ok(exe);
	cr_assert_eq(elf_find_debug_for(f, 0, NULL, &e), 0, "%s", e.detail);
	expect_local_found(f, placed);
	elf_close(f);
}

/* The Debian interpreters tools/provision-pythons installs: stripped executables whose
 * symbols are in PREFIX/usr/lib/debug/.build-id. */
static bool provisioned(const char *minor, char *exe, size_t len)
{
	const char *top = getenv("PYCENSUS_PROVISION");
	char dflt[PATH_MAX];

	if (!top || !top[0]) {
		tp_fmt(dflt, sizeof dflt, "%s/.cache/pycensus/pythons", getenv("HOME") ? getenv("HOME") : "/root");
		top = dflt;
	}
	tp_fmt(exe, len, "%s/%s/usr/bin/python%s", top, minor, minor);
	return access(exe, X_OK) == 0;
}

static bool count_local(const struct elf_sym *s, void *arg)
{
	if (s->local)
		++*(size_t *)arg;
	return true;
}

static void check_debian(const char *minor)
{
	char exe[PATH_MAX], want[PATH_MAX];
	struct pc_err e = { 0 };
	struct elf_file *f;
	struct elf_sym s;
	size_t locals = 0;
	uint64_t runtime;

	if (!provisioned(minor, exe, sizeof exe))
		cr_skip_test("python%s is not provisioned (tools/provision-pythons)", minor);
	unsetenv("PYCENSUS_DEBUG_DIR");
	f = open_ok(exe);
	cr_assert_not(elf_has_symtab(f), "%s is expected to be stripped", exe);
	cr_assert(elf_symbol(f, "_PyRuntime", &s));
	runtime = s.value;
	cr_assert_eq(elf_find_debug_for(f, 0, NULL, &e), 0, "%s", e.detail);
	tp_fmt(want, sizeof want, "%.*s/usr/lib/debug/.build-id/%.2s/%s.debug",
		 (int)(strstr(exe, "/usr/bin/") - exe), exe, elf_build_id(f), elf_build_id(f) + 2);
	cr_expect_str_eq(elf_symtab_path(f), want);
	elf_symbols_each(f, count_local, &locals);
	cr_expect_gt(locals, 1000, "only %zu static symbols", locals);
	cr_assert(elf_symbol(f, "_PyRuntime", &s));
	cr_expect_eq(s.value, runtime);
	elf_close(f);
}

Test(debugfile, debian_3_13) { check_debian("3.13"); }
Test(debugfile, debian_3_14) { check_debian("3.14"); }
Test(debugfile, debian_3_15) { check_debian("3.15"); }

static bool first_text_local(const struct elf_sym *s, void *arg)
{
	struct elf_sym *out = arg;

	if (s->local && s->size > 0 && strstr(s->name, "dealloc")) {
		*out = *s;
		return false;
	}
	return true;
}

/* pyelf_open on a running stripped interpreter: symbols come from the debug file, and the
 * header can say which. */
Test(debugfile, pyelf_uses_the_debug_file_of_a_running_interpreter, .timeout = 60)
{
	char exe[PATH_MAX], link[PATH_MAX];
	struct pc_err e = { 0 };
	struct maps maps = { 0 };
	struct mem mem;
	struct pyelf p;
	struct elf_sym local = { 0 };
	pid_t pid;
	int st;

	if (!provisioned("3.13", exe, sizeof exe))
		cr_skip_test("python3.13 is not provisioned (tools/provision-pythons)");
	unsetenv("PYCENSUS_DEBUG_DIR");
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execl(exe, exe, "-c", "import time; time.sleep(60)", (char *)NULL);
		_exit(127);
	}
	/* Until the exec has happened, /proc/PID/exe is this test program. */
	for (int i = 0; i < 500; i++) {
		char proc[64];
		ssize_t n;

		tp_fmt(proc, sizeof proc, "/proc/%d/exe", (int)pid);
		n = readlink(proc, link, sizeof link - 1);
		link[n > 0 ? n : 0] = '\0';
		if (n > 0 && strstr(link, "python3.13"))
			break;
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	cr_assert(strstr(link, "python3.13"), "the child never became %s", exe);
	cr_assert_eq(maps_read(pid, &maps, &e), 0, "%s", e.detail);
	mem_init_pid(&mem, pid);
	st = pyelf_open(&p, pid, &maps, &mem, &e);
	if (st == 0) {
		cr_expect(p.stripped);
		cr_expect(p.has_symtab);
		cr_expect(strstr(p.symbols_path, "/usr/lib/debug/.build-id/"), "symbols from %s", p.symbols_path);
		cr_expect(strncmp(p.symbols_path, "/proc/", 6) != 0, "shown as the target sees it: %s", p.symbols_path);
		cr_expect(strstr(p.build, "stripped"), "%s", p.build);
		elf_symbols_each(p.elf, first_text_local, &local);
		cr_expect_not_null(local.name);
		if (local.name)
			cr_expect_eq(pyelf_symbol(&p, local.name), local.value + p.bias, "%s", local.name);
		pyelf_close(&p);
	}
	mem_release(&mem);
	maps_release(&maps);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	cr_assert_eq(st, 0, "pyelf_open: %s", e.detail);
}
