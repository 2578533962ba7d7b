/* test_dwarf.c: python/dwarf.c. dwarf_layout_read of every installed interpreter's DWARF must
 * equal, row for row, the table tools/gen_layouts generated from it with gdb (pyenv builds
 * found through `pyenv root`; the Debian builds tools/provision-pythons installs, read from
 * their detached .debug files). The row semantics are checked on a small two-unit library
 * compiled here, and corrupt DWARF must neither crash nor hang. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "symbols/elf.h"
#include "symbols/debugfile.h"
#include "python/dwarf.h"
#include "python/layout.h"
#include "tests/unit/testpath.h"

struct field {
	const char *name;
	size_t at;
};

static const struct field fields[] = {
#define OFF(field, type, path) { #field, offsetof(struct pyoffsets, field) },
#define SIZE(field, type) { #field, offsetof(struct pyoffsets, field) },
#include "python/layout_fields.def"
#undef OFF
#undef SIZE
};

static int32_t field_value(const struct pyoffsets *o, size_t i)
{
	int32_t v;

	memcpy(&v, (const char *)o + fields[i].at, sizeof v);
	return v;
}


static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const struct pylayout_gen *table_for(const char *source)
{
	for (size_t i = 0; i < pylayout_ntables; i++)
		if (strcmp(pylayout_tables[i]->source, source) == 0)
			return pylayout_tables[i];
	return NULL;
}

/* Reads path's DWARF and compares every row with the generated table; returns the seconds the
 * read took. */
static double expect_table(const char *path, const struct pylayout_gen *t)
{
	struct pyoffsets got;
	struct pc_err e = { 0 };
	size_t bad = 0, resolved = 0;
	double t0 = now(), dt;
	struct stat st;

	cr_assert_eq(dwarf_layout_read(path, &got, &e), 0, "%s: %s", path, e.detail);
	dt = now() - t0;
	for (size_t i = 0; i < PC_ARRAY_LEN(fields); i++) {
		int32_t want = field_value(&t->off, i), have = field_value(&got, i);

		resolved += want >= 0;
		if (have != want)
			bad++;
		cr_expect_eq(have, want, "%s (%s): %s = %d from DWARF, %d in the table", t->source, path,
			     fields[i].name, have, want);
	}
	stat(path, &st);
	cr_log_info("dwarf: %-16s %zu rows (%zu resolved), %zu differ; read in %.3f s (%.1f MB file)", t->source,
		    PC_ARRAY_LEN(fields), resolved, bad, dt, (double)st.st_size / 1e6);
	fprintf(stderr, "dwarf: %-16s %zu rows (%zu resolved), %zu differ; read in %.3f s (%.1f MB file)\n",
		t->source, PC_ARRAY_LEN(fields), resolved, bad, dt, (double)st.st_size / 1e6);
	return dt;
}

/* `pyenv root`, never a fixed path: $PYENV_ROOT or ~/.pyenv when pyenv is not on PATH. */
static bool pyenv_root(char *out, size_t len)
{
	FILE *p = popen("pyenv root 2>/dev/null", "r");
	const char *env = getenv("PYENV_ROOT"), *home = getenv("HOME");

	out[0] = '\0';
	if (p) {
		if (fgets(out, (int)len, p))
			out[strcspn(out, "\n")] = '\0';
		pclose(p);
	}
	if (!out[0] && env && env[0])
		tp_fmt(out, len, "%s", env);
	if (!out[0] && home)
		tp_fmt(out, len, "%s/.pyenv", home);
	return out[0] != '\0';
}

static bool version_dir(const char *name, int *minor)
{
	int major, micro, n = 0;

	return sscanf(name, "%d.%d.%d%n", &major, minor, &micro, &n) == 3 && name[n] == '\0' && major == 3;
}

Test(dwarf, pyenv_builds_equal_their_tables, .timeout = 300)
{
	char root[PATH_MAX], versions[PATH_MAX], lib[PATH_MAX];
	struct dirent *d;
	DIR *dir;
	size_t compared = 0;

	cr_assert(pyenv_root(root, sizeof root));
	tp_fmt(versions, sizeof versions, "%s/versions", root);
	dir = opendir(versions);
	if (!dir)
		cr_skip_test("no pyenv builds in %s", versions);
	while ((d = readdir(dir))) {
		const struct pylayout_gen *t;
		int minor;

		if (!version_dir(d->d_name, &minor))
			continue;
		tp_fmt(lib, sizeof lib, "%s/%s/lib/libpython3.%d.so.1.0", versions, d->d_name, minor);
		if (access(lib, R_OK) != 0)
			continue;
		t = table_for(d->d_name);
		if (!t) {
			fprintf(stderr, "dwarf: %s has no generated table: not compared\n", d->d_name);
			continue;
		}
		expect_table(lib, t);
		compared++;
	}
	closedir(dir);
	if (!compared)
		cr_skip_test("no pyenv build under %s has a generated table", versions);
}

/* The Debian builds of tools/provision-pythons: a stripped executable whose DWARF is in
 * PREFIX/usr/lib/debug/.build-id, found by symbols/elf.c as pycensus finds it. The table is
 * the one named for the build's version (Py_Version) + "-debian". */
static void expect_debian(const char *minor)
{
	const char *top = getenv("PYCENSUS_PROVISION"), *home = getenv("HOME");
	char dflt[PATH_MAX], exe[PATH_MAX], source[64], debug[PATH_MAX];
	struct pc_err e = { 0 };
	struct elf_file *f;
	struct elf_sym s;
	uint32_t hex;
	const struct pylayout_gen *t;

	if (!top || !top[0]) {
		tp_fmt(dflt, sizeof dflt, "%s/.cache/pycensus/pythons", home ? home : "/root");
		top = dflt;
	}
	tp_fmt(exe, sizeof exe, "%s/%s/usr/bin/python%s", top, minor, minor);
	if (access(exe, X_OK) != 0)
		cr_skip_test("python%s is not provisioned (tools/provision-pythons)", minor);
	f = elf_open(exe, &e);
	cr_assert_not_null(f, "%s", e.detail);
	cr_assert(elf_symbol(f, "Py_Version", &s));
	cr_assert_eq(elf_read_vaddr(f, s.value, &hex, sizeof hex, &e), 0, "%s", e.detail);
	tp_fmt(source, sizeof source, "%u.%u.%u-debian", hex >> 24, (hex >> 16) & 0xff, (hex >> 8) & 0xff);
	cr_assert_eq(elf_find_debug_for(f, 0, NULL, &e), 0, "no debug file for %s: %s", exe, e.detail);
	tp_fmt(debug, sizeof debug, "%s", elf_symtab_path(f));
	elf_close(f);
	t = table_for(source);
	if (!t)
		cr_skip_test("no generated table named %s", source);
	expect_table(debug, t);
}

Test(dwarf, debian_3_13, .timeout = 120) { expect_debian("3.13"); }
Test(dwarf, debian_3_14, .timeout = 120) { expect_debian("3.14"); }
Test(dwarf, debian_3_15, .timeout = 120) { expect_debian("3.15"); }

static void fixture_path(const char *name, char *out, size_t len)
{
	const char *dir = getenv("PYCENSUS_FIXTURES");
	char rel[PATH_MAX];

	tp_fmt(rel, sizeof rel, "%s/%s", dir && dir[0] ? dir : "build/fixtures", name);
	if (!realpath(rel, out) || strlen(out) >= len)
		cr_skip_test("%s is missing: run make fixtures", rel);
}

static void expect_failure(const char *path, const char *words)
{
	struct pyoffsets got;
	struct pc_err e = { 0 };

	memset(&got, 0x55, sizeof got);
	cr_assert_eq(dwarf_layout_read(path, &got, &e), -1, "%s", path);
	cr_expect_neq(e.code, PC_EOK);
	cr_expect(strstr(e.detail, path), "names the file: %s", e.detail);
	cr_expect(strstr(e.detail, words), "says '%s': %s", words, e.detail);
	for (size_t i = 0; i < PC_ARRAY_LEN(fields); i++)
		cr_expect_eq(field_value(&got, i), -1, "%s left set", fields[i].name);
}

Test(dwarf, stripped_file_has_no_dwarf)
{
	char path[PATH_MAX];

	fixture_path("fixture_stripped", path, sizeof path);
	expect_failure(path, "no DWARF");
}

Test(dwarf, missing_file)
{
	expect_failure("/nonexistent/pycensus/libpython3.12.so.1.0", "No such file");
}

Test(dwarf, not_an_elf_file)
{
	char path[] = "/tmp/pycensus-test-dwarf-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
	close(fd);
	expect_failure(path, "not an x86-64 ELF");
	unlink(path);
}

/* DWARF, but not an interpreter's. */
Test(dwarf, other_programs_dwarf_describes_no_row)
{
	char path[PATH_MAX];

	fixture_path("fixture_exe", path, sizeof path);
	expect_failure(path, "none of CPython's structs");
}

/* Row semantics on tests/unit/fixtures/dwarf_types_[ab].c, compiled here into one shared
 * object (two units). Expected values are gdb 13's answers on the same object. */
static const struct {
	const char *types, *paths;
	int64_t want;
} offset_rows[] = {
	{ "Opaque", "second", 8 },          /* declared-only here, completed by the other unit */
	{ "Opaque", "first", 0 },
	{ "struct opaque", "second", 8 },
	{ "Anon", "a", 0 },
	{ "Anon", "u1", 8 },                /* inside an anonymous union */
	{ "Anon", "c1", 8 },                /* inside an anonymous struct inside it */
	{ "Anon", "deep", 12 },
	{ "Anon", "nm.s2", 20 },            /* through a named inline struct */
	{ "Anon", "bits", 24 },
	{ "Anon", "after", 28 },
	{ "Anon", "ptr", 32 },
	{ "Anon", "ptr.x", -1 },            /* not through a pointer */
	{ "Anon", "arr", 40 },
	{ "Anon", "arr.x", -1 },            /* nor an array */
	{ "struct outer", "in.deep", 20 },
	{ "struct outer", "in.ptr.x", -1 },
	{ "CAnon", "nm.s1", 16 },           /* typedef -> const -> typedef */
	{ "union U", "d", 0 },
	{ "struct Anon", "a", -1 },         /* a typedef name is not a tag */
	{ "outer", "x", -1 },               /* nor a tag a typedef name */
	{ "Anon", "nosuch", -1 },
	{ "NoSuchType", "a", -1 },
	{ "Anon|struct outer", "x|after", 28 }, /* types outer, paths inner */
	{ "NoSuch|struct outer", "nope|in.after", 36 },
	{ " Anon ", "  nm.s2 ", 20 },
	{ "Anon", "|a", 0 },
	{ "Anon", "a.", -1 },
	{ "Anon", ".a", -1 },
	{ "Anon", "nm..s1", -1 },
	{ "Anon", "", -1 },
	{ "Anon", "nm.s1.a.b.c.d.e.f.g", -1 },
	{ "struct bits", "b1", 0 },
	{ "struct bits", "b2", 0 },
	{ "struct bits", "b3", 4 },
	{ "struct bits", "b4", 8 },
	{ "struct bits", "b5", 13 },
	{ "struct packed", "straddle", 1 }, /* straddles its int: its byte */
};

static const struct {
	const char *types;
	int64_t want;
} size_rows[] = {
	{ "Opaque", 16 },
	{ "struct opaque", 16 },
	{ "Anon", 56 },
	{ "CAnon", 56 },
	{ "union U", 8 },
	{ "struct named", 8 },
	{ "struct bits", 16 },
	{ "long int", 8 },                  /* base types by their DWARF name */
	{ "unsigned int", 4 },
	{ "struct Anon", -1 },
	{ "outer", -1 },
	{ "named", -1 },
	{ "NoSuch|union U", 8 },
	{ "", -1 },
};

static char tmpdir[PATH_MAX];

static void make_tmpdir(void)
{
	tp_fmt(tmpdir, sizeof tmpdir, "/tmp/pycensus-test-dwarf-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (tmpdir[0] && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

/* Compiles the two fixture units with flags into tmpdir/NAME.so. */
static void compile_types(const char *flags, const char *name, char *out, size_t len)
{
	char a[PATH_MAX], b[PATH_MAX], cmd[4 * PATH_MAX];
	const char *cc = getenv("CC");

	if (!realpath("tests/unit/fixtures/dwarf_types_a.c", a) || !realpath("tests/unit/fixtures/dwarf_types_b.c", b))
		cr_skip_test("tests/unit/fixtures/dwarf_types_[ab].c not found (run from the repository)");
	tp_fmt(out, len, "%s/%s.so", tmpdir, name);
	tp_fmt(cmd, sizeof cmd, "%s %s -O0 -shared -fPIC -o '%s' '%s' '%s' 2>&1", cc && cc[0] ? cc : "cc", flags, out,
	    a, b);
	if (system(cmd) != 0)
		cr_skip_test("cannot compile the fixture: %s", cmd);
}

static void expect_semantics(const char *flags)
{
	char so[PATH_MAX];
	struct pc_err e = { 0 };
	struct dwarf_types *t;

	compile_types(flags, "types", so, sizeof so);
	t = dwarf_types_open(so, &e);
	cr_assert_not_null(t, "%s: %s", so, e.detail);
	cr_expect_gt(dwarf_types_count(t), 10);
	for (size_t i = 0; i < PC_ARRAY_LEN(offset_rows); i++) {
		int64_t got = dwarf_types_offset(t, offset_rows[i].types, offset_rows[i].paths);

		cr_expect_eq(got, offset_rows[i].want, "%s: (long)&((%s *)0)->%s = %lld, gdb says %lld", flags,
			     offset_rows[i].types, offset_rows[i].paths, (long long)got, (long long)offset_rows[i].want);
	}
	for (size_t i = 0; i < PC_ARRAY_LEN(size_rows); i++) {
		int64_t got = dwarf_types_size(t, size_rows[i].types);

		cr_expect_eq(got, size_rows[i].want, "%s: sizeof(%s) = %lld, gdb says %lld", flags, size_rows[i].types,
			     (long long)got, (long long)size_rows[i].want);
	}
	cr_expect_eq(dwarf_types_offset(t, "Anon", NULL), -1);
	dwarf_types_close(t);
}

TestSuite(dwarf_types, .init = make_tmpdir, .fini = remove_tmpdir);

Test(dwarf_types, semantics_dwarf5) { expect_semantics("-gdwarf-5"); }
Test(dwarf_types, semantics_dwarf4) { expect_semantics("-gdwarf-4"); }   /* DW_AT_bit_offset bit-fields */
Test(dwarf_types, semantics_dwarf2) { expect_semantics("-gdwarf-2"); }   /* DW_OP_plus_uconst locations */
Test(dwarf_types, semantics_compressed) { expect_semantics("-gdwarf-5 -gz=zlib"); } /* as Debian ships them */

static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t slurp(const char *path, unsigned char **buf)
{
	FILE *fp = fopen(path, "rb");
	long n;

	cr_assert_not_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	*buf = malloc((size_t)n);
	cr_assert_eq(fread(*buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return (size_t)n;
}

static void spit(const char *path, const unsigned char *buf, size_t len)
{
	FILE *fp = fopen(path, "wb");

	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(buf, 1, len, fp), len);
	fclose(fp);
}

/* Damaged DWARF (random bytes of .debug_info and .debug_abbrev changed, or the file cut short)
 * gives -1 rows or an error, never a crash (Criterion reports one) or a hang (the timeout). */
Test(dwarf_types, corrupt_dwarf_neither_crashes_nor_hangs, .timeout = 240)
{
	char so[PATH_MAX], bad[PATH_MAX];
	struct pc_err e = { 0 };
	struct elf_file *f;
	struct elf_section info, abbrev;
	unsigned char *orig, *buf;
	size_t len;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	int opened = 0, rounds = 400;

	compile_types("-gdwarf-5", "types", so, sizeof so);
	f = elf_open(so, &e);
	cr_assert_not_null(f, "%s", e.detail);
	cr_assert(elf_section(f, ".debug_info", &info) && elf_section(f, ".debug_abbrev", &abbrev));
	elf_close(f);
	len = slurp(so, &orig);
	cr_assert(info.offset + info.size <= len && abbrev.offset + abbrev.size <= len);
	buf = malloc(len);
	tp_fmt(bad, sizeof bad, "%s/bad.so", tmpdir);
	for (int round = 0; round < rounds; round++) {
		struct pyoffsets out;
		struct dwarf_types *t;
		size_t n = len;
		int flips = 1 + (int)(next_random(&seed) % 16);

		memcpy(buf, orig, len);
		for (int k = 0; k < flips; k++) {
			const struct elf_section *s = next_random(&seed) % 4 ? &info : &abbrev;
			size_t at = s->offset + next_random(&seed) % s->size;

			buf[at] = (unsigned char)next_random(&seed);
		}
		if (round % 10 == 9) /* cut short inside the DWARF */
			n = info.offset + next_random(&seed) % info.size;
		spit(bad, buf, n);
		pc_err_clear(&e);
		t = dwarf_types_open(bad, &e);
		if (t) {
			opened++;
			for (size_t i = 0; i < PC_ARRAY_LEN(offset_rows); i++)
				(void)dwarf_types_offset(t, offset_rows[i].types, offset_rows[i].paths);
			for (size_t i = 0; i < PC_ARRAY_LEN(size_rows); i++)
				(void)dwarf_types_size(t, size_rows[i].types);
			dwarf_types_close(t);
		}
		pc_err_clear(&e);
		(void)dwarf_layout_read(bad, &out, &e);
	}
	cr_log_info("corrupt DWARF: %d rounds, %d opened", rounds, opened);
	free(buf);
	free(orig);
}
