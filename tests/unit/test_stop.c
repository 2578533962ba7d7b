/* test_stop.c: stopping every thread of a process whose threads come and go all the time. A
 * forked child starts and joins short-lived threads in a loop; this process stops it and lets it
 * go again, many times. Threads that exit while they are being seized must be skipped, not
 * reported: the kernel refuses an exiting thread with EPERM, which once made a census fail as
 * "permission denied". */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach/procfs.h"
#include "attach/stop.h"
#include "common/error.h"

#define CHURNERS 4
#define STOPS 3000

static void *short_lived(void *arg)
{
	return arg;
}

/* Each churner starts a thread and joins it, forever. */
static void *churn(void *arg)
{
	for (;;) {
		pthread_t t;
		if (pthread_create(&t, NULL, short_lived, arg) == 0)
			pthread_join(t, NULL);
	}
	return NULL;
}

static pid_t churning_child(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0, "fork failed");
	if (pid == 0) {
		pthread_t t;
		for (int i = 0; i < CHURNERS; i++)
			pthread_create(&t, NULL, churn, NULL);
		for (;;)
			pause();
	}
	return pid;
}

Test(attach_stop, threads_exiting_while_seized_are_skipped, .timeout = 300)
{
	pid_t child = churning_child();
	unsigned failed = 0, most = 0;
	char first[1024] = "";

	usleep(100000); /* let the churners start */
	for (unsigned i = 0; i < STOPS; i++) {
		struct stopped s;
		struct pc_err e = { 0 };
		if (stop_all(&s, child, &e) < 0) {
			if (failed++ == 0)
				snprintf(first, sizeof first, "stop %u: %s (%s)", i, e.detail, pc_code_name(e.code));
			continue;
		}
		most = s.n > most ? (unsigned)s.n : most;
		stop_release(&s);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	cr_expect_eq(failed, 0, "%u of %d stops failed; the first: %s", failed, STOPS, first);
	cr_expect_geq(most, 2, "the child never had its churning threads when stopped (%u)", most);
}

Test(attach_stop, task_state_of_a_live_and_a_missing_thread)
{
	char st = proc_task_state(getpid(), getpid());

	cr_expect(st == 'R' || st == 'S', "own state '%c'", st ? st : '0');
	cr_expect_eq(proc_task_state(getpid(), 0x7ffffff0), 0);
}

/* A target killed while stopped stays a zombie traced by this process until it waits for it, and
 * the target's parent (not this process: a serve test's workload) cannot reap it meanwhile: a CI
 * run hung there. stop_release must leave the parent able to reap it while this process goes on. */
Test(attach_stop, a_target_killed_while_stopped_is_released_to_its_parent, .timeout = 120)
{
	int fd[2], status = 0;
	pid_t middle, target = 0;
	struct stopped s;
	struct pc_err e = { 0 };
	bool reaped = false;

	cr_assert_eq(pipe(fd), 0);
	middle = fork();
	cr_assert_geq(middle, 0, "fork failed");
	if (middle == 0) {
		pid_t t = fork();
		if (t == 0) {
			for (;;)
				pause();
		}
		if (write(fd[1], &t, sizeof t) != (ssize_t)sizeof t)
			_exit(2);
		_exit(waitpid(t, NULL, 0) == t ? 0 : 3);
	}
	cr_assert_eq(read(fd[0], &target, sizeof target), (ssize_t)sizeof target);
	cr_assert_eq(stop_all(&s, target, &e), 0, "stop: %s", e.detail);
	kill(target, SIGKILL);
	stop_release(&s);
	/* a deadline, not a timing: without the release the parent never reaps it while we live */
	for (int i = 0; i < 300 && !reaped; i++) {
		reaped = waitpid(middle, &status, WNOHANG) == middle;
		if (!reaped)
			usleep(100000);
	}
	if (!reaped) {
		kill(middle, SIGKILL);
		waitpid(middle, NULL, 0);
	}
	cr_expect(reaped && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the killed target's parent could not reap it within 30 s of stop_release (status %#x)", status);
	close(fd[0]);
	close(fd[1]);
}
