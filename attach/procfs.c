/* procfs.c: parsing /proc/PID (maps, status, task, exe, statm). */
#include "common/compat.h"
#include "attach/procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/xalloc.h"

/* errno from opening a /proc file -> our error kinds. */
static int proc_errno(struct pc_err *e, pid_t pid, const char *what, int err)
{
	if (err == ENOENT || err == ESRCH)
		return pc_fail(e, PC_ENOPROC, "process %d does not exist", (int)pid);
	if (err == EACCES || err == EPERM)
		return pc_fail(e, PC_EPERM, "cannot read /proc/%d/%s: %s", (int)pid, what, strerror(err));
	return pc_fail(e, PC_ETARGETMEM, "cannot read /proc/%d/%s: %s", (int)pid, what, strerror(err));
}

#define DELETED_SUFFIX " (deleted)"

static bool parse_map_line(char *line, struct map *m)
{
	char perms[8] = "";
	unsigned long long start, end, off, inode;
	int pathpos = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %*s %llu %n", &start, &end, perms, &off, &inode, &pathpos) < 5)
		return false;
	m->start = start;
	m->end = end;
	m->offset = off;
	m->inode = inode;
	m->r = perms[0] == 'r';
	m->w = perms[1] == 'w';
	m->x = perms[2] == 'x';
	m->priv = perms[3] == 'p';
	line[strcspn(line, "\n")] = '\0';
	m->path = xstrdup(pathpos > 0 ? line + pathpos : "");
	/* fs/proc/task_mmu.c writes d_path's " (deleted)" after an unlinked file's name */
	if (m->inode) {
		size_t len = strlen(m->path), sl = strlen(DELETED_SUFFIX);
		m->deleted = len > sl && strcmp(m->path + len - sl, DELETED_SUFFIX) == 0;
		if (m->deleted)
			m->path[len - sl] = '\0';
	}
	return true;
}

int maps_read(pid_t pid, struct maps *out, struct pc_err *e)
{
	char path[64], *line = NULL;
	size_t linecap = 0;
	FILE *f;

	memset(out, 0, sizeof *out);
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return proc_errno(e, pid, "maps", errno);
	while (getline(&line, &linecap, f) > 0) {
		struct map m;
		if (!parse_map_line(line, &m))
			continue;
		xgrow((void **)&out->v, &out->cap, out->n + 1, sizeof *out->v);
		out->v[out->n++] = m;
	}
	free(line);
	fclose(f);
	if (out->n == 0)
		return pc_fail(e, PC_ENOPROC, "process %d has no memory maps (exited, zombie or kernel thread)", (int)pid);
	return 0;
}

void maps_release(struct maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	memset(m, 0, sizeof *m);
}

const struct map *maps_find(const struct maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr < m->v[mid].start)
			hi = mid;
		else if (addr >= m->v[mid].end)
			lo = mid + 1;
		else
			return &m->v[mid];
	}
	return NULL;
}

bool maps_readable(const struct maps *m, uint64_t addr, uint64_t len)
{
	uint64_t end = addr + len;

	if (end < addr)
		return false;
	while (addr < end) {
		const struct map *mp = maps_find(m, addr);
		if (!mp || !mp->r)
			return false;
		addr = mp->end;
	}
	return true;
}

static void status_field(const char *line, struct proc_status *st)
{
	unsigned long v;

	if (sscanf(line, "Name:\t%63[^\n]", st->name) == 1)
		return;
	if (sscanf(line, "State:\t%c", &st->state) == 1)
		return;
	if (sscanf(line, "Tgid:\t%lu", &v) == 1)
		st->tgid = (pid_t)v;
	else if (sscanf(line, "PPid:\t%lu", &v) == 1)
		st->ppid = (pid_t)v;
	else if (sscanf(line, "Uid:\t%lu", &v) == 1)
		st->uid = (uid_t)v;
	else if (sscanf(line, "TracerPid:\t%lu", &v) == 1)
		st->tracer = (pid_t)v;
}

int proc_thread_status(pid_t tid, struct proc_status *st)
{
	char path[64], line[256];
	FILE *f;

	memset(st, 0, sizeof *st);
	snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
	f = tid > 0 ? fopen(path, "re") : NULL;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		status_field(line, st);
	fclose(f);
	return 0;
}

int proc_status_read(pid_t pid, struct proc_status *st, struct pc_err *e)
{
	char path[64];

	if (pid <= 0)
		return memset(st, 0, sizeof *st), pc_fail(e, PC_ENOPROC, "%d is not a process id", (int)pid);
	if (proc_thread_status(pid, st) < 0)
		return proc_errno(e, pid, "status", errno);
	if (st->tgid != pid)
		return pc_fail(e, PC_ENOPROC, "%d is a thread of process %d, not a process; use %d",
			       (int)pid, (int)st->tgid, (int)st->tgid);
	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	/* Kernel threads have no mm: their exe link cannot be read even by root (ENOENT). */
	if (access(path, F_OK) != 0 && errno == ENOENT && st->state != 'Z')
		st->kernel_thread = true;
	return 0;
}

int proc_tasks(pid_t pid, pid_t **tids, size_t *n, struct pc_err *e)
{
	char path[64];
	size_t cap = 0;
	struct dirent *d;
	DIR *dir;

	*tids = NULL;
	*n = 0;
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return proc_errno(e, pid, "task", errno);
	while ((d = readdir(dir))) {
		char *end;
		long t = strtol(d->d_name, &end, 10);
		if (*end || t <= 0)
			continue;
		xgrow((void **)tids, &cap, *n + 1, sizeof **tids);
		(*tids)[(*n)++] = (pid_t)t;
	}
	closedir(dir);
	if (*n == 0)
		return pc_fail(e, PC_ENOPROC, "process %d has no threads", (int)pid);
	return 0;
}

void proc_root_path(pid_t pid, const char *path, char *out, size_t outlen)
{
	snprintf(out, outlen, "/proc/%d/root%s", (int)pid, path);
}

bool proc_mapped_file(pid_t pid, const struct maps *m, const char *path, char *out, size_t outlen)
{
	const struct map *first = NULL;

	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].inode && strcmp(m->v[i].path, path) == 0 && (!first || m->v[i].offset < first->offset))
			first = &m->v[i];
	if (!first || !first->deleted) {
		proc_root_path(pid, path, out, outlen);
		return false;
	}
	snprintf(out, outlen, "/proc/%d/map_files/%llx-%llx", (int)pid, (unsigned long long)first->start,
		 (unsigned long long)first->end);
	return true;
}

int proc_exe(pid_t pid, char *out, size_t outlen, bool *deleted, struct pc_err *e)
{
	char path[64];
	size_t sl = strlen(DELETED_SUFFIX);
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	n = readlink(path, out, outlen - 1);
	if (n < 0)
		return proc_errno(e, pid, "exe", errno);
	out[n] = '\0';
	/* A deleted or replaced binary reads "path (deleted)", as its maps do. */
	if (deleted)
		*deleted = (size_t)n > sl && strcmp(out + n - sl, DELETED_SUFFIX) == 0;
	if ((size_t)n > sl && strcmp(out + n - sl, DELETED_SUFFIX) == 0)
		out[n - sl] = '\0';
	return 0;
}

pid_t proc_live_thread(pid_t pid)
{
	pid_t *tids, live = 0;
	size_t n;
	char st = proc_task_state(pid, pid);

	if (st && st != 'Z' && st != 'X')
		return pid;
	if (proc_tasks(pid, &tids, &n, NULL) < 0)
		return 0;
	for (size_t i = 0; i < n && !live; i++) {
		st = tids[i] == pid ? 0 : proc_task_state(pid, tids[i]);
		if (st && st != 'Z' && st != 'X')
			live = tids[i];
	}
	free(tids);
	return live;
}

pid_t proc_task_nstid(pid_t pid, pid_t tid)
{
	char path[80], line[256];
	pid_t inner = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tid);
	if (!(f = fopen(path, "re")))
		return 0;
	/* "NSpid:\t4242\t7\t1": the id in each namespace from the reader's down to the innermost */
	while (fgets(line, sizeof line, f)) {
		char *p = line + 6, *end;
		if (strncmp(line, "NSpid:", 6) != 0)
			continue;
		for (long v; (v = strtol(p, &end, 10)) > 0 && end != p; p = end)
			inner = (pid_t)v;
		break;
	}
	fclose(f);
	return inner;
}

char proc_task_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "tid (comm) S ...": comm may hold spaces and parentheses, so the last ')' ends it */
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

uint64_t proc_rss(pid_t pid)
{
	char path[64];
	unsigned long long size, rss;
	FILE *f;
	int ok;

	snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	ok = fscanf(f, "%llu %llu", &size, &rss) == 2;
	fclose(f);
	return ok ? rss * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

ssize_t proc_read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (ssize_t)n;
}

bool proc_leader_killed(pid_t pid)
{
	char path[64], line[256];
	bool killed = false;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)pid);
	f = fopen(path, "re");
	if (!f)
		return true; /* the leader is gone: the process is on its way out */
	while (fgets(line, sizeof line, f)) {
		unsigned long long mask;
		if (sscanf(line, "SigPnd: %llx", &mask) == 1 && (mask & (1ULL << (SIGKILL - 1))))
			killed = true;
		if (strncmp(line, "State:", 6) == 0 && (strchr(line, 'Z') || strchr(line, 'X')))
			killed = true;
	}
	fclose(f);
	return killed;
}
