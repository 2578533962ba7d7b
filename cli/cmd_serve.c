/* cmd_serve.c: `pycensus serve PID... [--match REGEX]`: a census of each target every interval, in
 * a loop of its own, published as Prometheus metrics (report/prom.h) over HTTP (cli/serve_http.h).
 * A scrape reads the last census published; it never stops a target. --match finds the targets
 * by their command line, again every interval. SIGINT/SIGTERM/SIGHUP end it cleanly: a census
 * under way is dropped and its target resumed at once (attach/stop.h). */
#include "common/compat.h"

#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "attach/procfs.h"
#include "attach/procmem.h"
#include "attach/stop.h"
#include "cli/commands.h"
#include "cli/serve_http.h"
#include "common/xalloc.h"
#include "census/snapshot.h"
#include "report/pprof.h"
#include "report/prom.h"

/* At most this many processes are served (PIDs given, then --match's in PID order): with --top's
 * bound on kinds, it bounds the series a scrape holds. */
#define SERVE_MAX_TARGETS 64
#define SERVE_MAX_TOP 10000
/* /proc/PID/cmdline is matched up to this many bytes. */
#define SERVE_CMDLINE_MAX 4096

struct serve {
	pid_t pids[SERVE_MAX_TARGETS]; /* given on the command line */
	size_t npids;
	const char *match;
	regex_t re;
	const char *listen;
	double interval;
	size_t top;
	struct snapshot_opts opts;
	struct prom_target *t;       /* the targets of this round */
	size_t n;
	size_t left_out;             /* --match found more than SERVE_MAX_TARGETS */
	struct serve_http *http;
};

static volatile sig_atomic_t stop_sig;

static void serve_help(FILE *out)
{
	fprintf(out,
		"usage: pycensus serve [options] [PID...]\n"
		"\n"
		"Serves Prometheus metrics of Python processes over HTTP: a census of each process (PIDs\n"
		"given, and those --match finds) every interval, one process stopped at a time; /metrics\n"
		"answers the last census of each in the text exposition format 0.0.4, so a scrape never\n"
		"stops a process (before the first census ends, it answers what there is: pycensus_up 0).\n"
		"/debug/pprof/heap answers the same as a gzipped pprof profile (go tool pprof, Pyroscope,\n"
		"Parca). / is a short index; anything else is 404. SIGINT or SIGTERM ends it (exit 0).\n"
		"\n"
		"Per process (labels pid, python): pycensus_kind_objects and pycensus_kind_bytes for the top\n"
		"N kinds by bytes (label kind) and the rest summed as kind=\"" PROM_OTHER_KIND "\"; pycensus_objects,\n"
		"pycensus_bytes, pycensus_kinds; pymalloc arenas, pools, blocks; GC counts and collections\n"
		"(label generation); resident and unique (USS) memory; the census's duration, pause,\n"
		"partial flag and dropped objects; pycensus_up and pycensus_census_error (the last error).\n"
		"Series: at most %d + 2 * (N + 1) per process (%d with the default N), at most %d processes\n"
		"(those --match finds beyond that are left out, counted in pycensus_targets_left_out).\n"
		"\n"
		"options:\n"
		"  -m, --match REGEX       also every process whose command line (/proc/PID/cmdline, arguments\n"
		"                          joined by spaces) matches REGEX (POSIX extended), found again each\n"
		"                          interval: processes that start are added, those that end dropped\n"
		"  -l, --listen ADDR:PORT  where to listen (default 127.0.0.1:9464; [::1]:9464 for IPv6; port\n"
		"                          0 picks a free one; the address is printed on standard output)\n"
		"  -i, --interval SECONDS  time between the starts of two rounds of censuses (default 30)\n"
		"  -n, --top N             kinds per process, by bytes (default 50); the rest are summed\n"
		"      --arenas auto|symbols|scan   as for snap\n",
		PROM_SERIES_FIXED, PROM_SERIES_FIXED + 2 * 51, SERVE_MAX_TARGETS);
	fputs(cli_pause_help, out);
	fputs(cli_memory_help, out);
	fputs("  -h, --help              this help\n"
	      "\n"
	      "needs: ptrace permission over each process (as for snap). A process that cannot be censused\n"
	      "is served as pycensus_up 0 with its error; a PID given stays a target after it exits.\n\n", out);
	cli_print_exit_codes(out);
}

static int add_pid(struct serve *s, const char *arg, struct pc_err *e)
{
	int pid;

	if (cli_parse_pid(arg, &pid, e) < 0)
		return -1;
	for (size_t i = 0; i < s->npids; i++)
		if (s->pids[i] == pid)
			return 0;
	if (s->npids == SERVE_MAX_TARGETS)
		return pc_fail(e, PC_EUSAGE, "serve takes at most %d processes", SERVE_MAX_TARGETS);
	s->pids[s->npids++] = pid;
	return 0;
}

static int parse_match(struct serve *s, const char *re, struct pc_err *e)
{
	char why[256];
	int rc;

	if (s->match)
		return pc_fail(e, PC_EUSAGE, "--match takes one REGEX (alternatives: 'a|b')");
	if ((rc = regcomp(&s->re, re, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &s->re, why, sizeof why);
		return pc_fail(e, PC_EUSAGE, "--match: bad regular expression '%s': %s", re, why);
	}
	s->match = re;
	return 0;
}

static int parse_args(int argc, char **argv, struct serve *s, struct pc_err *e)
{
	static const struct option longopts[] = {
		{ "match", required_argument, NULL, 'm' },    { "listen", required_argument, NULL, 'l' },
		{ "interval", required_argument, NULL, 'i' }, { "top", required_argument, NULL, 'n' },
		{ "arenas", required_argument, NULL, 'a' },   { "pause", required_argument, NULL, 'P' }, { "max-memory", required_argument, NULL, 'Y' },
		{ "help", no_argument, NULL, 'h' },           { 0, 0, 0, 0 },
	};
	unsigned long top;
	int c;

	s->listen = "127.0.0.1:9464";
	s->interval = 30.0;
	s->top = 50;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+m:l:i:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': if (parse_match(s, optarg, e) < 0) return -1; break;
		case 'l': s->listen = optarg; break;
		case 'i': if (cli_parse_interval(optarg, &s->interval, e) < 0) return -1; break;
		case 'n':
			if (cli_parse_count(optarg, "--top", "kinds", &top, e) < 0)
				return -1;
			if (top > SERVE_MAX_TOP)
				return pc_fail(e, PC_EUSAGE, "--top takes at most %d kinds, not %lu", SERVE_MAX_TOP, top);
			s->top = top;
			break;
		case 'a': if (cli_parse_arenas(optarg, &s->opts.arenas, e) < 0) return -1; break;
		case 'P': if (cli_parse_pause(optarg, &s->opts.pause, e) < 0) return -1; break;
		case 'Y': if (cli_parse_memory(optarg, &s->opts.max_memory, e) < 0) return -1; break;
		case 'h': serve_help(stdout); exit(0);
		default:
			return pc_fail(e, PC_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	for (; optind < argc; optind++)
		if (add_pid(s, argv[optind], e) < 0)
			return -1;
	if (s->npids == 0 && !s->match)
		return pc_fail(e, PC_EUSAGE, "serve needs a PID or --match REGEX");
	return 0;
}

/* The command line of pid, arguments joined by spaces; false for a process without one (kernel
 * threads, zombies) or gone. */
static bool read_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t got;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	if ((got = proc_read_text(path, buf, len)) < 0)
		return false;
	n = (size_t)got;
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return n > 0;
}

static int by_pid(const void *x, const void *y)
{
	pid_t a = *(const pid_t *)x, b = *(const pid_t *)y;

	return (a > b) - (a < b);
}

/* The PIDs of this round: those given, then --match's (pycensus itself left out) in PID order. */
static size_t wanted_pids(struct serve *s, pid_t *out)
{
	static char cmd[SERVE_CMDLINE_MAX];
	size_t n = s->npids, first = s->npids;
	struct dirent *de;
	DIR *d;

	memcpy(out, s->pids, n * sizeof *out);
	s->left_out = 0;
	if (!s->match || !(d = opendir("/proc")))
		return n;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		bool given = false;

		if (*end || pid <= 0 || pid == (long)getpid() || !read_cmdline((pid_t)pid, cmd, sizeof cmd) ||
		    regexec(&s->re, cmd, 0, NULL, 0) != 0)
			continue;
		for (size_t i = 0; i < first; i++)
			given |= out[i] == (pid_t)pid;
		if (given)
			continue;
		if (n == SERVE_MAX_TARGETS)
			s->left_out++;
		else
			out[n++] = (pid_t)pid;
	}
	closedir(d);
	qsort(out + first, n - first, sizeof *out, by_pid);
	return n;
}

/* The targets of this round: those kept from the last one keep their counters. */
static void refresh_targets(struct serve *s)
{
	pid_t want[SERVE_MAX_TARGETS];
	size_t n = wanted_pids(s, want);
	struct prom_target *t = xcalloc(n ? n : 1, sizeof *t);

	for (size_t i = 0; i < n; i++) {
		bool kept = false;

		prom_target_init(&t[i], want[i]);
		for (size_t j = 0; j < s->n && !kept; j++)
			if (s->t[j].pid == want[i]) {
				t[i] = s->t[j];
				s->t[j].pid = 0; /* moved */
				s->t[j].kinds = NULL;
				s->t[j].nkinds = 0;
				kept = true;
			}
		if (!kept && i >= s->npids)
			fprintf(stderr, "pycensus: serve: process %d matches --match\n", (int)want[i]);
	}
	for (size_t j = 0; j < s->n; j++) {
		if (s->t[j].pid)
			fprintf(stderr, "pycensus: serve: process %d no longer matches or has exited: dropped\n",
				(int)s->t[j].pid);
		prom_target_release(&s->t[j]);
	}
	free(s->t);
	s->t = t;
	s->n = n;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* /debug/pprof/heap: the last census of every process that is up, as one profile whose stacks
 * are "PID python X.Y" -> module -> kind, for the same top kinds as /metrics and their "(other)". */
static void write_pprof(FILE *f, const struct serve *s)
{
	struct pprof p;
	struct pc_err e = { 0 };
	char proc[64];
	double newest = 0;

	pprof_init(&p);
	pprof_comment(&p, "pycensus %s serve: the top %zu kinds of each process, the rest as (other)", cli_version, s->top);
	for (size_t i = 0; i < s->n; i++) {
		const struct prom_target *t = &s->t[i];
		const char *other[] = { proc, "(other)" };
		if (!t->up)
			continue;
		snprintf(proc, sizeof proc, "%d python %s", (int)t->pid, t->python);
		for (size_t k = 0; k < t->nkinds; k++) {
			const char *frames[] = { proc, t->kinds[k].module, t->kinds[k].kind };
			pprof_sample(&p, frames, 3, t->kinds[k].count, t->kinds[k].size);
		}
		if (t->other.count || t->other.size)
			pprof_sample(&p, other, 2, t->other.count, t->other.size);
		newest = t->timestamp > newest ? t->timestamp : newest;
	}
	if (pprof_write(f, &p, (int64_t)(newest * 1e9), &e) < 0)
		fprintf(stderr, "pycensus: serve: the pprof profile could not be written: %s\n", e.detail);
	pprof_release(&p);
}

/* The exposition (text and OpenMetrics), the index's lines and the profile, to the HTTP side. */
static void publish(struct serve *s)
{
	char *text = NULL, *om = NULL, *sum = NULL, *prof = NULL;
	size_t len = 0, olen = 0, slen = 0, plen = 0;
	FILE *f = open_memstream(&text, &len), *o = open_memstream(&om, &olen), *g = open_memstream(&sum, &slen),
	     *h = open_memstream(&prof, &plen);

	if (!f || !o || !g || !h)
		PC_BUG("open_memstream");
	write_pprof(h, s);
	fclose(h);
	prom_write(f, s->t, s->n, s->left_out);
	fclose(f);
	prom_write_openmetrics(o, s->t, s->n, s->left_out);
	fclose(o);
	fprintf(g, "%zu processes, a census of each every %g s, the top %zu kinds each%s%s\n", s->n, s->interval, s->top,
		s->match ? "; --match " : "", s->match ? s->match : "");
	for (size_t i = 0; i < s->n; i++)
		fprintf(g, "pid %d: %s%s\n", (int)s->t[i].pid,
			s->t[i].up ? "up, Python " : s->t[i].error[0] ? "down: " : "no census yet",
			s->t[i].up ? s->t[i].python : s->t[i].error);
	fclose(g);
	serve_http_publish(s->http, &(struct serve_pages){ .metrics = text, .metrics_len = len, .openmetrics = om,
							   .openmetrics_len = olen, .summary = sum, .pprof = prof,
							   .pprof_len = plen });
	free(text);
	free(om);
	free(sum);
	free(prof);
}

/* The one-line message of e, as pycensus would print it. */
static void error_line(const struct pc_err *e, char *buf, size_t len)
{
	FILE *f = fmemopen(buf, len, "w");

	buf[0] = '\0';
	if (!f)
		return;
	pc_err_print(f, e);
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* One census of target t; false when a signal ended it (the census is dropped). */
static bool census_one(struct serve *s, struct prom_target *t)
{
	struct pc_err e = { 0 };
	struct source src;
	struct procmem pm;
	struct census c;
	char line[sizeof t->error];
	int rc;

	census_init(&c);
	rc = source_open_pid(&src, t->pid, 0, &e);
	if (rc == 0) {
		rc = snapshot_take(&src, &s->opts, &c, &e);
		source_close(&src);
	}
	if (stop_sig) {
		census_release(&c);
		return false;
	}
	if (rc == 0) {
		prom_target_set(t, &c, s->top, wall_now());
		memset(&pm, 0, sizeof pm);
		t->have_rss = t->have_uss = false; /* not the last census's, when /proc cannot be read now */
		if (procmem_read(t->pid, &pm, &e) == 0) {
			t->have_rss = pm.have_status;
			t->rss = pm.vm_rss;
			t->have_uss = pm.have_rollup;
			t->uss = procmem_uss(&pm);
		}
	} else {
		error_line(&e, line, sizeof line);
		if (strcmp(line, t->error) != 0) /* said once, not every interval */
			fprintf(stderr, "%s (pid %d; served as pycensus_up 0)\n", line, (int)t->pid);
		prom_target_fail(t, line, pc_exit_code(e.code));
	}
	census_release(&c);
	return true;
}

/* Sleeps until monotonic time `until` or a signal. */
static void wait_until(double until)
{
	double now;

	while (!stop_sig && (now = mono_now()) < until)
		poll(NULL, 0, (int)((until - now) * 1000) + 1);
}

static void loop(struct serve *s)
{
	double next = mono_now();

	while (!stop_sig) {
		refresh_targets(s);
		publish(s);
		for (size_t i = 0; i < s->n && !stop_sig; i++)
			if (census_one(s, &s->t[i]))
				publish(s);
		next += s->interval;
		if (next < mono_now()) /* a round longer than the interval: the next starts now */
			next = mono_now();
		wait_until(next);
	}
}

static void serve_release(struct serve *s)
{
	serve_http_stop(s->http);
	for (size_t i = 0; i < s->n; i++)
		prom_target_release(&s->t[i]);
	free(s->t);
	if (s->match)
		regfree(&s->re);
}

int cmd_serve(int argc, char **argv)
{
	struct pc_err e = { 0 };
	struct serve s;

	memset(&s, 0, sizeof s);
	if (parse_args(argc, argv, &s, &e) < 0) {
		serve_release(&s);
		return cli_fail(&e);
	}
	stop_on_interrupt(&stop_sig);
	if (!(s.http = serve_http_start(s.listen, &e))) {
		serve_release(&s);
		return cli_fail(&e);
	}
	printf("pycensus: serving http://%s/metrics\n", serve_http_address(s.http));
	fflush(stdout);
	loop(&s);
	fprintf(stderr, "pycensus: serve: stopped by signal %d\n", (int)stop_sig);
	serve_release(&s);
	stop_on_interrupt(NULL);
	return 0;
}
