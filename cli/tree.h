/* tree.h: censuses of a process and its descendants (--subprocesses): the tree listed from /proc
 * (attach/proctree.h), each process censused in turn (only one stopped at a time), its role named
 * when its command line tells (gunicorn master/worker, multiprocessing's spawn children,
 * forkserver and resource tracker, Celery, uWSGI, forked children), non-Python and untraceable
 * processes kept as skipped members with the reason. */
#ifndef PC_CLI_TREE_H
#define PC_CLI_TREE_H

#include "common/compat.h"
#include <stdio.h>
#include <sys/types.h>
#include "attach/proctree.h"
#include "census/snapshot.h"
#include "model/tree.h"

/* Fills t (tree_init'ed by the caller) for root and its descendants. source_flags as for
 * source_open_pid. Fails only when root cannot be read, or when no process of the tree could be
 * censused (e then holds the root's reason, or the first one met). */
int tree_take(pid_t root, const struct snapshot_opts *o, unsigned source_flags, struct tree *t, struct pc_err *e);

/* For the commands that print a report per process (stacks, stats --subprocesses): lists the
 * tree under root and, for each process, writes "Process PID (role): command" to out, then calls
 * one(out, pid, arg, pe), which writes that process's report or fails with pe; a failure is
 * printed as "skipped: <why>". Fails (e) when root cannot be read, a write fails, or no process
 * could be reported. */
typedef int (*tree_report_fn)(FILE *out, pid_t pid, void *arg, struct pc_err *pe);
int tree_each(pid_t root, const char *output, tree_report_fn one, void *arg, struct pc_err *e);

/* The role of a process from its command line and its parent's ("" when none is recognised). */
const char *tree_role(const char *cmdline, const char *parent_cmdline, bool root);
/* The same for a process of a listed tree. */
const char *tree_role_of(const struct proctree *pt, const struct proc_node *nd);

#endif
