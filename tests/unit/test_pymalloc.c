/* test_pymalloc.c: telling a build without pymalloc (which pycensus refuses with exit 6) from the
 * normal ones. No such build is installed here: the ELF fixtures stand in for one (they lack
 * _PyObject_DebugMallocStats), and every real interpreter on the machine must pass. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "symbols/pyelf.h"

static struct elf_file *open_path(const char *path)
{
	struct pc_err e = { 0 };
	struct elf_file *f = elf_open(path, &e);

	cr_assert_not_null(f, "elf_open(%s): %s", path, e.detail);
	return f;
}

Test(pymalloc, fixture_without_the_stats_symbol_reads_as_no_pymalloc)
{
	const char *dir = getenv("PYCENSUS_FIXTURES");
	char path[4096];
	struct elf_file *f;

	snprintf(path, sizeof path, "%s/fixture_exe", dir && dir[0] ? dir : "build/fixtures");
	f = open_path(path);
	cr_expect(pyelf_lacks_pymalloc(f, 3, 8));
	cr_expect(pyelf_lacks_pymalloc(f, 3, 11));
	cr_expect(!pyelf_lacks_pymalloc(f, 3, 12), "3.12+ cannot be decided from symbols and must not be refused");
	elf_close(f);
}

Test(pymalloc, every_installed_interpreter_has_pymalloc)
{
	static const char *const libs[] = {
		"/root/.pyenv/versions/3.8.18/lib/libpython3.8.so.1.0", "/root/.pyenv/versions/3.9.18/lib/libpython3.9.so.1.0",
		"/root/.pyenv/versions/3.10.13/lib/libpython3.10.so.1.0", "/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0",
		"/usr/bin/python3.11",
	};
	static const int minors[] = { 8, 9, 10, 11, 11 };
	int checked = 0;

	for (size_t i = 0; i < PC_ARRAY_LEN(libs); i++) {
		struct elf_file *f;
		if (access(libs[i], R_OK) != 0)
			continue;
		f = open_path(libs[i]);
		cr_expect(!pyelf_lacks_pymalloc(f, 3, minors[i]), "%s read as built without pymalloc", libs[i]);
		elf_close(f);
		checked++;
	}
	if (!checked)
		cr_skip_test("no CPython 3.8-3.11 installed");
}
