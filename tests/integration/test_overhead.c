/* test_overhead.c: sampling within a pause budget (--max-overhead, cli/pace.h). A target holds
 * 3e5 dicts, a heap whose census pauses it long enough that a sample every 0.05 s would keep it
 * stopped more than the budget used here (5 %: a test of minutes at the default 1 %). From the
 * figures of the series itself (each sample's time_s, its pause_s and the interval planned after
 * it, CSV '# sample K pace,...' comments), the test recomputes the share of the target's time spent
 * stopped and checks it against the budget and the share the report states; with off, -i is kept.
 * No wall-clock assertion: every figure compared is one pycensus reports. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/integration/harness.h"

#define OUTMAX (8 << 20)
#define MAXS 256
#define BUDGET 0.05
#define INTERVAL 0.05
/* time_s is written to the millisecond: a span read back may be short by this much */
#define TIME_ROUNDING 0.001

/* It holds until the file argv[1] exists (at most HOLD_S), then ends by os._exit, unfinalised:
 * under `run` its census at exit is read at its exit stop, on machines that raise hardware
 * breakpoints (the census at finalisation) or not (h_hwbreak_fires). The test creates the file
 * once it has the samples it checks: how many come in a given time depends on the machine's load
 * (a fixed 8 s sleep once gave only one periodic sample). */
#define HOLD_S "300"
static const char holder[] = "import os, sys, time\n"
			     "live = [{'k': i} for i in range(300000)]\n"
			     "print('up', len(live), flush=True)\n"
			     "end = time.monotonic() + " HOLD_S "\n"
			     "while not os.path.exists(sys.argv[1]) and time.monotonic() < end:\n"
			     "    time.sleep(0.05)\n"
			     "os._exit(0)\n";
#define HOLDER_ARGS(stopfile) "-c", (char *)holder, (char *)(stopfile)
#define NO_STOPFILE "/nonexistent/pycensus-holder-runs-until-killed"

struct pace_row {
	double t, pause, interval, share; /* share NAN: "none" (the first sample) */
	char budget[16];
	bool paced;
};

struct series_read {
	struct pace_row v[MAXS];
	size_t n;
};

/* The samples of a CSV series: time_s from its rows, the rest from its pace comments. */
static void read_series(const char *csv, struct series_read *s)
{
	memset(s, 0, sizeof *s);
	for (const char *line = csv; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		unsigned k;
		double t, pause, interval;
		char share[32], budget[16];

		if (sscanf(line, "# sample %u pace,pause_s,%lf,interval_s,%lf,share_pct,%31[^,],budget_pct,%15[^\n]", &k,
			   &pause, &interval, share, budget) == 5 && k < MAXS) {
			s->v[k].pause = pause;
			s->v[k].interval = interval;
			s->v[k].share = strcmp(share, "none") == 0 ? NAN : strtod(share, NULL) / 100;
			snprintf(s->v[k].budget, sizeof s->v[k].budget, "%s", budget);
			s->v[k].paced = true;
		} else if (line[0] != '#' && sscanf(line, "%lf,%u,", &t, &k) == 2 && k < MAXS) {
			s->v[k].t = t;
			s->n = k + 1 > s->n ? k + 1 : s->n;
		}
	}
}

static double distance(double a)
{
	return a < 0 ? -a : a;
}

static double larger(double a, double b)
{
	return a > b ? a : b;
}

/* The share over whole periods up to sample `last`'s start: the pauses before it over the time. */
static double share_to(const struct series_read *s, size_t last, double *pauses)
{
	*pauses = 0;
	for (size_t k = 0; k < last; k++)
		*pauses += s->v[k].pause;
	return *pauses / (s->v[last].t - s->v[0].t);
}

static void start_holder(struct proc *p, const struct python *py, const char *stopfile, char *pidtxt)
{
	char *argv[] = { (char *)py->path, HOLDER_ARGS(stopfile), NULL };
	char line[128];

	cr_assert(h_spawn(p, argv) && h_wait_line(p, "up 300000", line, sizeof line, 120), "%s: the holder did not start",
		  py->label);
	snprintf(pidtxt, 16, "%d", (int)p->pid);
}

/* The checks every paced series passes: one pace comment per sample, the budget it states, and
 * for the periodic samples each planned interval as cli/pace.h's rule gives it from the reported
 * pauses and times (off: -i), and each sample started no sooner than planned. Returns the samples
 * stretched beyond -i. */
static size_t check_paced(const struct series_read *s, const char *label, const char *budget, size_t periodic)
{
	bool off = strcmp(budget, "off") == 0;
	double level = 0, paused = 0;
	size_t stretched = 0;

	for (size_t k = 0; k < s->n; k++) {
		const struct pace_row *r = &s->v[k];
		double want = INTERVAL;

		cr_assert(r->paced, "%s: sample %zu has no pace comment", label, k);
		cr_expect_str_eq(r->budget, budget, "%s: sample %zu states budget %s", label, k, r->budget);
		if (k >= periodic)
			continue;
		paused += r->pause;
		level = r->pause > level ? r->pause : (level + r->pause) / 2;
		if (!off) {
			want = larger(want, level / BUDGET);
			want = larger(want, (paused + level) / BUDGET - level - (r->t - s->v[0].t));
		}
		/* the times are read back to the millisecond: the last term may be off by that much */
		cr_expect(distance(r->interval - want) <= TIME_ROUNDING + 1e-5,
			  "%s: sample %zu paused %.6f s and planned %.6f s; the rule gives %.6f s", label, k, r->pause,
			  r->interval, want);
		if (!off && k + 1 < periodic)
			cr_expect(s->v[k + 1].t - r->t >= r->interval - TIME_ROUNDING,
				  "%s: sample %zu came %.3f s after sample %zu, %.6f s planned", label, k + 1,
				  s->v[k + 1].t - r->t, k, r->interval);
		stretched += r->interval > INTERVAL * 1.5;
	}
	return stretched;
}

/* The pacing is pycensus's, not the interpreter's: the oldest and newest of the core set (all with
 * PYCENSUS_TEST_FULL=1). */
ParameterizedTestParameters(overhead, interpreters)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons_ends(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

/* snap -i 0.05 -c 3 --max-overhead 5: the samples stretched, the share within 5 %; then the same
 * with off: -i kept whatever the pauses. */
static void snap_budget(const struct python *py, char *out, char *err)
{
	char pidtxt[16];
	const char *paced[] = { "snap", "-q", "-i", "0.05", "-c", "3", "--max-overhead", "5", "-f", "csv", pidtxt, NULL },
		   *fixed[] = { "snap", "-q", "-i", "0.05", "-c", "3", "--max-overhead", "off", "-f", "csv", pidtxt, NULL };
	static struct series_read s;
	double pauses, share, longest = 0;
	struct proc p;

	start_holder(&p, py, NO_STOPFILE, pidtxt);
	cr_assert_eq(h_pycensus(out, OUTMAX, err, 4096, paced), 0, "%s: snap -i: %s", py->label, err);
	read_series(out, &s);
	cr_assert_eq(s.n, 3, "%s: %zu samples in\n%.2000s", py->label, s.n, out);
	/* the heap is large enough for the test: at a fixed 0.05 s its pauses would pass the budget */
	share_to(&s, 2, &pauses);
	cr_assert(pauses / (2 * INTERVAL) > BUDGET, "%s: 2 pauses of %.6f s: too short to need a budget", py->label,
		  pauses);
	cr_expect(check_paced(&s, py->label, "5", s.n) > 0, "%s: no sample stretched", py->label);
	share = share_to(&s, 2, &pauses);
	cr_expect(pauses <= BUDGET * (s.v[2].t - s.v[0].t + TIME_ROUNDING), "%s: paused %.6f s over %.3f s: %.2f %%",
		  py->label, pauses, s.v[2].t - s.v[0].t, share * 100);
	cr_expect(distance(s.v[2].share - share) <= share * 0.02 + 1e-5, "%s: the report says %.4f %%, its figures %.4f %%",
		  py->label, s.v[2].share * 100, share * 100);
	cr_expect(isnan(s.v[0].share), "%s: a share after one sample", py->label);
	for (size_t k = 0; k < s.n; k++)
		longest = larger(longest, s.v[k].interval);

	cr_assert_eq(h_pycensus(out, OUTMAX, err, 4096, fixed), 0, "%s: snap -i off: %s", py->label, err);
	read_series(out, &s);
	cr_assert_eq(s.n, 3, "%s: off: %zu samples", py->label, s.n);
	cr_expect_eq(check_paced(&s, py->label, "off", s.n), 0, "%s: off stretched the interval", py->label);
	for (size_t k = 0; k < s.n; k++)
		cr_expect(distance(s.v[k].interval - INTERVAL) < 1e-6, "%s: off: sample %zu planned %.6f s", py->label, k,
			  s.v[k].interval);
	fprintf(stderr, "overhead: %s snap -i 0.05 -c 3: %.2f %% within 5 %%, stretched to %.2f s; off: interval kept\n",
		py->label, share * 100, longest);
	h_kill(&p);
}

/* run -i 0.05 --max-overhead 5 -o FILE on the holder; once the series holds a third sample (its
 * pace comment written) the holder is told to end: the exit census ends the series. Every whole
 * period (the first sample to each later periodic one) is within the budget; at exit the share
 * may exceed it only by the last periodic pause (a program can end right after a sample whose
 * pause outgrew the ones before: pace.h), and the report states that share. */
static void run_budget(const struct python *py, char *out, char *err)
{
	char csv[] = "/tmp/pycensus-overhead-XXXXXX", stop[64];
	const char *bin = getenv("PYCENSUS");
	int fd = mkstemp(csv), status = 0;
	struct proc p;
	static struct series_read s;
	double pauses, share;
	size_t periodic;

	cr_assert(fd >= 0);
	close(fd);
	snprintf(stop, sizeof stop, "%s.stop", csv);
	char *argv[] = { (char *)(bin ? bin : "./pycensus"), "run", "-q", "-i", "0.05", "--max-overhead", "5", "-f",
			 "csv", "-o", csv, "--", (char *)py->path, HOLDER_ARGS(stop), NULL };
	cr_assert(h_spawn(&p, argv), "%s: cannot start pycensus run", py->label);
	/* a deadline only (the holder's own ends it after HOLD_S): the samples' count is what is waited for */
	for (int i = 0; i < 3000 && h_state(p.pid) != 'Z' && !(h_file_text(csv, out, OUTMAX) && strstr(out, "# sample 2 pace")); i++)
		usleep(100000);
	fd = open(stop, O_CREAT | O_WRONLY, 0600);
	cr_assert(fd >= 0, "cannot create %s", stop);
	close(fd);
	cr_assert_eq(waitpid(p.pid, &status, 0), p.pid);
	p.pid = 0;
	h_file_text(p.errpath, err, 4096);
	h_kill(&p);
	unlink(stop);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: run: status 0x%x: %s", py->label, status, err);
	cr_assert(h_file_text(csv, out, OUTMAX), "%s: no series in %s", py->label, csv);
	unlink(csv);
	read_series(out, &s);
	cr_assert(s.n >= 3, "%s: %zu samples in\n%.2000s", py->label, s.n, out);
	periodic = s.n - 1; /* the last is the census at exit: no interval after it */
	cr_expect(s.v[periodic].interval == 0, "%s: the exit census planned %.6f s", py->label, s.v[periodic].interval);
	cr_expect(check_paced(&s, py->label, "5", periodic) > 0, "%s: no sample stretched", py->label);
	for (size_t k = 1; k < periodic; k++) {
		share = share_to(&s, k, &pauses);
		cr_expect(pauses <= BUDGET * (s.v[k].t - s.v[0].t + TIME_ROUNDING),
			  "%s: up to sample %zu: %.6f s paused over %.3f s (%.2f %%)", py->label, k, pauses,
			  s.v[k].t - s.v[0].t, share * 100);
	}
	share = share_to(&s, periodic, &pauses);
	cr_expect(pauses <= BUDGET * (s.v[periodic].t - s.v[0].t + TIME_ROUNDING) + s.v[periodic - 1].pause,
		  "%s: at exit %.6f s paused over %.3f s", py->label, pauses, s.v[periodic].t - s.v[0].t);
	cr_expect(distance(s.v[periodic].share - share) <= share * 0.02 + 1e-5,
		  "%s: the report says %.4f %%, its figures %.4f %%", py->label, s.v[periodic].share * 100, share * 100);
	fprintf(stderr, "overhead: %s run -i 0.05: %zu samples, %.2f %% at exit\n", py->label, s.n, share * 100);
}

ParameterizedTest(struct python *py, overhead, interpreters, .timeout = 600)
{
	char *out = malloc(OUTMAX), err[4096];

	cr_assert(out);
	snap_budget(py, out, err);
	run_budget(py, out, err);
	free(out);
}

/* The default budget is 1 %, said in the JSON, which Debian's python3-jsonschema validates against
 * docs/schema/pycensus.json (tests/integration/jsoncheck.py, as test_json does); the exit census
 * plans no interval (the program ends by os._exit, so that census is read at its exit stop
 * whether or not this machine raises hardware breakpoints). A bad value is a usage error before anything starts. */
Test(overhead, default_and_usage)
{
	struct python py[H_MAX_PYTHONS];
	size_t n = h_find_pythons(py, H_MAX_PYTHONS);
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	char *out = malloc(OUTMAX), *doc, err[4096], path[] = "/tmp/pycensus-overhead-XXXXXX", cmd[2048];
	const char *json[] = { "run", "-q", "-f", "json", "-o", path, "--", n ? py[n - 1].path : "python3", "-c",
			       "import os, time; time.sleep(0.5); os._exit(0)", NULL },
		   *bad[] = { "run", "--max-overhead", "1.5x", "--", "/nonexistent/python3", NULL },
		   *top[] = { "top", "--max-overhead", "-1", "1", NULL };
	int fd = mkstemp(path), rc;
	FILE *f;
	size_t len;

	cr_assert(n > 0 && out && fd >= 0);
	close(fd);
	cr_assert_eq(h_pycensus(NULL, 0, err, sizeof err, json), 0, "%s", err);
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/../jsoncheck.py %s/../../../docs/schema/pycensus.json %s 2>&1",
		 dir ? dir : "tests/integration/workloads", dir ? dir : "tests/integration/workloads", path);
	doc = h_command_output(cmd, OUTMAX, &rc);
	cr_expect(rc == 0 && strncmp(doc, "valid series\n", 13) == 0, "not a valid series document: %.2000s", doc);
	free(doc);
	cr_assert((f = fopen(path, "r")));
	len = fread(out, 1, OUTMAX - 1, f);
	out[len] = '\0';
	fclose(f);
	unlink(path);
	cr_expect(strstr(out, "\"budget_pct\": 1,") || strstr(out, "\"budget_pct\":1,"), "no 1 %% budget in\n%.3000s", out);
	cr_expect(strstr(out, "\"interval_s\": 1,") || strstr(out, "\"interval_s\":1,"), "no 1 s interval in\n%.3000s", out);
	cr_expect(strstr(out, "\"at_exit\": true") &&
		  (strstr(out, "\"interval_s\": null") || strstr(out, "\"interval_s\":null")),
		  "no exit census without an interval in\n%.3000s", out);
	cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, bad), 2, "%s", err);
	cr_expect(strstr(err, "--max-overhead takes a percentage from 0 to 100 or 'off', not '1.5x'"), "%s", err);
	cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, top), 2, "%s", err);
	free(out);
}

/* top without a terminal: its status line states the share and the stretched interval. */
Test(overhead, top_status_line, .timeout = 300)
{
	struct python py[H_MAX_PYTHONS];
	size_t n = h_find_pythons(py, H_MAX_PYTHONS);
	char *out = malloc(OUTMAX), err[4096], pidtxt[16];
	const char *args[] = { "top", "-i", "0.05", "-c", "2", "-n", "3", "--max-overhead", "5", pidtxt, NULL };
	double pause, share, interval;
	unsigned lines = 0, stretched = 0;
	struct proc p;

	cr_assert(n > 0 && out);
	start_holder(&p, &py[n - 1], NO_STOPFILE, pidtxt);
	cr_assert_eq(h_pycensus(out, OUTMAX, err, sizeof err, args), 0, "%s", err);
	for (const char *s = out; (s = strstr(s, "; last pause ")); s++) {
		const char *next = strchr(s, '\n');
		cr_assert(next && sscanf(s, "; last pause %lf s\n", &pause) == 1, "%.200s", s);
		lines++;
		if (sscanf(next + 1, "pause %lf %% of its time (budget 5 %%), interval %lf s (stretched)", &share, &interval) == 2) {
			stretched++;
			cr_expect(interval >= pause / BUDGET - 0.01, "paused %.3f s, then %.2f s planned", pause, interval);
			cr_expect(share * 0.01 <= BUDGET, "top says %.2f %%", share);
		} else {
			static const char first[] = "pause share: after the next sample (budget 5 %), interval ";
			cr_expect(strncmp(next + 1, first, sizeof first - 1) == 0, "%.200s", next + 1);
		}
	}
	cr_expect_eq(lines, 2, "%u status lines in\n%.3000s", lines, out);
	cr_expect_eq(stretched, 1, "%u stretched status lines in\n%.3000s", stretched, out);
	h_kill(&p);
	free(out);
}

/* run --subprocesses: two forked children hold 5e4 dicts each for 8 s while the program waits. The
 * budget holds for the tree: each child's series states its pauses ('# sample K pause_s,X'), and
 * the program's pace counts them in the sample whose round censused them, so each of its samples'
 * pause is at least the sum of the children's censused with it, and the periodic share of the
 * tree's pauses stays within the budget. Every figure compared is one pycensus reports. */
/* Two forked children hold a heap until the file argv[1] exists (at most HOLD_S), as the run
 * holder does: the test ends them once the series have the samples it checks. */
static const char forker[] = "import os, sys, time\n"
			     "pids = []\n"
			     "for i in range(2):\n"
			     "    pid = os.fork()\n"
			     "    if pid == 0:\n"
			     "        live = [{'k': j} for j in range(50000)]\n"
			     "        end = time.monotonic() + " HOLD_S "\n"
			     "        while not os.path.exists(sys.argv[1]) and time.monotonic() < end:\n"
			     "            time.sleep(0.05)\n"
			     "        os._exit(0)\n"
			     "    pids.append(pid)\n"
			     "for p in pids:\n"
			     "    os.waitpid(p, 0)\n"
			     "time.sleep(0.5)\n";

/* A child's series: sample times, the pauses its comments state (NAN: none stated) and which
 * sample is its census at exit. */
static size_t read_child(const char *path, double *t, double *pause, bool *at_exit, size_t max)
{
	char line[512];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	cr_assert(f, "cannot open %s", path);
	for (size_t k = 0; k < max; k++) {
		pause[k] = NAN;
		at_exit[k] = false;
	}
	while (fgets(line, sizeof line, f)) {
		unsigned k;
		double v;
		char word[16];
		if (sscanf(line, "# sample %u pause_s,%lf", &k, &v) == 2 && k < max)
			pause[k] = v;
		else if (sscanf(line, "# sample %u %15s", &k, word) == 2 && k < max && !strcmp(word, "at_exit"))
			at_exit[k] = true;
		else if (line[0] != '#' && sscanf(line, "%lf,%u,", &v, &k) == 2 && k < max) {
			t[k] = v;
			n = k + 1 > n ? k + 1 : n;
		}
	}
	fclose(f);
	return n;
}

/* Adds each child sample's pause to the program's sample that counts it: a periodic one to the
 * round that took it (the last program sample that started no later; times are written to the
 * millisecond), a census at exit to the next program sample. Returns the child samples added. */
static size_t add_child(const struct series_read *s, const char *path, double *sums)
{
	static double t[MAXS], pause[MAXS];
	static bool at_exit[MAXS];
	size_t n = read_child(path, t, pause, at_exit, MAXS), added = 0;

	for (size_t c = 0; c < n; c++) {
		size_t k = 0;
		if (isnan(pause[c]))
			continue;
		while (k + 1 < s->n && s->v[k + 1].t <= t[c] + TIME_ROUNDING)
			k++;
		if (at_exit[c] && ++k >= s->n)
			continue; /* after the program's last sample: no sample counts it */
		sums[k] += pause[c];
		added++;
	}
	return added;
}

/* Whether the run in dir has its third program sample and a sample stating a pause from each of
 * two children. */
static bool tree_sampled(const char *dir, const char *csv, char *buf)
{
	char path[512];
	struct dirent *de;
	size_t children = 0;
	DIR *d;

	if (!h_file_text(csv, buf, OUTMAX) || !strstr(buf, "# sample 2 pace") || !(d = opendir(dir)))
		return false;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "series.", 7) || !strcmp(de->d_name, "series.csv"))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		children += h_file_text(path, buf, OUTMAX) && strstr(buf, " pause_s,");
	}
	closedir(d);
	return children >= 2;
}

Test(overhead, tree, .timeout = 400)
{
	struct python py[H_MAX_PYTHONS];
	size_t n = h_find_pythons(py, H_MAX_PYTHONS), children = 0, samples = 0, periodic;
	char dir[] = "/tmp/pycensus-overhead-tree-XXXXXX", csv[128], stop[160], err[4096], path[512], *out = malloc(OUTMAX);
	const char *bin = getenv("PYCENSUS");
	char *args[] = { (char *)(bin ? bin : "./pycensus"), "run", "--subprocesses", "-q", "-i", "0.05", "--max-overhead",
			 "5", "-f", "csv", "-o", csv, "--", n ? (char *)py[n - 1].path : "python3", "-c", (char *)forker,
			 stop, NULL };
	static struct series_read s;
	struct proc p;
	int status = 0, fd;
	double sums[MAXS] = { 0 }, pauses, share;
	struct dirent *de;
	DIR *d;
	FILE *f;
	size_t len;

	cr_assert(n > 0 && out && mkdtemp(dir));
	snprintf(csv, sizeof csv, "%s/series.csv", dir);
	snprintf(stop, sizeof stop, "%s.stop", dir);
	cr_assert(h_spawn(&p, args), "cannot start pycensus run --subprocesses");
	/* a deadline only: the children's own (HOLD_S) ends the wait too */
	for (int i = 0; i < 3000 && h_state(p.pid) != 'Z' && !tree_sampled(dir, csv, out); i++)
		usleep(100000);
	cr_assert((fd = open(stop, O_CREAT | O_WRONLY, 0600)) >= 0, "cannot create %s", stop);
	close(fd);
	cr_assert_eq(waitpid(p.pid, &status, 0), p.pid);
	p.pid = 0;
	h_file_text(p.errpath, err, sizeof err);
	h_kill(&p);
	unlink(stop);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: run --subprocesses: status 0x%x: %s",
		  py[n - 1].label, status, err);
	cr_assert((f = fopen(csv, "r")));
	len = fread(out, 1, OUTMAX - 1, f);
	out[len] = '\0';
	fclose(f);
	read_series(out, &s);
	cr_assert(s.n >= 3, "%s: %zu samples", py[n - 1].label, s.n);
	periodic = s.n - 1;
	cr_expect(check_paced(&s, py[n - 1].label, "5", periodic) > 0, "%s: no sample stretched", py[n - 1].label);
	cr_assert((d = opendir(dir)));
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "series.", 7) || !strcmp(de->d_name, "series.csv"))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		samples += add_child(&s, path, sums);
		children++;
		unlink(path);
	}
	closedir(d);
	cr_expect_eq(children, 2, "%s: %zu children's series", py[n - 1].label, children);
	cr_expect(samples >= 2, "%s: %zu children's samples state a pause", py[n - 1].label, samples);
	for (size_t k = 0; k < s.n; k++)
		cr_expect(s.v[k].pause + 1e-5 >= sums[k], "%s: sample %zu paused the tree %.6f s; its children alone %.6f s",
			  py[n - 1].label, k, s.v[k].pause, sums[k]);
	share = share_to(&s, periodic - 1, &pauses);
	cr_expect(pauses <= BUDGET * (s.v[periodic - 1].t - s.v[0].t + TIME_ROUNDING),
		  "%s: the tree paused %.6f s over %.3f s (%.2f %%)", py[n - 1].label, pauses,
		  s.v[periodic - 1].t - s.v[0].t, share * 100);
	fprintf(stderr, "overhead: %s run --subprocesses: %zu samples, %zu children's samples counted in them, %.2f %% over the periods\n",
		py[n - 1].label, s.n, samples, share * 100);
	unlink(csv);
	rmdir(dir);
	free(out);
}
