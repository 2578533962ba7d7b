/* test_source.c: the sequence every command follows on a source (source/source.h), over a fake
 * backend that counts stops, resumes and locations and fails as told: the retry of a layout
 * mismatch, the resume on every path, a held target, the pause figure, and blaming a failure on
 * the target's exit. No process is needed but for the zombie test. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach/procfs.h"
#include "common/error.h"
#include "source/source.h"

struct fake {
	int layout_failures;    /* locate fails with PC_ELAYOUT this many times */
	int fn_layout_failures; /* fn fails with PC_ELAYOUT this many times */
	enum pc_code fn_fails;  /* fn fails with this code every time (PC_EOK: it succeeds) */
	bool stop_fails, gone, resume_early;
	unsigned stops, resumes, locates, fn_calls;
	bool stopped;
	unsigned fn_unstopped, fn_unlocated; /* calls of fn that met the target running, or unlocated */
	unsigned sleep_us;      /* fn keeps the target this long */
};

static int fake_stop(struct source *s, struct pc_err *e)
{
	struct fake *f = s->arg;

	f->stops++;
	if (f->stop_fails)
		return pc_fail(e, PC_EPERM, "fake: stop refused");
	cr_assert(!f->stopped, "stopped twice without a resume");
	f->stopped = true;
	return 0;
}

static void fake_resume(struct source *s)
{
	struct fake *f = s->arg;

	cr_assert(f->stopped, "resumed a target that was not stopped");
	f->resumes++;
	f->stopped = false;
}

static int fake_locate(struct source *s, struct pyproc *p, struct pc_err *e)
{
	struct fake *f = s->arg;

	f->locates++;
	memset(p, 0, sizeof *p);
	mem_init_buffer(&p->mem); /* a pyproc that pyproc_close takes */
	if (f->layout_failures > 0) {
		f->layout_failures--;
		pyproc_close(p);
		return pc_fail(e, PC_ELAYOUT, "fake: thread state does not point back");
	}
	return 0;
}

static bool fake_gone(const struct source *s)
{
	return ((const struct fake *)s->arg)->gone;
}

static const struct source_ops fake_ops = {
	.stop = fake_stop, .resume = fake_resume, .locate = fake_locate, .gone = fake_gone, .changes = true,
};
/* A target that cannot change between attempts (as an image). */
static const struct source_ops static_ops = {
	.stop = fake_stop, .resume = fake_resume, .locate = fake_locate, .gone = fake_gone,
};
/* A target never stopped (as --nonblocking): it changes on its own. */
static const struct source_ops running_ops = { .locate = fake_locate, .gone = fake_gone, .changes = true };

static int fake_fn(struct source *s, struct pyproc *p, void *arg, struct pc_err *e)
{
	struct fake *f = arg;

	f->fn_calls++;
	f->fn_unstopped += !f->stopped && s->ops->stop;
	f->fn_unlocated += !s->located || p != &s->p;
	if (f->sleep_us)
		usleep(f->sleep_us);
	if (f->resume_early)
		cr_assert_eq(source_resume(s), !(s->flags & SOURCE_HOLD) && s->ops->stop != NULL);
	if (f->fn_layout_failures > 0) {
		f->fn_layout_failures--;
		return pc_fail(e, PC_ELAYOUT, "fake: GC list head does not point back");
	}
	if (f->fn_fails != PC_EOK)
		return pc_fail(e, f->fn_fails, "fake: fn failed");
	return 0;
}

static int run(struct fake *f, const struct source_ops *ops, unsigned flags, struct source *s, struct pc_err *e)
{
	int rc;

	source_open_ops(s, ops, 4242, flags, f);
	rc = source_with_stopped(s, fake_fn, f, e);
	cr_assert(!s->located, "the location outlived source_with_stopped");
	return rc;
}

Test(source, succeeds_at_once)
{
	struct fake f = { 0 };
	struct pc_err e = { 0 };
	struct source s;

	cr_assert_eq(run(&f, &fake_ops, 0, &s, &e), 0, "%s", e.detail);
	cr_assert_eq(f.stops, 1);
	cr_assert_eq(f.resumes, 1);
	cr_assert_eq(f.locates, 1);
	cr_assert_eq(f.fn_calls, 1);
	cr_assert_eq(s.attempts, 1);
	cr_assert(!f.fn_unstopped && !f.fn_unlocated);
	cr_assert(!f.stopped && !s.stopped);
	source_close(&s);
	cr_assert_eq(f.resumes, 1, "close resumed a target already resumed");
}

Test(source, retries_a_layout_mismatch_once)
{
	struct fake f = { .layout_failures = 1 };
	struct pc_err e = { 0 };
	struct source s;

	cr_assert_eq(run(&f, &fake_ops, 0, &s, &e), 0, "%s", e.detail);
	cr_assert_eq(e.code, PC_EOK, "the first attempt's error was left behind: %s", e.detail);
	cr_assert_eq(f.stops, 2);
	cr_assert_eq(f.resumes, 2, "resumed between the attempts and after");
	cr_assert_eq(f.locates, 2);
	cr_assert_eq(f.fn_calls, 1);
	cr_assert_eq(s.attempts, 2);
	cr_assert(!f.fn_unstopped && !f.fn_unlocated);
	cr_assert(!f.stopped);
	source_close(&s);
}

Test(source, retries_a_layout_mismatch_met_by_fn)
{
	struct fake f = { .fn_layout_failures = 2 };
	struct pc_err e = { 0 };
	struct source s;

	cr_assert_eq(run(&f, &fake_ops, 0, &s, &e), 0, "%s", e.detail);
	cr_assert_eq(f.fn_calls, 3);
	cr_assert_eq(f.stops, 3);
	cr_assert_eq(f.resumes, 3);
	cr_assert(!f.stopped);
	source_close(&s);
}

Test(source, gives_up_after_the_last_attempt)
{
	struct fake f = { .layout_failures = 100 };
	struct pc_err e = { 0 };
	struct source s;

	cr_assert_eq(run(&f, &fake_ops, 0, &s, &e), -1);
	cr_assert_eq(e.code, PC_ELAYOUT);
	cr_assert_eq(f.stops, SOURCE_ATTEMPTS);
	cr_assert_eq(f.resumes, SOURCE_ATTEMPTS);
	cr_assert_eq(f.fn_calls, 0);
	cr_assert_eq(s.attempts, SOURCE_ATTEMPTS);
	cr_assert(!f.stopped);
	source_close(&s);
}

Test(source, other_errors_are_not_retried)
{
	struct fake f = { .fn_fails = PC_ETARGETMEM };
	struct pc_err e = { 0 };
	struct source s;

	cr_assert_eq(run(&f, &fake_ops, 0, &s, &e), -1);
	cr_assert_eq(e.code, PC_ETARGETMEM);
	cr_assert_eq(f.fn_calls, 1);
	cr_assert_eq(f.resumes, 1, "a failed fn still resumes the target");
	cr_assert(!f.stopped);
	source_close(&s);
}

Test(source, a_refused_stop_locates_nothing)
{
	struct fake f = { .stop_fails = true };
	struct pc_err e = { 0 };
	struct source s;

	cr_assert_eq(run(&f, &fake_ops, 0, &s, &e), -1);
	cr_assert_eq(e.code, PC_EPERM);
	cr_assert_eq(f.stops, 1);
	cr_assert_eq(f.locates, 0);
	cr_assert_eq(f.resumes, 0);
	cr_assert(!s.stopped);
	source_close(&s);
	cr_assert_eq(f.resumes, 0);
}

Test(source, a_gone_target_is_not_retried)
{
	struct fake f = { .layout_failures = 1, .gone = true };
	struct pc_err e = { 0 };
	struct source s;

	cr_assert_eq(run(&f, &fake_ops, 0, &s, &e), -1);
	cr_assert_eq(s.attempts, 1);
	cr_assert_eq(f.resumes, 1);
	source_blame_exit(&s, "during the census", &e);
	cr_assert_eq(e.code, PC_EEXITED);
	cr_assert(strstr(e.detail, "process 4242 exited during the census"), "%s", e.detail);
	source_close(&s);
}

Test(source, a_target_that_cannot_change_is_not_retried)
{
	struct fake f = { .layout_failures = 1 };
	struct pc_err e = { 0 };
	struct source s;

	cr_assert_eq(run(&f, &static_ops, 0, &s, &e), -1);
	cr_assert_eq(e.code, PC_ELAYOUT);
	cr_assert_eq(s.attempts, 1);
	cr_assert_eq(f.resumes, 1);
	source_close(&s);
}

Test(source, a_running_target_is_retried_without_stops)
{
	struct fake f = { .layout_failures = 1 };
	struct pc_err e = { 0 };
	struct source s;

	cr_assert_eq(run(&f, &running_ops, 0, &s, &e), 0, "%s", e.detail);
	cr_assert_eq(s.attempts, 2);
	cr_assert_eq(f.stops, 0);
	cr_assert_eq(f.resumes, 0);
	cr_assert_eq(source_threads(&s), NULL);
	cr_assert(!source_stops(&s));
	cr_assert_eq(source_paused(&s), 0.0);
	source_close(&s);
}

Test(source, fn_may_resume_early)
{
	struct fake f = { .resume_early = true };
	struct pc_err e = { 0 };
	struct source s;

	cr_assert_eq(run(&f, &fake_ops, 0, &s, &e), 0, "%s", e.detail);
	cr_assert_eq(f.resumes, 1, "resumed once, by fn");
	cr_assert(!f.stopped);
	source_close(&s);
	cr_assert_eq(f.resumes, 1);
}

Test(source, a_held_target_stays_stopped_until_close)
{
	struct fake f = { .layout_failures = 1, .resume_early = true };
	struct pc_err e = { 0 };
	struct source s;

	cr_assert_eq(run(&f, &fake_ops, SOURCE_HOLD, &s, &e), -1, "a held target is not retried");
	cr_assert_eq(e.code, PC_ELAYOUT);
	cr_assert_eq(f.resumes, 0);
	cr_assert(f.stopped && s.stopped);
	cr_assert(!source_resume(&s));
	source_close(&s);
	cr_assert_eq(f.resumes, 1, "close resumes a held target");
	cr_assert(!f.stopped);
}

Test(source, a_held_target_runs_fn_stopped)
{
	struct fake f = { .resume_early = true };
	struct pc_err e = { 0 };
	struct source s;

	cr_assert_eq(run(&f, &fake_ops, SOURCE_HOLD, &s, &e), 0, "%s", e.detail);
	cr_assert(!f.fn_unstopped);
	cr_assert(f.stopped, "fn's early resume let a held target go");
	source_close(&s);
	cr_assert(!f.stopped);
}

Test(source, pause_counts_every_stop)
{
	struct fake f = { .fn_layout_failures = 1, .sleep_us = 20000 };
	struct pc_err e = { 0 };
	struct source s;
	double paused;

	cr_assert_eq(run(&f, &fake_ops, 0, &s, &e), 0, "%s", e.detail);
	paused = source_paused(&s);
	cr_assert_geq(paused, 0.040, "two stops of 20 ms each, %.3f s counted", paused);
	cr_assert_lt(paused, 1.0, "the retry's wait is not a stop: %.3f s", paused);
	usleep(10000);
	cr_assert_eq(source_paused(&s), paused, "counted while it ran");
	source_close(&s);
	cr_assert_eq(s.pause_s, paused, "pause_s stays readable after close");
}

Test(source, a_location_taken_while_running_is_dropped)
{
	struct fake f = { 0 };
	struct pc_err e = { 0 };
	struct source s;

	source_open_ops(&s, &fake_ops, 4242, 0, &f);
	cr_assert_not_null(source_locate(&s, &e));
	cr_assert_eq(source_locate(&s, &e), &s.p, "a second call returns the same location");
	cr_assert_eq(f.locates, 1);
	cr_assert_eq(source_with_stopped(&s, fake_fn, &f, &e), 0, "%s", e.detail);
	cr_assert_eq(f.locates, 2, "located anew under the stop");
	cr_assert(!f.fn_unstopped);
	source_close(&s);
}

Test(source, blame_exit_leaves_a_live_target_alone)
{
	struct fake f = { 0 };
	struct source s;
	struct pc_err e = { 0 };

	source_open_ops(&s, &fake_ops, 4242, 0, &f);
	pc_fail(&e, PC_ETARGETMEM, "cannot read");
	source_blame_exit(&s, "during the census", &e);
	cr_assert_eq(e.code, PC_ETARGETMEM);
	f.gone = true;
	pc_err_clear(&e);
	pc_fail(&e, PC_EOUTPUT, "disk full");
	source_blame_exit(&s, "during the census", &e);
	cr_assert_eq(e.code, PC_EOUTPUT, "an output error is ours, not the target's");
	source_close(&s);
}

Test(source, close_is_safe_on_a_zeroed_source_and_twice)
{
	struct source s;
	struct fake f = { 0 };

	memset(&s, 0, sizeof s);
	source_close(&s);
	source_open_ops(&s, &fake_ops, 1, 0, &f);
	source_close(&s);
	source_close(&s);
	cr_assert(!source_gone(&s));
}

Test(source, a_zombie_is_refused_before_ptrace)
{
	struct pc_err e = { 0 };
	struct source s;
	pid_t child = fork();
	char st = 0;

	cr_assert_geq(child, 0);
	if (child == 0)
		_exit(0);
	for (int i = 0; i < 500 && st != 'Z'; i++) { /* exited, not reaped */
		usleep(2000);
		st = proc_task_state(child, child);
	}
	cr_assert_eq(st, 'Z');
	cr_assert_eq(source_open_pid(&s, child, 0, &e), -1);
	cr_assert_eq(e.code, PC_ENOPROC, "%s", e.detail);
	source_close(&s); /* a failed open leaves nothing to undo, and close takes it */
	waitpid(child, NULL, 0);
}

/* An image cannot change: a layout it fails is not tried again (the fuzzers replay thousands). */
Test(source, an_image_is_located_once)
{
	struct pyimage img;
	struct pc_err e = { 0 };
	struct source s;
	struct fake f = { 0 };

	memset(&img, 0, sizeof img);
	img.pid = 77;
	img.major = 3, img.minor = 12, img.micro = 1, img.version_hex = 0x030c01f0;
	snprintf(img.version, sizeof img.version, "3.12.1");
	source_open_image(&s, &img);
	cr_assert(!source_stops(&s));
	cr_assert_eq(source_with_stopped(&s, fake_fn, &f, &e), -1, "an image without memory located");
	cr_assert_eq(s.attempts, 1, "%s", e.detail);
	cr_assert_eq(f.fn_calls, 0);
	cr_assert(!source_gone(&s));
	source_blame_exit(&s, "during the census", &e);
	cr_assert_neq(e.code, PC_EEXITED, "an image's pid is not a process to blame");
	source_close(&s);
}
