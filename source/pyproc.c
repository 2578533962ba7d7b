/* pyproc.c: opening a CPython process and validating the layout against it. */
#include "common/compat.h"
#include "source/pyproc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "python/dwarf.h"
#include "python/rules.h"

void pyproc_describe(const struct pyproc *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s; layout %s%s", p->elf.build, p->L.source,
		 p->L.debug_offsets ? " + debug offsets" : "");
}

const char *pyproc_newer_warning(const struct pyproc *p, char *buf, size_t len)
{
	if (!p->L.newer)
		return NULL;
	snprintf(buf, len, "CPython %s is newer than every layout pycensus knows: read with the %d.%d layout "
		 "(%s) and its own _Py_DebugOffsets, which checked out; figures the debug offsets do not "
		 "cover may be wrong", p->elf.version, p->L.major, p->L.minor, p->L.source);
	return buf;
}

const char *pyproc_note(const struct pyproc *p, unsigned i)
{
	return i < p->nnotes ? p->notes[i] : NULL;
}

static void note(struct pyproc *p, const char *fmt, ...) PC_PRINTF(2, 3);
static void note(struct pyproc *p, const char *fmt, ...)
{
	va_list ap;

	if (p->nnotes >= PYPROC_MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(p->notes[p->nnotes++], sizeof p->notes[0], fmt, ap);
	va_end(ap);
}

bool pyproc_readable(const struct pyproc *p, uint64_t addr, uint64_t len)
{
	return addr && (addr & 7) == 0 && maps_readable(&p->maps, addr, len);
}

/* A pointer-sized word at an address aligned to `align` bytes. */
static int read_word(struct pyproc *p, uint64_t addr, unsigned align, uint64_t *v, const char *what,
		     struct pc_err *e)
{
	if (!addr || (addr & (align - 1)) || !maps_readable(&p->maps, addr, 8) ||
	    mem_read_u64(&p->mem, addr, v, NULL) < 0)
		return pc_fail(e, PC_ELAYOUT, "cannot read %s at %#llx", what, (unsigned long long)addr);
	return 0;
}

static int read_ptr(struct pyproc *p, uint64_t addr, uint64_t *v, const char *what, struct pc_err *e)
{
	return read_word(p, addr, 8, v, what, e);
}

static int read_ptr_field(struct pyproc *p, uint64_t base, int32_t off, uint64_t *v, const char *what,
			  struct pc_err *e)
{
	if (off < 0)
		return pc_fail(e, PC_ELAYOUT, "the %s layout has no %s", p->elf.version, what);
	return read_ptr(p, base + (uint64_t)off, v, what, e);
}

/* PyType_Type is its own type, and its basicsize is sizeof(PyHeapTypeObject): a check of the
 * object header and of the type-object offsets at once. */
static int validate_type_type(struct pyproc *p, struct pc_err *e)
{
	uint64_t self, basicsize, name;
	char buf[16];
	const struct pyoffsets *o = &p->L.off;

	if (!p->type_type)
		return pc_fail(e, PC_ELAYOUT, "no PyType_Type symbol in %s", p->elf.maps_path);
	if (read_ptr_field(p, p->type_type, o->ob_type, &self, "PyType_Type.ob_type", e) < 0 ||
	    read_ptr_field(p, p->type_type, o->tp_basicsize, &basicsize, "PyType_Type.tp_basicsize", e) < 0 ||
	    read_ptr_field(p, p->type_type, o->tp_name, &name, "PyType_Type.tp_name", e) < 0)
		return -1;
	if (self != p->type_type)
		return pc_fail(e, PC_ELAYOUT, "PyType_Type is not its own type (ob_type %#llx)", (unsigned long long)self);
	if (basicsize != (uint64_t)o->heaptype_size)
		return pc_fail(e, PC_ELAYOUT, "type.__basicsize__ is %llu, expected %d for %s",
			       (unsigned long long)basicsize, o->heaptype_size, p->elf.version);
	if (mem_read_cstr(&p->mem, name, buf, sizeof buf, NULL) < 0 || strcmp(buf, "type") != 0)
		return pc_fail(e, PC_ELAYOUT, "PyType_Type.tp_name is not \"type\"");
	return 0;
}

/* The main interpreter's first thread state points back at it. */
static int validate_threads(struct pyproc *p, struct pc_err *e)
{
	uint64_t ts, back;
	const struct pyoffsets *o = &p->L.off;

	if (read_ptr_field(p, p->interp, o->is_threads_head, &ts, "interp->threads.head", e) < 0)
		return -1;
	for (unsigned n = 0; ts && n < 100000; n++) {
		if (read_ptr_field(p, ts, o->ts_interp, &back, "tstate->interp", e) < 0)
			return -1;
		if (back != p->interp)
			return pc_fail(e, PC_ELAYOUT, "thread state %#llx does not point back to interpreter %#llx",
				       (unsigned long long)ts, (unsigned long long)p->interp);
		p->nthreads++;
		if (read_ptr_field(p, ts, o->ts_next, &ts, "tstate->next", e) < 0)
			return -1;
	}
	if (p->nthreads == 0)
		return pc_fail(e, PC_ENOTRUNNING, "the main interpreter has no thread state yet");
	return 0;
}

/* Every generation head is either empty (points to itself) or its first node points back. */
static int validate_gc(struct pyproc *p, struct pc_err *e)
{
	const struct pylayout *L = &p->L;

	p->gc_state = L->off.rt_gc >= 0 ? p->runtime + (uint64_t)L->off.rt_gc
		                        : p->interp + (uint64_t)L->off.is_gc;
	if (L->off.gc_collecting >= 0) {
		uint32_t collecting = 0;
		if (mem_read_u32(&p->mem, p->gc_state + (uint64_t)L->off.gc_collecting, &collecting, NULL) == 0)
			p->gc_collecting = collecting != 0;
	}
	for (unsigned g = 0; py_gc_lists_link_objects(L) && g < L->ngenerations; g++) {
		uint64_t head = p->gc_state + (uint64_t)L->off.gc_generations + (uint64_t)g * (uint64_t)L->off.gc_gen_size;
		uint64_t next, prev;
		/* Debian's 3.13 (gchead-alignment.diff) aligns PyGC_Head to 4 bytes: the heads
		 * inside the GC state may be 4-aligned (generations at offset 20). */
		if (read_word(p, head + (uint64_t)L->off.gch_next, 4, &next, "GC generation head", e) < 0)
			return -1;
		if (next == head)
			continue;
		if (read_ptr(p, next + (uint64_t)L->off.gch_prev, &prev, "GC list node", e) < 0)
			return -1;
		/* _gc_prev carries flag bits in its two low bits (docs/cpython.md 3.4); during a collection
		 * it holds reference counts instead (gcmodule.c update_refs), so only _gc_next links. */
		if ((prev & ~(uint64_t)3) != head && !p->gc_collecting)
			return pc_fail(e, PC_ELAYOUT, "GC generation %u list is inconsistent", g);
	}
	return 0;
}

static int find_interp(struct pyproc *p, struct pc_err *e)
{
	const struct pylayout *L = &p->L;

	if (read_ptr_field(p, p->runtime, L->off.rt_interp_main, &p->interp, "_PyRuntime.interpreters.main", e) < 0)
		return -1;
	if (!p->interp)
		return pc_fail(e, PC_ENOTRUNNING, "_PyRuntime has no main interpreter (not initialised, or finalised)");
	if (L->arenas_in_interp) {
		uint64_t o = p->interp + (uint64_t)L->off.is_obmalloc;
		if (!L->obmalloc_is_pointer)
			p->obmalloc = o;
		else if (read_ptr(p, o, &p->obmalloc, "interp->obmalloc", e) < 0)
			return -1;
	}
	return 0;
}

/* One table: overlaid with the target's own _Py_DebugOffsets (3.13+) and validated. */
static int try_layout(struct pyproc *p, const struct pylayout_gen *g, bool newer, const uint8_t *raw,
		      size_t rawlen, struct pc_err *e)
{
	layout_from_table(g, &p->L);
	p->L.newer = newer;
	p->nthreads = 0;
	p->gc_collecting = false;
	p->obmalloc = 0;
	if (raw && layout_overlay_debug_offsets(&p->L, raw, rawlen, p->elf.version_hex, e) < 0)
		return -1;
	if (validate_type_type(p, e) < 0 || find_interp(p, e) < 0 || validate_threads(p, e) < 0 ||
	    validate_gc(p, e) < 0)
		return -1;
	return 0;
}

/* The interpreter's own DWARF: the file itself when it has a symbol table of its own, else the
 * detached debug file found for it (symbols_path, as the target sees it). */
static bool dwarf_path(const struct pyproc *p, char *buf, size_t len)
{
	if (!p->elf.stripped && p->elf.file_path[0])
		return snprintf(buf, len, "%s", p->elf.file_path) < (int)len;
	if (p->elf.symbols_path[0])
		return snprintf(buf, len, "/proc/%d/root%s", (int)p->pid, p->elf.symbols_path) < (int)len;
	return false;
}

/* A layout from the build's DWARF, with the rules of the version `like` is a table of. */
static int try_dwarf(struct pyproc *p, const struct pylayout_gen *like, bool newer, const uint8_t *raw,
		     size_t rawlen, struct pc_err *e)
{
	static const char source[] = "the build's DWARF";
	struct pylayout_gen g = { .major = like->major, .minor = like->minor, .source = source };
	char path[PATH_MAX + 64];

	if (!dwarf_path(p, path, sizeof path))
		return pc_fail(e, PC_ELAYOUT, "no DWARF for %s (install its debug symbols)", p->elf.maps_path);
	if (dwarf_layout_read(path, &g.off, e) < 0)
		return -1;
	return try_layout(p, &g, newer, raw, rawlen, e);
}

/* PYCENSUS_LAYOUT=dwarf: only the build's DWARF; =tables: only pycensus's tables; unset: the
 * tables, then the DWARF. */
static int layout_preference(void)
{
	const char *v = getenv("PYCENSUS_LAYOUT");

	return !v ? 0 : strcmp(v, "dwarf") == 0 ? 1 : strcmp(v, "tables") == 0 ? -1 : 0;
}

/* What the target's own _Py_DebugOffsets say that the best table does not (a patch release or a
 * distribution's patch that moved fields), and the way out: its DWARF. */
static const char *differs(const struct pyproc *p, const struct pylayout_gen *g, const uint8_t *raw,
			   size_t rawlen, char *buf, size_t len)
{
	char first[160];

	if (raw && layout_debug_offsets_mismatches(g, raw, rawlen, p->elf.version_hex, first, sizeof first) > 0)
		snprintf(buf, len, "; the target's own _Py_DebugOffsets differ (%s): install its debug "
			 "symbols and pycensus reads the layout from their DWARF", first);
	else
		snprintf(buf, len, "; with its debug symbols installed pycensus reads the layout from "
			 "their DWARF");
	return buf;
}

/* Picks the layout: every table of the version, best confirmed by the target first, then the
 * build's own DWARF when one is at hand (a build the tables do not describe: a distribution's
 * patch, a patch release that moved fields); the first that validates against the memory wins.
 * Reports the best candidate's failure otherwise. */
int pyproc_finish(struct pyproc *p, struct pc_err *e)
{
	const struct pylayout_gen *cand[8];
	uint8_t raw[1024];
	size_t rawlen = layout_debug_offsets_len(p->elf.version_hex), n;
	struct pc_err first = { 0 };
	bool newer = false;
	int pref = layout_preference();
	char why[320];

	p->runtime = p->elf.runtime;
	p->type_type = pyelf_symbol(&p->elf, "PyType_Type");
	p->object_type = pyelf_symbol(&p->elf, "PyBaseObject_Type");
	if (rawlen > sizeof raw || (rawlen && mem_read(&p->mem, p->runtime, raw, rawlen, e) < 0))
		return -1;
	n = layout_ranked(p->elf.major, p->elf.minor, p->elf.version_hex, rawlen ? raw : NULL, rawlen,
			  cand, PC_ARRAY_LEN(cand), &newer, e);
	if (n == 0)
		return -1;
	if (pref > 0) {
		if (try_dwarf(p, cand[0], newer, rawlen ? raw : NULL, rawlen, e) == 0)
			return 0;
		return pc_fail(e, e->code == PC_EUNSUPPORTED ? PC_EUNSUPPORTED : PC_ELAYOUT,
			       "PYCENSUS_LAYOUT=dwarf: no layout from the DWARF of CPython %s", p->elf.version);
	}
	for (size_t i = 0; i < n; i++) {
		struct pc_err ei = { 0 };
		if (try_layout(p, cand[i], newer, rawlen ? raw : NULL, rawlen, &ei) == 0)
			return 0;
		if (i == 0)
			first = ei;
	}
	if (pref == 0 && try_dwarf(p, cand[0], newer, rawlen ? raw : NULL, rawlen, &(struct pc_err){ 0 }) == 0)
		return 0;
	*e = first;
	/* a free-threaded build, by its own debug offsets; an interpreter not (or no longer) running */
	if (first.code == PC_EUNSUPPORTED || first.code == PC_ENOTRUNNING)
		return -1;
	if (newer)
		return pc_fail(e, PC_EUNSUPPORTED,
			       "CPython %s is newer than any layout pycensus knows (newest: %s) and its "
			       "own description does not check out", p->elf.version, cand[0]->source);
	return pc_fail(e, PC_ELAYOUT, "CPython %s layout (from %s%s) does not validate%s", p->elf.version,
		       cand[0]->source, n > 1 ? " and the other tables of its version" : "",
		       differs(p, cand[0], rawlen ? raw : NULL, rawlen, why, sizeof why));
}

/* The runtime's interpreter list (interpreters.head, newest first, linked by next; the main
 * interpreter, the first created, is last): pycensus reads the main one only, so the others are
 * named as skipped. Whether their objects are counted depends on whose arenas they use. */
static void count_interpreters(struct pyproc *p)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t is = 0;
	unsigned subs;

	p->ninterps = 0;
	if (o->rt_interp_head < 0 || o->is_next < 0 ||
	    mem_read_u64(&p->mem, p->runtime + (uint64_t)o->rt_interp_head, &is, NULL) < 0)
		return;
	/* bounded: a list that loops or runs into garbage stops the count */
	p->nsub_gc_states = 0;
	while (is && p->ninterps < 1000 && pyproc_readable(p, is, (uint64_t)o->is_next + 8)) {
		p->ninterps++;
		if (is != p->interp && o->rt_gc < 0 && o->is_gc >= 0 && p->nsub_gc_states < PC_ARRAY_LEN(p->sub_gc_states))
			p->sub_gc_states[p->nsub_gc_states++] = is + (uint64_t)o->is_gc;
		if (mem_read_u64(&p->mem, is + (uint64_t)o->is_next, &is, NULL) < 0)
			break;
	}
	if (p->ninterps < 2)
		return;
	subs = p->ninterps - 1;
	note(p, "%u interpreters in the process: the main one is read, its %u sub-interpreter%s skipped (%s)",
	     p->ninterps, subs, subs == 1 ? "" : "s", p->L.arenas_in_interp ?
	     "objects in a sub-interpreter's own arenas are not counted, its threads are not listed" :
	     "their objects share the arenas and are counted, their threads are not listed");
}

/* Py_FinalizeEx sets _PyRuntime's finalizing thread state once the atexit handlers and the
 * non-daemon threads are done, then tears the modules and their objects down: a census from then
 * on counts a heap coming apart, not the program's memory. Read under the census's stop; a field
 * the layout lacks or an unreadable word says nothing. (`initialized` is no such signal at the
 * start: it is set before site is imported, so sitecustomize already runs with it; measured on
 * 3.8, 3.11, 3.14.) */
static void lifecycle_note(struct pyproc *p)
{
	int32_t off = p->L.off.rt_finalizing;
	uint64_t finalizing = 0;

	if (off >= 0 && mem_read_u64(&p->mem, p->runtime + (uint64_t)off, &finalizing, NULL) == 0 && finalizing)
		note(p, "the interpreter is finalising (its exit has begun and its modules and objects are being "
		     "torn down): what pycensus reads is the teardown, not the running program");
}

/* What a reader of the figures should know about the process itself. */
static void process_notes(struct pyproc *p)
{
	struct proc_status st;
	struct pc_err quiet = { 0 };

	lifecycle_note(p);
	count_interpreters(p);
	if (p->elf.other[0])
		note(p, "a second CPython is mapped, %s: skipped (pycensus reads the interpreter in %s)",
		     p->elf.other, p->elf.maps_path);
	/* read through a thread that is not the leader: is it because the main thread exited? */
	if (proc_status_read(p->pid, &st, &quiet) < 0 && st.tgid && st.tgid != p->pid &&
	    proc_task_state(st.tgid, st.tgid) == 'Z')
		note(p, "the main thread of process %d has exited; its other threads run on and were read "
		     "through thread %d", (int)st.tgid, (int)p->pid);
}

int pyproc_open_recorded(struct pyproc *p, pid_t pid, struct mem_recorder *rec, struct pyelf_symcache *syms,
			 struct pc_err *e)
{
	memset(p, 0, sizeof *p);
	p->pid = pid;
	mem_init_pid(&p->mem, pid);
	if (maps_read(pid, &p->maps, e) < 0 || pyelf_open(&p->elf, pid, &p->maps, &p->mem, e) < 0)
		goto fail;
	/* what the census reads from here on is what a replay needs (version detection is stored) */
	p->elf.syms = syms;
	p->mem.rec = rec;
	/* A pyproc lives for one census. Not before the recorder: a chunk read unrecorded would
	 * serve later reads the image then lacks. */
	mem_use_chunks(&p->mem);
	if (pyproc_finish(p, e) < 0)
		goto fail;
	process_notes(p);
	return 0;
fail:
	pyproc_close(p);
	return -1;
}

int pyproc_open(struct pyproc *p, pid_t pid, struct pc_err *e)
{
	return pyproc_open_recorded(p, pid, NULL, NULL, e);
}

void pyproc_close(struct pyproc *p)
{
	pyelf_close(&p->elf);
	mem_release(&p->mem);
	maps_release(&p->maps);
}
