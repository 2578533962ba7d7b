/* runtree.c: the children of a program under `run --subprocesses`. */
#include "common/compat.h"
#include "cli/runtree.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "attach/procfs.h"
#include "attach/proctree.h"
#include "attach/stop.h"
#include "cli/runseize.h"
#include "cli/tree.h"
#include "common/xalloc.h"
#include "model/tree.h"
#include "report/escape.h"
#include "report/output.h"
#include "report/text.h"
#include "source/source.h"

int runtree_check(const char *format, const char *output, struct pc_err *e)
{
	if (strcmp(format, "text") != 0 && (!output || strcmp(output, "-") == 0))
		return pc_fail(e, PC_EUSAGE, "--subprocesses with -f %s writes a file per process: give -o FILE", format);
	return 0;
}

/* series.csv -> series.1234.csv (the extension kept), or series -> series.1234; a PID met again
 * after its first process ended (reused) gets series.1234-2.csv, never the first one's file. */
static void child_path(const char *output, pid_t pid, unsigned again, char *out, size_t len)
{
	const char *slash = strrchr(output, '/'), *dot = strrchr(output, '.');
	char tag[32];

	if (again)
		snprintf(tag, sizeof tag, "%d-%u", (int)pid, again + 1);
	else
		snprintf(tag, sizeof tag, "%d", (int)pid);
	if (!dot || (slash && dot < slash) || dot == output || (slash && dot == slash + 1))
		snprintf(out, len, "%s.%s", output, tag);
	else
		snprintf(out, len, "%.*s.%s%s", (int)(dot - output), output, tag, dot);
}

/* A process that ended and waits for its parent to reap it: no longer in the tree for us (a
 * child traced to its end is such a zombie for a while; taken for a new child it got a second
 * entry, whose census failed and whose empty file replaced the first one's). */
static bool ended(pid_t pid)
{
	char st = proc_task_state(pid, pid);

	return st == 'Z' || st == 'X' || st == 0;
}

static struct runchild *child_of(struct runtree *rt, const struct proctree *pt, const struct proc_node *nd)
{
	struct runchild *c;
	unsigned again = 0;

	for (size_t i = 0; i < rt->n; i++) {
		if (rt->v[i].pid == nd->pid && !rt->v[i].gone)
			return &rt->v[i];
		again += rt->v[i].pid == nd->pid;
	}
	xgrow((void **)&rt->v, &rt->cap, rt->n + 1, sizeof *rt->v);
	c = &rt->v[rt->n++];
	memset(c, 0, sizeof *c);
	c->pid = nd->pid;
	snprintf(c->role, sizeof c->role, "%s", tree_role_of(pt, nd));
	snprintf(c->cmdline, sizeof c->cmdline, "%s", nd->cmdline[0] ? nd->cmdline : nd->comm);
	c->sm.format = rt->format;
	if (strcmp(rt->format, "text") != 0) {
		child_path(rt->output, nd->pid, again, c->path, sizeof c->path);
		c->sm.output = c->path;
	}
	progress_init(&c->sm.prog, true, (int)nd->pid);
	return c;
}

/* Refusals that another try will not change. */
static bool final_refusal(enum pc_code code)
{
	return code == PC_ENOTPYTHON || code == PC_EUNSUPPORTED || code == PC_EPERM || code == PC_ETRACED ||
	       code == PC_EUSAGE;
}

/* A traced child that began finalising: Py_IsInitialized() 0 once it was 1 (a child may be read
 * while it still initialises), read after its census: no breakpoint stopped it at the entry of
 * its finalisation. */
static bool finalising(struct runchild *c)
{
	int ready;

	if (!c->z || !c->z->ready.have_elf)
		return false;
	ready = pyready_probe(&c->z->ready, c->pid, &(struct pc_err){ 0 });
	c->was_ready |= ready == 1;
	return ready == 0 && c->was_ready;
}

/* A census of c now: through its trace when it has one (at_exit: held stopped to the end, read
 * through thread tid), else stopped and resumed as `snap` does. Returns the pause it cost. */
static double census_child(struct runchild *c, const struct snapshot_opts *o, double now, bool at_exit, pid_t tid)
{
	struct pc_err e = { 0 };
	struct source src;
	struct census cs;
	double paused = 0;
	int rc = 0;

	if (c->sm.s.n == 0 && !c->sm.csv && sampling_begin(&c->sm, &e) < 0) {
		c->skipped = true;
		snprintf(c->why, sizeof c->why, "%s: %.250s", pc_code_message(e.code), e.detail);
		return 0;
	}
	c->sm.s.pauses = true; /* paced with the program: its pauses are stated for the tree's share */
	census_init(&cs);
	if (c->z)
		source_open_launched(&src, &c->z->l, tid, at_exit ? SOURCE_HOLD : 0);
	else
		rc = source_open_pid(&src, c->pid, 0, &e);
	if (rc == 0) {
		rc = snapshot_take(&src, o, &cs, &e);
		cs.pause_s = paused = source_paused(&src);
		source_close(&src);
	}
	if (!at_exit && finalising(c)) { /* a heap being torn down is no sample (cli/cmd_run.c) */
		c->z->final_done = c->finalised = true;
		census_release(&cs);
		return paused;
	}
	if (rc == 0)
		rc = sampling_add(&c->sm, &cs, now, proc_rss(c->pid), at_exit, &e);
	census_release(&cs);
	if (rc == 0 && c->z)
		runseize_arm(c->z);
	if (at_exit && rc == 0)
		c->exit_census = true;
	if (rc < 0) {
		snprintf(c->why, sizeof c->why, "%s: %.250s", pc_code_message(e.code), e.detail);
		c->skipped = c->sm.s.n == 0 && final_refusal(e.code);
	}
	if (c->skipped) { /* not Python (it exec'd something else): nothing to wait for at its end */
		runseize_free(c->z);
		c->z = NULL;
	}
	return paused; /* census_release cleared cs */
}

/* A new child that is a Python program is traced from now on; why not is kept. */
static void trace_child(struct runtree *rt, struct runchild *c)
{
	struct pc_err e = { 0 };
	struct source src;

	if (!rt->group || c->untraced[0])
		return;
	if (source_open_pid(&src, c->pid, 0, &e) < 0)
		return; /* not Python, or gone: its census says so */
	source_close(&src);
	c->z = runseize_adopt(rt->group, c->pid, &e);
	if (!c->z)
		snprintf(c->untraced, sizeof c->untraced, "%s: %.200s", pc_code_message(e.code), e.detail);
	else /* before its first census: a child that ends during it is still read as it finalises */
		runseize_arm(c->z);
}

static void mark_gone(struct runtree *rt, struct runchild *c, double now)
{
	c->gone = true;
	c->gone_s = now - rt->t0;
	runseize_free(c->z);
	c->z = NULL;
}

double runtree_sample(struct runtree *rt, pid_t root, const struct snapshot_opts *o, double now)
{
	struct proctree pt;
	struct pc_err e = { 0 };
	double paused = rt->exit_pauses;

	if (rt->t0 == 0)
		rt->t0 = now;
	rt->exit_pauses = 0;
	if (proctree_read(root, &pt, &e) < 0)
		pt.n = 0;
	/* gone: no longer in the tree, or ended (a traced child's end is its trace's event) */
	for (size_t i = 0; i < rt->n; i++)
		if (!rt->v[i].gone && (!proctree_find(&pt, rt->v[i].pid) || (!rt->v[i].z && ended(rt->v[i].pid))))
			mark_gone(rt, &rt->v[i], now);
	for (size_t i = 1; i < pt.n; i++) {
		struct runchild *c;
		if (ended(pt.v[i].pid))
			continue;
		c = child_of(rt, &pt, &pt.v[i]);
		if (c->skipped || (c->z && c->z->final_done)) /* a finalising heap is not sampled */
			continue;
		if (!c->z)
			trace_child(rt, c);
		paused += census_child(c, o, now, false, 0);
	}
	proctree_release(&pt);
	return paused;
}

static struct runchild *traced_as(struct runtree *rt, const struct launch *l)
{
	for (size_t i = 0; i < rt->n; i++)
		if (rt->v[i].z && &rt->v[i].z->l == l)
			return &rt->v[i];
	return NULL;
}

void runtree_event(struct runtree *rt, const struct levent *ev, const struct snapshot_opts *o)
{
	struct runchild *c = traced_as(rt, ev->who);

	if (!c) { /* not ours (released meanwhile): never left stopped */
		if (ev->who)
			launch_resume_all(ev->who);
		return;
	}
	switch (ev->kind) {
	case LE_EXEC:
		runseize_exec(c->z);
		c->was_ready = false;
		break;
	case LE_HWBREAK: /* finalisation begins: the heap as it is now */
	case LE_EXIT:
		if ((ev->kind == LE_HWBREAK || ev->group) && !c->z->final_done) {
			c->z->final_done = true;
			/* at its exit it may have finalised already (no breakpoint fired): no census then */
			c->finalised = ev->kind == LE_EXIT && finalising(c);
			if (!c->finalised)
				rt->exit_pauses += census_child(c, o, mono_now(), true, ev->tid);
		}
		if (ev->kind == LE_HWBREAK && c->z)
			hwbreak_clear(&c->z->hw);
		break;
	case LE_GONE:
		mark_gone(rt, c, mono_now());
		return;
	default:
		break;
	}
	if (c->z)
		launch_resume_all(&c->z->l);
}

static void put_child(FILE *out, const struct runchild *c, double t0)
{
	const struct series_point *last = c->sm.s.n ? &c->sm.s.v[c->sm.s.n - 1] : NULL;
	const char *role = c->role[0] ? c->role : "-";

	fprintf(out, "%7d  %-32.32s %7zu ", (int)c->pid, role, c->sm.s.n);
	if (last)
		fprintf(out, "%7.1f %10" PRIu64 " %12" PRIu64 "  ", c->sm.t0 - t0, last->objects, last->size);
	else
		fprintf(out, "%7s %10s %12s  ", "-", "-", "-");
	if (c->skipped)
		fputs("skipped: ", out), report_put_text(out, c->why, 200);
	else if (c->gone && c->exit_census)
		fprintf(out, "exited at %.1f s, censused as it ended", c->gone_s);
	else if (c->gone && c->finalised)
		fprintf(out, "exited at %.1f s, finalised first: no census as it ended", c->gone_s);
	else if (c->gone)
		fprintf(out, "exited before %.1f s", c->gone_s);
	else
		fputs("running at the end", out);
	if (c->untraced[0])
		fputs(" (not traced: ", out), report_put_text(out, c->untraced, 200), fputc(')', out);
	fputs("  ", out);
	report_put_text(out, c->cmdline, 80);
	fputc('\n', out);
}

/* The kinds of the program's and every child's last sample, summed. */
static int put_sum(FILE *out, const struct runtree *rt, const struct census *main, size_t limit, struct pc_err *e)
{
	struct tree t;
	struct partition p;
	int rc;

	tree_init(&t, 0);
	tree_merge(&t, main);
	for (size_t i = 0; i < rt->n; i++)
		if (rt->v[i].sm.s.n)
			tree_merge(&t, &rt->v[i].sm.s.last);
	fprintf(out, "\nSummed over the program and %zu subprocess%s at their last samples:\n", t.censused - 1,
		t.censused == 2 ? "" : "es");
	partition_by_kind(&t.total, &p);
	rc = report_text(out, NULL, &p, limit, false, e);
	partition_release(&p);
	tree_release(&t);
	return rc;
}

int runtree_end(struct runtree *rt, FILE *out, const struct census *main, size_t limit, struct pc_err *e)
{
	int rc = 0;

	if (strcmp(rt->format, "text") != 0) { /* each child's file: csv written already, json now */
		for (size_t i = 0; i < rt->n; i++) {
			struct pc_err ce = { 0 };
			if (rt->v[i].sm.s.n && sampling_end(&rt->v[i].sm, &ce) < 0 && rc == 0)
				rc = pc_fail(e, ce.code, "%s", ce.detail);
			if (rt->v[i].sm.s.n)
				continue;
			if (rt->v[i].why[0]) /* the text report's line, which no file holds */
				fprintf(stderr, "pycensus: warning: subprocess %d (%.80s) has no census: %s\n", (int)rt->v[i].pid,
					rt->v[i].cmdline, rt->v[i].why);
			if (rt->v[i].sm.csv) { /* a header and no sample: not a series to leave behind */
				sampling_release(&rt->v[i].sm);
				remove(rt->v[i].path);
			}
		}
		return rc;
	}
	fprintf(out, "\nSubprocesses (%zu seen):\n", rt->n);
	fprintf(out, "    PID  %-32s samples first s    objects        bytes  state, command\n", "role");
	for (size_t i = 0; i < rt->n; i++)
		put_child(out, &rt->v[i], rt->t0);
	return put_sum(out, rt, main, limit, e);
}

void runtree_release(struct runtree *rt)
{
	for (size_t i = 0; i < rt->n; i++) {
		runseize_free(rt->v[i].z);
		sampling_release(&rt->v[i].sm);
	}
	free(rt->v);
	memset(rt, 0, sizeof *rt);
}
