/* pyelf.c: finding the interpreter's ELF object, _PyRuntime and the exact version. */
#include "common/compat.h"
#include "symbols/pyelf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "python/rules.h"
#include "python/mimalloc.h"
#include "symbols/debugfile.h"

/* Oldest and newest minor versions pycensus has layouts for (python/layouts_gen.c). */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Candidate objects: the executable first, then every libpython* the process maps. */
static size_t candidates(const struct maps *maps, const char *exe, const char **out, size_t max)
{
	size_t n = 0;

	out[n++] = exe;
	for (size_t i = 0; i < maps->n && n < max; i++) {
		const char *p = maps->v[i].path;
		bool dup = false;
		if (p[0] != '/' || strncmp(base_name(p), "libpython", 9) != 0)
			continue;
		for (size_t k = 0; k < n; k++)
			dup |= strcmp(out[k], p) == 0;
		if (!dup)
			out[n++] = p;
	}
	return n;
}

size_t pyelf_parse_version(const char *s, size_t len, int *major, int *minor, int *micro)
{
	size_t i = 0;
	int v[3] = { 0, 0, 0 };

	for (int part = 0; part < 3; part++) {
		size_t start = i;
		while (i < len && isdigit((unsigned char)s[i]) && i - start < 3)
			v[part] = v[part] * 10 + (s[i++] - '0');
		if (i == start)
			return 0;
		if (part < 2) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
	}
	*major = v[0];
	*minor = v[1];
	*micro = v[2];
	return i;
}

static void set_version(struct pyelf *p, int major, int minor, int micro, uint32_t hex, const char *src)
{
	p->major = major;
	p->minor = minor;
	p->micro = micro;
	p->version_hex = hex;
	if (micro >= 0)
		snprintf(p->version, sizeof p->version, "%d.%d.%d", major, minor, micro);
	else
		snprintf(p->version, sizeof p->version, "%d.%d", major, minor);
	snprintf(p->version_source, sizeof p->version_source, "%s", src);
}

/* 3.11+: the exported constant Py_Version (PY_VERSION_HEX), read from the file. */
static bool version_from_symbol(struct pyelf *p)
{
	struct elf_sym s;
	uint32_t hex;
	struct pc_err e = { 0 };

	if (!elf_symbol(p->elf, "Py_Version", &s) || elf_read_vaddr(p->elf, s.value, &hex, 4, &e) < 0)
		return false;
	if ((hex >> 24) != 3)
		return false;
	set_version(p, 3, (hex >> 16) & 0xff, (hex >> 8) & 0xff, hex, "Py_Version");
	return true;
}

/* 3.13+: _PyRuntime starts with _Py_DebugOffsets: "xdebugpy" then PY_VERSION_HEX as u64. */
static bool version_from_debug_offsets(struct pyelf *p, struct mem *mem)
{
	uint8_t head[16];
	uint64_t hex;

	if (mem_read(mem, p->runtime, head, sizeof head, NULL) < 0 || memcmp(head, "xdebugpy", 8) != 0)
		return false;
	memcpy(&hex, head + 8, 8);
	if ((hex >> 24) != 3 || hex > 0xffffffffULL)
		return false;
	set_version(p, 3, (int)(hex >> 16) & 0xff, (int)(hex >> 8) & 0xff, (uint32_t)hex, "debug offsets");
	return true;
}

/* Py_GetVersion() fills a static buffer in .bss with sys.version at start-up:
 * "3.9.18 (main, ...) [GCC ...]". The PY_VERSION literal itself is tail-merged in .rodata and
 * cannot be searched for (docs/cpython.md 3.2). */
static bool scan_version_text(struct pyelf *p, const char *buf, size_t len)
{
	for (size_t i = 0; i + 8 < len; i++) {
		int ma, mi, mc;
		size_t n;
		if (buf[i] != '2' && buf[i] != '3')
			continue;
		if (i > 0 && buf[i - 1] != '\0')
			continue;
		n = pyelf_parse_version(buf + i, len - i, &ma, &mi, &mc);
		if (!n)
			continue;
		while (i + n < len && (isalnum((unsigned char)buf[i + n]) || buf[i + n] == '+'))
			n++;
		if (i + n + 2 <= len && buf[i + n] == ' ' && buf[i + n + 1] == '(') {
			set_version(p, ma, mi, mc, 0, "sys.version text");
			return true;
		}
	}
	return false;
}

static bool version_from_bss(struct pyelf *p, struct mem *mem)
{
	struct elf_section bss;
	char *buf;
	bool found;

	if (!elf_section(p->elf, ".bss", &bss) || bss.size == 0 || bss.size > (64u << 20))
		return false;
	buf = xmalloc(bss.size);
	found = mem_read(mem, bss.addr + p->bias, buf, bss.size, NULL) == 0 &&
		scan_version_text(p, buf, bss.size);
	free(buf);
	return found;
}

/* "libpython3.12.so.1.0", "python3.11", "libpython2.7.so": the minor version only. */
static bool version_from_name(struct pyelf *p)
{
	const char *b = base_name(p->maps_path), *s = strstr(b, "python");
	int ma = 0, mi = 0;

	if (!s || sscanf(s, "python%d.%d", &ma, &mi) != 2)
		return false;
	set_version(p, ma, mi, -1, 0, "file name");
	return true;
}

static void describe(struct pyelf *p)
{
	snprintf(p->build, sizeof p->build, "%.150s (%s%s%s)", p->shared ? base_name(p->maps_path) : p->maps_path,
		 p->shared ? "shared" : "static", p->stripped ? ", stripped" : "",
		 p->deleted ? ", deleted since mapped" : "");
}

/* Where the files come from: a live process's through /proc/PID (fn NULL), a core's through fn. */
struct opener {
	pid_t pid;            /* 0 for a core: debug files are looked for in our own filesystem */
	pyelf_file_fn *fn;
	void *arg;
};

/* The path to open for a file the maps name; true when it was deleted since it was mapped. */
static bool open_path(const struct opener *o, const struct maps *maps, const char *mapped, char *out, size_t len)
{
	if (o->fn) {
		if (!o->fn(o->arg, mapped, out, len))
			out[0] = '\0';
		return false;
	}
	return proc_mapped_file(o->pid, maps, mapped, out, len);
}

/* A stripped object's .symtab from its detached debug file, when there is one; a missing one is
 * not an error (only .dynsym is known then). Records which file supplies the symbols. */
static void find_symbols(struct pyelf *p, pid_t pid)
{
	char prefix[64];
	const char *path;
	size_t n;

	p->stripped = !elf_has_symtab(p->elf);
	if (p->stripped)
		elf_find_debug_for(p->elf, pid, p->maps_path, NULL);
	p->has_symtab = elf_has_symtab(p->elf);
	path = elf_symtab_path(p->elf);
	if (!path)
		return;
	n = (size_t)snprintf(prefix, sizeof prefix, "/proc/%d/root/", (int)pid);
	if (n < sizeof prefix && strncmp(path, prefix, n) == 0)
		path += n - 1;
	snprintf(p->symbols_path, sizeof p->symbols_path, "%s", path);
}

/* Up to 3.11 obmalloc.c defines _PyObject_DebugMallocStats (exported, so stripping keeps it) only
 * WITH_PYMALLOC [SRC]; every build here with pymalloc has it. From 3.12 it exists either way and a
 * build without pymalloc looks like PYTHONMALLOC=malloc (no arenas) at run time. */
bool pyelf_lacks_pymalloc(const struct elf_file *f, int major, int minor)
{
	struct elf_sym s;

	return py_debugmallocstats_proves_pymalloc(major, minor) &&
	       !elf_symbol(f, "_PyObject_DebugMallocStats", &s);
}

/* From the target: its _Py_DebugOffsets (3.13+, python/rules.h py_free_threaded) when they can be
 * read and agree with themselves, else the function only Py_GIL_DISABLED builds define
 * (Objects/object.c). `how` says which told. */
static bool free_threaded(const struct pyelf *p, struct mem *mem, char *how, size_t len)
{
	uint8_t raw[1024];
	size_t n = layout_debug_offsets_len(p->version_hex);
	struct elf_sym s;

	if (n && n <= sizeof raw && mem_read(mem, p->runtime, raw, n, NULL) == 0) {
		enum py_build b = py_free_threaded(raw, n, p->version_hex);

		snprintf(how, len, "its _Py_DebugOffsets: free_threaded 1, a 32-byte object header");
		if (b != PY_BUILD_UNKNOWN)
			return b == PY_BUILD_FREE_THREADED;
	}
	snprintf(how, len, "it defines _Py_MergeZeroLocalRefcount");
	return elf_symbol(p->elf, "_Py_MergeZeroLocalRefcount", &s);
}

static int check_supported(struct pyelf *p, struct mem *mem, struct pc_err *e)
{
	struct elf_sym s;
	char why[160], how[80];

	const char *refused;

	if (!py_version_supported(p->major, p->minor, why, sizeof why))
		return pc_fail(e, PC_EUNSUPPORTED, "found CPython %s (%s, from %s); %s", p->version,
			       p->maps_path, p->version_source, why);
	if (p->version_hex && (refused = py_release_refused(p->major, p->minor, p->micro)))
		return pc_fail(e, PC_EUNSUPPORTED, "found CPython %s (%s): %s", p->version, p->maps_path,
			       refused);
	/* Py_DEBUG builds (Py_REF_DEBUG, often Py_TRACE_REFS) change object headers. */
	if (elf_symbol(p->elf, "_Py_NegativeRefcount", &s) || elf_symbol(p->elf, "_Py_RefTotal", &s))
		return pc_fail(e, PC_EUNSUPPORTED, "found a debug build of CPython %s (%s); use a release build",
			       p->version, p->maps_path);
	/* a free-threaded build is read from its mimalloc heaps when python/ knows them (3.13t) */
	if (free_threaded(p, mem, how, sizeof how) && !py_mimalloc(p->major, p->minor))
		return pc_fail(e, PC_EUNSUPPORTED, "found a free-threaded build of CPython %s (%s; %s): %s",
			       p->version, p->maps_path, how, PY_FREE_THREADED_WHY);
	if (pyelf_lacks_pymalloc(p->elf, p->major, p->minor))
		return pc_fail(e, PC_EUNSUPPORTED, "found CPython %s built without pymalloc (%s has no _PyObject_DebugMallocStats)",
			       p->version, p->maps_path);
	return 0;
}

static int detect_version(struct pyelf *p, struct mem *mem, struct pc_err *e)
{
	if (!version_from_symbol(p) && !version_from_debug_offsets(p, mem) && !version_from_bss(p, mem) &&
	    !version_from_name(p))
		return pc_fail(e, PC_EUNSUPPORTED, "cannot tell which CPython version %s is", p->maps_path);
	return check_supported(p, mem, e);
}

/* Python 2.7 and 3.6 have no _PyRuntime: name what was found instead of "not Python". */
static int old_python(struct pyelf *p, struct mem *mem, struct pc_err *e)
{
	struct elf_sym s;

	if (!elf_symbol(p->elf, "Py_GetVersion", &s) && !elf_symbol(p->elf, "Py_Initialize", &s))
		return 0;
	if (!version_from_bss(p, mem) && !version_from_name(p))
		set_version(p, 0, 0, -1, 0, "symbols");
	char why[160];

	py_version_supported(p->major, p->minor, why, sizeof why);
	return pc_fail(e, PC_EUNSUPPORTED, "found CPython %s (%s, from %s) without _PyRuntime; %s",
		       p->major ? p->version : "older than 3.7", p->maps_path, p->version_source, why);
}

/* Opens one candidate; 1 when it holds _PyRuntime, 0 when not, -1 on a hard error. */
static int try_object(struct pyelf *p, const struct opener *o, const char *path, const struct maps *maps,
		      struct mem *mem, struct pc_err *e)
{
	struct elf_sym s;
	struct pc_err ignore = { 0 };
	pid_t pid = o->pid;

	snprintf(p->maps_path, sizeof p->maps_path, "%s", path);
	p->deleted = open_path(o, maps, path, p->file_path, sizeof p->file_path);
	p->elf = p->file_path[0] ? elf_open(p->file_path, &ignore) : NULL;
	if (!p->elf && p->deleted && ignore.code == PC_EPERM)
		return pc_fail(e, PC_EPERM, "%s was deleted or replaced after process %d mapped it (a package "
			       "upgrade?); the copy it still maps opens only through %s, which the kernel allows "
			       "with CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE: run pycensus as root", path, (int)pid,
			       p->file_path);
	if (!p->elf)
		return 0;
	p->shared = strncmp(base_name(path), "libpython", 9) == 0;
	if (elf_load_bias(p->elf, maps, path, &p->bias, &ignore) == 0) {
		if (elf_symbol(p->elf, "_PyRuntime", &s)) {
			p->runtime = s.value + p->bias;
			find_symbols(p, o->fn ? 0 : pid);
			return 1;
		}
		if (old_python(p, mem, e) < 0)
			return -1;
	}
	elf_close(p->elf);
	p->elf = NULL;
	return 0;
}

/* Another libpython after the one read that holds a _PyRuntime too (a program that loaded two
 * CPythons): named in p->other, since only one is read. */
static void second_runtime(struct pyelf *p, const struct opener *o, const struct maps *maps, const char **rest,
			   size_t n)
{
	char path[PATH_MAX + 64];
	struct elf_sym s;

	for (size_t i = 0; i < n && !p->other[0]; i++) {
		struct elf_file *f;
		if (strncmp(base_name(rest[i]), "libpython", 9) != 0 || strcmp(rest[i], p->maps_path) == 0)
			continue;
		open_path(o, maps, rest[i], path, sizeof path);
		if (!path[0] || !(f = elf_open(path, NULL)))
			continue;
		if (elf_inode(f) != elf_inode(p->elf) && elf_symbol(f, "_PyRuntime", &s))
			snprintf(p->other, sizeof p->other, "%s", rest[i]);
		elf_close(f);
	}
}

static int open_with(struct pyelf *p, const struct opener *o, const char *exe, const struct maps *maps,
		     struct mem *mem, struct pc_err *e)
{
	const char *cand[16];
	size_t n = candidates(maps, exe, cand, PC_ARRAY_LEN(cand));

	for (size_t i = 0; i < n; i++) {
		int r = try_object(p, o, cand[i], maps, mem, e);
		if (r < 0)
			goto fail;
		if (r == 0)
			continue;
		describe(p);
		if (detect_version(p, mem, e) < 0)
			goto fail;
		second_runtime(p, o, maps, cand + i + 1, n - i - 1);
		return 0;
	}
	pc_fail(e, PC_ENOTPYTHON, "%s %d (%s) maps no CPython interpreter: no _PyRuntime in it or in any libpython",
		o->fn ? "the core of process" : "process", (int)o->pid, exe);
fail:
	pyelf_close(p);
	return -1;
}

int pyelf_open(struct pyelf *p, pid_t pid, const struct maps *maps, struct mem *mem, struct pc_err *e)
{
	char exe[PATH_MAX];
	struct opener o = { pid, NULL, NULL };

	memset(p, 0, sizeof *p);
	if (proc_exe(pid, exe, sizeof exe, NULL, e) < 0)
		return -1;
	return open_with(p, &o, exe, maps, mem, e);
}

int pyelf_open_files(struct pyelf *p, pid_t pid, const char *exe, const struct maps *maps, struct mem *mem,
		     pyelf_file_fn *fn, void *arg, struct pc_err *e)
{
	struct opener o = { pid, fn, arg };

	memset(p, 0, sizeof *p);
	return open_with(p, &o, exe, maps, mem, e);
}

void pyelf_close(struct pyelf *p)
{
	elf_close(p->elf);
	p->elf = NULL;
}

static struct pyelf_sym *symcache_find(struct pyelf_symcache *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return &c->v[i];
	return NULL;
}

uint64_t pyelf_symbol(const struct pyelf *p, const char *name)
{
	struct elf_sym s;
	struct pyelf_sym *cached = p->syms ? symcache_find(p->syms, name) : NULL;
	uint64_t v;

	if (!p->elf)
		return cached ? cached->value : 0;
	v = elf_symbol(p->elf, name, &s) ? s.value + p->bias : 0;
	if (p->syms && !cached && strlen(name) < sizeof cached->name) {
		xgrow((void **)&p->syms->v, &p->syms->cap, p->syms->n + 1, sizeof *p->syms->v);
		snprintf(p->syms->v[p->syms->n].name, sizeof p->syms->v[0].name, "%s", name);
		p->syms->v[p->syms->n++].value = v;
	}
	return v;
}

void pyelf_symcache_release(struct pyelf_symcache *c)
{
	free(c->v);
	memset(c, 0, sizeof *c);
}
