/* test_core.c: ELF core files as targets, on every interpreter found where gcore works. The
 * workload (workloads/dump.py) builds a known heap and holds still in sigwait; snap --pause
 * census, retained and why of the live process are taken, then `gcore` of it, and the process is
 * killed: snap of the core gives the live rows, retained gives the live table, and why gives the
 * DumpItems' retained bytes the workload computed with sys.getsizeof; the core compressed with
 * zstd, lz4 and xz (as systemd-coredump stores it) gives the core's snap and stacks byte for byte.
 * Damaged cores (truncated, another architecture, a compressed one cut short or changed) exit 18,
 * a compressed core with no room to decompress it exits 9, and a core whose executable is missing
 * or another file exits 19, each with one line. A core the kernel writes (core_pattern, the workload
 * killed by SIGABRT) gives the same figures, zstd-compressed too, and so does a core whose files are given with --exe
 * (a copy of the executable) or --sysroot (a root holding the interpreter's files). */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/integration/filecheck.h"

/* gcore of pid into core (PREFIX.PID); false with the reason in why when gdb could not. */
static bool take_core(pid_t pid, char *core, size_t len, char *why, size_t whylen)
{
	char prefix[] = "/tmp/pycensus-core-XXXXXX", cmd[256], *out;
	int fd = mkstemp(prefix), status;
	struct stat st;

	if (fd < 0)
		return snprintf(why, whylen, "mkstemp failed") < 0;
	close(fd);
	unlink(prefix);
	snprintf(core, len, "%s.%d", prefix, (int)pid);
	snprintf(cmd, sizeof cmd, "gcore -o %s %d 2>&1", prefix, (int)pid);
	out = h_command_output(cmd, 1 << 16, &status);
	if (status != 0 || stat(core, &st) != 0 || st.st_size == 0) {
		snprintf(why, whylen, "gcore failed (status %d): %.200s", status, out ? out : "no output");
		free(out);
		unlink(core);
		return false;
	}
	free(out);
	return true;
}

/* Every interpreter found, as the parameters of a test. */
static struct criterion_test_params every_python(void)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

/* core compressed as systemd-coredump stores it, with the command-line tool of the first nzips
 * formats (zstd, systemd's default, then lz4 and xz): snap and stacks of each give the plain
 * core's output byte for byte, and the header names the compression. Returns how many rows snap
 * gave. */
static size_t expect_compressed_same(const char *core, const char *label, size_t nzips)
{
	static const struct { const char *kind, *cmd; } zips[] = {
		{ "zstd", "zstd -q -f -3 '%s' -o '%s'" },
		{ "lz4", "lz4 -q -f '%s' '%s'" },
		{ "xz", "xz -q -0 -T2 -c '%s' > '%s'" },
	};
	const char *snap[] = { "snap", "-f", "csv", "-n", "0", core, NULL }, *stacks[] = { "stacks", core, NULL };
	char *plain = fc_run_ok(snap, "snap of the core", label), *plain_stacks = fc_run_ok(stacks, "stacks of the core", label);
	char zipped[PATH_MAX], cmd[2 * PATH_MAX + 64], origin[64];
	struct table t;
	size_t rows;
	int status;

	for (size_t i = 0; i < PC_ARRAY_LEN(zips) && i < nzips; i++) {
		char *out;
		snprintf(zipped, sizeof zipped, "%s.%s", core, zips[i].kind);
		snprintf(cmd, sizeof cmd, zips[i].cmd, core, zipped);
		free(h_command_output(cmd, 256, &status));
		cr_assert_eq(status, 0, "%s: '%s' failed (tools/install-deps installs zstd, lz4 and xz-utils)", label, cmd);
		snap[5] = stacks[1] = zipped;
		out = fc_run_ok(snap, "snap of the compressed core", label);
		cr_expect_str_eq(out, plain, "%s: snap of the %s-compressed core differs from the core's", label, zips[i].kind);
		free(out);
		out = fc_run_ok(stacks, "stacks of the compressed core", label);
		snprintf(origin, sizeof origin, "\nfrom %s-compressed core file ", zips[i].kind);
		cr_expect(strstr(out, origin), "%s: no '%s' in the header: %.300s", label, origin + 1, out);
		cr_expect_str_eq(fc_after_line(out, 2), fc_after_line(plain_stacks, 2), "%s: stacks of the %s-compressed "
				 "core differ from the core's", label, zips[i].kind);
		free(out);
		unlink(zipped);
	}
	cr_assert(h_parse_csv(plain, &t), "%s: unparsable CSV", label);
	rows = t.n;
	free(plain);
	free(plain_stacks);
	h_table_free(&t);
	return rows;
}

/* The line of s that starts with prefix, into line ("" when none). */
static const char *line_of(const char *s, const char *prefix, char *line, size_t len)
{
	const char *at = strstr(s, prefix);

	snprintf(line, len, "%.*s", at ? (int)strcspn(at, "\n") : 0, at ? at : "");
	return line;
}

/* stats of a file tells what a file lacks as it is: the RSS (a warning, never "RSS 0"), and the
 * pymalloc counters that are file statics before 3.12: read from the core (it has the memory and
 * the symbol table is the file's) as the live process gave them, and for a dump (which keeps
 * neither) "stripped" only when the build is. */
static void expect_stats_of_files(const char *live_stats, const char *core, const char *dump, const struct python *py)
{
	const char *on_core[] = { "stats", core, NULL }, *on_dump[] = { "stats", dump, NULL };
	char *c = fc_run_ok(on_core, "stats of the core", py->label), *d = fc_run_ok(on_dump, "stats of the dump", py->label);
	char want[256], got[256];

	line_of(live_stats, "# arenas allocated total", want, sizeof want);
	cr_expect(want[0], "%s: live stats has no arenas-allocated line", py->label);
	cr_expect_str_eq(line_of(c, "# arenas allocated total", got, sizeof got), want, "%s: stats of the core", py->label);
	for (int i = 0; i < 2; i++) {
		const char *out = i ? d : c;
		cr_expect(strstr(out, "\nwarning: process memory (RSS, resident arenas): unknown for a file (dump or core)"),
			  "%s: stats of the %s: %.400s", py->label, i ? "dump" : "core", out);
		line_of(out, "VmRSS ", got, sizeof got);
		cr_expect(strstr(got, "= ") && strcmp(strstr(got, "= ") + strspn(strstr(got, "= ") + 1, " ") + 1, "unavailable") == 0,
			  "%s: stats of the %s shows an RSS: '%s'", py->label, i ? "dump" : "core", got);
		/* 3.12+ keep the counters in the interpreter's state: no line says why they are missing */
		line_of(out, "unavailable: arenas allocated total", got, sizeof got);
		cr_expect(!strstr(got, "this build is stripped") || !py->has_symtab, "%s: stats of the %s says 'stripped' "
			  "of a build with a symbol table: %s", py->label, i ? "dump" : "core", got);
		cr_expect(!got[0] || py->has_symtab || strstr(got, "this build is stripped"), "%s: stats of the %s of a "
			  "stripped build: %s", py->label, i ? "dump" : "core", got);
	}
	if (py->has_symtab && strstr(d, "unavailable: arenas allocated total"))
		cr_expect(strstr(d, "and a heap dump keeps neither their addresses nor their memory"), "%s: %s", py->label, d);
	free(c);
	free(d);
}

/* The core set (all with PYCENSUS_TEST_FULL=1): kernel_core_of_abort and capture replay an image
 * of every interpreter found; this adds the analyses, the same code on each. */
ParameterizedTestParameters(core, analyses_match_live)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons_core(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, core, analyses_match_live, .timeout = 180)
{
	char core[64], why[400], dump[64], *live_stats;
	struct fc_live live;
	struct proc p;

	fc_start_live(py, &p, &live);
	fc_take_live(&live);
	snprintf(dump, sizeof dump, "/tmp/pycensus-coredump-%d.pcheap", (int)p.pid);
	{
		const char *stats[] = { "stats", live.pid, NULL }, *take[] = { "dump", "-q", "-o", dump, live.pid, NULL };
		live_stats = fc_run_ok(stats, "stats", py->label);
		free(fc_run_ok(take, "dump", py->label));
	}
	if (!take_core(p.pid, core, sizeof core, why, sizeof why)) {
		h_kill(&p);
		fc_live_release(&live);
		unlink(dump);
		free(live_stats);
		cr_skip_test("%s: %s", py->label, why);
	}
	h_kill(&p); /* everything below reads the core and the files alone */
	fc_expect_file_matches(&live, core, "from core file ");
	expect_stats_of_files(live_stats, core, dump, py);
	free(live_stats);
	unlink(dump);
	fprintf(stderr, "core: %s: %zu kinds equal live, DumpItems retain %lld bytes; compressed (zstd, lz4, xz): "
		"%zu kinds, the same\n", py->label, live.rows.n, live.retained, expect_compressed_same(core, py->label, 3));
	fc_live_release(&live);
	unlink(core);
}

/* Why the kernel would not write a core into the crashing process's directory, or NULL. */
static const char *no_kernel_core(char *why, size_t len)
{
	struct rlimit rl;
	char pattern[256] = "";
	FILE *f = fopen("/proc/sys/kernel/core_pattern", "r");

	if (f) {
		if (!fgets(pattern, sizeof pattern, f))
			pattern[0] = '\0';
		fclose(f);
	}
	pattern[strcspn(pattern, "\n")] = '\0';
	if (getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_max == 0)
		snprintf(why, len, "the hard RLIMIT_CORE is 0");
	else if (!pattern[0] || pattern[0] == '|' || strchr(pattern, '/'))
		snprintf(why, len, "core_pattern is '%.160s', not a file in the process's directory", pattern);
	else
		return NULL;
	return why;
}

/* The one file the kernel wrote into dir, into path; false when there is none. */
static bool kernel_core_in(const char *dir, char *path, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && !found)
			found = snprintf(path, len, "%s/%s", dir, de->d_name) < (int)len;
	if (d)
		closedir(d);
	return found;
}

ParameterizedTestParameters(core, kernel_core_of_abort)
{
	return every_python();
}

ParameterizedTest(struct python *py, core, kernel_core_of_abort, .timeout = 180)
{
	char dir[] = "/tmp/pycensus-kcore-XXXXXX", why[300], workload[PATH_MAX], rel[PATH_MAX], line[256], core[PATH_MAX + 300];
	char script[] = "cd \"$1\" && ulimit -c unlimited && exec \"$2\" \"$3\"";
	char *argv[] = { "/bin/sh", "-c", script, "sh", dir, py->path, workload, NULL };
	struct fc_live live = { .label = py->label };
	struct proc p;
	int status;

	if (no_kernel_core(why, sizeof why))
		cr_skip_test("%s: %s", py->label, why);
	snprintf(rel, sizeof rel, "%s/dump.py", getenv("PYCENSUS_WORKLOADS") ? getenv("PYCENSUS_WORKLOADS")
									     : "tests/integration/workloads");
	cr_assert(realpath(rel, workload) && mkdtemp(dir));
	cr_assert(h_spawn(&p, argv) && h_wait_line(&p, "up", line, sizeof line, 60) && h_wait_sleeping(p.pid, 30),
		  "%s: the workload did not start", py->label);
	cr_assert_eq(sscanf(line, "up %lld %lld %lld", &live.n, &live.sizes, &live.retained), 3, "%s: %s", py->label, line);
	snprintf(live.pid, sizeof live.pid, "%d", (int)p.pid);
	fc_take_live(&live);
	kill(p.pid, SIGABRT); /* the kernel writes the core before the process is reaped */
	cr_assert_eq(waitpid(p.pid, &status, 0), p.pid);
	p.pid = 0;
	h_kill(&p);
	if (!WIFSIGNALED(status) || !WCOREDUMP(status) || !kernel_core_in(dir, core, sizeof core)) {
		fc_live_release(&live);
		rmdir(dir);
		cr_skip_test("%s: the kernel wrote no core (status %#x)", py->label, status);
	}
	fc_expect_file_matches(&live, core, "(signal 6)");
	/* what systemd-coredump compresses: the kernel's core, its never-touched pages left as holes */
	fprintf(stderr, "core: %s: the kernel's core of SIGABRT: %zu kinds equal live; zstd-compressed: %zu kinds, the "
		"same\n", py->label, live.rows.n, expect_compressed_same(core, py->label, 1));
	fc_live_release(&live);
	unlink(core);
	rmdir(dir);
}

/* A compressed core cut short or with bytes changed is refused with one line naming the damage
 * (exit 18), as is its decompression where there is no room for it (no $TMPDIR: exit 9). */
static void expect_compressed_refused(const char *core, const char *bad)
{
	static const struct { const char *kind, *cmd, *cut, *flip; } zips[] = {
		{ "zstd", "zstd -q -f -3 '%s' -o '%s'", "truncated: its zstd stream ends after",
		  "zstd stream is damaged near byte" },
		{ "lz4", "lz4 -q -f '%s' '%s'", "truncated: its lz4 stream ends after", "lz4 stream is damaged near byte" },
		{ "xz", "xz -q -0 -T2 -c '%s' > '%s'", "truncated: its xz stream ends after", "xz stream is damaged near byte" },
	};
	const char *args[] = { "snap", bad, NULL };
	char cmd[400];
	unsigned char *buf;
	size_t len;
	int status;

	for (size_t i = 0; i < PC_ARRAY_LEN(zips); i++) {
		snprintf(cmd, sizeof cmd, zips[i].cmd, core, bad);
		free(h_command_output(cmd, 256, &status));
		cr_assert_eq(status, 0, "'%s' failed (tools/install-deps installs zstd, lz4 and xz-utils)", cmd);
		buf = fc_read_file(bad, &len);
		if (i == 0) {
			setenv("TMPDIR", "/nonexistent-pycensus-tmp", 1);
			fc_expect_refused(args, 9, "cannot make a temporary file in /nonexistent-pycensus-tmp for the "
					  "decompressed core");
			unsetenv("TMPDIR");
		}
		fc_write_variant(bad, buf, len / 2);
		fc_expect_refused(args, 18, zips[i].cut);
		for (size_t j = len / 3; j < len / 3 + 16; j++)
			buf[j] ^= 0x5a; /* inside the data: each format's checksum or its decoder finds it */
		fc_write_variant(bad, buf, len);
		fc_expect_refused(args, 18, zips[i].flip);
		free(buf);
	}
}

Test(core_damaged, refused_with_one_line, .timeout = 120)
{
	struct python py[H_MAX_PYTHONS];
	char core[64], why[400], bad[] = "/tmp/pycensus-badcore-XXXXXX";
	long long n, sizes, retained;
	unsigned char *buf;
	struct proc p;
	size_t len;
	int fd = mkstemp(bad);

	cr_assert(fd >= 0);
	close(fd);
	cr_assert(h_find_pythons(py, H_MAX_PYTHONS) > 0, "no interpreter found");
	fc_start_dump_workload(&py[0], &p, &n, &sizes, &retained);
	if (!take_core(p.pid, core, sizeof core, why, sizeof why)) {
		h_kill(&p);
		cr_skip_test("%s: %s", py[0].label, why);
	}
	h_kill(&p);
	buf = fc_read_file(core, &len);
	{
		const char *args[] = { "snap", bad, NULL };
		fc_write_variant(bad, buf, len / 2);
		fc_expect_refused(args, 18, "truncated");
		buf[18] = 183; /* e_machine EM_AARCH64 */
		fc_write_variant(bad, buf, len);
		fc_expect_refused(args, 18, "another architecture");
		memcpy(buf, "\x28\xb5\x2f\xfd", 4); /* zstd's magic on what is no zstd frame */
		fc_write_variant(bad, buf, len);
		fc_expect_refused(args, 18, "its zstd stream is damaged near byte 0");
	}
	expect_compressed_refused(core, bad);
	{
		const char *args[] = { "snap", "--exe", "/nonexistent/python3", core, NULL };
		fc_expect_refused(args, 19, "which is not at /nonexistent/python3");
	}
	{
		const char *args[] = { "snap", "--exe", "/bin/sh", core, NULL };
		fc_expect_refused(args, 19, "is not the file the process mapped");
	}
	{
		const char *args[] = { "snap", "--exe", "/bin/sh", "1", NULL };
		fc_expect_refused(args, 2, "--exe and --sysroot say where a core file's files are; '1' is a PID");
	}
	{
		const char *args[] = { "snap", "--sysroot", "/nonexistent", core, NULL };
		fc_expect_refused(args, 19, "which is not at /nonexistent/");
	}
	free(buf);
	unlink(bad);
	unlink(core);
}

/* The files of the interpreter (the executable and any libpython) that pid maps, as symlinks
 * under root at the same paths: a copy of the machine's files, as --sysroot takes. */
static void mirror_interpreter(pid_t pid, const char *root)
{
	char cmd[PATH_MAX * 2 + 300], *out;
	int status;

	snprintf(cmd, sizeof cmd, "awk '$6 ~ /^\\// && ($6 ~ /libpython/ || $6 == exe) { print $6 }' "
		 "exe=\"$(readlink /proc/%d/exe)\" /proc/%d/maps | sort -u | while read -r f; do "
		 "mkdir -p \"%s$(dirname \"$f\")\" && ln -sf \"$f\" \"%s$f\"; done", (int)pid, (int)pid, root, root);
	out = h_command_output(cmd, 4096, &status);
	cr_assert_eq(status, 0, "mirroring the interpreter's files: %s", out ? out : "");
	free(out);
}

/* A core read with its files elsewhere: the executable copied (--exe), or the files under another
 * root (--sysroot), gives the census it gives with the files in place. */
Test(core_files, found_elsewhere, .timeout = 120)
{
	struct python py[H_MAX_PYTHONS];
	char core[64], why[400], root[] = "/tmp/pycensus-sysroot-XXXXXX", exe[PATH_MAX + 32], real[PATH_MAX], cmd[PATH_MAX * 3];
	long long n, sizes, retained;
	struct table plain, with_exe, with_root;
	struct proc p;
	char *out;
	int status;

	cr_assert(h_find_pythons(py, H_MAX_PYTHONS) > 0, "no interpreter found");
	cr_assert(mkdtemp(root));
	fc_start_dump_workload(&py[0], &p, &n, &sizes, &retained);
	mirror_interpreter(p.pid, root);
	if (!take_core(p.pid, core, sizeof core, why, sizeof why)) {
		h_kill(&p);
		cr_skip_test("%s: %s", py[0].label, why);
	}
	h_kill(&p);
	cr_assert(realpath(py[0].path, real));
	snprintf(exe, sizeof exe, "%s/python-copy", root);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", real, exe);
	free(h_command_output(cmd, 256, &status));
	cr_assert_eq(status, 0, "%s", cmd);
	{
		const char *args[] = { "snap", "-f", "csv", "-n", "0", core, NULL };
		fc_table_of(args, &plain, "snap of the core", py[0].label);
	}
	{
		const char *args[] = { "snap", "-f", "csv", "-n", "0", "--exe", exe, core, NULL };
		fc_table_of(args, &with_exe, "snap --exe of the core", py[0].label);
	}
	{
		const char *args[] = { "snap", "-f", "csv", "-n", "0", "--sysroot", root, core, NULL };
		fc_table_of(args, &with_root, "snap --sysroot of the core", py[0].label);
	}
	cr_expect_eq(h_count(&plain, "__main__.DumpItem"), n, "%s: DumpItems", py[0].label);
	cr_expect(plain.n > 0 && plain.n == with_exe.n && plain.n == with_root.n, "%s: %zu rows, %zu with --exe, %zu with --sysroot",
		  py[0].label, plain.n, with_exe.n, with_root.n);
	for (size_t i = 0; i < plain.n; i++) {
		const struct row *a = h_row(&with_exe, plain.v[i].kind), *b = h_row(&with_root, plain.v[i].kind);
		cr_expect(a && b && a->count == plain.v[i].count && b->count == plain.v[i].count &&
			  a->size == plain.v[i].size && b->size == plain.v[i].size, "%s: row %s differs", py[0].label,
			  plain.v[i].kind);
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	out = h_command_output(cmd, 256, &status);
	free(out);
	h_table_free(&plain);
	h_table_free(&with_exe);
	h_table_free(&with_root);
	unlink(core);
}
