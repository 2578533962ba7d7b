/* test_tree.c: snap --subprocesses over a process tree (workloads/tree.py): a multiprocessing pool
 * started by fork or spawn, or a gunicorn-like prefork master, plus a child running another
 * interpreter and a `sleep`. Every Python process's Work count is what it holds (exact), the
 * "all" rows are the sum, roles are named, and the sleep is listed as skipped, not Python; stacks
 * and stats --subprocesses report each process; top --subprocesses lists them and sums the Work. `run --subprocesses` (workloads/runtree.py, a pool
 * whose workers keep what they build): each worker's series file holds exactly its Work objects.
 * Every interpreter of the core set runs one of the three modes in turn; PYCENSUS_TEST_FULL=1 runs
 * all three on every interpreter found. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/integration/harness.h"

#define MAX_MEMBERS 8
#define OUT_MAX (1 << 20)

struct member {
	int pid;
	long long want;  /* Work objects it holds, from the workload */
	long long got;   /* from the CSV */
	char role[128];
};

struct expect {
	struct member m[MAX_MEMBERS];
	size_t n;
	int nonpython;
};

static const char *const modes[] = { "fork", "spawn", "prefork" };

static bool read_children(struct proc *p, struct expect *x)
{
	char line[256];

	memset(x, 0, sizeof *x);
	while (h_wait_line(p, "", line, sizeof line, 120)) {
		struct member *m = &x->m[x->n];
		if (strncmp(line, "ready", 5) == 0)
			return x->n > 0 && x->nonpython > 0;
		if (x->n < MAX_MEMBERS && sscanf(line, "child %d %lld", &m->pid, &m->want) == 2)
			x->n++;
		else
			sscanf(line, "nonpython %d", &x->nonpython);
	}
	return false;
}

/* Every process the workload reported (its workers and leaf outlive the root otherwise). Host
 * PIDs only: never for a tree in a pid namespace of its own. */
static void kill_members(const struct expect *x)
{
	for (size_t i = 1; i < x->n; i++)
		if (x->m[i].pid > 1)
			kill(x->m[i].pid, SIGKILL);
	if (x->nonpython > 1)
		kill(x->nonpython, SIGKILL);
}

static struct member *member_of(struct expect *x, int pid)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->m[i].pid == pid)
			return &x->m[i];
	return NULL;
}

/* Splits one CSV line (no quoted fields: the kinds and roles here have no commas) into at most
 * max fields, the last one running to the end of the line; how many. */
static size_t split(const char *line, char f[][128], size_t max)
{
	size_t n = 0, len = strcspn(line, "\n");

	while (n < max) {
		size_t w = n + 1 == max ? len : strcspn(line, ",\n");
		snprintf(f[n++], 128, "%.*s", (int)(w < 127 ? w : 127), line);
		if (w >= len)
			break;
		line += w + 1;
		len -= w + 1;
	}
	return n;
}

/* The Work rows ("__main__.Work", "__mp_main__.Work" in spawn children) of every process, and
 * the "all" one; true when the sleep was listed as skipped. */
static bool parse(const char *csv, struct expect *x, long long *all)
{
	bool skipped = false;

	*all = 0;
	for (const char *s = csv; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL) {
		char f[10][128];
		int pid;

		if (sscanf(s, "# skipped,%d,", &pid) == 1 && pid == x->nonpython)
			skipped = strstr(s, "not a Python process") != NULL;
		if (s[0] == '#' || split(s, f, 10) != 10)
			continue;
		if (strcmp(f[9], "__main__.Work") != 0 && strcmp(f[9], "__mp_main__.Work") != 0)
			continue;
		if (strcmp(f[0], "all") == 0) {
			*all += atoll(f[3]);
		} else {
			struct member *m = member_of(x, atoi(f[0]));
			if (m) {
				m->got += atoll(f[3]);
				snprintf(m->role, sizeof m->role, "%s", f[1]);
			}
		}
	}
	return skipped;
}

/* stacks and stats --subprocesses: every process under a line of its own, with a report (a
 * frame of its main module, its pymalloc figures), and the sleep skipped. */
static const char *const per_process[][2] = { { "stacks", "tree.py" }, { "stats", "bytes in allocated blocks" } };

static void each_listed(const struct python *py, const char *mode, const char *const cmd[2], const char *pidtxt,
			const struct expect *x, char *out)
{
	const char *args[] = { cmd[0], "--subprocesses", pidtxt, NULL };
	char err[4096];

	cr_expect_eq(h_pycensus(out, OUT_MAX, err, sizeof err, args), 0, "%s %s: %s: %s", py->label, mode, cmd[0], err);
	for (size_t i = 0; i < x->n; i++) {
		char want[32];
		const char *at, *next;
		snprintf(want, sizeof want, "Process %d", x->m[i].pid);
		at = strstr(out, want);
		next = at ? strstr(at + 1, "\nProcess ") : NULL;
		cr_expect(at && (!next ? strstr(at, cmd[1]) : memmem(at, (size_t)(next - at), cmd[1], strlen(cmd[1]))),
			  "%s %s: %s --subprocesses has no '%s' under %s", py->label, mode, cmd[0], cmd[1], want);
	}
	cr_expect(strstr(out, "skipped: not a Python process") != NULL, "%s %s: %s: the sleep is not skipped",
		  py->label, mode, cmd[0]);
}

/* The Work rows' count in a text partition (Index Count % Size % Cumulative % Kind). */
static long long text_work(const char *out)
{
	long long work = 0, count;
	char kind[128];

	for (const char *s = out; s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
		if (sscanf(s, "%*d %lld %*d %*d %*d %*d %*d %127s", &count, kind) == 2 &&
		    (strcmp(kind, "__main__.Work") == 0 || strcmp(kind, "__mp_main__.Work") == 0))
			work += count;
	return work;
}

/* From top's table: the summed Work rows' count, or -1 when a process is not listed. */
static long long top_work(const char *out, const struct expect *x)
{
	long long work = 0, count;
	char kind[128];

	for (size_t i = 0; i < x->n; i++) {
		char want[32];
		snprintf(want, sizeof want, "\n%7d ", x->m[i].pid);
		if (!strstr(out, want))
			return -1;
	}
	for (const char *s = out; s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
		if (sscanf(s, "%lld %*s %*s %*s %127s", &count, kind) == 2 &&
		    (strcmp(kind, "__main__.Work") == 0 || strcmp(kind, "__mp_main__.Work") == 0))
			work += count;
	return work;
}

static void one_tree(const struct python *py, const struct python *other, const char *mode)
{
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	char wl[512], pidtxt[16], err[4096];
	char *out = malloc(OUT_MAX);
	long long all = 0, sum = 0;
	struct expect x;
	struct proc p;

	snprintf(wl, sizeof wl, "%s/tree.py", dir ? dir : "tests/integration/workloads");
	char *argv[] = { (char *)py->path, wl, (char *)mode, (char *)other->path, NULL };
	cr_assert(out && h_spawn(&p, argv), "cannot start %s", py->label);
	cr_assert(read_children(&p, &x), "%s %s: the tree did not come up", py->label, mode);
	snprintf(pidtxt, sizeof pidtxt, "%d", x.m[0].pid);
	/* --pause census: every figure from one stop, so no process's census is partial (exit 15) when
	 * a thread of it (a pool's queue feeder) runs while the rest is read */
	const char *args[] = { "snap", "--subprocesses", "--pause", "census", "-f", "csv", "-q", pidtxt, NULL };
	cr_assert_eq(h_pycensus(out, OUT_MAX, err, sizeof err, args), 0, "%s %s: %s", py->label, mode, err);
	cr_expect(parse(out, &x, &all), "%s %s: the sleep (pid %d) is not listed as skipped, not Python", py->label,
		  mode, x.nonpython);
	for (size_t i = 0; i < x.n; i++) {
		cr_expect_eq(x.m[i].got, x.m[i].want, "%s %s: process %d holds %lld Work, the census says %lld", py->label,
			     mode, x.m[i].pid, x.m[i].want, x.m[i].got);
		sum += x.m[i].want;
	}
	cr_expect_eq(all, sum, "%s %s: the summed Work rows say %lld, the processes hold %lld", py->label, mode, all, sum);
	cr_expect_str_eq(x.m[1].role, strcmp(mode, "spawn") == 0 ? "multiprocessing child (spawn)" : "forked child",
			 "%s %s: role of a worker", py->label, mode);
	for (size_t c = 0; c < PC_ARRAY_LEN(per_process); c++)
		each_listed(py, mode, per_process[c], pidtxt, &x, out);
	/* the text report: a line per process, then the Work summed in the partition */
	const char *xargs[] = { "snap", "--subprocesses", "--pause", "census", "-n", "0", "-q", pidtxt, NULL };
	cr_expect_eq(h_pycensus(out, OUT_MAX, err, sizeof err, xargs), 0, "%s %s: text: %s", py->label, mode, err);
	cr_expect(strstr(out, "pycensus: process tree of ") && strstr(out, "Summed over the "), "%s %s: text report: %.300s",
		  py->label, mode, out);
	cr_expect_eq(text_work(out), sum, "%s %s: the text partition sums Work to %lld, not %lld", py->label, mode,
		     text_work(out), sum);
	/* top --subprocesses, one sample without a terminal: a line per process, the Work summed */
	const char *targs[] = { "top", "--subprocesses", "--pause", "census", "-c", "1", "-n", "400", pidtxt, NULL };
	cr_expect_eq(h_pycensus(out, OUT_MAX, err, sizeof err, targs), 0, "%s %s: top: %s", py->label, mode, err);
	cr_expect_eq(top_work(out, &x), sum, "%s %s: top --subprocesses sums Work to %lld, not %lld", py->label, mode,
		     top_work(out, &x), sum);
	fprintf(stderr, "tree: %s %s (leaf on %s): %zu Python processes, Work %lld in all, exact per process\n",
		py->label, mode, other->label, x.n, all);
	free(out);
	kill_members(&x);
	h_kill(&p);
}

/* The core set (every interpreter with PYCENSUS_TEST_FULL=1), as Criterion parameters: what a
 * tree adds is the same on every interpreter once each process's census is right, which the
 * census suites check on all of them. */
static struct criterion_test_params every_python(void)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons_core(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

/* py's place among the interpreters found (all, n of them): the modes rotate with it. */
static size_t place_of(const struct python *py, struct python *all, size_t *n)
{
	size_t me = 0;

	*n = h_find_pythons_core(all, H_MAX_PYTHONS);
	for (size_t i = 0; i < *n; i++)
		if (strcmp(all[i].path, py->path) == 0)
			me = i;
	return me;
}

ParameterizedTestParameters(tree, subprocesses)
{
	return every_python();
}

ParameterizedTest(struct python *py, tree, subprocesses, .timeout = 300)
{
	struct python all[H_MAX_PYTHONS];
	size_t n, me = place_of(py, all, &n);
	const char *full = getenv("PYCENSUS_TEST_FULL");

	/* the leaf runs another interpreter: the previous one found (the next for the first) */
	const struct python *other = &all[n > 1 ? (me ? me - 1 : 1) : 0];
	if (full && strcmp(full, "1") == 0) {
		for (size_t m = 0; m < PC_ARRAY_LEN(modes); m++)
			one_tree(py, other, modes[m]);
	} else {
		one_tree(py, other, modes[me % PC_ARRAY_LEN(modes)]);
	}
}

/* The most Work objects any sample of a series CSV (time_s,sample,kind,count,size) holds. */
static long long series_max_work(const char *path)
{
	char line[512], kind[256];
	long long best = -1, sample, count, cur = 0, cur_sample = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#' || sscanf(line, "%*[^,],%lld,%255[^,],%lld,", &sample, kind, &count) != 3)
			continue;
		if (sample != cur_sample) {
			cur_sample = sample;
			cur = 0;
		}
		if (strcmp(kind, "__main__.Work") == 0 || strcmp(kind, "__mp_main__.Work") == 0)
			cur += count;
		best = cur > best ? cur : best;
	}
	fclose(f);
	return best;
}

static void run_tree(const struct python *py, const char *mode)
{
	const char *dir = getenv("PYCENSUS_WORKLOADS"), *bin = getenv("PYCENSUS");
	char wl[512], tmp[] = "/tmp/pycensus-runtree-XXXXXX", out[600], line[128];
	struct { int pid; long long n; } kids[4];
	size_t nk = 0;
	int status, pid;
	long long n;
	struct proc p;

	cr_assert(mkdtemp(tmp));
	snprintf(wl, sizeof wl, "%s/runtree.py", dir ? dir : "tests/integration/workloads");
	snprintf(out, sizeof out, "%s/series.csv", tmp);
	/* the workers are sampled with the program: off keeps a sample every 0.3 s to meet their peak */
	char *argv[] = { (char *)(bin ? bin : "./pycensus"), "run", "-q", "-i", "0.3", "--max-overhead", "off", "--subprocesses", "-f", "csv",
			 "-o", out, "--", (char *)py->path, wl, (char *)mode, NULL };
	cr_assert(h_spawn(&p, argv), "cannot start run");
	while (h_wait_line(&p, "child ", line, sizeof line, 120) && sscanf(line, "child %d %lld", &pid, &n) == 2) {
		size_t k;
		for (k = 0; k < nk && kids[k].pid != pid; k++)
			;
		if (k == nk && nk < PC_ARRAY_LEN(kids))
			kids[nk++].pid = pid, kids[k].n = 0;
		if (k < nk)
			kids[k].n += n;
		if (kids[0].n + (nk > 1 ? kids[1].n : 0) == 12000)
			break;
	}
	cr_assert_eq(waitpid(p.pid, &status, 0), p.pid);
	p.pid = 0;
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s %s: run status 0x%x", py->label, mode, status);
	cr_assert(nk > 0, "%s %s: the workers did not report", py->label, mode);
	for (size_t k = 0; k < nk; k++) {
		char path[700];
		snprintf(path, sizeof path, "%s/series.%d.csv", tmp, kids[k].pid);
		cr_expect_eq(series_max_work(path), kids[k].n, "%s %s: worker %d built %lld Work; its series (%s) says %lld",
			     py->label, mode, kids[k].pid, kids[k].n, path, series_max_work(path));
		unlink(path);
	}
	fprintf(stderr, "tree: %s run --subprocesses %s: %zu workers' series, Work exact in each\n", py->label, mode, nk);
	unlink(out);
	rmdir(tmp);
	h_kill(&p);
}

ParameterizedTestParameters(tree, run_subprocesses)
{
	return every_python();
}

ParameterizedTest(struct python *py, tree, run_subprocesses, .timeout = 300)
{
	struct python all[H_MAX_PYTHONS];
	size_t n;

	run_tree(py, place_of(py, all, &n) % 2 ? "spawn" : "fork");
}

/* A tree where nothing is Python: the first refusal's code (5, not a Python process), one line. */
Test(tree, no_python_in_the_tree)
{
	char *argv[] = { "/bin/sleep", "60", NULL }, err[2048], pidtxt[16];
	struct proc p;

	cr_assert(h_spawn(&p, argv));
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)p.pid);
	const char *args[] = { "snap", "--subprocesses", pidtxt, NULL };
	cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 5, "%s", err);
	cr_expect(strstr(err, "no process of the tree under") && strchr(err, '\n') == strrchr(err, '\n'), "%s", err);
	h_kill(&p);
}

/* The first child of pid (/proc/PID/task/PID/children), or 0. */
static int first_child(int pid)
{
	char path[64];
	int child = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid);
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%d", &child) != 1)
			child = 0;
		fclose(f);
	}
	return child;
}

/* A container's view: the tree in a pid namespace of its own (unshare --pid --fork --mount-proc,
 * as docker or systemd-nspawn make one). The workload prints its namespace's PIDs, which pycensus
 * never sees: the Work counts per process, as a set, and their sum are what must agree; the
 * unshare process above the namespace is listed as not Python. */
Test(tree, pid_namespace, .timeout = 300)
{
	struct python all[H_MAX_PYTHONS];
	size_t n = h_find_pythons(all, H_MAX_PYTHONS);
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	char wl[512], pidtxt[16], err[4096], *out = malloc(OUT_MAX);
	long long all_work = 0, sum = 0, got[MAX_MEMBERS];
	size_t ngot = 0;
	struct expect x;
	struct proc p;

	if (!n || system("/usr/bin/unshare --pid --fork --mount-proc true >/dev/null 2>&1") != 0)
		cr_skip_test("no interpreter, or /usr/bin/unshare --pid cannot make a pid namespace here (needs util-linux, and root or CAP_SYS_ADMIN)");
	snprintf(wl, sizeof wl, "%s/tree.py", dir ? dir : "tests/integration/workloads");
	char *argv[] = { "/usr/bin/unshare", "--pid", "--fork", "--mount-proc", all[n - 1].path, wl, "fork", all[n - 1].path, NULL };
	cr_assert(out && h_spawn(&p, argv), "cannot start unshare");
	cr_assert(read_children(&p, &x), "%s: the tree did not come up in its namespace", all[n - 1].label);
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)p.pid);
	const char *args[] = { "snap", "--subprocesses", "--pause", "census", "-f", "csv", "-q", pidtxt, NULL };
	cr_assert_eq(h_pycensus(out, OUT_MAX, err, sizeof err, args), 0, "%s", err);
	for (const char *s = out; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL) {
		char f[10][128];
		if (s[0] == '#' || split(s, f, 10) != 10 || strcmp(f[9], "__main__.Work") != 0)
			continue;
		if (strcmp(f[0], "all") == 0)
			all_work += atoll(f[3]);
		else if (ngot < MAX_MEMBERS)
			got[ngot++] = atoll(f[3]);
	}
	for (size_t i = 0; i < x.n; i++) {
		bool found = false;
		for (size_t k = 0; k < ngot && !found; k++)
			if (got[k] == x.m[i].want)
				found = true, got[k] = -1;
		cr_expect(found, "%s: no process of the namespace holds %lld Work:\n%.3000s", all[n - 1].label, x.m[i].want, out);
		sum += x.m[i].want;
	}
	cr_expect_eq(ngot, x.n, "%s: %zu processes with Work, the namespace has %zu", all[n - 1].label, ngot, x.n);
	cr_expect_eq(all_work, sum, "%s: Work summed %lld, the processes hold %lld", all[n - 1].label, all_work, sum);
	snprintf(err, sizeof err, "# skipped,%d,", (int)p.pid);
	cr_expect(strstr(out, err) && strstr(out, "not a Python process"), "%s: unshare not listed as skipped:\n%.2000s",
		  all[n - 1].label, out);
	fprintf(stderr, "tree: %s in a pid namespace: %zu Python processes, Work %lld in all, each count found\n",
		all[n - 1].label, x.n, all_work);
	kill(first_child((int)p.pid), SIGKILL); /* the namespace's init: the kernel ends the rest with it */
	h_kill(&p);
	free(out);
}

/* dump --subprocesses: a file per Python process of the tree, each holding that process's Work. */
Test(tree, dump_subprocesses, .timeout = 300)
{
	struct python all[H_MAX_PYTHONS];
	size_t n = h_find_pythons(all, H_MAX_PYTHONS);
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	char wl[512], pidtxt[16], err[4096], tmpl[] = "/tmp/pycensus-dumptree-XXXXXX", outpath[600], file[700];
	char *out = malloc(OUT_MAX);
	struct expect x;
	struct proc p;

	if (!n)
		cr_skip_test("no interpreter found");
	snprintf(wl, sizeof wl, "%s/tree.py", dir ? dir : "tests/integration/workloads");
	char *argv[] = { all[n - 1].path, wl, "fork", all[0].path, NULL };
	cr_assert(out && mkdtemp(tmpl) && h_spawn(&p, argv));
	cr_assert(read_children(&p, &x), "%s: the tree did not come up", all[n - 1].label);
	snprintf(pidtxt, sizeof pidtxt, "%d", x.m[0].pid);
	snprintf(outpath, sizeof outpath, "%s/app.pcheap", tmpl);
	const char *args[] = { "dump", "--subprocesses", "-q", "-o", outpath, pidtxt, NULL };
	cr_assert_eq(h_pycensus(out, OUT_MAX, err, sizeof err, args), 0, "%s: %s", all[n - 1].label, err);
	cr_expect(strstr(out, "skipped: not a Python process"), "%s: the sleep not skipped:\n%s", all[n - 1].label, out);
	for (size_t i = 0; i < x.n; i++) {
		const char *snap[] = { "snap", "-f", "csv", "-n", "0", file, NULL };
		long long work = -1;
		snprintf(file, sizeof file, "%s/app.%d.pcheap", tmpl, x.m[i].pid);
		cr_assert_eq(h_pycensus(out, OUT_MAX, err, sizeof err, snap), 0, "%s: snap %s: %s", all[n - 1].label, file, err);
		for (const char *s = out; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL) {
			char f[8][128];
			if (s[0] != '#' && split(s, f, 8) == 8 && (strcmp(f[7], "__main__.Work") == 0 || strcmp(f[7], "__mp_main__.Work") == 0))
				work = atoll(f[1]);
		}
		cr_expect_eq(work, x.m[i].want, "%s: the dump of %d holds %lld Work, the process %lld", all[n - 1].label,
			     x.m[i].pid, work, x.m[i].want);
	}
	fprintf(stderr, "tree: dump --subprocesses on %s: %zu dumps, each with its process's Work\n", all[n - 1].label, x.n);
	snprintf(file, sizeof file, "rm -rf '%s'", tmpl);
	cr_expect_eq(system(file), 0);
	kill_members(&x);
	h_kill(&p);
	free(out);
}
