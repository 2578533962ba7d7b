/* test_badinput.c: every error a user can meet gets one line naming the cause and the fix, its
 * own exit code, and the target is never left stopped. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <sys/ptrace.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/integration/harness.h"

static int snap(pid_t pid, char *err, size_t errlen, const char *extra)
{
	char pidtxt[16];
	const char *args[] = { "snap", pidtxt, extra, NULL };

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	return h_pycensus(NULL, 0, err, errlen, args);
}

static void assert_one_line(const char *err, const char *must)
{
	cr_expect(strncmp(err, "pycensus: ", 10) == 0, "error line does not start with 'pycensus: ': %s", err);
	cr_expect(strchr(err, '\n') == err + strlen(err) - 1, "error is not exactly one line: %s", err);
	cr_expect(strstr(err, must) != NULL, "error does not mention '%s': %s", must, err);
	cr_expect(strstr(err, "fix: ") != NULL, "error names no fix: %s", err);
}

static void assert_running(pid_t pid)
{
	char st = h_state(pid);
	cr_expect(st != 't' && st != 'T' && st != '?', "target %d left in state %c", (int)pid, st);
}

static bool start_python(struct proc *p)
{
	struct python py[H_MAX_PYTHONS];
	size_t n = h_find_pythons(py, H_MAX_PYTHONS);
	char *argv[] = { n ? py[n - 1].path : NULL, "-c", "import time; print('up', flush=True); time.sleep(120)", NULL };
	char line[64];

	if (!n)
		return false;
	return h_spawn(p, argv) && h_wait_line(p, "up", line, sizeof line, 30) && h_wait_sleeping(p->pid, 10);
}

Test(badinput, no_such_process)
{
	char err[1024];
	pid_t pid = 4000000; /* above the largest pid_max (2^22) */

	cr_assert_eq(snap(pid, err, sizeof err, NULL), 3, "%s", err);
	assert_one_line(err, "no such process");
}

Test(badinput, bad_usage)
{
	static const char *const cases[][4] = {
		{ "snap", NULL }, { "snap", "abc", NULL }, { "snap", "--bogus", "1", NULL }, { "snap", "-f", "xml", "1" },
		{ "snap", "--arenas", "guess", "1" }, { "snap", "1", "2", NULL }, { "nosuchcommand", NULL },
	};
	char err[1024];

	for (size_t i = 0; i < PC_ARRAY_LEN(cases); i++) {
		const char *args[5] = { cases[i][0], cases[i][1], cases[i][2], cases[i][3], NULL };
		cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 2, "case %zu: %s", i, err);
		assert_one_line(err, "bad usage");
	}
}

Test(badinput, help_lists_exit_codes)
{
	char out[8192];
	const char *args[] = { "snap", "--help", NULL };

	cr_assert_eq(h_pycensus(out, sizeof out, NULL, 0, args), 0);
	cr_expect(strstr(out, "exit codes:") && strstr(out, "  5  not a Python process") &&
		  strstr(out, "  8  process exited during the census"), "%s", out);
}

/* The test seizes the target itself: pycensus's own stop would then fail ("permission
 * denied"), so a refusal that comes first proves it was decided before anything was stopped. */
static void trace_it(pid_t pid)
{
	cr_assert_eq(ptrace(PTRACE_SEIZE, pid, NULL, NULL), 0, "cannot seize %d: %s", (int)pid, strerror(errno));
}

Test(badinput, not_python)
{
	char *argv[] = { "/bin/sleep", "60", NULL }, err[1024];
	struct proc p;

	cr_assert(h_spawn(&p, argv) && h_wait_sleeping(p.pid, 10));
	cr_expect_eq(snap(p.pid, err, sizeof err, NULL), 5, "%s", err);
	assert_one_line(err, "not a Python process");
	assert_running(p.pid);
	/* refused before stopping it: a non-Python process's system calls are never interrupted */
	trace_it(p.pid);
	cr_expect_eq(snap(p.pid, err, sizeof err, NULL), 5, "decided after trying to stop it: %s", err);
	h_kill(&p);
}

/* A program that embeds CPython but has not initialised it: _PyRuntime holds no interpreter. The
 * libpython comes from the first interpreter found that links one. */
Test(badinput, interpreter_not_running)
{
	struct python py[H_MAX_PYTHONS];
	size_t n = h_find_pythons(py, H_MAX_PYTHONS);
	const char *fix = getenv("PYCENSUS_FIXTURES");
	char lib[512] = "", exe[512], cmd[1024], line[128], err[1024];
	struct proc p;

	for (size_t i = 0; i < n && !lib[0]; i++) {
		FILE *f;
		snprintf(cmd, sizeof cmd, "ldd '%.300s' 2>/dev/null | grep -o '/[^ ]*libpython[^ ]*'", py[i].path);
		if ((f = popen(cmd, "r"))) {
			if (!fgets(lib, sizeof lib, f))
				lib[0] = '\0';
			lib[strcspn(lib, "\n")] = '\0';
			pclose(f);
		}
	}
	if (!lib[0])
		cr_skip_test("no interpreter found links a shared libpython");
	snprintf(exe, sizeof exe, "%s/embedder", fix ? fix : "build/fixtures");
	{
		char *argv[] = { exe, lib, NULL };
		cr_assert(h_spawn(&p, argv) && h_wait_line(&p, "loaded", line, sizeof line, 30), "%s %s did not start", exe, lib);
	}
	cr_expect_eq(snap(p.pid, err, sizeof err, NULL), 14, "%s", err);
	assert_one_line(err, "the interpreter is not running");
	assert_running(p.pid);
	h_kill(&p);
}

Test(badinput, permission_denied)
{
	struct proc p;
	char err[1024], pidtxt[16];
	const char *args[] = { "snap", pidtxt, NULL };

	if (getuid() != 0)
		cr_skip_test("needs root to run pycensus as nobody against a root-owned process");
	cr_assert(start_python(&p), "cannot start a Python target");
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)p.pid);
	cr_expect_eq(h_pycensus_as(65534, err, sizeof err, args), 4, "%s", err);
	assert_one_line(err, "permission denied");
	cr_expect(strstr(err, "ptrace_scope") && strstr(err, "CAP_SYS_PTRACE"), "%s", err);
	assert_running(p.pid);
	h_kill(&p);
}

Test(badinput, unsupported_version)
{
	char path[256], err[1024], line[64];
	struct proc p;

	if (!h_find_unsupported(path, sizeof path))
		cr_skip_test("no CPython 2.7, 3.6 or 3.7 on this machine");
	{
		char *argv[] = { path, "-c", "import time, sys; sys.stdout.write('up\\n'); sys.stdout.flush(); time.sleep(60)", NULL };
		cr_assert(h_spawn(&p, argv) && h_wait_line(&p, "up", line, sizeof line, 30) && h_wait_sleeping(p.pid, 10));
	}
	cr_expect_eq(snap(p.pid, err, sizeof err, NULL), 6, "%s", err);
	assert_one_line(err, "unsupported Python build");
	cr_expect(strstr(err, "supported: 3.8-3.15") != NULL, "%s", err);
	fprintf(stderr, "badinput: %s refused: %s", path, err);
	assert_running(p.pid);
	h_kill(&p);
}

Test(badinput, zombie)
{
	char err[1024];
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	while (h_state(pid) != 'Z')
		usleep(1000);
	cr_expect_eq(snap(pid, err, sizeof err, NULL), 3, "%s", err);
	assert_one_line(err, "zombie");
	waitpid(pid, NULL, 0);
}

/* Starts a Python target and, in a child, a pycensus that holds it stopped for stall_ms
 * (PYCENSUS_TEST_STALL_MS); returns once the target is ptrace-stopped. Returns the child. */
static pid_t stalled_census(struct proc *p, const char *stall_ms)
{
	char pidtxt[16];
	const char *args[] = { "snap", pidtxt, NULL };
	pid_t child;

	cr_assert(start_python(p), "cannot start a Python target");
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)p->pid);
	child = fork();
	if (child == 0) {
		setenv("PYCENSUS_TEST_STALL_MS", stall_ms, 1);
		_exit(h_pycensus(NULL, 0, NULL, 0, args));
	}
	for (int i = 0; i < 500 && h_state(p->pid) != 't'; i++)
		usleep(10000);
	cr_assert_eq(h_state(p->pid), 't', "pycensus never stopped the target");
	return child;
}

static int exit_code_of(pid_t child)
{
	int status;

	cr_assert_eq(waitpid(child, &status, 0), child);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The target dies while pycensus holds it stopped: exit 8, and pycensus does not hang. */
Test(badinput, exits_during_census, .timeout = 60)
{
	struct proc p;
	pid_t child = stalled_census(&p, "1500");
	int code;

	kill(p.pid, SIGKILL);
	code = exit_code_of(child);
	cr_expect_eq(code, 8, "pycensus exit status %d", code);
	h_kill(&p);
}

Test(badinput, output_not_writable)
{
	struct proc p;
	char err[1024], pidtxt[16];

	cr_assert(start_python(&p), "cannot start a Python target");
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)p.pid);
	{
		const char *args[] = { "snap", "-o", "/nonexistent-dir/heap.csv", pidtxt, NULL };
		cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 9, "%s", err);
		assert_one_line(err, "cannot write the output");
	}
	{
		const char *args[] = { "snap", "-f", "csv", "-o", "/dev/full", pidtxt, NULL };
		cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 9, "%s", err);
		assert_one_line(err, "No space left on device");
	}
	assert_running(p.pid);
	/* a path that cannot be written is found before the target is stopped, by every command */
	trace_it(p.pid);
	{
		const char *args[] = { "snap", pidtxt, NULL };
		char want[64];
		cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 12, "traced by the test: %s", err);
		assert_one_line(err, "the process is already being traced");
		snprintf(want, sizeof want, "traced by process %d (", (int)getpid());
		cr_expect(strstr(err, want) != NULL, "the tracer is not named: %s", err);
	}
	{
		static const char *const cmds[] = { "snap", "stats", "stacks" };
		for (size_t i = 0; i < PC_ARRAY_LEN(cmds); i++) {
			const char *args[] = { cmds[i], "-o", "/nonexistent-dir/out", pidtxt, NULL };
			cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 9, "%s: %s", cmds[i], err);
			assert_one_line(err, "cannot write the output");
		}
		const char *args[] = { "snap", "-o", "/tmp", pidtxt, NULL };
		cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 9, "a directory: %s", err);
	}
	h_kill(&p);
}

/* SIGINT or SIGTERM to pycensus while the target is stopped: the target is resumed at once. */
static void interrupted(int sig)
{
	struct proc p;
	pid_t child = stalled_census(&p, "5000");
	char cmd[128];
	int code;

	/* the grandchild is pycensus itself: signal the pycensus censusing this target */
	snprintf(cmd, sizeof cmd, "pkill -%d -f 'snap %d$' >/dev/null 2>&1", sig, (int)p.pid);
	cr_assert_eq(system(cmd), 0, "could not signal pycensus");
	code = exit_code_of(child);
	cr_expect_eq(code, 128 + sig, "pycensus exit status %d", code);
	usleep(100000);
	assert_running(p.pid);
	h_kill(&p);
}

Test(badinput, sigint_resumes_target, .timeout = 60) { interrupted(SIGINT); }
Test(badinput, sigterm_resumes_target, .timeout = 60) { interrupted(SIGTERM); }

/* A kernel thread (PF_KTHREAD in /proc/PID/stat's flags): no memory of its own to read. */
static pid_t find_kernel_thread(void)
{
	for (pid_t pid = 2; pid < 200; pid++) {
		char path[64], buf[512], *s;
		unsigned long flags = 0;
		FILE *f;
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		if (!(f = fopen(path, "r")))
			continue;
		s = fgets(buf, sizeof buf, f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (s && sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags) == 1 && (flags & 0x00200000))
			return pid;
	}
	return 0;
}

Test(badinput, kernel_thread)
{
	char err[1024];
	pid_t pid = find_kernel_thread();

	if (!pid)
		cr_skip_test("no kernel thread visible (a PID namespace?)");
	cr_expect_eq(snap(pid, err, sizeof err, NULL), 5, "pid %d: %s", (int)pid, err);
	assert_one_line(err, "kernel thread");
}

/* Runs a shell line (%s: pycensus) and checks its exit code and one-line error. */
static void shell_snap(const char *fmt, int code, const char *must)
{
	char script[1200], err[1024];
	const char *bin = getenv("PYCENSUS");
	FILE *f;
	int status;

	snprintf(script, sizeof script, fmt, bin ? bin : "./pycensus");
	cr_assert((f = popen(script, "r")));
	err[fread(err, 1, sizeof err - 1, f)] = '\0';
	status = pclose(f);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == code, "exit %d: %s", WEXITSTATUS(status), err);
	assert_one_line(err, must);
}

/* `exec pycensus snap $$`: pycensus's own PID is bad usage, said as such. */
Test(badinput, own_pid)
{
	shell_snap("exec %s snap $$ 2>&1", 2, "is pycensus itself");
}

/* `pycensus snap $$` typed in a shell names the shell as the process that started pycensus. */
Test(badinput, parent_shell)
{
	shell_snap("%s snap $$ 2>&1; exit $?", 5, "is the shell or program that started pycensus");
}
