/* proctree.c: a process and its descendants from /proc. */
#include "common/compat.h"
#include "attach/proctree.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attach/procfs.h"
#include "common/xalloc.h"

static void describe(struct proc_node *nd)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%d/comm", (int)nd->pid);
	if (proc_read_text(path, nd->comm, sizeof nd->comm) > 0)
		nd->comm[strcspn(nd->comm, "\n")] = '\0';
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)nd->pid);
	n = proc_read_text(path, nd->cmdline, sizeof nd->cmdline);
	for (ssize_t i = 0; i + 1 < n; i++) /* the arguments' NULs; the last one ends the string */
		if (nd->cmdline[i] == '\0')
			nd->cmdline[i] = ' ';
}

static bool listed(const struct proctree *t, pid_t pid)
{
	return proctree_find(t, pid) != NULL;
}

static void add(struct proctree *t, pid_t pid, pid_t ppid, unsigned depth)
{
	struct proc_node *nd;

	if (listed(t, pid))
		return;
	if (t->n >= PROCTREE_MAX) {
		t->truncated = true;
		return;
	}
	xgrow((void **)&t->v, &t->cap, t->n + 1, sizeof *t->v);
	nd = &t->v[t->n++];
	memset(nd, 0, sizeof *nd);
	nd->pid = pid;
	nd->ppid = ppid;
	nd->depth = depth;
	describe(nd);
}

/* The children of every thread of pid, from .../task/TID/children; false when the kernel has no
 * such file (CONFIG_PROC_CHILDREN off). */
static bool add_children(struct proctree *t, const struct proc_node *parent)
{
	pid_t *tids, pid = parent->pid, ppid = parent->pid;
	unsigned depth = parent->depth + 1;
	size_t n;
	bool have = false;
	struct pc_err quiet = { 0 };

	if (proc_tasks(pid, &tids, &n, &quiet) < 0)
		return true; /* gone meanwhile: no children to list */
	for (size_t i = 0; i < n; i++) {
		char path[96], buf[4096], *s, *end;

		snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)tids[i]);
		if (proc_read_text(path, buf, sizeof buf) < 0)
			continue;
		have = true;
		for (s = buf;; s = end) {
			long c = strtol(s, &end, 10);
			if (end == s)
				break;
			add(t, (pid_t)c, ppid, depth);
		}
	}
	free(tids);
	return have || n == 0;
}

/* The parent id from /proc/PID/stat (after the command name, which may hold spaces). */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *s;
	int ppid = 0;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (proc_read_text(path, buf, sizeof buf) < 0 || !(s = strrchr(buf, ')')))
		return 0;
	return sscanf(s + 1, " %*c %d", &ppid) == 1 ? (pid_t)ppid : 0;
}

/* Without the children files: every process's parent, scanned until no more join the tree. */
static void add_by_parents(struct proctree *t)
{
	for (size_t before = 0; before != t->n && !t->truncated;) {
		struct dirent *d;
		DIR *dir = opendir("/proc");

		before = t->n;
		while (dir && (d = readdir(dir))) {
			char *end;
			long pid = strtol(d->d_name, &end, 10);
			const struct proc_node *parent;
			if (*end || pid <= 0 || listed(t, (pid_t)pid))
				continue;
			if ((parent = proctree_find(t, parent_of((pid_t)pid))))
				add(t, (pid_t)pid, parent->pid, parent->depth + 1);
		}
		if (dir)
			closedir(dir);
	}
}

int proctree_read(pid_t root, struct proctree *t, struct pc_err *e)
{
	struct proc_status st;
	bool children_files = true;

	memset(t, 0, sizeof *t);
	if (proc_status_read(root, &st, e) < 0)
		return -1;
	add(t, root, st.ppid, 0);
	for (size_t i = 0; i < t->n && children_files; i++) {
		struct proc_node parent = t->v[i]; /* add() may move the array */
		children_files = add_children(t, &parent);
	}
	if (!children_files)
		add_by_parents(t);
	return 0;
}

void proctree_release(struct proctree *t)
{
	free(t->v);
	memset(t, 0, sizeof *t);
}

const struct proc_node *proctree_find(const struct proctree *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].pid == pid)
			return &t->v[i];
	return NULL;
}
