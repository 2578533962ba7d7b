/* proctree.h: a process and its descendants as /proc shows them now (services are trees: a
 * gunicorn master and its workers, a multiprocessing pool, a shell that started python). Children
 * come from /proc/PID/task/TID/children, or from every process's parent id where the kernel lacks
 * that file. A snapshot: the tree changes as it is read, so callers re-read it when they need to
 * and expect processes listed to be gone. Knows nothing of Python. */
#ifndef PC_PROCTREE_H
#define PC_PROCTREE_H

#include "common/compat.h"
#include <sys/types.h>
#include "common/error.h"

/* A bound on the processes listed: more is a fork bomb, not a service. */
#define PROCTREE_MAX 4096

struct proc_node {
	pid_t pid, ppid;
	unsigned depth;        /* 0 for the root */
	char comm[32];         /* /proc/PID/comm */
	char cmdline[256];     /* /proc/PID/cmdline, arguments joined by spaces, cut to fit */
};

struct proctree {
	struct proc_node *v;   /* parents before their children (breadth first) */
	size_t n, cap;
	bool truncated;        /* more than PROCTREE_MAX processes: the rest left out */
};

/* Lists root and every descendant. Fails (NOPROC, PERM) only when root itself cannot be read;
 * descendants that exit meanwhile are left out. */
int proctree_read(pid_t root, struct proctree *t, struct pc_err *e);
void proctree_release(struct proctree *t);
/* The node of pid, or NULL. */
const struct proc_node *proctree_find(const struct proctree *t, pid_t pid);

#endif
