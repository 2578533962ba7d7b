/* test_serve.c: `pycensus serve` on every interpreter: a workload holds a known number of
 * instances of two classes (one named with a quote and a backslash) and reports what gc finds;
 * serve listens on a free loopback port, and /metrics, fetched with a plain socket, holds exactly
 * those counts, kinds that sum to the totals, and a format `promtool check metrics` accepts (when
 * Debian's prometheus is installed). Also: --match follows processes that start and end, a
 * scrape during a long census answers at once without stopping anything, SIGTERM ends it with the
 * target resumed, a port in use is exit 16, and Debian's Prometheus server scraping it on
 * loopback holds the series with the workload's values. A request whose Accept header prefers
 * OpenMetrics (as Prometheus's does) gets OpenMetrics: Prometheus's metadata then holds the units. No timed assertions: deadlines only. */
#include "common/compat.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tests/integration/harness.h"

#define DEADLINE_S 60
#define MARKERS 20000
#define ODDS 5000
#define BODY_MAX (1 << 20)
#define STR_(x) #x
#define STR(x) STR_(x)

/* The instances, and what gc finds of them, the version, then sleep. argv[1] tags the command line. */
static const char workload[] =
	"import gc, sys, time\n"
	"class ServeMarker: pass\n"
	"Odd = type('Serve\"Odd\\\\Name', (), {})\n"
	"keep = [ServeMarker() for _ in range(" STR(MARKERS) ")]\n"
	"odd = [Odd() for _ in range(" STR(ODDS) ")]\n"
	"gc.collect()\n"
	"n = lambda t: sum(1 for o in gc.get_objects() if type(o) is t)\n"
	"print('truth %d %d %s' % (n(ServeMarker), n(Odd), sys.version.split()[0]), flush=True)\n"
	"time.sleep(600)\n";

struct target {
	struct proc p;
	long markers, odds;
	char version[32];
};

static const char *pycensus(void)
{
	const char *p = getenv("PYCENSUS");
	return p ? p : "./pycensus";
}

static bool start_target(struct target *t, const struct python *py, const char *tag)
{
	char *argv[] = { (char *)py->path, "-c", (char *)workload, (char *)tag, NULL };
	char line[128];

	memset(t, 0, sizeof *t);
	return h_spawn(&t->p, argv) && h_wait_line(&t->p, "truth ", line, sizeof line, DEADLINE_S) &&
	       sscanf(line, "truth %ld %ld %31s", &t->markers, &t->odds, t->version) == 3 &&
	       h_wait_sleeping(t->p.pid, DEADLINE_S);
}

/* A loopback port free a moment ago. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* The whole response to GET path from 127.0.0.1:port over a plain socket (HTTP/1.0: the server
 * closes at the end), with an Accept header when accept is not NULL, into a malloc'ed *buf (n
 * bytes, NUL-terminated): the status, or -1. */
static int http_fetch(int port, const char *path, const char *accept, char **buf, size_t *n)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = DEADLINE_S };
	char req[1024];
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;

	*buf = malloc(BODY_MAX);
	*n = 0;
	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n%s%s%s\r\n", path, accept ? "Accept: " : "",
		 accept ? accept : "", accept ? "\r\n" : "");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0 || write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		if (fd >= 0)
			close(fd);
		(*buf)[0] = '\0';
		return -1;
	}
	while (*n < BODY_MAX - 1 && (r = read(fd, *buf + *n, BODY_MAX - 1 - *n)) > 0)
		*n += (size_t)r;
	(*buf)[*n] = '\0';
	close(fd);
	return sscanf(*buf, "HTTP/1.%*d %d", &status) == 1 ? status : -1;
}

/* The status (-1 when there is no answer), the body (terminated) in body. */
static int http_get(int port, const char *path, char *body, size_t len)
{
	char *buf, *sep;
	size_t n;
	int status = http_fetch(port, path, NULL, &buf, &n);

	body[0] = '\0';
	if (status >= 0 && (sep = strstr(buf, "\r\n\r\n")))
		snprintf(body, len, "%s", sep + 4);
	free(buf);
	return status;
}

/* /debug/pprof/heap read by go tool pprof: the objects of `kind` in its -top by objects (flat), or -1. */
static long long pprof_objects(int port, const char *kind, const char *label)
{
	char path[] = "/tmp/pycensus-serve-pprof-XXXXXX", cmd[512], line[512], name[256];
	char *buf, *sep;
	size_t n;
	long long flat = -1, v;
	int fd = mkstemp(path), status = http_fetch(port, "/debug/pprof/heap", NULL, &buf, &n);
	FILE *f;

	cr_assert(fd >= 0);
	cr_expect_eq(status, 200, "%s: /debug/pprof/heap", label);
	if ((sep = memmem(buf, n, "\r\n\r\n", 4)))
		cr_assert(write(fd, sep + 4, n - (size_t)(sep + 4 - buf)) >= 0);
	close(fd);
	free(buf);
	snprintf(cmd, sizeof cmd, "go tool pprof -top -sample_index=inuse_objects -nodefraction=0 -nodecount=100000 %s 2>&1", path);
	cr_assert((f = popen(cmd, "r")));
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "%lld %*s %*s %*s %*s %255s", &v, name) == 2 && strcmp(name, kind) == 0)
			flat = v;
	cr_expect_eq(pclose(f), 0, "%s: go tool pprof could not read /debug/pprof/heap", label);
	unlink(path);
	return flat;
}

/* The value of the series whose line starts with `series` ("name{labels}"), or -1. */
static double value_in(const char *body, const char *series)
{
	size_t n = strlen(series);

	for (const char *s = body; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL)
		if (strncmp(s, series, n) == 0 && s[n] == ' ')
			return strtod(s + n + 1, NULL);
	return -1;
}

/* Fetches /metrics until `series` is in it (the first census done), or the deadline. */
static double wait_series(int port, const char *series, char *body, size_t len)
{
	for (int i = 0; i < DEADLINE_S * 10; i++) {
		double v;

		if (http_get(port, "/metrics", body, len) == 200 && (v = value_in(body, series)) >= 0)
			return v;
		usleep(100000);
	}
	return -1;
}

/* Debian's promtool accepts the exposition (lint included); skipped, and said, without it. */
static void expect_promtool_ok(const char *body, const char *label)
{
	char path[] = "/tmp/pycensus-serve-metrics-XXXXXX", cmd[256];
	int fd = mkstemp(path), rc;
	FILE *f = fdopen(fd, "w");

	cr_assert(f);
	fputs(body, f);
	fclose(f);
	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		cr_log_warn("%s: promtool not installed (tools/install-deps installs prometheus): format not checked by it", label);
	} else {
		snprintf(cmd, sizeof cmd, "promtool check metrics < %s > %s.out 2>&1", path, path);
		rc = system(cmd);
		cr_expect_eq(rc, 0, "%s: promtool check metrics failed (see %s.out)", label, path);
		if (rc == 0) {
			snprintf(cmd, sizeof cmd, "%s.out", path);
			unlink(cmd);
		}
	}
	unlink(path);
}

static bool start_serve(struct proc *s, int port, const char *const *extra)
{
	char listen[32], *argv[24], line[256];
	size_t k = 0;

	snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
	argv[k++] = (char *)pycensus();
	argv[k++] = "serve";
	argv[k++] = "--listen";
	argv[k++] = listen;
	for (; *extra && k < 22; extra++)
		argv[k++] = (char *)*extra;
	argv[k] = NULL;
	return h_spawn(s, argv) && h_wait_line(s, "pycensus: serving http://", line, sizeof line, DEADLINE_S);
}

/* SIGTERM: serve ends with exit 0. */
static int stop_serve(struct proc *s)
{
	int status = -1;

	kill(s->pid, SIGTERM);
	waitpid(s->pid, &status, 0);
	s->pid = -1;
	h_kill(s);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static double sum_of(const char *body, const char *name, const char *pid_label)
{
	double sum = 0;
	size_t n = strlen(name);

	for (const char *s = body; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL)
		if (strncmp(s, name, n) == 0 && s[n] == '{' && strncmp(s + n + 1, pid_label, strlen(pid_label)) == 0)
			sum += strtod(strchr(s, '}') + 2, NULL);
	return sum;
}

/* What Prometheus 2.x sends: OpenMetrics preferred, the text format at q=0.5. */
#define PROMETHEUS_ACCEPT \
	"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75," \
	"text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

/* /metrics asked for OpenMetrics: its content type, a counter's family without _total, a UNIT
 * line, the markers as in the text format, "# EOF" last; asked for text/plain first, the text
 * format. */
static void check_openmetrics(int port, const struct target *t, const char *label)
{
	char *buf, series[256];
	size_t n;

	cr_expect_eq(http_fetch(port, "/metrics", PROMETHEUS_ACCEPT, &buf, &n), 200, "%s: /metrics (OpenMetrics)", label);
	cr_expect(strstr(buf, "\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n"),
		  "%s: OpenMetrics asked, not answered:\n%.600s", label, buf);
	cr_expect(n > 6 && strcmp(buf + n - 6, "# EOF\n") == 0, "%s: OpenMetrics does not end with # EOF", label);
	cr_expect(strstr(buf, "\n# TYPE pycensus_censuses counter\npycensus_censuses_total{"),
		  "%s: the counter's family is not named without _total", label);
	cr_expect(strstr(buf, "\n# TYPE pycensus_kind_bytes gauge\n# UNIT pycensus_kind_bytes bytes\n"),
		  "%s: no UNIT line for pycensus_kind_bytes", label);
	snprintf(series, sizeof series, "pycensus_kind_objects{pid=\"%d\",python=\"%s\",kind=\"__main__.ServeMarker\"}",
		 (int)t->p.pid, t->version);
	cr_expect_eq(value_in(strstr(buf, "\r\n\r\n"), series), (double)t->markers, "%s: OpenMetrics %s", label, series);
	free(buf);
	cr_expect_eq(http_fetch(port, "/metrics", "text/plain;version=0.0.4,application/openmetrics-text;q=0.5", &buf, &n),
		     200);
	cr_expect(strstr(buf, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n") && !strstr(buf, "# EOF"),
		  "%s: text/plain preferred, but not answered:\n%.600s", label, buf);
	free(buf);
}

/* One interpreter: the counts, the sums, the format (text and OpenMetrics), /, 404, SIGTERM. */
static void check_one(const struct python *py, char *body)
{
	struct target t;
	struct proc s;
	char series[256], pidl[32];
	const char *args[] = { "-i", "0.5", NULL, NULL };
	int port = free_port();
	double v;

	cr_assert(start_target(&t, py, "serve-test"), "%s: workload did not start", py->label);
	cr_expect_eq(t.markers, MARKERS, "%s: gc finds %ld markers", py->label, t.markers);
	snprintf(pidl, sizeof pidl, "%d", (int)t.p.pid);
	args[2] = pidl;
	cr_assert(port > 0 && start_serve(&s, port, args), "%s: serve did not start", py->label);
	snprintf(series, sizeof series, "pycensus_kind_objects{pid=\"%d\",python=\"%s\",kind=\"__main__.ServeMarker\"}",
		 (int)t.p.pid, t.version);
	v = wait_series(port, series, body, BODY_MAX);
	cr_expect_eq(v, (double)t.markers, "%s: %s is %.0f, gc finds %ld:\n%.2000s", py->label, series, v, t.markers, body);
	snprintf(series, sizeof series, "pycensus_kind_objects{pid=\"%d\",python=\"%s\",kind=\"__main__.Serve\\\"Odd\\\\Name\"}",
		 (int)t.p.pid, t.version);
	cr_expect_eq(value_in(body, series), (double)t.odds, "%s: %s (escaped) is not %ld", py->label, series, t.odds);
	snprintf(series, sizeof series, "pycensus_up{pid=\"%d\",python=\"%s\"}", (int)t.p.pid, t.version);
	cr_expect_eq(value_in(body, series), 1, "%s: %s", py->label, series);
	snprintf(pidl, sizeof pidl, "pid=\"%d\"", (int)t.p.pid);
	snprintf(series, sizeof series, "pycensus_objects{pid=\"%d\",python=\"%s\"}", (int)t.p.pid, t.version);
	cr_expect_eq(sum_of(body, "pycensus_kind_objects", pidl), value_in(body, series),
		     "%s: the kinds and (other) do not sum to %s", py->label, series);
	snprintf(series, sizeof series, "pycensus_gc_collections_total{pid=\"%d\",python=\"%s\",generation=\"0\"}",
		 (int)t.p.pid, t.version);
	cr_expect_geq(value_in(body, series), 1, "%s: gc.collect() ran, so %s counts it", py->label, series);
	expect_promtool_ok(body, py->label);
	check_openmetrics(port, &t, py->label);
	cr_expect_eq(pprof_objects(port, "__main__.ServeMarker", py->label), t.markers,
		     "%s: /debug/pprof/heap's ServeMarker objects (go tool pprof -top)", py->label);
	cr_expect_eq(http_get(port, "/", body, BODY_MAX), 200, "%s: /", py->label);
	cr_expect(strstr(body, "href=\"/metrics\""), "%s: the index links /metrics:\n%s", py->label, body);
	cr_expect_eq(http_get(port, "/nope", body, BODY_MAX), 404, "%s: /nope", py->label);
	cr_expect_eq(stop_serve(&s), 0, "%s: serve's exit status on SIGTERM", py->label);
	cr_expect(h_state(t.p.pid) != 't' && h_state(t.p.pid) != 'T', "%s: target left stopped", py->label);
	h_kill(&t.p);
}

Test(serve, metrics_on_every_interpreter, .timeout = 900)
{
	struct python py[H_MAX_PYTHONS];
	size_t n = h_find_pythons(py, H_MAX_PYTHONS);
	char *body = malloc(BODY_MAX);

	cr_assert(n > 0, "no interpreter found");
	for (size_t i = 0; i < n; i++)
		check_one(&py[i], body);
	free(body);
}

static bool wait_state(pid_t pid, bool traced)
{
	for (int i = 0; i < DEADLINE_S * 100; i++) {
		if ((h_state(pid) == 't') == traced)
			return true;
		usleep(10000);
	}
	return false;
}

/* The newest interpreter, or the test fails. */
static struct python newest(void)
{
	struct python py[H_MAX_PYTHONS];
	size_t n = h_find_pythons(py, H_MAX_PYTHONS);

	cr_assert(n > 0, "no interpreter found");
	return py[n - 1];
}

/* A census held long (PYCENSUS_TEST_STALL_MS): a scrape meanwhile answers with what there is (up
 * 0, no kinds yet) while the target stands stopped by the census, and SIGTERM then resumes it. */
Test(serve, scrape_during_first_census, .timeout = 300)
{
	struct python py = newest();
	struct target t;
	struct proc s;
	char *body = malloc(BODY_MAX), pidtxt[16], series[128];
	const char *args[] = { pidtxt, NULL };
	int port = free_port();

	cr_assert(start_target(&t, &py, "serve-stall"), "%s: workload did not start", py.label);
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)t.p.pid);
	setenv("PYCENSUS_TEST_STALL_MS", "60000", 1);
	cr_assert(start_serve(&s, port, args), "serve did not start");
	unsetenv("PYCENSUS_TEST_STALL_MS");
	cr_assert(wait_state(t.p.pid, true), "the census never stopped the target");
	cr_expect_eq(http_get(port, "/metrics", body, BODY_MAX), 200);
	snprintf(series, sizeof series, "pycensus_up{pid=\"%d\",python=\"\"}", (int)t.p.pid);
	cr_expect_eq(value_in(body, series), 0, "before the first census ends: %s 0:\n%s", series, body);
	cr_expect(!strstr(body, "pycensus_kind_objects{"), "no kinds before the first census:\n%s", body);
	cr_expect_eq(stop_serve(&s), 0, "serve's exit status on SIGTERM during a census");
	cr_expect(wait_state(t.p.pid, false), "the target was left stopped");
	h_kill(&t.p);
	free(body);
}

/* --match: a process that starts is added, one that ends is dropped. */
Test(serve, match_follows_processes, .timeout = 300)
{
	struct python py = newest();
	struct target a, b;
	struct proc s;
	char *body = malloc(BODY_MAX), tag[64], series[256];
	const char *args[] = { "--match", tag, "-i", "0.3", NULL };
	int port = free_port();
	pid_t gone;
	bool dropped = false;

	snprintf(tag, sizeof tag, "serve-match-%d", (int)getpid());
	cr_assert(start_target(&a, &py, tag), "%s: workload did not start", py.label);
	cr_assert(start_serve(&s, port, args), "serve did not start");
	snprintf(series, sizeof series, "pycensus_kind_objects{pid=\"%d\",python=\"%s\",kind=\"__main__.ServeMarker\"}",
		 (int)a.p.pid, a.version);
	cr_expect_eq(wait_series(port, series, body, BODY_MAX), (double)a.markers, "first process: %s", series);
	cr_assert(start_target(&b, &py, tag), "%s: second workload did not start", py.label);
	snprintf(series, sizeof series, "pycensus_kind_objects{pid=\"%d\",python=\"%s\",kind=\"__main__.ServeMarker\"}",
		 (int)b.p.pid, b.version);
	cr_expect_eq(wait_series(port, series, body, BODY_MAX), (double)b.markers, "a process that started: %s", series);
	cr_expect_eq(value_in(body, "pycensus_targets"), 2, "%.3000s", body);
	gone = a.p.pid;
	h_kill(&a.p);
	snprintf(series, sizeof series, "{pid=\"%d\"", (int)gone);
	for (int i = 0; i < DEADLINE_S * 10 && !dropped; i++) {
		dropped = http_get(port, "/metrics", body, BODY_MAX) == 200 && !strstr(body, series);
		if (!dropped)
			usleep(100000);
	}
	cr_expect(dropped, "process %d ended but is still served", (int)gone);
	cr_expect_eq(value_in(body, "pycensus_targets"), 1);
	cr_expect_eq(stop_serve(&s), 0);
	h_kill(&b.p);
	free(body);
}

Test(serve, port_in_use_is_exit_16)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	char listen_at[32], err[1024];
	const char *args[] = { "serve", "--listen", listen_at, "1", NULL };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 1) == 0 &&
		  getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	snprintf(listen_at, sizeof listen_at, "127.0.0.1:%d", ntohs(a.sin_port));
	cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 16, "%s", err);
	cr_expect(strstr(err, "cannot listen on the address") && strstr(err, "in use") && strstr(err, "fix: "), "%s", err);
	close(fd);
}

/* s percent-encoded for a URL's query. */
static void url_encode(const char *s, char *out, size_t len)
{
	size_t n = 0;

	for (; *s && n + 4 < len; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr("_.-", *s))
			out[n++] = *s;
		else
			n += (size_t)snprintf(out + n, len - n, "%%%02X", (unsigned char)*s);
	}
	out[n] = '\0';
}

/* An instant query to Prometheus's HTTP API until it returns a sample: its value, or -1. */
static double wait_query(int port, const char *promql, char *body, size_t len)
{
	char path[1024], q[900];

	url_encode(promql, q, sizeof q);
	snprintf(path, sizeof path, "/api/v1/query?query=%s", q);
	for (int i = 0; i < DEADLINE_S * 4; i++) {
		const char *v;

		if (http_get(port, path, body, len) == 200 && (v = strstr(body, "\"value\":[")) && (v = strstr(v, ",\"")))
			return strtod(v + 2, NULL);
		usleep(250000);
	}
	return -1;
}

/* Debian's Prometheus server scrapes serve every second on loopback: its API holds the series
 * with the workload's counts, and its own up{job} says every scrape parsed. */
Test(serve, prometheus_server_scrapes, .timeout = 600)
{
	struct python py = newest();
	struct target t;
	struct proc s, prom;
	char *body = malloc(BODY_MAX), pidtxt[16], dir[] = "/tmp/pycensus-prom-XXXXXX", path[256], q[256], web[64],
	     conf[300], data[300];
	char *argv[] = { "/usr/bin/prometheus", conf, data, web, NULL };
	const char *args[] = { "-i", "1", pidtxt, NULL };
	int port = free_port(), pport = free_port();
	FILE *f;

	if (access(argv[0], X_OK) != 0)
		cr_skip_test("Debian's prometheus is not installed (tools/install-deps installs it)");
	cr_assert(start_target(&t, &py, "serve-prom"), "%s: workload did not start", py.label);
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)t.p.pid);
	cr_assert(port > 0 && start_serve(&s, port, args), "serve did not start");
	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/prometheus.yml", dir);
	cr_assert((f = fopen(path, "w")));
	fprintf(f, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: pycensus\n"
		"    static_configs:\n      - targets: ['127.0.0.1:%d']\n", port);
	fclose(f);
	snprintf(conf, sizeof conf, "--config.file=%s", path);
	snprintf(data, sizeof data, "--storage.tsdb.path=%s/data", dir);
	snprintf(web, sizeof web, "--web.listen-address=127.0.0.1:%d", pport);
	cr_assert(pport > 0 && h_spawn(&prom, argv), "cannot start prometheus");
	snprintf(q, sizeof q, "pycensus_kind_objects{kind=\"__main__.ServeMarker\",pid=\"%d\"}", (int)t.p.pid);
	cr_expect_eq(wait_query(pport, q, body, BODY_MAX), (double)t.markers, "%s in Prometheus:\n%.2000s", q, body);
	snprintf(q, sizeof q, "pycensus_kind_objects{kind=\"__main__.Serve\\\"Odd\\\\Name\",pid=\"%d\"}", (int)t.p.pid);
	cr_expect_eq(wait_query(pport, q, body, BODY_MAX), (double)t.odds, "%s in Prometheus:\n%.2000s", q, body);
	snprintf(q, sizeof q, "pycensus_up{pid=\"%d\",python=\"%s\"}", (int)t.p.pid, t.version);
	cr_expect_eq(wait_query(pport, q, body, BODY_MAX), 1, "%s", body);
	cr_expect_eq(wait_query(pport, "min_over_time(up{job=\"pycensus\"}[1h])", body, BODY_MAX), 1,
		     "a scrape Prometheus could not parse:\n%.2000s", body);
	/* a unit comes only from OpenMetrics' UNIT lines: Prometheus asked for and parsed OpenMetrics */
	cr_expect_eq(http_get(pport, "/api/v1/metadata?metric=pycensus_kind_bytes", body, BODY_MAX), 200);
	cr_expect(strstr(body, "\"unit\":\"bytes\""), "Prometheus did not scrape OpenMetrics: %.1000s", body);
	cr_expect_eq(http_get(pport, "/api/v1/metadata?metric=pycensus_censuses", body, BODY_MAX), 200);
	cr_expect(strstr(body, "\"type\":\"counter\""), "the counter family pycensus_censuses: %.1000s", body);
	kill(prom.pid, SIGTERM);
	waitpid(prom.pid, NULL, 0);
	prom.pid = -1;
	h_kill(&prom);
	cr_expect_eq(stop_serve(&s), 0);
	h_kill(&t.p);
	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	cr_expect_eq(system(path), 0);
	free(body);
}
