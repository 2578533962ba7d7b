/* pyframes.c: walking a thread's Python frames. */
#include "common/compat.h"
#include "frames/pyframes.h"

#include <stdlib.h>
#include <string.h>
#include "common/ptrmap.h"
#include "common/xalloc.h"
#include "objects/linetable.h"
#include "objects/pyobj.h"
#include "python/rules.h"

#define MAX_LINETABLE (1u << 20) /* bytes; the largest real tables are a few KiB */

struct code_info {
	bool ok;
	char *name, *file;
	uint8_t *tab;
	size_t tablen;
	int firstlineno, firsttraceable;
};

struct pyframes {
	struct pyproc *p;
	uint64_t code_type;    /* &PyCode_Type */
	struct ptrmap index;   /* code address -> slot + 1 */
	struct code_info *codes;
	size_t n, cap;
};

struct pyframes *pyframes_new(struct pyproc *p)
{
	struct pyframes *w = xcalloc(1, sizeof *w);

	w->p = p;
	w->code_type = p->elf.elf ? pyelf_symbol(&p->elf, "PyCode_Type") : 0;
	ptrmap_init(&w->index);
	return w;
}

void pyframes_free(struct pyframes *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++) {
		free(w->codes[i].name);
		free(w->codes[i].file);
		free(w->codes[i].tab);
	}
	free(w->codes);
	ptrmap_release(&w->index);
	free(w);
}

static int32_t i32_at(const uint8_t *b, int32_t off)
{
	int32_t v;
	memcpy(&v, b + off, 4);
	return v;
}

static uint64_t u64_at(const uint8_t *b, int32_t off)
{
	uint64_t v;
	memcpy(&v, b + off, 8);
	return v;
}

/* co_lnotab / co_linetable: a bytes object, copied whole (bounded). */
static int read_table(struct pyproc *p, uint64_t bytes, struct code_info *c)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t len;

	if (!pyproc_readable(p, bytes, (uint64_t)o->bytes_sval) ||
	    mem_read_u64(&p->mem, bytes + (uint64_t)o->ob_size, &len, NULL) < 0 || len > MAX_LINETABLE)
		return -1;
	c->tab = xmalloc(len ? len : 1);
	c->tablen = len;
	return len && mem_read(&p->mem, bytes + (uint64_t)o->bytes_sval, c->tab, len, NULL) < 0 ? -1 : 0;
}

static void read_code(struct pyframes *w, uint64_t code, struct code_info *c)
{
	struct pyproc *p = w->p;
	const struct pyoffsets *o = &p->L.off;
	uint8_t b[512];
	char name[256], file[1024];
	int32_t tab_off = o->co_lnotab >= 0 ? o->co_lnotab : o->co_linetable;

	if (o->code_size <= 0 || o->code_size > (int32_t)sizeof b || !pyproc_readable(p, code, (uint64_t)o->code_size) ||
	    mem_read(&p->mem, code, b, (size_t)o->code_size, NULL) < 0)
		return;
	if (w->code_type && u64_at(b, o->ob_type) != w->code_type)
		return; /* not a code object: a stale or garbage pointer */
	if (pystr_read(p, u64_at(b, o->co_name), name, sizeof name) < 0 ||
	    pystr_read(p, u64_at(b, o->co_filename), file, sizeof file) < 0)
		return;
	c->name = xstrdup(name);
	c->file = xstrdup(file);
	c->firstlineno = i32_at(b, o->co_firstlineno);
	c->firsttraceable = o->co_firsttraceable >= 0 ? i32_at(b, o->co_firsttraceable) : 0;
	/* A code object whose line table is unreadable still names its function. */
	if (read_table(p, u64_at(b, tab_off), c) < 0) {
		free(c->tab);
		c->tab = NULL;
		c->tablen = 0;
	}
	c->ok = true;
}

static const struct code_info *code_info(struct pyframes *w, uint64_t code)
{
	uint64_t slot;

	if (ptrmap_get(&w->index, code, &slot))
		return &w->codes[slot - 1];
	xgrow((void **)&w->codes, &w->cap, w->n + 1, sizeof *w->codes);
	memset(&w->codes[w->n], 0, sizeof *w->codes);
	read_code(w, code, &w->codes[w->n]);
	ptrmap_put(&w->index, code, ++w->n);
	return &w->codes[w->n - 1];
}

/* addr: byte offset of the instruction in the code. */
static int line_of(const struct pyproc *p, const struct code_info *c, int addr)
{
	const struct pyoffsets *o = &p->L.off;

	if (!c->tab)
		return -1;
	if (o->co_lnotab >= 0)
		return linetable_lnotab(c->tab, c->tablen, c->firstlineno, addr);
	if (o->co_code_adaptive < 0)
		return linetable_310(c->tab, c->tablen, c->firstlineno, addr);
	return linetable_locations(c->tab, c->tablen, c->firstlineno, addr);
}

static void push_bad(struct thread_stack *t, struct stacks *s, uint64_t frame, const char *why)
{
	frame_list_push(&t->frames, &(struct stack_frame){ .kind = FRAME_BAD, .line = -1, .addr = frame, .entry = true });
	stacks_warn(s, "thread %llu: unreadable frame at %#llx (%s)", (unsigned long long)t->thread_id,
		    (unsigned long long)frame, why);
}

static void push_python(struct pyframes *w, struct thread_stack *t, struct stacks *s, uint64_t code, int64_t addr,
			uint64_t frame, bool entry)
{
	const struct code_info *c = code_info(w, code);

	if (!c->ok) {
		push_bad(t, s, frame, "bad code object");
		return;
	}
	frame_list_push(&t->frames, &(struct stack_frame){
		.kind = FRAME_PYTHON, .func = xstrdup(c->name), .file = xstrdup(c->file),
		.line = (addr < 0 || addr > (1 << 30)) ? c->firstlineno : line_of(w->p, c, (int)addr),
		.addr = code, .entry = entry });
}

/* 3.8-3.10: one PyFrameObject per call; each is its own evaluation call. */
static void walk_frame_objects(struct pyframes *w, struct thread_stack *t, struct stacks *s, uint64_t f)
{
	const struct pyoffsets *o = &w->p->L.off;
	struct ptrmap seen;
	uint8_t b[128];
	size_t len = (size_t)o->fo_lasti + 4;

	ptrmap_init(&seen);
	for (size_t depth = 0; f; depth++) {
		if (depth == STACKS_MAX_FRAMES) {
			stacks_warn(s, "thread %llu: more than %d frames: the outer ones are left out",
				    (unsigned long long)t->thread_id, STACKS_MAX_FRAMES);
			break;
		}
		if (!ptrmap_put(&seen, f, 1) || len > sizeof b || !pyproc_readable(w->p, f, len) ||
		    mem_read(&w->p->mem, f, b, len, NULL) < 0) {
			push_bad(t, s, f, "frame loops or is unreadable");
			break;
		}
		int64_t lasti = i32_at(b, o->fo_lasti);
		/* 3.10 counts f_lasti in code units, 3.8/3.9 in bytes. */
		push_python(w, t, s, u64_at(b, o->fo_code), o->co_lnotab >= 0 ? lasti : 2 * lasti, f, true);
		f = u64_at(b, o->fo_back);
	}
	ptrmap_release(&seen);
}

/* Marks the last Python frame pushed (the outermost so far) as the end of an evaluation call. */
static void end_call(struct thread_stack *t, size_t first)
{
	if (t->frames.n > first && t->frames.v[t->frames.n - 1].kind != FRAME_NATIVE)
		t->frames.v[t->frames.n - 1].entry = true;
}

/* One _PyInterpreterFrame; returns false when the walk must stop. */
static bool interp_frame(struct pyframes *w, struct thread_stack *t, struct stacks *s, uint64_t f, size_t first,
			 uint64_t *prev)
{
	const struct pyoffsets *o = &w->p->L.off;
	uint8_t b[128];
	uint64_t code, instr, adaptive;
	int owner;

	if (o->if_size > (int32_t)sizeof b || !pyproc_readable(w->p, f, (uint64_t)o->if_size) ||
	    mem_read(&w->p->mem, f, b, (size_t)o->if_size, NULL) < 0) {
		push_bad(t, s, f, "unreadable");
		return false;
	}
	*prev = u64_at(b, o->if_previous);
	owner = (int8_t)b[o->if_owner];
	if (py_frame_is_shim(&w->p->L, owner)) { /* the shim of one C call */
		end_call(t, first);
		return true;
	}
	code = py_stackref_object(&w->p->L, u64_at(b, o->if_code));
	instr = u64_at(b, o->if_instr);
	adaptive = code + (uint64_t)o->co_code_adaptive;
	const struct code_info *c = code_info(w, code);
	bool is_entry = o->if_is_entry >= 0 && b[o->if_is_entry];
	/* _PyFrame_IsIncomplete: not yet past the RESUME/COPY_FREE_VARS prologue. */
	if (c->ok && owner != PY_FRAME_OWNED_BY_GENERATOR && instr < adaptive + 2 * (uint64_t)c->firsttraceable) {
		if (is_entry)
			end_call(t, first);
		return true;
	}
	push_python(w, t, s, code, (int64_t)(instr - adaptive), f, is_entry);
	return true;
}

static void walk_interp_frames(struct pyframes *w, struct thread_stack *t, struct stacks *s, uint64_t f)
{
	struct ptrmap seen;
	size_t first = t->frames.n, depth = 0;

	ptrmap_init(&seen);
	for (; f; depth++) {
		uint64_t prev = 0;
		if (depth == STACKS_MAX_FRAMES) {
			stacks_warn(s, "thread %llu: more than %d frames: the outer ones are left out",
				    (unsigned long long)t->thread_id, STACKS_MAX_FRAMES);
			break;
		}
		if (!ptrmap_put(&seen, f, 1)) {
			push_bad(t, s, f, "the frame chain loops");
			break;
		}
		if (!interp_frame(w, t, s, f, first, &prev))
			break;
		f = prev;
	}
	end_call(t, first);
	ptrmap_release(&seen);
}

int pyframes_innermost(struct pyproc *p, uint64_t tstate, uint64_t *frame, const char **why)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t f = 0;

	*frame = 0;
	if (mem_read_u64(&p->mem, tstate + (uint64_t)o->ts_frame, &f, NULL) < 0) {
		*why = "unreadable thread state";
		return -1;
	}
	/* 3.11/3.12: ts_frame is the _PyCFrame; the frame is its current_frame. */
	if (f && o->cf_current_frame >= 0 &&
	    (!pyproc_readable(p, f, (uint64_t)o->cf_current_frame + 8) ||
	     mem_read_u64(&p->mem, f + (uint64_t)o->cf_current_frame, &f, NULL) < 0)) {
		*frame = f;
		*why = "unreadable _PyCFrame";
		return -1;
	}
	*frame = f;
	return 0;
}

void pyframes_read(struct pyframes *w, struct thread_stack *t, struct stacks *s)
{
	const struct pyoffsets *o = &w->p->L.off;
	const char *why = NULL;
	uint64_t f = 0;

	if (pyframes_innermost(w->p, t->tstate, &f, &why) < 0) {
		push_bad(t, s, f ? f : t->tstate, why);
		return;
	}
	if (o->fo_lasti >= 0)
		walk_frame_objects(w, t, s, f);
	else
		walk_interp_frames(w, t, s, f);
}
