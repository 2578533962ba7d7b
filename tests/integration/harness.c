/* harness.c: integration-test plumbing. */
#include "common/compat.h"
#include "tests/integration/harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *pycensus_path(void)
{
	const char *p = getenv("PYCENSUS");
	return p ? p : "./pycensus";
}

static bool exists(const char *p)
{
	return access(p, X_OK) == 0;
}

static int cmp_python(const void *a, const void *b)
{
	const struct python *x = a, *y = b;
	return x->minor != y->minor ? x->minor - y->minor : strcmp(x->path, y->path);
}

static void add(struct python *out, size_t *n, size_t max, const char *path, const char *label, int minor, bool syms)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(out[i].path, path) == 0)
			return;
	if (*n >= max)
		return;
	snprintf(out[*n].path, sizeof out[*n].path, "%s", path);
	snprintf(out[*n].label, sizeof out[*n].label, "%s", label);
	out[*n].minor = minor;
	out[*n].has_symbols = syms;
	(*n)++;
}

/* A static distro build is stripped: no arena-table symbol (CPYTHON.md 1.5). */
static bool has_arena_symbol(const char *path, int minor)
{
	char cmd[1024];
	if (minor >= 12)
		return true;
	snprintf(cmd, sizeof cmd, "nm '%s' 2>/dev/null | grep -q ' maxarenas$'", path);
	if (system(cmd) == 0)
		return true;
	snprintf(cmd, sizeof cmd, "for l in $(ldd '%s' | grep -o '/[^ ]*libpython[^ ]*'); do nm $l 2>/dev/null; done | grep -q ' maxarenas$'", path);
	return system(cmd) == 0;
}

size_t h_find_pythons(struct python *out, size_t max)
{
	size_t n = 0;
	char path[256], label[64];
	const char *extra = getenv("PYCENSUS_PYTHONS");

	for (int minor = 8; minor <= 13; minor++) {
		DIR *d = opendir("/root/.pyenv/versions");
		struct dirent *de;
		while (d && (de = readdir(d))) {
			int ma, mi, mc;
			if (sscanf(de->d_name, "%d.%d.%d", &ma, &mi, &mc) != 3 || ma != 3 || mi != minor ||
			    strchr(de->d_name, 't'))
				continue;
			snprintf(path, sizeof path, "/root/.pyenv/versions/%.64s/bin/python3.%d", de->d_name, minor);
			if (exists(path))
				add(out, &n, max, path, de->d_name, minor, has_arena_symbol(path, minor));
		}
		if (d)
			closedir(d);
		snprintf(path, sizeof path, "/usr/bin/python3.%d", minor);
		snprintf(label, sizeof label, "system-3.%d", minor);
		if (exists(path))
			add(out, &n, max, path, label, minor, has_arena_symbol(path, minor));
	}
	while (extra && *extra) {
		const char *end = strchr(extra, ':');
		size_t len = end ? (size_t)(end - extra) : strlen(extra);
		int minor = 0;
		snprintf(path, sizeof path, "%.*s", (int)len, extra);
		if (sscanf(strrchr(path, '/') ? strrchr(path, '/') + 1 : path, "python3.%d", &minor) == 1 && exists(path))
			add(out, &n, max, path, path, minor, has_arena_symbol(path, minor));
		extra = end ? end + 1 : NULL;
	}
	qsort(out, n, sizeof *out, cmp_python);
	return n;
}

bool h_find_unsupported(char *path, size_t len)
{
	static const char *const cands[] = {
		"/root/.pyenv/versions/3.7.16/bin/python3.7", "/root/.pyenv/versions/3.6.15/bin/python3.6",
		"/root/.pyenv/versions/2.7.18/bin/python2.7",
	};
	for (size_t i = 0; i < PC_ARRAY_LEN(cands); i++)
		if (exists(cands[i])) {
			snprintf(path, len, "%s", cands[i]);
			return true;
		}
	return false;
}

/* In a child just forked: it gets SIGKILL when the test process that forked it ends, so a failed
 * assertion (which ends the test without its cleanup) leaves no busy workload behind. After any
 * setuid: a credential change clears the setting. */
static void die_with_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
}

bool h_spawn(struct proc *p, char *const argv[])
{
	pid_t parent = getpid();

	int fds[2], errfd;

	memset(p, 0, sizeof *p);
	snprintf(p->errpath, sizeof p->errpath, "/tmp/pycensus-test-err-XXXXXX");
	errfd = mkstemp(p->errpath);
	if (errfd < 0 || pipe(fds) < 0)
		return false;
	p->pid = fork();
	if (p->pid == 0) {
		die_with_parent(parent);
		dup2(fds[1], 1);
		dup2(errfd, 2);
		close(fds[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	close(errfd);
	p->out = fdopen(fds[0], "r");
	/* h_wait_line polls the fd: a stdio buffer would hide lines already read from it */
	if (p->out)
		setvbuf(p->out, NULL, _IONBF, 0);
	return p->pid > 0 && p->out;
}

bool h_wait_line(struct proc *p, const char *prefix, char *line, size_t len, int timeout_s)
{
	struct pollfd pfd = { fileno(p->out), POLLIN, 0 };

	for (;;) {
		if (poll(&pfd, 1, timeout_s * 1000) <= 0)
			return false;
		if (!fgets(line, (int)len, p->out))
			return false;
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			return true;
	}
}

char h_state(pid_t pid)
{
	char path[64], buf[512], *s;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	s = strrchr(buf, ')');
	return s && s[1] && s[2] ? s[2] : '?';
}

bool h_wait_sleeping(pid_t pid, int timeout_s)
{
	for (int i = 0; i < timeout_s * 100; i++) {
		if (h_state(pid) == 'S')
			return true;
		usleep(10000);
	}
	return false;
}

void h_kill(struct proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	if (p->out)
		fclose(p->out);
	if (p->errpath[0])
		unlink(p->errpath);
	memset(p, 0, sizeof *p);
}

static void slurp(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while ((r = read(fd, buf ? buf + n : (char[4096]){ 0 }, buf ? len - 1 - n : 4096)) > 0)
		if (buf)
			n += (size_t)r;
	if (buf)
		buf[n] = '\0';
}

static int run(uid_t uid, char *out, size_t outlen, char *err, size_t errlen, const char *const *args)
{
	char tmpl[] = "/tmp/pycensus-test-run-XXXXXX";
	const char *argv[32];
	int ofd[2], efd, status;
	size_t n = 0;
	pid_t pid, parent = getpid();

	argv[n++] = pycensus_path();
	for (; args[n - 1] && n < 31; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	efd = mkstemp(tmpl);
	if (efd < 0 || pipe(ofd) < 0)
		return -1;
	unlink(tmpl);
	pid = fork();
	if (pid == 0) {
		dup2(ofd[1], 1);
		dup2(efd, 2);
		close(ofd[0]);
		if (uid && (setgid(uid) < 0 || setuid(uid) < 0))
			_exit(126);
		die_with_parent(parent);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(ofd[1]);
	slurp(ofd[0], out, outlen);
	close(ofd[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	lseek(efd, 0, SEEK_SET);
	slurp(efd, err, errlen);
	close(efd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int h_pycensus(char *out, size_t outlen, char *err, size_t errlen, const char *const *args)
{
	return run(0, out, outlen, err, errlen, args);
}

int h_pycensus_as(uid_t uid, char *err, size_t errlen, const char *const *args)
{
	return run(uid, NULL, 0, err, errlen, args);
}

static void add_row(struct table *t, const char *kind, long long count, long long size)
{
	t->v = realloc(t->v, (t->n + 1) * sizeof *t->v);
	snprintf(t->v[t->n].kind, sizeof t->v[t->n].kind, "%s", kind);
	t->v[t->n].count = count;
	t->v[t->n].size = size;
	t->v[t->n].statics = t->v[t->n].big_untracked = 0;
	t->n++;
}

bool h_parse_csv(const char *csv, struct table *t)
{
	static const char header[] = "index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind\n";
	const char *s = csv;

	memset(t, 0, sizeof *t);
	if (strncmp(s, header, sizeof header - 1) != 0)
		return false;
	s += sizeof header - 1;
	while (*s) {
		long long idx, count, size;
		char kind[128];
		int used = 0;
		if (sscanf(s, "%lld,%lld,%*[^,],%lld,%*[^,],%*[^,],%*[^,],%n", &idx, &count, &size, &used) < 3 || !used)
			return false;
		s += used;
		if (*s == '"') { /* quoted kind: kinds in tests never contain quotes */
			sscanf(s + 1, "%127[^\"]", kind);
			s = strchr(s + 1, '"') + 1;
		} else {
			sscanf(s, "%127[^\n]", kind);
		}
		add_row(t, kind, count, size);
		s = strchr(s, '\n');
		if (!s)
			break;
		s++;
	}
	return true;
}

bool h_read_truth(struct proc *p, struct table *t)
{
	char line[512];

	memset(t, 0, sizeof *t);
	while (h_wait_line(p, "", line, sizeof line, 120)) {
		char kind[128];
		long long count, size, st = 0, big = 0;
		if (strcmp(line, "end") == 0)
			return true;
		if (sscanf(line, "truth %127[^\t]\t%lld\t%lld\t%lld\t%lld", kind, &count, &size, &st, &big) >= 3) {
			add_row(t, kind, count, size);
			t->v[t->n - 1].statics = st;
			t->v[t->n - 1].big_untracked = big;
		}
	}
	return false;
}

const struct row *h_row(const struct table *t, const char *kind)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].kind, kind) == 0)
			return &t->v[i];
	return NULL;
}

long long h_count(const struct table *t, const char *kind)
{
	const struct row *r = h_row(t, kind);
	return r ? r->count : 0;
}

long long h_count_prefix(const struct table *t, const char *prefix)
{
	long long n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (strncmp(t->v[i].kind, prefix, strlen(prefix)) == 0)
			n += t->v[i].count;
	return n;
}

void h_table_free(struct table *t)
{
	free(t->v);
	memset(t, 0, sizeof *t);
}

bool h_mallocstats(const char *path, long long blocks[64], unsigned *nclasses)
{
	char line[256];
	FILE *f = fopen(path, "r");
	bool in_table = false;

	if (!f)
		return false;
	memset(blocks, 0, 64 * sizeof *blocks);
	*nclasses = 0;
	while (fgets(line, sizeof line, f)) {
		long long cls, size, pools, used, avail;
		if (strncmp(line, "class   size", 12) == 0) {
			in_table = true;
			continue;
		}
		if (!in_table)
			continue;
		if (sscanf(line, "%lld %lld %lld %lld %lld", &cls, &size, &pools, &used, &avail) == 5 && cls >= 0 && cls < 64) {
			blocks[cls] = used;
			if ((unsigned)cls + 1 > *nclasses)
				*nclasses = (unsigned)cls + 1;
		} else if (line[0] != '-' && line[0] != '\n') {
			in_table = *nclasses == 0;
		}
	}
	fclose(f);
	return *nclasses > 0;
}

bool h_read_truth_step(struct proc *p, struct table *t, struct table *owned, char *stop, size_t len)
{
	char line[512];

	memset(t, 0, sizeof *t);
	memset(owned, 0, sizeof *owned);
	while (h_wait_line(p, "", line, sizeof line, 120)) {
		char kind[128];
		long long count, size, st = 0, big = 0;
		if (sscanf(line, "truth %127[^\t]\t%lld\t%lld\t%lld\t%lld", kind, &count, &size, &st, &big) >= 3) {
			add_row(t, kind, count, size);
			t->v[t->n - 1].statics = st;
			t->v[t->n - 1].big_untracked = big;
		} else if (sscanf(line, "owned %127[^\t]\t%lld\t%lld", kind, &count, &size) == 3) {
			add_row(owned, kind, count, size);
		} else {
			snprintf(stop, len, "%s", line);
			return true;
		}
	}
	return false;
}
