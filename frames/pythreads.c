/* pythreads.c: thread states, native ids, names and the GIL. */
#include "common/compat.h"
#include "frames/pythreads.h"

#include <stdio.h>
#include <string.h>
#include "attach/procfs.h"
#include "attach/regs.h"
#include "common/ptrmap.h"
#include "common/xalloc.h"
#include "objects/pyobj.h"
#include "objects/pyvalue.h"

#define NAME_MAX_LEN 128

/* The GIL: 3.8-3.11 _PyRuntime.ceval.gil (inline); 3.12+ interp->ceval.gil, a pointer (to the
 * main interpreter's own _gil). A thread holds it when it is locked and it was the last holder. */
static void read_gil(struct pyproc *p, struct stacks *s, uint64_t *holder)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t gil = 0;
	uint32_t locked;

	*holder = 0;
	if (o->rt_ceval_gil >= 0)
		gil = p->runtime + (uint64_t)o->rt_ceval_gil;
	else if (o->is_ceval_gil < 0 ||
		 mem_read_u64(&p->mem, p->interp + (uint64_t)o->is_ceval_gil, &gil, NULL) < 0)
		gil = 0;
	if (!pyproc_readable(p, gil, (uint64_t)o->gil_locked + 4) ||
	    mem_read_u32(&p->mem, gil + (uint64_t)o->gil_locked, &locked, NULL) < 0 ||
	    mem_read_u64(&p->mem, gil + (uint64_t)o->gil_last_holder, holder, NULL) < 0) {
		stacks_warn(s, "the GIL state is unreadable: no thread is marked as holding it");
		return;
	}
	s->gil_known = true;
	s->gil_locked = locked != 0;
	if (!locked)
		*holder = 0;
}

struct names {
	struct pyproc *p;
	struct stacks *s;
};

/* One threading._active item: ident (int) -> Thread; its name is Thread._name. */
static bool name_item(struct pyproc *p, uint64_t key, uint64_t value, void *arg)
{
	struct names *nm = arg;
	uint64_t ident, name;
	bool neg;
	char buf[NAME_MAX_LEN];

	if (pylong_read(p, key, &ident, &neg) < 0 || neg || pyobj_attr(p, value, "_name", &name) != 1 ||
	    pystr_read(p, name, buf, sizeof buf) < 0)
		return true;
	for (size_t i = 0; i < nm->s->n; i++)
		if (nm->s->threads[i].thread_id == ident && !nm->s->threads[i].name)
			nm->s->threads[i].name = xstrdup(buf);
	return true;
}

/* sys.modules['threading']._active; silently nothing when threading was never imported. */
static void read_names(struct pyproc *p, struct stacks *s)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t modules, mod, md, active;
	struct names nm = { p, s };

	if (mem_read_u64(&p->mem, p->interp + (uint64_t)o->is_modules, &modules, NULL) < 0 ||
	    !pyproc_readable(p, modules, 48) || pydict_get_str(p, modules, "threading", &mod) != 1)
		return;
	if (!pyproc_readable(p, mod, (uint64_t)o->md_dict + 8) ||
	    mem_read_u64(&p->mem, mod + (uint64_t)o->md_dict, &md, NULL) < 0 || !pyproc_readable(p, md, 48) ||
	    pydict_get_str(p, md, "_active", &active) != 1 ||
	    pydict_each(p, active, STACKS_MAX_THREADS, name_item, &nm) < 0)
		stacks_warn(s, "threading._active is unreadable: thread names are missing");
}

/* 3.8-3.10 have no native_thread_id: match thread_id (pthread_self) with each stopped thread's
 * thread pointer. */
static void native_ids_from_fs(const struct stopped *st, struct stacks *s)
{
	for (size_t i = 0; i < st->n; i++) {
		uint64_t fs;
		if (regs_fs_base(st->tids[i], &fs) < 0)
			continue;
		pid_t inner = proc_task_nstid(st->pid, st->tids[i]);
		for (size_t t = 0; t < s->n; t++)
			if (s->threads[t].thread_id == fs && !s->threads[t].native_id) {
				s->threads[t].native_id = st->tids[i];
				s->threads[t].ns_id = inner != st->tids[i] ? inner : 0;
			}
	}
}

/* PyThreadState.native_thread_id is the id the thread has in its own PID namespace: in a container
 * it is not the host's. Each stopped thread's NSpid line maps one to the other, so a thread keeps
 * its host id (the one ptrace and /proc know) and shows its container id beside it. */
static void native_ids_from_ns(const struct stopped *st, struct stacks *s)
{
	for (size_t i = 0; i < st->n; i++) {
		pid_t inner = proc_task_nstid(st->pid, st->tids[i]);
		if (!inner || inner == st->tids[i])
			continue;
		for (size_t t = 0; t < s->n; t++)
			if (s->threads[t].native_id == inner && !s->threads[t].ns_id) {
				s->threads[t].ns_id = inner;
				s->threads[t].native_id = st->tids[i];
				break;
			}
	}
}

static int read_one(struct pyproc *p, uint64_t ts, uint64_t holder, struct stacks *s, uint64_t *next)
{
	const struct pyoffsets *o = &p->L.off;
	struct thread_stack *t;
	uint64_t nid = 0;

	if (!pyproc_readable(p, ts, (uint64_t)o->ts_size) ||
	    mem_read_u64(&p->mem, ts + (uint64_t)o->ts_next, next, NULL) < 0)
		return -1;
	t = stacks_add_thread(s);
	t->tstate = ts;
	t->holds_gil = holder && holder == ts;
	if (mem_read_u64(&p->mem, ts + (uint64_t)o->ts_thread_id, &t->thread_id, NULL) < 0)
		t->thread_id = 0;
	if (o->ts_native_thread_id >= 0 &&
	    mem_read_u64(&p->mem, ts + (uint64_t)o->ts_native_thread_id, &nid, NULL) == 0 && nid < (1u << 30))
		t->native_id = (pid_t)nid;
	return 0;
}

int pythreads_read(struct pyproc *p, const struct stopped *st, struct stacks *s, struct pc_err *e)
{
	const struct pyoffsets *o = &p->L.off;
	struct ptrmap seen;
	uint64_t ts, holder;

	read_gil(p, s, &holder);
	if (mem_read_u64(&p->mem, p->interp + (uint64_t)o->is_threads_head, &ts, NULL) < 0)
		return pc_fail(e, PC_ETARGETMEM, "cannot read the interpreter's thread list at %#llx",
			       (unsigned long long)(p->interp + (uint64_t)o->is_threads_head));
	ptrmap_init(&seen);
	while (ts && s->n < STACKS_MAX_THREADS) {
		if (!ptrmap_put(&seen, ts, 1)) {
			stacks_warn(s, "the thread list loops back to %#llx: cut there", (unsigned long long)ts);
			break;
		}
		if (read_one(p, ts, holder, s, &ts) < 0) {
			stacks_warn(s, "unreadable thread state at %#llx: the threads after it are missing",
				    (unsigned long long)ts);
			break;
		}
	}
	ptrmap_release(&seen);
	if (holder && s->gil_locked) {
		bool found = false;
		for (size_t i = 0; i < s->n; i++)
			found |= s->threads[i].holds_gil;
		if (!found)
			stacks_note(s, "the GIL is held by a thread state that is not in the main interpreter's list");
	}
	if (o->ts_native_thread_id < 0)
		native_ids_from_fs(st, s);
	else
		native_ids_from_ns(st, s);
	read_names(p, s);
	return 0;
}
