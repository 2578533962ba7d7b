/* htmlpage.c: the HTML tests' browser and checker (tests/integration/htmlpage.h). */
#include "common/compat.h"
#include "tests/integration/htmlpage.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_MAX (4 << 20)

const char *hp_beside(char *buf, size_t len, const char *rel)
{
	const char *dir = getenv("PYCENSUS_WORKLOADS");

	snprintf(buf, len, "%s/%s", dir ? dir : "tests/integration/workloads", rel);
	return buf;
}

static char *slurp(const char *path)
{
	char *s = malloc(OUT_MAX);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(s, 1, OUT_MAX - 1, f) : 0;

	cr_assert(s && f, "cannot read %s", path);
	fclose(f);
	s[n] = '\0';
	return s;
}

/* --dump-dom's output, or --screenshot; Chromium writes console messages to its log (stderr). */
char *hp_chromium(const char *path, const char *fragment, const char *shot, const char *label)
{
	char cmd[2048], profile[] = "/tmp/pycensus-chromium-XXXXXX", errpath[128], *out, *err, *line;
	int status;

	cr_assert(system("command -v chromium >/dev/null") == 0, "Debian's chromium is missing (tools/install-deps installs it)");
	cr_assert(mkdtemp(profile));
	snprintf(errpath, sizeof errpath, "%s.log", profile);
	snprintf(cmd, sizeof cmd,
		 "timeout 120 chromium --headless %s--disable-gpu --hide-scrollbars --window-size=1280,1000 "
		 "--enable-logging=stderr --v=0 --user-data-dir=%s %s%s 'file://%s%s' 2>%s",
		 geteuid() == 0 ? "--no-sandbox " : "", profile, shot ? "--screenshot=" : "--dump-dom", shot ? shot : "", path,
		 fragment, errpath);
	out = h_command_output(cmd, OUT_MAX, &status);
	cr_assert_eq(status, 0, "%s: chromium failed: %s", label, cmd);
	err = slurp(errpath);
	line = strstr(err, ":CONSOLE");
	cr_expect(!line, "%s: the page wrote to the console: %.400s", label, line ? line : "");
	free(err);
	unlink(errpath);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", profile);
	cr_assert(system(cmd) == 0);
	return out;
}

/* The page and its screenshot under build/html/NAME.{html,png}, for people to look at. */
void hp_keep(const char *page, const char *name, const char *label)
{
	char dir[512], html[600], png[600], cmd[1400], rel[512];
	char *shot;
	struct stat st;

	hp_beside(rel, sizeof rel, "../../../build"); /* absent when make asan runs alone */
	mkdir(rel, 0755);
	hp_beside(rel, sizeof rel, "../../../build/html");
	mkdir(rel, 0755);
	cr_assert(realpath(rel, dir), "no %s", rel);
	snprintf(html, sizeof html, "%s/%s.html", dir, name);
	snprintf(png, sizeof png, "%s/%s.png", dir, name);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", page, html);
	cr_assert(system(cmd) == 0);
	unlink(png);
	free(hp_chromium(html, "", png, label));
	shot = slurp(png);
	cr_expect(stat(png, &st) == 0 && st.st_size > 10000 && memcmp(shot, "\x89PNG", 4) == 0,
		  "%s: no screenshot in %s", label, png);
	free(shot);
	fprintf(stderr, "html: kept %s and %s (%lld bytes)\n", html, png, (long long)st.st_size);
}

void hp_dump(struct hp_dumped *d, const char *label)
{
	char pid[16], err[4096];

	snprintf(d->label, sizeof d->label, "%s", label);
	snprintf(d->dir, sizeof d->dir, "/tmp/pycensus-htmlpages-XXXXXX");
	cr_assert(mkdtemp(d->dir));
	snprintf(d->dump, sizeof d->dump, "%s/heap.pcdump", d->dir);
	snprintf(pid, sizeof pid, "%d", (int)d->p.pid);
	cr_assert_eq(h_pycensus(NULL, 0, err, sizeof err, (const char *[]){ "dump", "-q", "-o", d->dump, pid, NULL }), 0,
		     "%s: dump: %s", label, err);
}

void hp_dumped_release(struct hp_dumped *d)
{
	char cmd[128];

	h_kill(&d->p);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->dir);
	cr_expect_eq(system(cmd), 0);
}

/* `pycensus CMD [args] -f FORMAT -o DIR/NAME DUMP`: the file's path into path. */
void hp_page_of(const struct hp_dumped *d, const char *const *cmd, const char *format, const char *name, char *path,
		size_t len)
{
	const char *argv[16];
	char err[4096];
	size_t n = 0;

	snprintf(path, len, "%s/%s", d->dir, name);
	for (; *cmd && n < 8; cmd++)
		argv[n++] = *cmd;
	argv[n++] = "-f";
	argv[n++] = format;
	argv[n++] = "-o";
	argv[n++] = path;
	argv[n++] = d->dump;
	argv[n] = NULL;
	cr_assert_eq(h_pycensus(NULL, 0, err, sizeof err, argv), 0, "%s: %s -f %s: %s", d->label, argv[0], format, err);
}

/* Chromium's DOM of page compared with other by htmlcheck.py (Debian's python3): its report. */
char *hp_check(const struct hp_dumped *d, const char *what, const char *page, const char *other)
{
	char dom_path[160], cmd[1200], wl[512];
	char *dom = hp_chromium(page, "", NULL, d->label), *out;
	FILE *f;
	int status;

	snprintf(dom_path, sizeof dom_path, "%s/%s.dom", d->dir, what);
	cr_assert((f = fopen(dom_path, "w")));
	fputs(dom, f);
	fclose(f);
	free(dom);
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' %s '%s' '%s' 2>&1", hp_beside(wl, sizeof wl, "../htmlcheck.py"), what,
		 dom_path, other);
	out = h_command_output(cmd, OUT_MAX, &status);
	cr_expect_eq(status, 0, "%s: the %s page's DOM differs from what pycensus wrote:\n%.3000s", d->label, what, out);
	return out;
}
