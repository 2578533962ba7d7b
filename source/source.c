/* source.c: stop → locate → read → resume, the same for every command and every kind of target,
 * with the retry when the layout does not validate; the kinds (live process, launched program,
 * captured image) as ops tables. */
#include "common/compat.h"
#include "source/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "attach/procfs.h"

/* --- the kinds --- */

/* True when the process is gone or a zombie (every thread exited: a leader that exited while
 * others run on is not gone): the cause to report for any failure mid-read. */
static bool proc_gone(pid_t pid)
{
	return proc_live_thread(pid) == 0;
}

/* Before anything is stopped: a process that maps no CPython, or one pycensus cannot read, is
 * refused while it runs (stopping it would interrupt its system calls for nothing). Reading maps
 * and ELF files stops nothing; any other failure is left for the census to report. */
static int probe_interpreter(pid_t pid, struct pc_err *e)
{
	struct maps maps = { 0 };
	struct mem mem;
	struct pyelf elf;
	struct pc_err pe = { 0 };
	int rc = 0;

	mem_init_pid(&mem, pid);
	if (maps_read(pid, &maps, &pe) == 0) {
		if (pyelf_open(&elf, pid, &maps, &mem, &pe) == 0)
			pyelf_close(&elf);
		else if (pe.code == PC_ENOTPYTHON || pe.code == PC_EUNSUPPORTED)
			rc = -1;
	}
	maps_release(&maps);
	mem_release(&mem);
	if (rc < 0)
		*e = pe;
	return rc;
}

static int check_process(pid_t pid, struct pc_err *e)
{
	struct proc_status st;

	pid_t live;

	if (proc_status_read(pid, &st, e) < 0)
		return -1;
	if (pid == getpid())
		return pc_fail(e, PC_EUSAGE, "process %d is pycensus itself: give the PID of the Python program "
			       "(e.g. pgrep -f app.py)", (int)pid);
	/* a leader that exited while other threads run on is read through one of them */
	live = proc_live_thread(pid);
	if (!live)
		return pc_fail(e, PC_ENOPROC, "process %d (%s) is a zombie: it has exited and waits for its parent "
			       "(process %d) to collect it", (int)pid, st.name, (int)st.ppid);
	if (st.kernel_thread)
		return pc_fail(e, PC_ENOTPYTHON, "process %d (%s) is a kernel thread", (int)pid, st.name);
	if (probe_interpreter(live, e) < 0) {
		if (e->code != PC_ENOTPYTHON || pid != getppid())
			return -1;
		pc_err_clear(e); /* `pycensus snap $$` in a shell: say whose PID that is */
		return pc_fail(e, PC_ENOTPYTHON, "process %d (%s) is the shell or program that started pycensus, "
			       "not a Python program: give the PID of the Python process (e.g. pgrep -f app.py)",
			       (int)pid, st.name);
	}
	if (st.tracer && st.tracer != getpid()) {
		struct proc_status ts;
		struct pc_err quiet = { 0 };
		bool named = proc_status_read(st.tracer, &ts, &quiet) == 0;
		return pc_fail(e, PC_ETRACED, "process %d (%s) is traced by process %d (%s)", (int)pid, st.name,
			       (int)st.tracer, named ? ts.name : "gone since");
	}
	return 0;
}

/* PYCENSUS_TEST_STALL_MS keeps the target stopped that much longer, so tests can make it die
 * in the middle of a census (the kill -9 and exit-during-census tests). */
static void test_stall(void)
{
	const char *s = getenv("PYCENSUS_TEST_STALL_MS");

	if (s)
		usleep((useconds_t)atoi(s) * 1000);
}

static int open_recorded(struct source *s, struct pyproc *p, pid_t tid, struct pc_err *e)
{
	s->rec.skip_copies = s->record_no_copies;
	return pyproc_open_recorded(p, tid, s->recording ? &s->rec : NULL, s->recording ? &s->syms : NULL, e);
}

static int pid_stop(struct source *s, struct pc_err *e)
{
	if (stop_all(&s->st, s->pid, e) < 0)
		return -1;
	test_stall();
	return 0;
}

static void pid_resume(struct source *s)
{
	stop_release(&s->st);
}

/* Through the leader, or a live thread when the main thread exited (its maps read empty). */
static int pid_locate(struct source *s, struct pyproc *p, struct pc_err *e)
{
	s->via = proc_live_thread(s->pid);
	if (!s->via)
		s->via = s->pid;
	return open_recorded(s, p, s->via, e);
}

static bool pid_gone(const struct source *s)
{
	return proc_gone(s->pid);
}

static const struct source_ops pid_ops = {
	.stop = pid_stop, .resume = pid_resume, .locate = pid_locate, .gone = pid_gone,
	.changes = true,
};

/* --nonblocking: the same process, never stopped; it changes on its own between attempts. */
static const struct source_ops pid_running_ops = {
	.locate = pid_locate, .gone = pid_gone, .changes = true,
};

static int launched_stop(struct source *s, struct pc_err *e)
{
	return launch_stop_all(s->launch, e);
}

static void launched_resume(struct source *s)
{
	launch_resume_all(s->launch);
}

/* Through a stopped thread: the leader may already be gone at the program's exit. */
static int launched_locate(struct source *s, struct pyproc *p, struct pc_err *e)
{
	s->via = s->tid ? s->tid : launch_stopped_tid(s->launch);
	return open_recorded(s, p, s->via, e);
}

static bool launched_gone(const struct source *s)
{
	return s->launch->done || proc_gone(s->pid);
}

static const struct source_ops launched_ops = {
	.stop = launched_stop, .resume = launched_resume,
	.locate = launched_locate, .gone = launched_gone, .changes = true,
};

static int image_locate(struct source *s, struct pyproc *p, struct pc_err *e)
{
	s->via = s->pid;
	return pyproc_open_image(p, s->img, e);
}

static const struct source_ops image_ops = { .locate = image_locate };

/* --- opening and closing --- */

void source_open_ops(struct source *s, const struct source_ops *ops, pid_t pid, unsigned flags, void *arg)
{
	memset(s, 0, sizeof *s);
	s->ops = ops;
	s->pid = pid;
	s->flags = flags;
	s->arg = arg;
	record_init(&s->rec);
}

int source_open_pid(struct source *s, pid_t pid, unsigned flags, struct pc_err *e)
{
	source_open_ops(s, flags & SOURCE_NONBLOCKING ? &pid_running_ops : &pid_ops, pid, flags & SOURCE_NONBLOCKING,
			NULL);
	if (check_process(pid, e) < 0) {
		s->ops = NULL;
		return -1;
	}
	return 0;
}

void source_open_launched(struct source *s, struct launch *l, pid_t tid, unsigned flags)
{
	source_open_ops(s, &launched_ops, l->pid, flags & SOURCE_HOLD, NULL);
	s->launch = l;
	s->tid = tid;
}

void source_open_image(struct source *s, const struct pyimage *img)
{
	source_open_ops(s, &image_ops, (pid_t)img->pid, 0, NULL);
	s->img = img;
}

static void phase(const struct source *s, const char *what)
{
	if (s->progress)
		s->progress(s->progress_arg, what);
}

/* Ends the location and what it recorded. The target stays as it is. */
static void forget(struct source *s)
{
	if (s->located)
		pyproc_close(&s->p);
	s->located = false;
	record_release(&s->rec);
	pyelf_symcache_release(&s->syms);
}

/* Resumes, the pause measured up to the moment it goes (as stop_release measures it). */
static void let_go(struct source *s)
{
	s->pause_s += mono_now() - s->stopped_at;
	s->ops->resume(s);
	s->stopped = false;
}

void source_close(struct source *s)
{
	if (!s->ops)
		return;
	if (s->stopped)
		let_go(s);
	forget(s);
	s->ops = NULL;
}

/* --- the steps --- */

void source_record(struct source *s)
{
	s->recording = true;
}

void source_record_dump(struct source *s)
{
	s->recording = true;
	s->record_no_copies = true;
}

int source_save_dump(struct source *s, const char *path, const struct dump_meta *m, const struct mem_region *copies,
		     size_t ncopies, int level, dump_progress_fn *progress, void *arg, struct dump_out *out,
		     struct pc_err *e)
{
	struct pyimage head;
	struct mem_region *rec;
	size_t nrec;
	int rc;

	if (!s->recording || !s->located || s->ops == &image_ops)
		return pc_fail(e, PC_EINTERNAL, "nothing recorded to save to %s", path);
	image_describe(&head, &s->p, &s->syms);
	nrec = record_regions(&s->rec, &rec);
	rc = dump_write(path, m, &head, rec, nrec, copies, ncopies, level, progress, arg, out, e);
	free(rec);
	return rc;
}

int source_close_dump_stream(struct source *s, struct dump_stream *ds, const struct dump_meta *m,
			     const struct mem_region *arenas, size_t narenas, dump_progress_fn *progress, void *arg,
			     struct dump_out *out, struct pc_err *e)
{
	struct pyimage head;
	struct mem_region *rec;
	size_t nrec;
	int rc;

	if (!s->recording || !s->located || s->ops == &image_ops) {
		dump_stream_abort(ds);
		return pc_fail(e, PC_EINTERNAL, "nothing recorded to save to the dump");
	}
	image_describe(&head, &s->p, &s->syms);
	nrec = record_regions(&s->rec, &rec);
	rc = dump_stream_close(ds, m, &head, rec, nrec, arenas, narenas, progress, arg, out, e);
	free(rec);
	return rc;
}

int source_save_image(struct source *s, const char *path, struct pc_err *e)
{
	if (!s->recording || !s->located || s->ops == &image_ops)
		return pc_fail(e, PC_EINTERNAL, "nothing recorded to save to %s", path);
	return image_save(path, &s->p, &s->rec, &s->syms, e);
}

int source_stop(struct source *s, struct pc_err *e)
{
	double t;

	if (s->stopped || !s->ops->stop)
		return 0;
	phase(s, "stopping the process");
	t = mono_now();
	if (s->ops->stop(s, e) < 0)
		return -1;
	s->stopped = true;
	s->stopped_at = t;
	return 0;
}

struct pyproc *source_locate(struct source *s, struct pc_err *e)
{
	if (s->located)
		return &s->p;
	phase(s, "opening the interpreter");
	if (s->ops->locate(s, &s->p, e) < 0)
		return NULL;
	s->located = true;
	return &s->p;
}

bool source_resume(struct source *s)
{
	if (!s->stopped || (s->flags & SOURCE_HOLD))
		return false;
	let_go(s);
	return true;
}

static bool retryable(const struct source *s)
{
	return s->ops->changes && !(s->flags & SOURCE_HOLD);
}

int source_with_stopped(struct source *s, source_fn *fn, void *arg, struct pc_err *e)
{
	unsigned attempt;
	int rc;

	forget(s); /* a location taken while the target ran is not the stopped target's */
	for (attempt = 1;; attempt++) {
		struct pyproc *p;

		rc = source_stop(s, e);
		if (rc == 0) {
			p = source_locate(s, e);
			rc = p ? fn(s, p, arg, e) : -1;
		}
		source_resume(s);
		forget(s);
		if (rc == 0 || e->code != PC_ELAYOUT || attempt >= SOURCE_ATTEMPTS || !retryable(s) || source_gone(s))
			break;
		pc_err_clear(e);
		usleep(SOURCE_RETRY_US * attempt); /* let the thread that was mid-update finish it */
	}
	s->attempts = attempt;
	return rc;
}

/* --- questions --- */

const struct stopped *source_threads(const struct source *s)
{
	return s->stopped && s->ops == &pid_ops ? &s->st : NULL;
}

bool source_stops(const struct source *s)
{
	return s->ops && s->ops->stop;
}

double source_paused(const struct source *s)
{
	return s->pause_s + (s->stopped ? mono_now() - s->stopped_at : 0);
}

bool source_gone(const struct source *s)
{
	return s->ops && s->ops->gone && s->ops->gone(s);
}

void source_blame_exit(const struct source *s, const char *during, struct pc_err *e)
{
	if (e->code == PC_EOUTPUT || !source_gone(s))
		return;
	pc_err_clear(e);
	pc_fail(e, PC_EEXITED, "process %d exited %s", (int)s->pid, during);
}
