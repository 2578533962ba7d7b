/* stop.c: stopping every thread of the target with PTRACE_SEIZE + PTRACE_INTERRUPT, and resuming
 * them on every path. */
#include "common/compat.h"
#include "attach/stop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "attach/procfs.h"
#include "common/xalloc.h"

/* The one piece of global state: a signal handler has no context argument, and it must be able to
 * resume whatever target is stopped when SIGINT/SIGTERM/SIGHUP arrives. */
static struct stopped *volatile current_stop;
static volatile sig_atomic_t *interrupt_flag;

void stop_on_interrupt(volatile sig_atomic_t *flag)
{
	interrupt_flag = flag;
}

double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Whether tid's parent is pycensus: `run`'s program, whose exit status its own wait takes. */
static bool own_child(pid_t tid)
{
	char path[64], buf[512];
	const char *close_paren;
	ssize_t n;
	int fd, ppid = 0;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold spaces and parentheses, the last ')' ends it */
	if (!(close_paren = strrchr(buf, ')')) || sscanf(close_paren + 1, " %*c %d", &ppid) != 1)
		return false;
	return ppid == (int)getpid();
}

/* A thread killed while stopped (SIGKILL ends any stop) cannot be detached (ESRCH): it stays a
 * zombie traced by pycensus until pycensus waits for it, and its parent's wait blocks meanwhile
 * (a CI run: a serve test hung in waitpid for a target it killed during a census, while `serve`
 * went on). Waited for here, up to 100 ms while it finishes exiting; a thread of pycensus's own
 * child is left to the wait of `run`, which takes its status. */
static void release_gone(pid_t tid)
{
	struct timespec nap = { 0, 1000000 };
	int status;

	if (own_child(tid))
		return;
	for (int i = 0; i < 100; i++) {
		pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r == tid && (WIFEXITED(status) || WIFSIGNALED(status))))
			return;
		if (r == tid && WIFSTOPPED(status) && ptrace(PTRACE_DETACH, tid, NULL, NULL) == 0)
			return;
		nanosleep(&nap, NULL);
	}
}

/* `reap`: wait for the threads killed while stopped (release_gone); not from a signal handler,
 * after which pycensus ends or soon ends, and the kernel then lets them go. */
static void detach_all(struct stopped *s, bool reap)
{
	for (size_t i = 0; i < s->n; i++)
		if (ptrace(PTRACE_DETACH, s->tids[i], NULL, (void *)(long)s->sigs[i]) < 0 && errno == ESRCH && reap)
			release_gone(s->tids[i]);
	s->n = 0;
}

static void on_fatal_signal(int sig)
{
	static const char msg[] = "pycensus: interrupted; the target was resumed\n";
	struct stopped *s = current_stop;

	/* A sampling command keeps what it sampled: the target is resumed at once, and the caller
	 * discards the census under way and writes its report. */
	if (interrupt_flag) {
		*interrupt_flag = sig;
		if (s)
			detach_all(s, false);
		return;
	}
	if (s)
		detach_all(s, false);
	if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) {
		/* nothing more can be done in a signal handler */
	}
	_exit(128 + sig);
}

void stop_install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fatal_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static bool has_tid(const struct stopped *s, pid_t t)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->tids[i] == t)
			return true;
	return false;
}

int stop_seize_error(struct pc_err *e, pid_t pid, int err)
{
	char scope[16] = "";
	FILE *f;

	if (err == ESRCH)
		return pc_fail(e, PC_EEXITED, "process %d exited while pycensus attached", (int)pid);
	f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	if (f) {
		if (!fgets(scope, sizeof scope, f))
			scope[0] = '\0';
		scope[strcspn(scope, "\n")] = '\0';
		fclose(f);
	}
	return pc_fail(e, PC_EPERM, "ptrace(PTRACE_SEIZE, %d): %s (uid %d; kernel.yama.ptrace_scope=%s)",
		       (int)pid, strerror(err), (int)getuid(), scope[0] ? scope : "absent");
}

enum waited { WAIT_STOPPED, WAIT_GONE, WAIT_STUCK };

/* Waits for the interrupt stop of one thread, until the deadline. A signal that reaches the
 * thread first stops it in a signal-delivery-stop instead (no PTRACE_EVENT_STOP in the status):
 * stopped all the same, and *sig keeps the signal to deliver when the thread is let go. */
static enum waited wait_stopped(pid_t tid, int *sig)
{
	double deadline = mono_now() + STOP_DEADLINE_S;
	struct timespec nap = { 0, 100000 }; /* 0.1 ms, doubling to 10 ms */
	int status;

	for (;;) {
		pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r == tid && (WIFEXITED(status) || WIFSIGNALED(status))))
			return WAIT_GONE;
		if (r == tid && WIFSTOPPED(status)) {
			*sig = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
			return WAIT_STOPPED;
		}
		if (mono_now() > deadline)
			return WAIT_STUCK;
		nanosleep(&nap, NULL);
		if (nap.tv_nsec < 10000000)
			nap.tv_nsec *= 2;
	}
}

int stop_fail_stuck(struct pc_err *e, pid_t pid, pid_t tid)
{
	char path[64], wchan[64] = "", name[64] = "";
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/task/%d/wchan", (int)pid, (int)tid);
	if ((f = fopen(path, "re"))) {
		if (!fgets(wchan, sizeof wchan, f))
			wchan[0] = '\0';
		fclose(f);
	}
	snprintf(path, sizeof path, "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	if ((f = fopen(path, "re"))) {
		if (!fgets(name, sizeof name, f))
			name[0] = '\0';
		name[strcspn(name, "\n")] = '\0';
		fclose(f);
	}
	return pc_fail(e, PC_ESTUCK, "thread %d (%s) of process %d did not stop within %.0f s: state %c%s%s; the other threads were resumed",
		       (int)tid, name[0] ? name : "?", (int)pid, STOP_DEADLINE_S, proc_task_state(pid, tid) ?: '?',
		       wchan[0] && strcmp(wchan, "0") != 0 ? ", waiting in " : "", wchan[0] && strcmp(wchan, "0") != 0 ? wchan : "");
}

/* The kernel refuses to attach to a thread that has begun to exit with EPERM, not ESRCH
 * (ptrace_attach checks exit_state): a thread of a process that churns threads can be listed in
 * /proc/PID/task and be exiting by the time it is seized (bench/soak: 1 census of its 1000 failed
 * as "permission denied", exit 4). A live thread refused with EPERM is a real refusal (another
 * tracer holds it). */
static bool thread_exiting(pid_t pid, pid_t tid)
{
	char st = proc_task_state(pid, tid);

	return st == 0 || st == 'Z' || st == 'X';
}

/* Seizes every thread not yet seized; returns how many were new, or -1. */
static int seize_new_threads(struct stopped *s, struct pc_err *e)
{
	pid_t *tids;
	size_t n;
	int added = 0;

	if (proc_tasks(s->pid, &tids, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		pid_t t = tids[i];
		if (has_tid(s, t))
			continue;
		if (ptrace(PTRACE_SEIZE, t, NULL, NULL) < 0) {
			int err = errno;
			/* a thread that just exited; or the leader when the main thread exited and the
			 * others run on (a process with no live thread left fails below) */
			if (err == ESRCH || (err == EPERM && thread_exiting(s->pid, t)))
				continue;
			free(tids);
			return stop_seize_error(e, s->pid, err);
		}
		size_t cap = s->cap;
		xgrow((void **)&s->tids, &s->cap, s->n + 1, sizeof *s->tids);
		xgrow((void **)&s->sigs, &cap, s->n + 1, sizeof *s->sigs);
		s->sigs[s->n] = 0;
		s->tids[s->n++] = t;
		enum waited w = ptrace(PTRACE_INTERRUPT, t, NULL, NULL) < 0 ? WAIT_GONE : wait_stopped(t, &s->sigs[s->n - 1]);
		if (w == WAIT_STUCK) {
			s->n--;
			free(tids);
			return stop_fail_stuck(e, s->pid, t);
		}
		if (w == WAIT_GONE) {
			s->n--;
			ptrace(PTRACE_DETACH, t, NULL, NULL);
			if (t == s->pid) {
				free(tids);
				return pc_fail(e, PC_EEXITED, "process %d exited while pycensus stopped it", (int)s->pid);
			}
			continue;
		}
		added++;
	}
	free(tids);
	return added;
}

/* SIGINT/SIGTERM reached a sampling command: stop nothing more. */
static int interrupted(struct pc_err *e)
{
	return pc_fail(e, PC_EINTERNAL, "interrupted by signal %d", (int)*interrupt_flag);
}

/* The handlers read the thread list: while it changes (grows, shrinks, is freed) they wait. A
 * signal that arrives meanwhile is delivered when the list is whole again, at most the stop
 * deadline later (measured: a SIGINT that landed while stop_all changed the list crashed
 * pycensus, 3 runs of 36 on a loaded machine). */
static void hold_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, old);
}

static int seize_all(struct stopped *s, struct pc_err *e)
{
	/* Threads can be created while we stop the others; a few rounds settle it. */
	for (int round = 0; round < 100; round++) {
		int added = interrupt_flag && *interrupt_flag ? interrupted(e) : seize_new_threads(s, e);
		if (added < 0)
			return -1;
		if (added == 0 && s->n == 0)
			return pc_fail(e, PC_EEXITED, "process %d exited while pycensus stopped it", (int)s->pid);
		if (added == 0)
			return 0;
	}
	return pc_fail(e, PC_ETARGETMEM, "process %d keeps creating threads; cannot stop them all", (int)s->pid);
}

int stop_all(struct stopped *s, pid_t pid, struct pc_err *e)
{
	sigset_t old;
	int rc;

	hold_signals(&old);
	memset(s, 0, sizeof *s);
	s->pid = pid;
	current_stop = s;
	s->stopped_at = mono_now();
	rc = seize_all(s, e);
	if (rc < 0)
		stop_release(s);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

void stop_release(struct stopped *s)
{
	sigset_t old;

	hold_signals(&old);
	if (s->n)
		s->pause_s = mono_now() - s->stopped_at;
	detach_all(s, true);
	if (current_stop == s)
		current_stop = NULL;
	free(s->tids);
	free(s->sigs);
	s->tids = NULL;
	s->sigs = NULL;
	s->cap = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
}
