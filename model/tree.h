/* tree.h: the censuses of a process tree (snap --subprocesses): one member per process found
 * under the root, each censused or skipped with the reason, and the kinds summed over those
 * censused. Owned by cli/ (which fills it), read by report/. */
#ifndef PC_TREE_H
#define PC_TREE_H

#include "common/compat.h"
#include <sys/types.h>
#include "model/census.h"

struct tree_member {
	pid_t pid, ppid;
	unsigned depth;        /* 0: the root */
	char role[48];         /* "gunicorn worker", "multiprocessing child (spawn)", or "" */
	char cmdline[256];
	int code;              /* PC_EOK (0): censused; else the pc_code of why it was skipped */
	char why[320];         /* the reason it was skipped, one line */
	struct census c;       /* when code == 0 */
};

struct tree {
	pid_t root;
	struct tree_member *v;
	size_t n, cap;
	bool truncated;        /* the tree held more processes than were listed */
	size_t censused;
	size_t partial;        /* censused members whose census dropped objects (census_partial) */
	struct census total;   /* every censused member's rows and size classes, summed */
};

void tree_init(struct tree *t, pid_t root);
void tree_release(struct tree *t);
/* A new member (census_init'ed, code 0); the pointer is valid until the next tree_add. */
struct tree_member *tree_add(struct tree *t);
/* Adds a census (a censused member's, or any other) into t->total. */
void tree_merge(struct tree *t, const struct census *c);

#endif
