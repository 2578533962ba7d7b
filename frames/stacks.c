/* stacks.c: the stacks model, and collecting it from a stopped target. */
#include "common/compat.h"
#include "frames/stacks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attach/procfs.h"
#include "common/xalloc.h"
#include "frames/pyframes.h"
#include "frames/pythreads.h"
#include "frames/stackmerge.h"
#include "symbols/nativesym.h"
#include "symbols/unwind.h"
#include "python/rules.h"


void stacks_init(struct stacks *s)
{
	memset(s, 0, sizeof *s);
}

void frame_list_release(struct frame_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].func);
		free(l->v[i].file);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

struct stack_frame *frame_list_push(struct frame_list *l, const struct stack_frame *f)
{
	xgrow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v);
	l->v[l->n] = *f;
	return &l->v[l->n++];
}

static void free_lines(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void stacks_release(struct stacks *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->threads[i].name);
		frame_list_release(&s->threads[i].frames);
	}
	free(s->threads);
	free_lines(s->warnings, s->nwarnings);
	free_lines(s->notes, s->nnotes);
	memset(s, 0, sizeof *s);
}

static void add_line(char ***v, size_t *n, size_t *cap, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof buf, fmt, ap);
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], buf) == 0)
			return;
	xgrow((void **)v, cap, *n + 1, sizeof **v);
	(*v)[(*n)++] = xstrdup(buf);
}

void stacks_warn(struct stacks *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(&s->warnings, &s->nwarnings, &s->capwarnings, fmt, ap);
	va_end(ap);
}

void stacks_note(struct stacks *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(&s->notes, &s->nnotes, &s->capnotes, fmt, ap);
	va_end(ap);
}

struct thread_stack *stacks_add_thread(struct stacks *s)
{
	xgrow((void **)&s->threads, &s->cap, s->n + 1, sizeof *s->threads);
	memset(&s->threads[s->n], 0, sizeof *s->threads);
	return &s->threads[s->n++];
}

/* The native frames of one stopped thread, named. */
static void native_frames(struct unwinder *u, struct nativesym *ns, struct thread_stack *t, struct stacks *s,
			  struct frame_list *out)
{
	uint64_t ips[UNWIND_MAX_FRAMES];
	size_t n = 0;
	struct pc_err e = { 0 };

	if (unwind_thread(u, t->native_id, ips, UNWIND_MAX_FRAMES, &n, &t->native_truncated, &e) < 0) {
		stacks_warn(s, "thread %d: no native frames: %s", (int)t->native_id, e.detail);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct native_name nm;
		nativesym_lookup(ns, ips[i], i > 0, &nm);
		frame_list_push(out, &(struct stack_frame){
			.kind = FRAME_NATIVE, .func = nm.symbol ? xstrdup(nm.symbol) : NULL,
			.file = xstrdup(nm.object), .line = -1, .addr = ips[i], .offset = nm.offset,
			.eval = py_is_eval_function(nm.symbol) });
	}
}

static bool stopped_has(const struct stopped *st, pid_t tid)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->tids[i] == tid)
			return true;
	return false;
}

static bool listed(const struct stacks *s, pid_t tid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->threads[i].native_id == tid)
			return true;
	return false;
}

static void merge_native(struct pyproc *p, const struct stopped *st, struct stacks *s)
{
	struct unwinder *u = unwinder_new(&p->mem, &p->maps);
	struct nativesym *ns = nativesym_new(p->pid, &p->maps);

	/* Threads without a Python thread state (helper threads of C libraries) get a row too. */
	for (size_t i = 0; i < st->n; i++)
		if (!listed(s, st->tids[i])) {
			struct thread_stack *t = stacks_add_thread(s);
			pid_t inner = proc_task_nstid(st->pid, st->tids[i]);
			t->native_id = st->tids[i];
			t->ns_id = inner != st->tids[i] ? inner : 0;
		}
	for (size_t i = 0; i < s->n; i++) {
		struct thread_stack *t = &s->threads[i];
		struct frame_list nat = { 0 }, merged = { 0 };
		if (t->native_id && !stopped_has(st, t->native_id) && proc_task_state(st->pid, t->native_id) == 'Z') {
			stacks_warn(s, "thread %d has exited (pthread_exit): its Python frames are as it left them, "
				    "it has no native ones", (int)t->native_id);
			continue;
		}
		if (!t->native_id || !stopped_has(st, t->native_id)) {
			stacks_warn(s, "thread %llu: no native thread id: Python frames only", (unsigned long long)t->thread_id);
			continue;
		}
		native_frames(u, ns, t, s, &nat);
		size_t left = stackmerge(&nat, &t->frames, &merged);
		t->frames = merged;
		if (left && t->tstate)
			stacks_warn(s, "thread %d: %zu Python frames had no evaluation frame in the native stack: listed last",
				    (int)t->native_id, left);
	}
	if (!p->elf.has_symtab)
		stacks_note(s, "%s has no symbol table (.symtab): its native frames are named from .dynsym only, "
			    "and functions it does not export show as [object] +offset", p->elf.maps_path);
	nativesym_free(ns);
	unwinder_free(u);
}

int stacks_collect(struct pyproc *p, const struct stopped *st, bool native, struct stacks *s, struct pc_err *e)
{
	struct pyframes *w;

	s->pid = st->pid; /* p->pid is the thread read through when the main thread exited */
	snprintf(s->version, sizeof s->version, "%s", p->elf.version);
	pyproc_describe(p, s->build, sizeof s->build);
	for (unsigned i = 0; pyproc_note(p, i); i++)
		stacks_note(s, "%s", pyproc_note(p, i));
	if (pythreads_read(p, st, s, e) < 0)
		return -1;
	w = pyframes_new(p);
	for (size_t i = 0; i < s->n; i++)
		pyframes_read(w, &s->threads[i], s);
	pyframes_free(w);
	s->native = native;
	if (native)
		merge_native(p, st, s);
	return 0;
}

struct stacks_job {
	bool native;
	struct stacks *s;
};

/* source_fn: a failed attempt's threads and warnings are dropped first. */
static int stacks_read(struct source *src, struct pyproc *p, void *arg, struct pc_err *e)
{
	struct stacks_job *j = arg;
	const struct stopped *st = source_threads(src);
	struct stopped none = { .pid = src->pid };

	if (!st && source_stops(src))
		PC_BUG("stacks need a source whose threads are stopped");
	if (!st) /* a dump: the Python frames it holds, no threads to ask the kernel about */
		st = &none;
	stacks_release(j->s);
	stacks_init(j->s);
	return stacks_collect(p, st, j->native, j->s, e);
}

int stacks_take(struct source *src, bool native, struct stacks *s, struct pc_err *e)
{
	struct stacks_job j = { .native = native, .s = s };
	double paused = source_paused(src);
	int rc;

	rc = source_with_stopped(src, stacks_read, &j, e);
	s->pause_s = source_paused(src) - paused;
	if (rc < 0)
		source_blame_exit(src, "while its stacks were read", e);
	return rc;
}
