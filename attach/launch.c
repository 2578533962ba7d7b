/* launch.c: starting a command under ptrace and following it to its end. */
#include "common/compat.h"
#include <signal.h>
#include "attach/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "attach/hwbreak.h"
#include "attach/procfs.h"
#include "attach/stop.h"
#include "common/xalloc.h"

#define TRACE_OPTS (PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT)

static struct lthread *find(struct launch *l, pid_t tid)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->t[i].tid == tid)
			return &l->t[i];
	return NULL;
}

static struct lthread *add(struct launch *l, pid_t tid)
{
	struct lthread *t = find(l, tid);

	if (t)
		return t;
	xgrow((void **)&l->t, &l->cap, l->n + 1, sizeof *l->t);
	t = &l->t[l->n++];
	*t = (struct lthread){ tid, LS_RUNNING, 0, false };
	return t;
}

static void drop(struct launch *l, pid_t tid)
{
	struct lthread *t = find(l, tid);

	if (t)
		*t = l->t[--l->n];
}

static int block_signals(struct launch *l, struct pc_err *e)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, &l->oldmask) < 0)
		return pc_fail(e, PC_EINTERNAL, "sigprocmask: %s", strerror(errno));
	l->masked = true;
	l->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l->sigfd < 0)
		return pc_fail(e, PC_EINTERNAL, "signalfd: %s", strerror(errno));
	return 0;
}

/* The child: wait until the parent has seized us, then exec. Reports exec's errno on errpipe. */
PC_NORETURN static void child(char *const argv[], const sigset_t *mask, int gate, int errpipe)
{
	char c;
	int err;

	sigprocmask(SIG_SETMASK, mask, NULL);
	while (read(gate, &c, 1) < 0 && errno == EINTR)
		;
	close(gate);
	execvp(argv[0], argv);
	err = errno;
	if (write(errpipe, &err, sizeof err) < 0) {
		/* the parent then sees an exit without exec */
	}
	_exit(127);
}

/* Reads what the child reported about its exec: 0 when it succeeded (the pipe closed on exec). */
static int exec_result(int errpipe)
{
	int err = 0;
	ssize_t r;

	do
		r = read(errpipe, &err, sizeof err);
	while (r < 0 && errno == EINTR);
	return r == (ssize_t)sizeof err ? err : 0;
}

static int seize_child(struct launch *l, int gate_w, struct pc_err *e)
{
	int err;

	if (ptrace(PTRACE_SEIZE, l->pid, NULL, (void *)(long)TRACE_OPTS) < 0) {
		err = errno;
		close(gate_w);
		kill(l->pid, SIGKILL);
		waitpid(l->pid, NULL, 0);
		l->done = true;
		return pc_fail(e, PC_EPERM, "ptrace(PTRACE_SEIZE) of the command: %s", strerror(err));
	}
	add(l, l->pid);
	close(gate_w); /* the child execs now */
	return 0;
}

int launch_start(struct launch *l, char *const argv[], struct pc_err *e)
{
	int gate[2], errp[2], err;

	memset(l, 0, sizeof *l);
	l->sigfd = -1;
	if (block_signals(l, e) < 0)
		return -1;
	if (pipe2(gate, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		return pc_fail(e, PC_EINTERNAL, "pipe: %s", strerror(errno));
	l->pid = fork();
	if (l->pid < 0)
		return pc_fail(e, PC_EEXEC, "fork: %s", strerror(errno));
	if (l->pid == 0) {
		close(gate[1]);
		close(errp[0]);
		child(argv, &l->oldmask, gate[0], errp[1]);
	}
	close(gate[0]);
	close(errp[1]);
	if (seize_child(l, gate[1], e) < 0) {
		close(errp[0]);
		return -1;
	}
	err = exec_result(errp[0]);
	close(errp[0]);
	if (err) {
		/* the child exits 127 without exec: collect it, nothing to profile */
		while (!l->done && launch_wait(l, -1, &(struct levent){ 0 }, NULL) == 0)
			launch_resume_all(l); /* its exit stop */
		return pc_fail(e, PC_EEXEC, "%s: %s", argv[0], strerror(err));
	}
	return 0;
}

/* Seizes the threads of l's process not traced yet; how many, or -1. A thread that a seized one
 * created is traced already (PTRACE_O_TRACECLONE) and reports on its own. */
static int seize_threads(struct launch *l, struct pc_err *e)
{
	pid_t *tids;
	size_t n;
	int added = 0;

	if (proc_tasks(l->pid, &tids, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n && added >= 0; i++) {
		struct proc_status st;
		int err;

		if (find(l, tids[i]))
			continue;
		if (ptrace(PTRACE_SEIZE, tids[i], NULL, (void *)(long)TRACE_OPTS) == 0) {
			add(l, tids[i]);
			added++;
			continue;
		}
		err = errno;
		if (proc_thread_status(tids[i], &st) < 0 || st.state == 'Z' || st.state == 'X' ||
		    st.tracer == getpid())
			continue; /* exited meanwhile, or traced through its creator's clone */
		added = st.tracer ? pc_fail(e, PC_ETRACED, "process %d (%s) is traced by process %d", (int)l->pid,
					    st.name, (int)st.tracer)
				  : stop_seize_error(e, l->pid, err);
	}
	free(tids);
	return added;
}

static void unlist(struct launch *l)
{
	struct launch *g = l->group;

	for (size_t i = 0; g && i < g->nadopted; i++)
		if (g->adopted[i] == l)
			g->adopted[i--] = g->adopted[--g->nadopted];
	l->group = NULL;
}

int launch_adopt(struct launch *l, struct launch *group, pid_t pid, struct pc_err *e)
{
	int added = 1;

	memset(l, 0, sizeof *l);
	l->sigfd = -1;
	l->pid = pid;
	l->group = group;
	xgrow((void **)&group->adopted, &group->capadopted, group->nadopted + 1, sizeof *group->adopted);
	group->adopted[group->nadopted++] = l;
	/* threads created by a thread not seized yet: a few rounds settle it */
	for (int round = 0; round < 100 && added > 0; round++)
		added = seize_threads(l, e);
	if (added == 0 && l->n)
		return 0;
	if (added == 0)
		pc_fail(e, PC_EEXITED, "process %d exited while pycensus attached", (int)pid);
	else if (added > 0)
		pc_fail(e, PC_ETARGETMEM, "process %d keeps creating threads; cannot trace them all", (int)pid);
	launch_release(l);
	return -1;
}

static void resume(struct launch *l, struct lthread *t)
{
	long r;

	if (t->why == LS_RUNNING)
		return;
	if (t->why == LS_GROUP)
		r = ptrace(PTRACE_LISTEN, t->tid, NULL, NULL);
	else
		r = ptrace(PTRACE_CONT, t->tid, NULL, (void *)(long)(t->why == LS_SIGNAL ? t->sig : 0));
	if (r < 0 && errno == ESRCH && t->tid != l->pid) {
		drop(l, t->tid); /* killed meanwhile; its exit status may never come */
		return;
	}
	t->why = LS_RUNNING;
	t->sig = 0;
	t->reported = false;
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Exec by a non-leader thread: the kernel gives it the leader's id and the other threads are
 * gone; only the leader is left to follow. */
static void after_exec(struct launch *l)
{
	l->n = 0;
	add(l, l->pid)->why = LS_EXEC;
	l->execs++;
}

static void on_event(struct launch *l, struct lthread *t, int event, int sig)
{
	unsigned long msg = 0;

	switch (event) {
	case PTRACE_EVENT_CLONE:
		if (ptrace(PTRACE_GETEVENTMSG, t->tid, NULL, &msg) == 0 && msg)
			add(l, (pid_t)msg);
		t->why = LS_INTERRUPT; /* nothing to decide: resumed like an interrupt stop */
		break;
	case PTRACE_EVENT_EXEC:
		after_exec(l);
		break;
	case PTRACE_EVENT_EXIT:
		t->why = LS_EXIT;
		break;
	default: /* PTRACE_EVENT_STOP: interrupt, a new thread's first stop, or a group-stop */
		t->why = is_stop_signal(sig) ? LS_GROUP : LS_INTERRUPT;
		break;
	}
}

/* The launch tid belongs to, among l's group (the program's launch and those it adopted): the one
 * that knows the thread, else the one of its process (a new thread can report before its
 * creator's clone event), else the program's. */
static struct launch *owner(struct launch *l, pid_t tid)
{
	struct launch *g = l->group ? l->group : l;
	struct proc_status st;

	if (find(g, tid) || !g->nadopted)
		return g;
	for (size_t i = 0; i < g->nadopted; i++)
		if (find(g->adopted[i], tid))
			return g->adopted[i];
	if (proc_thread_status(tid, &st) == 0)
		for (size_t i = 0; i < g->nadopted; i++)
			if (g->adopted[i]->pid == st.tgid)
				return g->adopted[i];
	return g;
}

/* Records what one waitpid status says about tid. */
static void on_status(struct launch *l, pid_t tid, int status)
{
	struct lthread *t;
	int sig;

	l = owner(l, tid);
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		drop(l, tid);
		if (tid == l->pid) {
			l->done = true;
			l->status = status;
		}
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	t = add(l, tid); /* a new thread may report before its parent's clone event */
	sig = WSTOPSIG(status);
	t->reported = false;
	if (status >> 16)
		on_event(l, t, status >> 16, sig);
	else if (sig == SIGTRAP && hwbreak_hit(tid))
		t->why = LS_HWBREAK;
	else
		*t = (struct lthread){ tid, LS_SIGNAL, sig, false };
}

static bool decision(const struct lthread *t)
{
	return t->why == LS_EXEC || t->why == LS_HWBREAK || t->why == LS_EXIT;
}

/* Collects every pending status without blocking. */
static void drain(struct launch *l)
{
	int status;
	pid_t r;

	while ((r = waitpid(-1, &status, __WALL | WNOHANG)) > 0)
		on_status(l, r, status);
}

/* Hands over l's first stop needing a decision; resumes the rest. True when ev was filled. */
static bool decide(struct launch *l, struct levent *ev)
{
	for (size_t i = 0; i < l->n; i++) {
		struct lthread *t = &l->t[i];

		if (t->why == LS_RUNNING || !decision(t) || t->reported)
			continue;
		t->reported = true;
		*ev = (struct levent){ .tid = t->tid, .who = l };
		if (t->why == LS_EXEC) {
			ev->kind = LE_EXEC;
			resume(l, t);
		} else if (t->why == LS_HWBREAK) {
			ev->kind = LE_HWBREAK;
		} else {
			ev->kind = LE_EXIT;
			/* exit_group() sends SIGKILL to the other threads, the leader included */
			ev->group = t->tid == l->pid || proc_leader_killed(l->pid);
		}
		return true;
	}
	for (size_t i = 0; i < l->n; i++)
		if (l->t[i].why != LS_RUNNING && !decision(&l->t[i]))
			resume(l, &l->t[i]);
	return false;
}

/* The same over the program and its adopted processes; an adopted one's end is an event too. */
static bool next_decision(struct launch *l, struct levent *ev)
{
	if (decide(l, ev))
		return true;
	for (size_t i = 0; i < l->nadopted; i++) {
		struct launch *a = l->adopted[i];
		if (decide(a, ev))
			return true;
		if (a->done && !a->gone_told) {
			a->gone_told = true;
			*ev = (struct levent){ .kind = LE_GONE, .tid = a->pid, .who = a };
			return true;
		}
	}
	return false;
}

/* 1 with ev filled for a signal to forward; 2 when only SIGCHLDs were read: a child changed
 * state, maybe after the last drain, so the caller must reap again before it blocks (reading that
 * SIGCHLD and then polling left `run` waiting forever on a zombie: CI met it once). 0: nothing. */
static int read_signal(struct launch *l, struct levent *ev)
{
	struct signalfd_siginfo si;
	int chld = 0;

	while (read(l->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD) {
			chld = 2;
			continue;
		}
		*ev = (struct levent){ .kind = LE_SIGNAL, .who = l, .sig = (int)si.ssi_signo,
				       .from_tty = si.ssi_code == SI_KERNEL };
		return 1;
	}
	return chld;
}

/* Tests: a pause between reaping and reading the signals, the window where a child's SIGCHLD
 * used to be read and dropped before its wait status was. */
static void test_drain_delay(void)
{
	static int ms = -1;

	if (ms < 0) {
		const char *s = getenv("PYCENSUS_TEST_DRAIN_DELAY_MS");
		ms = s ? atoi(s) : 0;
	}
	if (ms > 0)
		usleep((useconds_t)ms * 1000);
}

int launch_wait(struct launch *l, int timeout_ms, struct levent *ev, struct pc_err *e)
{
	struct pollfd pfd = { l->sigfd, POLLIN, 0 };

	for (;;) {
		drain(l);
		if (next_decision(l, ev))
			return 0;
		if (l->done) {
			*ev = (struct levent){ .kind = LE_GONE, .tid = l->pid, .who = l };
			return 0;
		}
		test_drain_delay();
		switch (read_signal(l, ev)) {
		case 1:
			return 0;
		case 2:
			continue;
		}
		switch (poll(&pfd, 1, timeout_ms)) {
		case 0:
			*ev = (struct levent){ .kind = LE_TIMEOUT, .who = l };
			return 0;
		case -1:
			if (errno != EINTR)
				return pc_fail(e, PC_EINTERNAL, "poll: %s", strerror(errno));
		}
	}
}

static size_t running(const struct launch *l)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->t[i].why == LS_RUNNING;
	return n;
}

/* A running thread's tid, or 0. */
static pid_t first_running(const struct launch *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->t[i].why == LS_RUNNING)
			return l->t[i].tid;
	return 0;
}

/* A thread that did not stop by the deadline: the others run on, and while that thread still
 * sleeps uninterruptibly the next samples give up at once instead of stopping the program for
 * the whole deadline each time. Its interrupt stays pending: launch_wait resumes it when it comes. */
static int stuck(struct launch *l, pid_t tid, struct pc_err *e)
{
	l->stuck_tid = tid;
	launch_resume_all(l);
	return stop_fail_stuck(e, l->pid, tid);
}

static bool still_stuck(struct launch *l)
{
	struct lthread *t = l->stuck_tid ? find(l, l->stuck_tid) : NULL;

	if (t && t->why == LS_RUNNING && proc_task_state(l->pid, t->tid) == 'D')
		return true;
	l->stuck_tid = 0;
	return false;
}

/* Collects stops until no thread runs; waits at most STOP_DEADLINE_S for any one of them. */
static int collect_stops(struct launch *l, struct pc_err *e)
{
	double deadline = mono_now() + STOP_DEADLINE_S;
	struct timespec nap = { 0, 100000 }; /* 0.1 ms, doubling to 10 ms */

	while (!l->done && running(l) > 0) {
		int status;
		pid_t r = waitpid(-1, &status, __WALL | WNOHANG);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0) {
			if (mono_now() > deadline)
				return stuck(l, first_running(l), e);
			nanosleep(&nap, NULL);
			if (nap.tv_nsec < 10000000)
				nap.tv_nsec *= 2;
			continue;
		}
		on_status(l, r, status);
		for (size_t i = 0; i < l->n; i++) /* threads born meanwhile must stop too */
			if (l->t[i].why == LS_RUNNING && l->t[i].tid == r)
				ptrace(PTRACE_INTERRUPT, r, NULL, NULL);
	}
	return 0;
}

int launch_stop_all(struct launch *l, struct pc_err *e)
{
	if (still_stuck(l))
		return stop_fail_stuck(e, l->pid, l->stuck_tid);
	for (size_t i = 0; i < l->n; i++)
		if (l->t[i].why == LS_RUNNING && ptrace(PTRACE_INTERRUPT, l->t[i].tid, NULL, NULL) < 0 &&
		    errno == ESRCH && l->t[i].tid != l->pid)
			drop(l, l->t[i--].tid);
	/* Each interrupted thread reports a stop (or its exit); new threads report their first stop. */
	if (collect_stops(l, e) < 0)
		return -1;
	if (l->done || l->n == 0)
		return pc_fail(e, PC_EEXITED, "process %d exited while pycensus stopped it", (int)l->pid);
	return 0;
}

/* A stop that needs the caller's decision (exec, breakpoint, exit) and that a stop_all collected
 * before launch_wait handed it over stays stopped: resuming it would let the program finalise or
 * exit before the census it calls for (measured: a periodic sample that met the exit stop resumed
 * it, and the exit census then read a process already gone). */
void launch_resume_all(struct launch *l)
{
	for (size_t i = l->n; i-- > 0;)
		if (!decision(&l->t[i]) || l->t[i].reported)
			resume(l, &l->t[i]);
}

pid_t launch_stopped_tid(const struct launch *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->t[i].why != LS_RUNNING && l->t[i].tid == l->pid)
			return l->pid;
	for (size_t i = 0; i < l->n; i++)
		if (l->t[i].why != LS_RUNNING)
			return l->t[i].tid;
	return l->pid;
}

void launch_kill(struct launch *l, int sig)
{
	if (!l->done)
		kill(l->pid, sig);
}

void launch_release(struct launch *l)
{
	while (l->nadopted)
		launch_release(l->adopted[0]);
	free(l->adopted);
	/* PTRACE_DETACH needs a stopped tracee */
	if (!l->done && l->pid > 0 && launch_stop_all(l, NULL) == 0) {
		for (size_t i = 0; i < l->n; i++) {
			ptrace(PTRACE_DETACH, l->t[i].tid, NULL,
			       (void *)(long)(l->t[i].why == LS_SIGNAL ? l->t[i].sig : 0));
		}
	}
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (l->masked)
		sigprocmask(SIG_SETMASK, &l->oldmask, NULL);
	unlist(l);
	free(l->t);
	memset(l, 0, sizeof *l);
	l->sigfd = -1;
}

int launch_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}
