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
	bool deleted; /* the file was deleted (or replaced) since it was mapped: path is its old name,
	               * without the " (deleted)" the kernel appends; open it with proc_mapped_file */
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
/* The status of any thread id, a thread of another process too (/proc/TID/status): 0, or -1 with
 * errno when it cannot be read (gone). */
int proc_thread_status(pid_t tid, struct proc_status *st);
/* Thread ids of the process (from /proc/PID/task). *tids is malloc'd. */
int proc_tasks(pid_t pid, pid_t **tids, size_t *n, struct pc_err *e);
/* "/proc/PID/root" + path, so files of a process in another mount namespace open. */
void proc_root_path(pid_t pid, const char *path, char *out, size_t outlen);
/* The path to open a file the process maps under `path` (as its maps name it, without
 * " (deleted)"): /proc/PID/root + path, or, when its mappings say it was deleted or replaced since,
 * /proc/PID/map_files/START-END of its first mapping, which still opens the file the process has
 * (the kernel asks for CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE to open it). True when deleted. */
bool proc_mapped_file(pid_t pid, const struct maps *m, const char *path, char *out, size_t outlen);
/* Reads the /proc/PID/exe link target (as the target sees it; without " (deleted)", *deleted
 * says so; deleted may be NULL). */
int proc_exe(pid_t pid, char *out, size_t outlen, bool *deleted, struct pc_err *e);
/* A thread of pid that has not exited: pid itself when its leader runs, else the first of its
 * other threads that is not a zombie (the main thread called pthread_exit and the others run
 * on: /proc/PID/maps and the leader's memory read empty, a live thread's do not); 0 when none. */
pid_t proc_live_thread(pid_t pid);
/* Reads a small text file (a /proc or /sys file) into buf, NUL-terminated, at most len - 1 bytes:
 * the bytes read, or -1 when it cannot be opened (errno set). */
ssize_t proc_read_text(const char *path, char *buf, size_t len);
/* The id thread tid of pid has in its own (innermost) PID namespace, from the NSpid line of
 * /proc/PID/task/TID/status: tid itself when the process is in ours; 0 when unknown. */
pid_t proc_task_nstid(pid_t pid, pid_t tid);
/* The state letter of thread tid of pid (/proc/PID/task/TID/stat: R S D T t Z X ...), or 0 when
 * the thread is gone. */
char proc_task_state(pid_t pid, pid_t tid);
/* Resident set size in bytes from /proc/PID/statm, 0 when unknown. */
uint64_t proc_rss(pid_t pid);

/* True when the leader thread of pid has SIGKILL pending or is a zombie, or is gone: the process
 * is on its way out (exit_group() sends SIGKILL to every other thread, the leader included). */
bool proc_leader_killed(pid_t pid);

#endif
