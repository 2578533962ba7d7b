/* harness.c: integration-test plumbing. */
#include "common/compat.h"
#include "tests/integration/harness.h"
#include "python/rules.h"

#include <dirent.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/hooks.h>

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
	int c = x->minor != y->minor ? x->minor - y->minor : strcmp(x->label, y->label);
	return c ? c : strcmp(x->path, y->path);
}

struct pylayout h_layout(const struct python *py)
{
	struct pylayout L;
	struct pc_err e = { 0 };

	if (layout_lookup(3, py->minor, &L, &e) < 0)
		memset(&L, 0, sizeof L);
	return L;
}

bool h_instances_without_dict(const struct python *py)
{
	struct pylayout L = h_layout(py);

	return py_has_managed_dict(&L, PC_TPFLAGS_MANAGED_DICT);
}

/* A static distro build is stripped: no arena-table symbol (docs/cpython.md 1.5), unless the
 * version keeps the table in the interpreter (3.12+), where no symbol is needed. */
static bool has_arena_symbol(const struct python *py)
{
	const char *path = py->path;
	struct pylayout L = h_layout(py);
	char cmd[1024];

	if (L.arenas_in_interp)
		return true;
	snprintf(cmd, sizeof cmd, "nm '%s' 2>/dev/null | grep -q ' maxarenas$'", path);
	if (system(cmd) == 0)
		return true;
	snprintf(cmd, sizeof cmd, "for l in $(ldd '%s' | grep -o '/[^ ]*libpython[^ ]*'); do nm $l 2>/dev/null; done | grep -q ' maxarenas$'", path);
	return system(cmd) == 0;
}

/* Every interpreter found (before the PYCENSUS_TEST_PYTHONS filter) and, for each expected one
 * that was not, why: found once per process (each test's parameter function asks). */
struct discovery {
	struct python all[H_MAX_PYTHONS];
	bool checked[H_MAX_PYTHONS]; /* has_symbols is known: asked only of the interpreters tested */
	size_t n;
	char missing[2048]; /* "pyenv 3.9: not installed (...); 3.14: not provisioned (...)" */
	struct python ft[2]; /* free-threaded builds, apart: the ordinary suites do not run on them */
	size_t nft;
	char ft_missing[512];
};

static void add(struct discovery *d, const char *path, const char *label, int minor)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->all[i].path, path) == 0)
			return;
	if (strlen(path) >= sizeof d->all[0].path) {
		fprintf(stderr, "integration: path too long, left out: %s\n", path);
		return;
	}
	if (d->n >= PC_ARRAY_LEN(d->all)) {
		fprintf(stderr, "integration: more than H_MAX_PYTHONS (%d) interpreters: %s left out\n", H_MAX_PYTHONS, path);
		return;
	}
	snprintf(d->all[d->n].path, sizeof d->all[d->n].path, "%s", path);
	snprintf(d->all[d->n].label, sizeof d->all[d->n].label, "%s", label);
	d->all[d->n].minor = minor;
	d->n++;
}

PC_PRINTF(2, 3) static void missing(struct discovery *d, const char *fmt, ...)
{
	size_t len = strlen(d->missing);
	va_list ap;

	if (len && len < sizeof d->missing)
		len += (size_t)snprintf(d->missing + len, sizeof d->missing - len, "; ");
	if (len >= sizeof d->missing)
		return;
	va_start(ap, fmt);
	vsnprintf(d->missing + len, sizeof d->missing - len, fmt, ap);
	va_end(ap);
}

/* The first line a command prints, without its newline; false when it prints none or fails. */
static bool first_line(const char *cmd, char *buf, size_t len)
{
	FILE *f = popen(cmd, "r");
	bool ok;

	buf[0] = '\0';
	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	if (pclose(f) != 0)
		ok = false;
	buf[strcspn(buf, "\n")] = '\0';
	return ok && buf[0];
}

static void home_path(char *buf, size_t len, const char *rel)
{
	const char *home = getenv("HOME");
	snprintf(buf, len, "%s/%s", home && *home ? home : "/root", rel);
}

/* $PYENV_ROOT, else what `pyenv root` says, else ~/.pyenv. */
static void pyenv_root(char *buf, size_t len)
{
	const char *e = getenv("PYENV_ROOT");

	if (e && *e)
		snprintf(buf, len, "%s", e);
	else if (!first_line("pyenv root 2>/dev/null", buf, len))
		home_path(buf, len, ".pyenv");
}

/* $PYCENSUS_PROVISION, else ~/.cache/pycensus/pythons (as tools/provision-pythons). */
static void provision_prefix(char *buf, size_t len)
{
	const char *e = getenv("PYCENSUS_PROVISION");

	if (e && *e)
		snprintf(buf, len, "%s", e);
	else
		home_path(buf, len, ".cache/pycensus/pythons");
}

/* pyenv's 3.8-3.15 (free-threaded 't' builds left out); pyenv 3.8-3.13 are expected. */
static void find_pyenv(struct discovery *d)
{
	char root[192], dir[256], path[600];
	bool seen[16] = { false }, only_t[16] = { false };
	char broken[16][600] = { "" }; /* a version directory without its interpreter */
	DIR *dp;
	struct dirent *de;

	pyenv_root(root, sizeof root);
	snprintf(dir, sizeof dir, "%s/versions", root);
	dp = opendir(dir);
	if (!dp) {
		missing(d, "pyenv 3.8-3.13: no %s (PYENV_ROOT, `pyenv root`, ~/.pyenv)", dir);
		return;
	}
	while ((de = readdir(dp))) {
		int ma, mi, mc;
		if (sscanf(de->d_name, "%d.%d.%d", &ma, &mi, &mc) != 3 || ma != 3 || mi < 8 || mi > 15)
			continue;
		if (strchr(de->d_name, 't')) {
			only_t[mi] = true;
			continue;
		}
		snprintf(path, sizeof path, "%s/%s/bin/python3.%d", dir, de->d_name, mi);
		if (exists(path)) {
			add(d, path, de->d_name, mi);
			seen[mi] = true;
		} else {
			snprintf(broken[mi], sizeof broken[mi], "%s", path);
		}
	}
	closedir(dp);
	for (int mi = 8; mi <= 13; mi++)
		if (!seen[mi] && broken[mi][0])
			missing(d, "pyenv 3.%d: no %s", mi, broken[mi]);
		else if (!seen[mi])
			missing(d, "pyenv 3.%d: not installed in %s%s", mi, dir, only_t[mi] ? " (only a free-threaded build)" : "");
}

/* The distribution's /usr/bin/python3.8-3.15; its 3.11 is expected (Debian bookworm). */
static void find_system(struct discovery *d)
{
	char path[64], label[32];

	for (int mi = 8; mi <= 15; mi++) {
		snprintf(path, sizeof path, "/usr/bin/python3.%d", mi);
		snprintf(label, sizeof label, "system-3.%d", mi);
		if (exists(path))
			add(d, path, label, mi);
		else if (mi == 11)
			missing(d, "system 3.11: no %s", path);
	}
}

/* The first line of a .done marker (a version "3.13.15"), or "" when unreadable. */
static void read_done(const char *done, char *version, size_t len)
{
	FILE *f = fopen(done, "r");

	version[0] = '\0';
	if (f) {
		if (!fgets(version, (int)len, f))
			version[0] = '\0';
		fclose(f);
	}
	version[strcspn(version, "\n")] = '\0';
}

/* tools/provision-pythons' Debian interpreters, PREFIX/3.X/usr/bin/python3.X, each finished one
 * marked by PREFIX/3.X/.done holding its version; 3.13-3.15 are expected, each also as its twin
 * PREFIX/3.X-nodbg where its debug symbols cannot be found ("3.14.10-debian-nodbg"). */
static void find_provisioned(struct discovery *d)
{
	char prefix[192], path[512], done[512], version[32], label[64];

	provision_prefix(prefix, sizeof prefix);
	for (int k = 0; k < 16; k++) {
		int mi = 8 + k / 2;
		const char *twin = k % 2 ? "-nodbg" : "";
		bool expected = mi >= 13;

		snprintf(path, sizeof path, "%s/3.%d%s/usr/bin/python3.%d", prefix, mi, twin, mi);
		snprintf(done, sizeof done, "%s/3.%d%s/.done", prefix, mi, twin);
		if (access(done, F_OK) != 0) {
			if (expected)
				missing(d, "3.%d%s: not provisioned in %s (tools/provision-pythons)", mi, twin, prefix);
			continue;
		}
		if (!exists(path)) {
			if (expected)
				missing(d, "3.%d%s: %s missing (rerun tools/provision-pythons)", mi, twin, path);
			continue;
		}
		read_done(done, version, sizeof version);
		if (strncmp(version, "3.", 2) != 0) { /* a .done from before it held the version */
			char cmd[600];
			snprintf(cmd, sizeof cmd, "'%s' -c 'import sys; print(sys.version.split()[0])' 2>/dev/null", path);
			if (!first_line(cmd, version, sizeof version))
				snprintf(version, sizeof version, "3.%d", mi);
		}
		snprintf(label, sizeof label, "%s-debian%s", version, twin);
		add(d, path, label, mi);
	}
}

/* tools/build-freethreaded's 3.13t: PREFIX/3.13t/bin/python3.13t, finished when PREFIX/3.13t/.done
 * holds its version. */
static void find_freethreaded(struct discovery *d)
{
	char prefix[192], path[sizeof d->ft[0].path], done[512], version[32];
	struct python *py = &d->ft[0];

	provision_prefix(prefix, sizeof prefix);
	snprintf(path, sizeof path, "%s/3.13t/bin/python3.13t", prefix);
	snprintf(done, sizeof done, "%s/3.13t/.done", prefix);
	read_done(done, version, sizeof version);
	if (strncmp(version, "3.13.", 5) != 0 || !exists(path) || strlen(path) >= sizeof py->path) {
		snprintf(d->ft_missing, sizeof d->ft_missing,
			 "3.13t: not built in %s/3.13t (tools/build-freethreaded; make check-ft)", prefix);
		return;
	}
	memset(py, 0, sizeof *py);
	snprintf(py->path, sizeof py->path, "%s", path);
	snprintf(py->label, sizeof py->label, "%s-ft", version);
	py->minor = 13;
	py->free_threaded = true;
	d->nft = 1;
}

/* $PYCENSUS_PYTHONS: colon-separated interpreter paths, named python3.X; labelled by path. */
static void find_extra(struct discovery *d)
{
	const char *extra = getenv("PYCENSUS_PYTHONS");
	char path[256];

	while (extra && *extra) {
		const char *end = strchr(extra, ':'), *base;
		size_t len = end ? (size_t)(end - extra) : strlen(extra);
		int minor = 0;

		snprintf(path, sizeof path, "%.*s", (int)len, extra);
		base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		if (*path && sscanf(base, "python3.%d", &minor) != 1)
			missing(d, "PYCENSUS_PYTHONS %s: not named python3.X", path);
		else if (*path && !exists(path))
			missing(d, "PYCENSUS_PYTHONS %s: not an executable", path);
		else if (*path)
			add(d, path, path, minor);
		extra = end ? end + 1 : NULL;
	}
}

static struct discovery *discover(void)
{
	static struct discovery d;
	static bool done;

	if (!done) {
		find_pyenv(&d);
		find_system(&d);
		find_provisioned(&d);
		find_extra(&d);
		find_freethreaded(&d);
		qsort(d.all, d.n, sizeof *d.all, cmp_python);
		done = true;
	}
	return &d;
}

/* A symbol table pycensus finds: a provisioned Debian build has its -dbg file in its prefix, its
 * -nodbg twin has none; others by nm on the executable and the libpython it links. */
static bool has_symtab(const char *path, const char *label)
{
	size_t n = strlen(label);
	char cmd[1024];

	if (n > 6 && strcmp(label + n - 6, "-nodbg") == 0)
		return false;
	if (n > 7 && strcmp(label + n - 7, "-debian") == 0)
		return true;
	/* nm exits 0 on a stripped file ("no symbols"): a symbol line is what tells */
	snprintf(cmd, sizeof cmd, "nm '%s' 2>/dev/null | grep -q . && exit 0; for l in $(ldd '%s' | grep -o '/[^ ]*libpython[^ ]*'); do nm $l 2>/dev/null | grep -q . && exit 0; done; exit 1",
		 path, path);
	return system(cmd) == 0;
}

/* Discovery's entry i with has_symbols filled in (nm: about 50 ms for a build before 3.12). */
static const struct python *checked(struct discovery *d, size_t i)
{
	if (!d->checked[i]) {
		d->all[i].has_symtab = has_symtab(d->all[i].path, d->all[i].label);
		d->all[i].has_symbols = has_arena_symbol(&d->all[i]);
		d->checked[i] = true;
	}
	return &d->all[i];
}

/* Whether one PYCENSUS_TEST_PYTHONS item (len bytes of it) picks py: it is the label, or a part
 * of it at a '-' boundary ("system", "debian", "3.14.10"), or such a part's prefix up to a '.'
 * ("3.12" picks 3.12.1 and system-3.12; "3.1" picks neither); or it is "3.X" and py is a 3.X. */
static bool filter_item_picks(const char *item, size_t len, const struct python *py)
{
	char minor[16];

	if (!len)
		return false;
	snprintf(minor, sizeof minor, "3.%d", py->minor);
	if (strlen(minor) == len && strncmp(minor, item, len) == 0)
		return true;
	for (const char *p = py->label; p; p = strchr(p, '-') ? strchr(p, '-') + 1 : NULL)
		if (strncmp(p, item, len) == 0 && (p[len] == '\0' || p[len] == '.' || p[len] == '-'))
			return true;
	return false;
}

static const char *test_filter(void)
{
	const char *f = getenv("PYCENSUS_TEST_PYTHONS");
	return f && *f ? f : NULL;
}

/* The next item of a PYCENSUS_TEST_PYTHONS list from *p, spaces trimmed: its start and length in
 * *len; NULL at the end. */
static const char *filter_next(const char **p, size_t *len)
{
	const char *item;

	if (!*p || !**p)
		return NULL;
	item = *p;
	*len = strcspn(item, ",");
	*p = item[*len] ? item + *len + 1 : item + *len;
	while (*len && *item == ' ')
		item++, (*len)--;
	while (*len && item[*len - 1] == ' ')
		(*len)--;
	return item;
}

static bool filter_picks(const char *filter, const struct python *py)
{
	const char *item;
	size_t len;

	while ((item = filter_next(&filter, &len)))
		if (filter_item_picks(item, len, py))
			return true;
	return false;
}

size_t h_find_pythons(struct python *out, size_t max)
{
	struct discovery *d = discover();
	const char *filter = test_filter();
	size_t n = 0;

	for (size_t i = 0; i < d->n && n < max; i++)
		if (!filter || filter_picks(filter, &d->all[i]))
			out[n++] = *checked(d, i);
	return n;
}

size_t h_find_pythons_ft(struct python *out, size_t max, const char **why)
{
	struct discovery *d = discover();
	const char *filter = test_filter();
	size_t n = 0;

	for (size_t i = 0; i < d->nft && n < max; i++)
		if (!filter || filter_picks(filter, &d->ft[i]))
			out[n++] = d->ft[i];
	if (why)
		*why = d->nft ? "PYCENSUS_TEST_PYTHONS picks no free-threaded build" : d->ft_missing;
	return n;
}

size_t h_pythons_ft_or_skip(struct python *out, size_t max)
{
	const char *why = NULL;
	size_t n = h_find_pythons_ft(out, max, &why);

	if (!n)
		cr_skip_test("%s", why);
	return n;
}

/* The slowest suites' set: one interpreter per layout family, each Debian build once (their
 * patches move fields); the -nodbg twins, pyenv 3.9 and 3.10 (3.8's object layouts) and the
 * system's 3.11 (3.11.7's, and the scan path the census and soak suites cover) left out. */
static bool core(const struct python *py)
{
	size_t n = strlen(py->label);

	if (n > 6 && strcmp(py->label + n - 6, "-nodbg") == 0)
		return false;
	return strncmp(py->label, "3.9.", 4) != 0 && strncmp(py->label, "3.10.", 5) != 0 &&
	       strncmp(py->label, "system-", 7) != 0;
}

static bool full_run(void)
{
	const char *v = getenv("PYCENSUS_TEST_FULL");

	return v && *v && strcmp(v, "0") != 0;
}

size_t h_find_pythons_ends(struct python *out, size_t max)
{
	size_t n = h_find_pythons_core(out, max);

	if (n > 2 && !full_run()) {
		out[1] = out[n - 1];
		n = 2;
	}
	return n;
}

size_t h_find_pythons_core(struct python *out, size_t max)
{
	struct python all[H_MAX_PYTHONS];
	size_t n = h_find_pythons(all, H_MAX_PYTHONS), k = 0;

	for (size_t i = 0; i < n && k < max; i++)
		if (full_run() || core(&all[i]))
			out[k++] = all[i];
	return k;
}

void h_report_pythons(FILE *f)
{
	const struct discovery *d = discover();
	const char *filter = test_filter();
	char skipped[1024] = "";
	const char *p = filter, *item;
	size_t len = 0, tested = 0, l;

	fprintf(f, "integration: interpreters found:");
	for (size_t i = 0; i < d->n; i++)
		fprintf(f, " %s", d->all[i].label);
	fprintf(f, "%s\n", d->n ? "" : " none");
	fprintf(f, "integration: not found: %s\n", d->missing[0] ? d->missing : "none (all expected interpreters are here)");
	for (size_t i = 0; i < d->n; i++) {
		if (!filter || filter_picks(filter, &d->all[i]))
			tested++;
		else if (len < sizeof skipped)
			len += (size_t)snprintf(skipped + len, sizeof skipped - len, " %s", d->all[i].label);
	}
	if (filter) {
		fprintf(f, "integration: PYCENSUS_TEST_PYTHONS=%s: testing %zu of %zu; not tested:%s\n", filter, tested,
			d->n, skipped[0] ? skipped : " none");
		while ((item = filter_next(&p, &l))) {
			size_t hits = 0;
			for (size_t i = 0; i < d->n; i++)
				hits += filter_item_picks(item, l, &d->all[i]);
			if (l && !hits)
				fprintf(f, "integration: PYCENSUS_TEST_PYTHONS: '%.*s' picks no interpreter\n", (int)l, item);
		}
	} else {
		fprintf(f, "integration: testing all %zu (PYCENSUS_TEST_PYTHONS=3.14,3.12.1 would pick some)\n", d->n);
	}
	fprintf(f, "integration: free-threaded (the freethreaded suite only):");
	for (size_t i = 0; i < d->nft; i++)
		fprintf(f, " %s", d->ft[i].label);
	fprintf(f, "%s%s\n", d->nft ? "" : " none: ", d->ft_missing);
	if (!full_run()) {
		fprintf(f, "integration: kinds and modes (the slowest) run on the core set:");
		for (size_t i = 0; i < d->n; i++)
			if (core(&d->all[i]) && (!filter || filter_picks(filter, &d->all[i])))
				fprintf(f, " %s", d->all[i].label);
		fprintf(f, " (PYCENSUS_TEST_FULL=1: on all)\n");
	}
}

/* An unsupported version's interpreter: pyenv's 3.7, 3.6 or 2.7. */
bool h_find_unsupported(char *path, size_t len)
{
	static const int vers[][2] = { { 3, 7 }, { 3, 6 }, { 2, 7 } };
	char root[192], dir[256], cand[600];

	pyenv_root(root, sizeof root);
	snprintf(dir, sizeof dir, "%s/versions", root);
	for (size_t v = 0; v < PC_ARRAY_LEN(vers); v++) {
		DIR *dp = opendir(dir);
		struct dirent *de;
		bool found = false;

		while (dp && !found && (de = readdir(dp))) {
			int ma, mi, mc;
			if (sscanf(de->d_name, "%d.%d.%d", &ma, &mi, &mc) != 3 || ma != vers[v][0] || mi != vers[v][1])
				continue;
			snprintf(cand, sizeof cand, "%s/%s/bin/python%d.%d", dir, de->d_name, ma, mi);
			if (exists(cand) && strlen(cand) < len) {
				snprintf(path, len, "%s", cand);
				found = true;
			}
		}
		if (dp)
			closedir(dp);
		if (found)
			return true;
	}
	return false;
}

/* Once per integration run, in Criterion's runner process: which interpreters are tested and
 * which expected ones are not, and why. */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	(void)set;
	h_report_pythons(stderr);
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

bool h_census_status_ok(int rc, const char *out)
{
	bool partial = strstr(out, "the census is partial: dropped ") != NULL;

	return partial ? rc == 15 : rc == 0;
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
		if (*s == '#') { /* the comment lines after the rows (report/csv.h) */
			s = strchr(s, '\n');
			if (!s)
				break;
			s++;
			continue;
		}
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

bool h_file_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n > 0;
}

char *h_command_output(const char *cmd, size_t max, int *status)
{
	char *out = malloc(max);
	size_t n = 0, got;
	FILE *f = popen(cmd, "r");

	if (!out || !f) {
		fprintf(stderr, "harness: cannot run %s\n", cmd);
		abort();
	}
	while (n < max - 1 && (got = fread(out + n, 1, max - 1 - n, f)) > 0)
		n += got;
	out[n] = '\0';
	*status = pclose(f);
	return out;
}

__attribute__((noinline)) static void hw_target(void)
{
	__asm__ volatile("" ::: "memory");
}

bool h_hwbreak_fires(void)
{
	static int fires; /* probed once per test process */
	struct perf_event_attr a;
	void (*volatile call)(void) = hw_target;
	long long hits = 0;
	int fd;

	if (fires)
		return fires > 0;
	memset(&a, 0, sizeof a);
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof a;
	a.bp_type = HW_BREAKPOINT_X;
	a.bp_addr = (uint64_t)(uintptr_t)hw_target;
	a.bp_len = sizeof(long);
	a.exclude_kernel = 1;
	fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
	if (fd >= 0) {
		call();
		call();
		if (read(fd, &hits, sizeof hits) != (ssize_t)sizeof hits)
			hits = 0;
		close(fd);
	}
	fires = hits == 2 ? 1 : -1;
	return fires > 0;
}

void h_skip_finalisation(const char *label)
{
	fprintf(stderr, "skipped: %s: the census at finalisation (hardware breakpoints do not fire on this machine)\n",
		label);
}
