/* procfs.h: the target as /proc shows it: memory maps, threads, status, exe and root. Knows
 * nothing of Python. Every function fills a pc_err with NOPROC/PERM/... when /proc refuses. */
#ifndef PC_PROCFS_H
#define PC_PROCFS_H

#include "common/compat.h"
#include <sys/types.h>
#include "common/error.h"

struct map {
	uint64_t start, end, offset;
	uint64_t inode;
	bool r, w, x, priv;
	char *path; /* "" for anonymous mappings; "[heap]", "[stack]", "/usr/lib/..." */
};

struct maps {
	struct map *v;
	size_t n, cap;
};

/* Reads /proc/PID/maps. */
int maps_read(pid_t pid, struct maps *out, struct pc_err *e);
void maps_release(struct maps *m);
/* The mapping that contains addr, or NULL. Maps are sorted by start. */
const struct map *maps_find(const struct maps *m, uint64_t addr);
/* True when [addr, addr+len) lies inside readable mappings. */
bool maps_readable(const struct maps *m, uint64_t addr, uint64_t len);

struct proc_status {
	char name[64];
	char state;     /* R S D T t Z X I ... */
	pid_t tgid, ppid;
	uid_t uid;      /* real uid */
	bool kernel_thread; /* no mm: Name in [...] and no exe */
	pid_t tracer;       /* TracerPid: the process tracing it, 0 when none */
};

/* Checks that PID names a process (not a thread of another) and reads its status. */
int proc_status_read(pid_t pid, struct proc_status *st, struct pc_err *e);
/* Thread ids of the process (from /proc/PID/task). *tids is malloc'd. */
int proc_tasks(pid_t pid, pid_t **tids, size_t *n, struct pc_err *e);
/* "/proc/PID/root" + path, so files of a process in another mount namespace open. */
void proc_root_path(pid_t pid, const char *path, char *out, size_t outlen);
/* Reads the /proc/PID/exe link target (as the target sees it). */
int proc_exe(pid_t pid, char *out, size_t outlen, struct pc_err *e);
/* The state letter of thread tid of pid (/proc/PID/task/TID/stat: R S D T t Z X ...), or 0 when
 * the thread is gone. */
char proc_task_state(pid_t pid, pid_t tid);
/* Resident set size in bytes from /proc/PID/statm, 0 when unknown. */
uint64_t proc_rss(pid_t pid);

#endif
