/* framerefs.c: the locals of Python frames, as references (see framerefs.h). */
#include "common/compat.h"
#include "census/framerefs.h"

#include <string.h>
#include "common/ptrmap.h"
#include "common/xalloc.h"
#include "frames/pyframes.h"
#include "frames/stacks.h"
#include "python/rules.h"

/* co_nlocalsplus is an int; real functions have a few hundred locals at most. */
#define MAX_LOCALS (1 << 16)
/* Roots from all threads' frames together: 4096 threads of deep recursion stay well below. */
#define MAX_FRAME_ROOTS (1u << 24)

static uint64_t rd64(const uint8_t *b, int32_t off)
{
	uint64_t v;
	memcpy(&v, b + off, 8);
	return v;
}

/* How many locals, cells and frees the code object at `code` has; -1 when it is not a code
 * object (3.13's f_executable may be None; a garbage pointer is neither). */
static int32_t code_nlocalsplus(struct walk *w, uint64_t code)
{
	const struct pyoffsets *o = &w->p->L.off;
	uint64_t tp;
	int32_t n;

	if (!code || !w->types.builtin[RULE_CODE] ||
	    mem_read_u64(&w->p->mem, code + (uint64_t)o->ob_type, &tp, NULL) < 0 ||
	    tp != w->types.builtin[RULE_CODE] ||
	    mem_read(&w->p->mem, code + (uint64_t)o->co_nlocalsplus, &n, sizeof n, NULL) < 0 ||
	    n < 0 || n > MAX_LOCALS)
		return -1;
	return n;
}

/* One _PyInterpreterFrame (its first if_size bytes at b): its locals appended to the roots. */
static void frame_locals(struct walk *w, uint64_t f, const uint8_t *b)
{
	const struct pyoffsets *o = &w->p->L.off;
	int32_t n = code_nlocalsplus(w, py_stackref_object(&w->p->L, rd64(b, o->if_code)));

	if (n <= 0)
		return;
	if (w->nframe_roots + (size_t)n > MAX_FRAME_ROOTS) {
		w->frames_bad++;
		return;
	}
	xgrow((void **)&w->frame_roots, &w->capframe_roots, w->nframe_roots + (size_t)n, sizeof *w->frame_roots);
	if (mem_read(&w->p->mem, f + (uint64_t)o->if_localsplus, w->frame_roots + w->nframe_roots,
		     8 * (size_t)n, NULL) < 0) {
		w->frames_bad++;
		return;
	}
	for (int32_t i = 0; i < n; i++)
		w->frame_roots[w->nframe_roots + (size_t)i] =
			py_stackref_object(&w->p->L, w->frame_roots[w->nframe_roots + (size_t)i]);
	w->nframe_roots += (size_t)n;
}

/* A thread's frame chain from its innermost frame, bounded and cycle-checked (`seen` spans all
 * threads: two threads never share a frame). */
static void thread_frames(struct walk *w, uint64_t f, struct ptrmap *seen)
{
	const struct pyoffsets *o = &w->p->L.off;
	uint8_t b[128];

	for (unsigned depth = 0; f && depth < STACKS_MAX_FRAMES; depth++) {
		if (!ptrmap_put(seen, f, 1) || o->if_size > (int32_t)sizeof b ||
		    !pyproc_readable(w->p, f, (uint64_t)o->if_size) ||
		    mem_read(&w->p->mem, f, b, (size_t)o->if_size, NULL) < 0) {
			w->frames_bad++;
			return;
		}
		frame_locals(w, f, b);
		f = rd64(b, o->if_previous);
	}
}

/* 3.8-3.10: a running frame is an object, but CPython tracks it for the GC only once its call
 * returns, and nothing but the thread state points at the innermost one: a big one (malloc'd,
 * outside the arenas) is found only from here. Its f_back chain follows as members. */
static void innermost_object(struct walk *w, uint64_t f)
{
	if (!f || w->nframe_roots >= MAX_FRAME_ROOTS)
		return;
	xgrow((void **)&w->frame_roots, &w->capframe_roots, w->nframe_roots + 1, sizeof *w->frame_roots);
	w->frame_roots[w->nframe_roots++] = f;
}

void framerefs_collect(struct walk *w)
{
	struct pyproc *p = w->p;
	const struct pyoffsets *o = &p->L.off;
	bool objects = o->fo_localsplus >= 0; /* 3.8-3.10 */
	struct ptrmap seen;
	uint64_t ts = 0;

	if (!objects && (o->if_localsplus < 0 || o->co_nlocalsplus < 0))
		return;
	if (mem_read_u64(&p->mem, p->interp + (uint64_t)o->is_threads_head, &ts, NULL) < 0) {
		w->frames_bad++;
		return;
	}
	ptrmap_init(&seen);
	for (unsigned n = 0; ts && n < STACKS_MAX_THREADS && ptrmap_put(&seen, ts, 1); n++) {
		uint64_t f = 0;
		const char *why = NULL;
		if (pyframes_innermost(p, ts, &f, &why) < 0)
			w->frames_bad++;
		else if (objects)
			innermost_object(w, f);
		else
			thread_frames(w, f, &seen);
		if (!pyproc_readable(p, ts, (uint64_t)o->ts_size) ||
		    mem_read_u64(&p->mem, ts + (uint64_t)o->ts_next, &ts, NULL) < 0)
			break;
	}
	ptrmap_release(&seen);
}

/* 3.14+ slots are stack references: untagged one by one (python/rules.h). Not inlined: its
 * buffer would make every caller's frame heavier. */
static __attribute__((noinline)) void stackref_locals_at(struct walk *w, uint64_t addr, const uint8_t *ob,
							  size_t have, uint64_t off, uint64_t n)
{
	uint64_t slots[256];

	for (uint64_t done = 0, k; done < n; done += k) {
		k = n - done < PC_ARRAY_LEN(slots) ? n - done : PC_ARRAY_LEN(slots);
		if (off + 8 * (done + k) <= have)
			memcpy(slots, ob + off + 8 * done, 8 * k);
		else if (mem_read(&w->p->mem, addr + off + 8 * done, slots, 8 * k, NULL) < 0)
			return;
		for (uint64_t i = 0; i < k; i++)
			follow_ptr(w, py_stackref_object(&w->p->L, slots[i]));
	}
}

/* Locals at off in the object (n of them): from the copy when it holds them, else read. */
static void locals_at(struct walk *w, uint64_t addr, const uint8_t *ob, size_t have, uint64_t off, uint64_t n)
{
	if (w->p->L.stackrefs)
		stackref_locals_at(w, addr, ob, have, off, n);
	else if (off <= have && n <= (have - off) / 8)
		follow_local_ptrs(w, ob + off, n);
	else
		follow_ptrs(w, addr + off, n);
}

/* A generator, coroutine or async generator that has not run or is suspended (python/rules.h). */
static void gen_locals(struct walk *w, uint64_t addr, const uint8_t *ob, size_t have)
{
	const struct pyoffsets *o = &w->p->L.off;
	uint64_t code_at = (uint64_t)o->gen_iframe + (uint64_t)o->if_code;
	int32_t n;

	if (o->gen_iframe < 0 || o->gen_frame_state < 0 || o->if_localsplus < 0 ||
	    (size_t)o->gen_frame_state >= have || code_at + 8 > have ||
	    !py_gen_frame_suspended(&w->p->L, (int8_t)ob[o->gen_frame_state]))
		return;
	n = code_nlocalsplus(w, py_stackref_object(&w->p->L, rd64(ob, (int32_t)code_at)));
	if (n > 0)
		locals_at(w, addr, ob, have, (uint64_t)o->gen_iframe + (uint64_t)o->if_localsplus, (uint64_t)n);
}

/* 3.11+: a frame object whose function returned holds its frame inside itself (f_frame points
 * at its own _f_frame_data, owned by the frame object); its locals stay until frame.clear(),
 * which NULLs them. Otherwise the frame lives on a thread's stack (framerefs_collect reads it)
 * or in a generator (gen_locals). */
static void frame_object_own_frame(struct walk *w, uint64_t addr, const uint8_t *ob, size_t have)
{
	const struct pyoffsets *o = &w->p->L.off;
	uint64_t data = (uint64_t)o->fo_frame_data, code_at = data + (uint64_t)o->if_code;
	int32_t n;

	if (o->fo_frame < 0 || o->fo_frame_data < 0 || o->if_owner < 0 || (size_t)o->fo_frame + 8 > have ||
	    rd64(ob, o->fo_frame) != addr + data || data + (uint64_t)o->if_owner >= have || code_at + 8 > have ||
	    ob[data + (uint64_t)o->if_owner] != PY_FRAME_OWNED_BY_FRAME_OBJECT)
		return;
	n = code_nlocalsplus(w, py_stackref_object(&w->p->L, rd64(ob, (int32_t)code_at)));
	if (n > 0)
		locals_at(w, addr, ob, have, data + (uint64_t)o->if_localsplus, (uint64_t)n);
}

/* A frame object's locals: 3.11+ when it holds its own frame; 3.8-3.10 always, up to
 * f_valuestack, which points just past the locals, cells and frees. */
static void frame_object_locals(struct walk *w, uint64_t addr, const uint8_t *ob, size_t have)
{
	const struct pyoffsets *o = &w->p->L.off;
	uint64_t start, stack;

	if (o->fo_frame >= 0) {
		frame_object_own_frame(w, addr, ob, have);
		return;
	}
	if (o->fo_localsplus < 0 || o->fo_valuestack < 0 || (size_t)o->fo_valuestack + 8 > have)
		return;
	start = addr + (uint64_t)o->fo_localsplus;
	stack = rd64(ob, o->fo_valuestack);
	if (stack < start || (stack - start) % 8 || (stack - start) / 8 > MAX_LOCALS)
		return;
	locals_at(w, addr, ob, have, (uint64_t)o->fo_localsplus, (stack - start) / 8);
}

void framerefs_object(struct walk *w, enum ref_shape shape, uint64_t addr, const uint8_t *ob, size_t have)
{
	if (shape == SHAPE_GEN)
		gen_locals(w, addr, ob, have);
	else if (shape == SHAPE_FRAME)
		frame_object_locals(w, addr, ob, have);
}
