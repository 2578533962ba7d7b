/* tree.c: the censuses of a process tree. */
#include "common/compat.h"
#include "cli/tree.h"

#include <stdio.h>
#include <string.h>
#include "attach/proctree.h"
#include "report/escape.h"
#include "report/output.h"
#include "source/source.h"

/* Command-line marks of the roles, first match wins. multiprocessing starts its spawn children
 * with "-c 'from multiprocessing.spawn import spawn_main; ...'" (Lib/multiprocessing/spawn.py,
 * get_command_line), the forkserver and resource tracker likewise; gunicorn and uWSGI name their
 * processes when setproctitle is present ("gunicorn: worker [app]"). */
static const struct { const char *mark, *role; } marks[] = {
	{ "multiprocessing.spawn", "multiprocessing child (spawn)" },
	{ "multiprocessing.forkserver", "multiprocessing forkserver" },
	{ "multiprocessing.resource_tracker", "multiprocessing resource tracker" },
	{ "multiprocessing.semaphore_tracker", "multiprocessing resource tracker" },
	{ "gunicorn: master", "gunicorn master" },
	{ "gunicorn: worker", "gunicorn worker" },
	{ "uWSGI master", "uWSGI master" },
	{ "uWSGI worker", "uWSGI worker" },
};

const char *tree_role(const char *cmdline, const char *parent_cmdline, bool root)
{
	bool same = parent_cmdline && strcmp(cmdline, parent_cmdline) == 0;

	/* the fork server's workers are its forks: its command line, under it (they were named
	 * "multiprocessing forkserver" like their parent); 32 characters, the role column's width */
	if (same && !root && strstr(cmdline, "multiprocessing.forkserver"))
		return "multiprocessing forkserver child";
	for (size_t i = 0; i < PC_ARRAY_LEN(marks); i++)
		if (strstr(cmdline, marks[i].mark))
			return marks[i].role;
	/* without setproctitle a prefork server's workers carry the master's command line */
	if (strstr(cmdline, "gunicorn"))
		return same ? "gunicorn worker" : "gunicorn master";
	if (strstr(cmdline, "celery") && strstr(cmdline, "worker"))
		return same ? "celery pool process" : "celery worker";
	if (strstr(cmdline, "uwsgi"))
		return same ? "uWSGI worker" : "uWSGI master";
	if (same && !root)
		return "forked child";
	return "";
}

const char *tree_role_of(const struct proctree *pt, const struct proc_node *nd)
{
	const struct proc_node *parent = nd->depth ? proctree_find(pt, nd->ppid) : NULL;

	return tree_role(nd->cmdline, parent ? parent->cmdline : NULL, nd->depth == 0);
}

static void census_member(struct tree_member *m, const struct snapshot_opts *o, unsigned flags)
{
	struct pc_err e = { 0 };
	struct source src;
	int rc = source_open_pid(&src, m->pid, flags, &e);

	if (rc == 0) {
		rc = snapshot_take(&src, o, &m->c, &e);
		source_close(&src);
	}
	if (rc < 0) {
		m->code = (int)e.code;
		snprintf(m->why, sizeof m->why, "%s: %.*s", pc_code_message(e.code), (int)(sizeof m->why / 2), e.detail);
		census_release(&m->c);
		census_init(&m->c);
	}
}

static void add_member(struct tree *t, const struct proctree *pt, const struct proc_node *nd)
{
	struct tree_member *m = tree_add(t);

	m->pid = nd->pid;
	m->ppid = nd->ppid;
	m->depth = nd->depth;
	snprintf(m->cmdline, sizeof m->cmdline, "%s", nd->cmdline[0] ? nd->cmdline : nd->comm);
	snprintf(m->role, sizeof m->role, "%s", tree_role_of(pt, nd));
}

int tree_take(pid_t root, const struct snapshot_opts *o, unsigned source_flags, struct tree *t, struct pc_err *e)
{
	struct proctree pt;
	const struct tree_member *first_bad = NULL;

	if (proctree_read(root, &pt, e) < 0)
		return -1;
	t->truncated = pt.truncated;
	for (size_t i = 0; i < pt.n; i++)
		add_member(t, &pt, &pt.v[i]);
	proctree_release(&pt);
	for (size_t i = 0; i < t->n; i++) {
		struct tree_member *m = &t->v[i];
		census_member(m, o, source_flags);
		if (m->code == 0)
			tree_merge(t, &m->c);
		else if (!first_bad)
			first_bad = m;
	}
	if (t->censused == 0) /* the first refusal says why (not Python, permission, ...) */
		return pc_fail(e, (enum pc_code)first_bad->code, "no process of the tree under %d could be censused; process %d: %s",
			       (int)root, (int)first_bad->pid, first_bad->why);
	return 0;
}

/* One process's header line and report, or why there is none; 0 when reported. */
static int each_one(FILE *out, const struct proctree *pt, const struct proc_node *nd, tree_report_fn one, void *arg)
{
	const char *role = tree_role_of(pt, nd);
	struct pc_err pe = { 0 };
	int rc;

	fprintf(out, "Process %d%s%s%s: ", (int)nd->pid, role[0] ? " (" : "", role, role[0] ? ")" : "");
	report_put_text(out, nd->cmdline, 200);
	fputc('\n', out);
	rc = one(out, nd->pid, arg, &pe);
	if (rc < 0 && pe.code != PC_EOUTPUT)
		fprintf(out, "skipped: %s: %s\n", pc_code_message(pe.code), pe.detail);
	fputc('\n', out);
	return rc;
}

int tree_each(pid_t root, const char *output, tree_report_fn one, void *arg, struct pc_err *e)
{
	struct proctree pt;
	size_t reported = 0;
	FILE *out;

	if (proctree_read(root, &pt, e) < 0)
		return -1;
	if (!(out = output_open(output, e))) {
		proctree_release(&pt);
		return -1;
	}
	for (size_t i = 0; i < pt.n; i++)
		reported += each_one(out, &pt, &pt.v[i], one, arg) == 0;
	proctree_release(&pt);
	if (output_close(out, e) < 0)
		return -1;
	if (!reported)
		return pc_fail(e, PC_ENOTPYTHON, "no process of the tree under %d could be read", (int)root);
	return 0;
}
