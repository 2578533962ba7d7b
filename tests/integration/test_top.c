/* test_top.c: `pycensus top` in a real terminal (tmux): it renders the header and a known kind,
 * refreshes (the sample number changes), sorts on a key, quits on `q` with exit 0 and gives the
 * terminal back as it found it. Without a terminal it prints a table per interval. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/integration/harness.h"

#define HANG_GUARD_S 60

struct tmux {
	char sock[96], dir[64];
};

static const char *pycensus(void)
{
	const char *p = getenv("PYCENSUS");
	return p ? p : "./pycensus";
}

static int tmux(const struct tmux *t, const char *fmt, const char *arg)
{
	char cmd[2048], sub[1500];

	snprintf(sub, sizeof sub, fmt, arg);
	snprintf(cmd, sizeof cmd, "tmux -S '%s' %s", t->sock, sub);
	return system(cmd);
}

/* The pane's text, or NULL. */
static char *capture(const struct tmux *t)
{
	char cmd[256], *buf = calloc(1, 1 << 16);
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof cmd, "tmux -S '%s' capture-pane -p 2>/dev/null", t->sock);
	f = popen(cmd, "r");
	if (!f)
		return buf;
	n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	pclose(f);
	return buf;
}

/* Waits until the pane shows `what`; returns the sample number shown then (or -1). */
static long wait_pane(const struct tmux *t, const char *what, long not_sample)
{
	for (int i = 0; i < HANG_GUARD_S * 20; i++) {
		char *s = capture(t), *p = strstr(s, ", sample ");
		long k = p ? strtol(p + 9, NULL, 10) : -1;
		bool ok = strstr(s, what) && p && k != not_sample;

		free(s);
		if (ok)
			return k;
		usleep(50000);
	}
	return -1;
}

static bool start_workload(struct proc *p)
{
	struct python py[H_MAX_PYTHONS];
	size_t n = h_find_pythons(py, H_MAX_PYTHONS);
	char *argv[] = { n ? py[n - 1].path : NULL, "-c",
			 "class TopMarker: pass\nm = [TopMarker() for _ in range(7777)]\nimport time\nprint('up', flush=True)\ntime.sleep(600)",
			 NULL };
	char line[64];

	return n && h_spawn(p, argv) && h_wait_line(p, "up", line, sizeof line, 60) && h_wait_sleeping(p->pid, 30);
}

Test(top, tmux_renders_refreshes_quits, .timeout = 300)
{
	struct tmux t;
	struct proc p;
	char cmd[1500], before[4096], after[4096], code[64], path[128];
	long k1, k2;

	if (system("command -v tmux >/dev/null 2>&1") != 0)
		cr_skip_test("tmux is not installed (tools/install-deps installs it)");
	cr_assert(start_workload(&p), "workload did not start");
	snprintf(t.dir, sizeof t.dir, "/tmp/pycensus-top-XXXXXX");
	cr_assert(mkdtemp(t.dir));
	snprintf(t.sock, sizeof t.sock, "%s/sock", t.dir);
	/* the shell in the pane records the terminal settings around top and top's exit code */
	snprintf(cmd, sizeof cmd,
		 "new-session -d -x 120 -y 40 \"stty -g > %s/before; %s top -i 0.1 %d; echo \\$? > %s/code; stty -g > %s/after; sleep 60\"",
		 t.dir, pycensus(), (int)p.pid, t.dir, t.dir);
	cr_assert_eq(tmux(&t, "%s", cmd), 0, "cannot start tmux");
	k1 = wait_pane(&t, "TopMarker", -1);
	cr_assert_geq(k1, 0, "top never showed the header and __main__.TopMarker");
	{
		char *s = capture(&t);
		cr_expect(strstr(s, "pycensus top - pid") && strstr(s, "RSS ") && strstr(s, "pymalloc ") &&
			  strstr(s, " objects") && strstr(s, "last pause"), "header incomplete:\n%s", s);
		cr_expect(strstr(s, "7777 ") != NULL, "TopMarker count 7777 not shown:\n%s", s);
		free(s);
	}
	k2 = wait_pane(&t, "TopMarker", k1);
	cr_expect_gt(k2, k1, "the sample number did not change (%ld, %ld)", k1, k2);
	tmux(&t, "send-keys %s", "c");
	cr_expect_geq(wait_pane(&t, "sorted by count", -1), 0, "key c did not sort by count");
	tmux(&t, "send-keys %s", "q");
	snprintf(path, sizeof path, "%s/after", t.dir);
	for (int i = 0; i < HANG_GUARD_S * 20 && !h_file_text(path, after, sizeof after); i++)
		usleep(50000);
	snprintf(path, sizeof path, "%s/code", t.dir);
	cr_assert(h_file_text(path, code, sizeof code), "top did not quit on q");
	cr_expect_str_eq(code, "0\n", "top exit code %s", code);
	snprintf(path, sizeof path, "%s/before", t.dir);
	cr_assert(h_file_text(path, before, sizeof before));
	cr_expect_str_eq(before, after, "terminal settings not restored");
	cr_expect(h_state(p.pid) != 't' && h_state(p.pid) != 'T', "target left stopped");
	tmux(&t, "%s", "kill-server");
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", t.dir);
	cr_expect_eq(system(cmd), 0);
	h_kill(&p);
}

Test(top, no_tty_prints_tables)
{
	struct proc p;
	char pidtxt[16], out[1 << 15], err[1024];
	const char *args[] = { "top", "-i", "0.05", "-c", "2", "-n", "5", pidtxt, NULL };
	int tables = 0;

	cr_assert(start_workload(&p));
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)p.pid);
	cr_assert_eq(h_pycensus(out, sizeof out, err, sizeof err, args), 0, "%s", err);
	for (char *s = out; (s = strstr(s, "pycensus top - pid")); s++)
		tables++;
	cr_expect_eq(tables, 2, "%s", out);
	cr_expect(strstr(out, "__main__.TopMarker") && strstr(out, "sample 1"), "%s", out);
	h_kill(&p);
}
