/* debugfile.c: finding a stripped ELF file's detached debug file (a distribution's -dbg package):
 * by build-id under debug roots (DIR/.build-id/NN/REST.debug), then by its .gnu_debuglink name,
 * and the standard roots for a file of a process. symbols/elf.c checks and attaches a candidate. */
#include "common/compat.h"
#include "symbols/debugfile.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

/* Directories elf_find_debug_for() searches: PYCENSUS_DEBUG_DIR entries beyond this are ignored. */
#define DEBUG_ROOTS_MAX 16

/* The directory part of path, lexically: "/a/b/c" -> "/a/b", "/a" -> "", "c" -> ".". */
static void dir_of(const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (!slash)
		snprintf(out, outlen, ".");
	else
		snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), path);
}

int elf_find_debug(struct elf_file *f, const char *const *roots, size_t nroots,
		   const char *target_path, struct pc_err *e)
{
	char cand[PATH_MAX], dir[PATH_MAX], tdir[PATH_MAX];
	struct pc_err why = { 0 };
	size_t idlen = strlen(elf_build_id(f));

	if (elf_has_symtab(f))
		return 0;
	if (elf_is_debug_file(f))
		return pc_fail(e, PC_EINTERNAL, "%s is itself a debug file", elf_path(f));
	if (idlen >= 4) {
		for (size_t i = 0; i < nroots; i++) {
			int n = snprintf(cand, sizeof cand, "%s/.build-id/%.2s/%s.debug", roots[i],
					 elf_build_id(f), elf_build_id(f) + 2);

			if (n > 0 && (size_t)n < sizeof cand && elf_try_debug(f, cand, false, &why) == 0)
				return 0;
		}
	}
	if (elf_debuglink(f)[0]) {
		/* gdb's order: beside the file, its .debug/, then each root + the file's directory. */
		dir_of(elf_path(f), dir, sizeof dir);
		dir_of(target_path ? target_path : elf_path(f), tdir, sizeof tdir);
		for (size_t i = 0; i < nroots + 2; i++) {
			int n = i == 0 ? snprintf(cand, sizeof cand, "%s/%s", dir, elf_debuglink(f))
				: i == 1 ? snprintf(cand, sizeof cand, "%s/.debug/%s", dir, elf_debuglink(f))
				: snprintf(cand, sizeof cand, "%s%s/%s", roots[i - 2], tdir, elf_debuglink(f));

			if (n > 0 && (size_t)n < sizeof cand && strcmp(cand, elf_path(f)) != 0 &&
			    elf_try_debug(f, cand, true, &why) == 0)
				return 0;
		}
	}
	if (why.code != PC_EOK)
		return pc_fail(e, why.code, "%s", why.detail);
	return pc_fail(e, PC_ENOTPYTHON, "no debug file for %s (build-id %s%s%s) in %zu director%s",
		       elf_path(f), idlen ? elf_build_id(f) : "none", elf_debuglink(f)[0] ? ", .gnu_debuglink " : "",
		       elf_debuglink(f), nroots, nroots == 1 ? "y" : "ies");
}

static void add_root(char (*roots)[PATH_MAX], size_t *n, const char *fmt, ...) PC_PRINTF(3, 4);
static void add_root(char (*roots)[PATH_MAX], size_t *n, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (*n >= DEBUG_ROOTS_MAX)
		return;
	va_start(ap, fmt);
	len = vsnprintf(roots[*n], PATH_MAX, fmt, ap);
	va_end(ap);
	if (len <= 0 || len >= PATH_MAX)
		return;
	for (size_t i = 0; i < *n; i++)
		if (strcmp(roots[i], roots[*n]) == 0)
			return;
	(*n)++;
}

int elf_find_debug_for(struct elf_file *f, pid_t pid, const char *target_path, struct pc_err *e)
{
	char (*roots)[PATH_MAX];
	const char *ptrs[DEBUG_ROOTS_MAX];
	const char *env = getenv("PYCENSUS_DEBUG_DIR");
	char dir[PATH_MAX], parent[PATH_MAX];
	size_t n = 0;
	int r;

	if (elf_has_symtab(f))
		return 0;
	roots = xmalloc(DEBUG_ROOTS_MAX * sizeof *roots);
	while (env && *env) {
		size_t len = strcspn(env, ":");

		if (len > 0)
			add_root(roots, &n, "%.*s", (int)len, env);
		env += len + (env[len] == ':');
	}
	if (pid > 0)
		add_root(roots, &n, "/proc/%d/root/usr/lib/debug", (int)pid);
	else
		add_root(roots, &n, "/usr/lib/debug");
	/* The install's own prefix, for a private tree such as PREFIX/usr/bin/python3.X beside
	 * PREFIX/usr/lib/debug: <dir>/../lib/debug, written without "..", and for a library in a
	 * multiarch directory (PREFIX/usr/lib/x86_64-linux-gnu) the lib directory's debug/. */
	dir_of(elf_path(f), dir, sizeof dir);
	dir_of(dir, parent, sizeof parent);
	if (strchr(dir, '/') && parent[0]) {
		const char *base = strrchr(parent, '/');

		add_root(roots, &n, "%s/lib/debug", parent);
		base = base ? base + 1 : parent;
		if (strcmp(base, "lib") == 0 || strcmp(base, "lib64") == 0)
			add_root(roots, &n, "%s/debug", parent);
	}
	for (size_t i = 0; i < n; i++)
		ptrs[i] = roots[i];
	r = elf_find_debug(f, ptrs, n, target_path, e);
	free(roots);
	return r;
}
