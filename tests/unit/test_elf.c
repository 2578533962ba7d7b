/* test_elf.c: symbols/elf.c against the fixtures `make fixtures` builds (PIE executable, shared
 * object, stripped copy), hostile files, and the real interpreters installed on this machine. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "symbols/elf.h"

#define PY311_EXEC "/usr/bin/python3.11"
#define LIBPY312 "/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0"
#define LIBPY311 "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0"

static void fixture_path(const char *name, char *out, size_t outlen)
{
	const char *dir = getenv("PYCENSUS_FIXTURES");

	snprintf(out, outlen, "%s/%s", dir && dir[0] ? dir : "build/fixtures", name);
}

static struct elf_file *open_ok(const char *path)
{
	struct pc_err e = { 0 };
	struct elf_file *f = elf_open(path, &e);

	cr_assert_not_null(f, "elf_open(%s): %s", path, e.detail);
	cr_assert_eq(e.code, PC_EOK);
	return f;
}

static struct elf_file *open_fixture(const char *name)
{
	char path[4096];

	fixture_path(name, path, sizeof path);
	return open_ok(path);
}

static struct elf_file *open_installed(const char *path)
{
	if (access(path, R_OK) != 0)
		cr_skip_test("%s is not installed", path);
	return open_ok(path);
}

static void write_temp(const void *buf, size_t len, char *path, size_t pathlen)
{
	int fd;

	snprintf(path, pathlen, "/tmp/pycensus-test-elf-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static size_t read_whole(const char *path, char **buf)
{
	FILE *fp = fopen(path, "rb");
	long n;

	cr_assert_not_null(fp, "cannot open %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	*buf = malloc((size_t)n);
	cr_assert_eq(fread(*buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return (size_t)n;
}

static void expect_not_elf(const void *buf, size_t len)
{
	char path[64];
	struct pc_err e = { 0 };
	struct elf_file *f;

	write_temp(buf, len, path, sizeof path);
	f = elf_open(path, &e);
	unlink(path);
	cr_assert_null(f);
	cr_assert_eq(e.code, PC_ENOTPYTHON, "code %s: %s", pc_code_name(e.code), e.detail);
	cr_assert(strstr(e.detail, path), "detail names the file: %s", e.detail);
}

Test(elf, exported_symbols_come_from_dynsym)
{
	static const char *const files[] = { "fixture_exe", "fixture.so", "fixture_stripped" };

	for (size_t i = 0; i < PC_ARRAY_LEN(files); i++) {
		struct elf_file *f = open_fixture(files[i]);
		struct elf_sym s;

		cr_assert(elf_symbol(f, "fixture_exported", &s), "%s", files[i]);
		cr_assert_str_eq(s.name, "fixture_exported");
		cr_assert(s.dynamic && !s.local);
		cr_assert_neq(s.value, 0);
		cr_assert_eq(s.size, sizeof(int));
		cr_assert(elf_symbol(f, "fixture_exported_fn", &s));
		cr_assert(s.dynamic && !s.local);
		elf_close(f);
	}
}

Test(elf, local_symbol_only_in_symtab)
{
	struct elf_file *f = open_fixture("fixture_exe");
	struct elf_file *so = open_fixture("fixture.so");
	struct elf_file *stripped = open_fixture("fixture_stripped");
	struct elf_sym s;

	cr_assert(elf_symbol(f, "fixture_local_counter", &s));
	cr_assert(s.local && !s.dynamic);
	cr_assert_eq(s.size, sizeof(int));
	cr_assert(elf_symbol(so, "fixture_local_counter", &s));
	cr_assert(s.local && !s.dynamic);
	cr_assert_not(elf_symbol(stripped, "fixture_local_counter", &s));
	elf_close(f);
	elf_close(so);
	elf_close(stripped);
}

/* A name LTO made private (NAME.lto_priv.N) is found by NAME when it is the only one. */
Test(elf, lto_private_statics)
{
	struct elf_file *f = open_fixture("fixture_exe");
	struct elf_sym s, t;

	cr_assert(elf_symbol(f, "fixture_lto", &s), "NAME.lto_priv.0 not found by NAME");
	cr_expect(s.local);
	cr_assert(elf_symbol(f, "fixture_lto.lto_priv.0", &t));
	cr_expect_eq(s.value, t.value);
	cr_expect_not(elf_symbol(f, "fixture_twice", &s), "two statics of one name are ambiguous");
	cr_expect_not(elf_symbol(f, "fixture_lt", &s), "a prefix is not a name");
	elf_close(f);
}

static bool find_getenv(const struct elf_sym *s, void *arg)
{
	if (strncmp(s->name, "getenv", 6) == 0)
		*(bool *)arg = true;
	return true;
}

static bool count_until_three(const struct elf_sym *s, void *arg)
{
	(void)s;
	return ++*(int *)arg < 3;
}

Test(elf, undefined_and_unknown_names_absent)
{
	struct elf_file *f = open_fixture("fixture_exe");
	bool seen = false;
	int calls = 0;

	cr_assert_not(elf_symbol(f, "getenv", NULL));
	cr_assert_not(elf_symbol(f, "no_such_symbol", NULL));
	cr_assert_not(elf_symbol(f, "", NULL));
	cr_assert_not(elf_symbol(f, "fixture_exporte", NULL));
	cr_assert_not(elf_symbol(f, "elf_fixture.c", NULL), "STT_FILE entries are not symbols");
	elf_symbols_each(f, find_getenv, &seen);
	cr_assert_not(seen, "an undefined symbol was listed");
	elf_symbols_each(f, count_until_three, &calls);
	cr_assert_eq(calls, 3, "iteration stops when the callback says so");
	elf_close(f);
}

Test(elf, custom_section_and_read_vaddr)
{
	static const char *const files[] = { "fixture_exe", "fixture.so", "fixture_stripped" };

	for (size_t i = 0; i < PC_ARRAY_LEN(files); i++) {
		struct elf_file *f = open_fixture(files[i]);
		struct elf_section sec;
		struct elf_sym s;
		char buf[64];
		struct pc_err e = { 0 };

		cr_assert(elf_section(f, ".fixturesec", &sec), "%s", files[i]);
		cr_assert_str_eq(sec.name, ".fixturesec");
		cr_assert_eq(sec.size, 64);
		cr_assert(sec.alloc && sec.writable && !sec.nobits);
		cr_assert(elf_symbol(f, "fixture_sec", &s));
		cr_assert_eq(s.value, sec.addr);
		cr_assert_eq(elf_read_vaddr(f, sec.addr, buf, sizeof buf, &e), 0, "%s", e.detail);
		cr_assert_str_eq(buf, "pycensus-fixture");
		cr_assert_not(elf_section(f, ".fixturese", NULL));
		elf_close(f);
	}
}

Test(elf, bss_is_nobits_and_unreadable)
{
	struct elf_file *f = open_fixture("fixture_exe");
	struct elf_section bss;
	struct elf_sym s;
	struct pc_err e = { 0 };
	int v;

	cr_assert(elf_section(f, ".bss", &bss));
	cr_assert(bss.nobits && bss.alloc && bss.writable);
	cr_assert(elf_symbol(f, "fixture_local_counter", &s));
	cr_assert_eq(elf_read_vaddr(f, s.value, &v, sizeof v, &e), -1);
	cr_assert_eq(e.code, PC_ETARGETMEM);
	pc_err_clear(&e);
	cr_assert_eq(elf_read_vaddr(f, UINT64_MAX - 2, &v, sizeof v, &e), -1, "no wrap-around");
	elf_close(f);
}

Test(elf, segments)
{
	struct elf_file *f = open_fixture("fixture_exe");
	const struct elf_load *l;
	size_t n = elf_loads(f, &l);
	bool text = false;

	cr_assert_geq(n, 2);
	for (size_t i = 0; i < n; i++) {
		cr_assert_leq(l[i].filesz, l[i].memsz);
		text |= l[i].r && l[i].x && !l[i].w;
	}
	cr_assert(text, "an r-x segment holds the code");
	cr_assert(elf_is_pie(f));
	cr_assert_str_eq(elf_path(f) + strlen(elf_path(f)) - strlen("fixture_exe"), "fixture_exe");
	elf_close(f);
}

Test(elf, build_id_survives_strip)
{
	struct elf_file *f = open_fixture("fixture_exe");
	struct elf_file *stripped = open_fixture("fixture_stripped");
	const char *id = elf_build_id(f);

	cr_assert_geq(strlen(id), 32, "build-id: '%s'", id);
	cr_assert_eq(strspn(id, "0123456789abcdef"), strlen(id), "lowercase hex: %s", id);
	cr_assert_str_eq(elf_build_id(stripped), id);
	elf_close(f);
	elf_close(stripped);
}

static void add_map(struct maps *m, uint64_t start, uint64_t end, uint64_t offset, char *path)
{
	m->v[m->n++] = (struct map){ .start = start, .end = end, .offset = offset, .inode = 1,
				     .r = true, .priv = true, .path = path };
}

Test(elf, load_bias_of_pie_from_first_mapping)
{
	struct elf_file *f = open_fixture("fixture_exe");
	struct map v[4];
	struct maps m = { .v = v, .cap = 4 };
	char path[] = "/opt/app/fixture_exe", other[] = "/usr/lib/libc.so.6", anon[] = "";
	uint64_t bias = 1;
	struct pc_err e = { 0 };

	add_map(&m, 0x7f0000000000, 0x7f0000001000, 0, other);
	add_map(&m, 0x555555554000, 0x555555555000, 0, path);
	add_map(&m, 0x555555555000, 0x555555556000, 0x1000, path);
	add_map(&m, 0x555555556000, 0x555555557000, 0, anon);
	cr_assert_eq(elf_load_bias(f, &m, path, &bias, &e), 0, "%s", e.detail);
	cr_assert_eq(bias, 0x555555554000, "bias %#lx", (unsigned long)bias);
	elf_close(f);
}

/* Without the offset-0 mapping the bias comes from whichever segment is mapped. */
Test(elf, load_bias_of_pie_from_later_segment)
{
	struct elf_file *f = open_fixture("fixture.so");
	const struct elf_load *l;
	size_t n = elf_loads(f, &l);
	uint64_t base = 0x7f1234560000, page = (uint64_t)sysconf(_SC_PAGESIZE), bias = 0;
	struct map v[1];
	struct maps m = { .v = v, .cap = 1 };
	char path[] = "/usr/lib/fixture.so";
	struct pc_err e = { 0 };

	/* The code segment: its file page is its own (data and rodata may share one). */
	cr_assert_geq(n, 3);
	cr_assert(l[1].x && (l[1].offset & ~(page - 1)) != (l[2].offset & ~(page - 1)));
	add_map(&m, base + (l[1].vaddr & ~(page - 1)), base + l[1].vaddr + l[1].memsz,
		l[1].offset & ~(page - 1), path);
	cr_assert_eq(elf_load_bias(f, &m, path, &bias, &e), 0, "%s", e.detail);
	cr_assert_eq(bias, base, "bias %#lx", (unsigned long)bias);
	elf_close(f);
}

Test(elf, load_bias_fails_when_not_mapped)
{
	struct elf_file *f = open_fixture("fixture_exe");
	struct map v[1];
	struct maps m = { .v = v, .cap = 1 };
	char other[] = "/usr/lib/libc.so.6";
	uint64_t bias = 0;
	struct pc_err e = { 0 };

	add_map(&m, 0x7f0000000000, 0x7f0000001000, 0, other);
	v[0].inode = 0xdeadbeef; /* not the fixture's inode either */
	cr_assert_eq(elf_load_bias(f, &m, "/opt/app/fixture_exe", &bias, &e), -1);
	cr_assert_neq(e.code, PC_EOK);
	elf_close(f);
}

Test(elf, load_bias_of_non_pie_is_zero)
{
	struct elf_file *f = open_installed(PY311_EXEC);
	struct maps m = { 0 };
	uint64_t bias = 1;
	struct pc_err e = { 0 };

	cr_assert_not(elf_is_pie(f));
	cr_assert_eq(elf_load_bias(f, &m, PY311_EXEC, &bias, &e), 0, "%s", e.detail);
	cr_assert_eq(bias, 0);
	elf_close(f);
}

Test(elf, text_file_is_not_elf)
{
	static const char text[] = "#!/bin/sh\necho this is not an ELF file\n";

	expect_not_elf(text, sizeof text - 1);
}

Test(elf, empty_file_is_not_elf)
{
	expect_not_elf("", 0);
}

Test(elf, truncated_elf_is_rejected)
{
	char path[4096], *buf;

	fixture_path("fixture_exe", path, sizeof path);
	cr_assert_gt(read_whole(path, &buf), 200);
	expect_not_elf(buf, 200);
	free(buf);
}

Test(elf, wrong_class_or_machine_is_rejected)
{
	char path[4096], *buf;

	fixture_path("fixture_exe", path, sizeof path);
	read_whole(path, &buf);
	buf[4] = 1; /* EI_CLASS = ELFCLASS32 */
	expect_not_elf(buf, 64);
	buf[4] = 2;
	buf[18] = (char)183; /* e_machine = EM_AARCH64 */
	expect_not_elf(buf, 64);
	free(buf);
}

Test(elf, missing_file_and_directory)
{
	struct pc_err e = { 0 };

	cr_assert_null(elf_open("/nonexistent/pycensus/libpython3.12.so", &e));
	cr_assert_eq(e.code, PC_ENOTPYTHON);
	cr_assert(strstr(e.detail, "/nonexistent/pycensus/libpython3.12.so"));
	pc_err_clear(&e);
	cr_assert_null(elf_open("/tmp", &e));
	cr_assert_eq(e.code, PC_ENOTPYTHON);
	elf_close(NULL);
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static bool touch_symbol(const struct elf_sym *s, void *arg)
{
	*(size_t *)arg += strlen(s->name);
	return true;
}

/* Damage the headers the parser trusts least (ELF header, program headers, section headers);
 * every outcome is fine except a crash, which Criterion reports for the test's process. */
Test(elf, damaged_headers_do_not_crash)
{
	char path[4096], tmp[64], *orig, *buf;
	size_t len, shoff;
	uint32_t seed = 12345;

	fixture_path("fixture_exe", path, sizeof path);
	len = read_whole(path, &orig);
	memcpy(&shoff, orig + 0x28, sizeof shoff);
	cr_assert_lt(shoff, len);
	buf = malloc(len);
	for (int round = 0; round < 300; round++) {
		struct pc_err e = { 0 };
		struct elf_file *f;
		size_t sink = 0;
		char b[16];

		memcpy(buf, orig, len);
		for (int k = 0; k < 4; k++) {
			bool in_shdrs = xorshift(&seed) % 2;
			size_t lo = in_shdrs ? shoff : 0, span = in_shdrs ? len - shoff : 0x400;

			buf[lo + xorshift(&seed) % span] = (char)xorshift(&seed);
		}
		write_temp(buf, len, tmp, sizeof tmp);
		f = elf_open(tmp, &e);
		unlink(tmp);
		cr_assert((f != NULL) == (e.code == PC_EOK));
		if (!f)
			continue;
		elf_symbols_each(f, touch_symbol, &sink);
		elf_symbol(f, "fixture_exported", NULL);
		elf_section(f, ".bss", NULL);
		elf_read_vaddr(f, 0x4040, b, sizeof b, &e);
		elf_close(f);
	}
	free(buf);
	free(orig);
}

Test(elf, libpython312_runtime)
{
	struct elf_file *f = open_installed(LIBPY312);
	struct elf_section sec;
	struct elf_sym s;

	cr_assert(elf_is_pie(f));
	cr_assert(elf_symbol(f, "_PyRuntime", &s));
	cr_assert(s.dynamic && !s.local);
	cr_assert(elf_section(f, ".PyRuntime", &sec));
	cr_assert_eq(s.value, sec.addr);
	cr_assert_neq(elf_build_id(f)[0], '\0');
	elf_close(f);
}

Test(elf, libpython311_static_obmalloc_symbols)
{
	struct elf_file *f = open_installed(LIBPY311);
	struct elf_sym s;

	cr_assert(elf_symbol(f, "arenas", &s));
	cr_assert(s.local && !s.dynamic);
	cr_assert_eq(s.size, 8);
	cr_assert(elf_symbol(f, "maxarenas", &s));
	cr_assert(s.local && !s.dynamic);
	cr_assert(elf_symbol(f, "_PyRuntime", &s));
	cr_assert(s.dynamic, ".dynsym wins over the .symtab copy");
	elf_close(f);
}

Test(elf, stripped_debian_python311)
{
	struct elf_file *f = open_installed(PY311_EXEC);
	struct elf_section sec;
	struct elf_sym s;
	uint64_t head = 0;
	struct pc_err e = { 0 };

	cr_assert(elf_symbol(f, "_PyRuntime", &s));
	cr_assert(s.dynamic);
	cr_assert(elf_section(f, ".PyRuntime", &sec));
	cr_assert_eq(s.value, sec.addr);
	cr_assert_eq(sec.addr, 0xa5b740);
	cr_assert_not(elf_symbol(f, "arenas", NULL));
	cr_assert_not(elf_symbol(f, "maxarenas", NULL));
	cr_assert_eq(elf_read_vaddr(f, sec.addr, &head, sizeof head, &e), 0, "%s", e.detail);
	elf_close(f);
}
