/* test_capture.c: `pycensus capture` saves what a census reads; `pycensus replay` of the image
 * gives the same census as the live process, on every interpreter found. A damaged image is
 * refused with exit 2 and the reason. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/integration/harness.h"

#define OUTMAX (1 << 20)
#define CODE "import time\nclass Thing: pass\nt = [Thing() for i in range(10000)]\nprint('up', flush=True)\ntime.sleep(300)\n"

static void run_csv(const char *const *args, struct table *t, const char *what)
{
	char *out = malloc(OUTMAX), err[4096];
	int rc = h_pycensus(out, OUTMAX, err, sizeof err, args);

	cr_assert_eq(rc, 0, "%s failed (%d): %s", what, rc, err);
	cr_assert(h_parse_csv(out, t), "%s: unparsable CSV", what);
	free(out);
}

ParameterizedTestParameters(capture, replay_matches_live)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

ParameterizedTest(struct python *py, capture, replay_matches_live, .timeout = 120)
{
	char *argv[] = { py->path, "-c", CODE, NULL }, line[64], pidtxt[16], img[] = "/tmp/pycensus-img-XXXXXX", err[2048];
	struct table live, replayed;
	struct proc p;
	int fd = mkstemp(img);

	cr_assert(fd >= 0);
	close(fd);
	cr_assert(h_spawn(&p, argv) && h_wait_line(&p, "up", line, sizeof line, 60) && h_wait_sleeping(p.pid, 30));
	snprintf(pidtxt, sizeof pidtxt, "%d", (int)p.pid);
	{
		const char *args[] = { "capture", pidtxt, img, NULL };
		cr_assert_eq(h_pycensus(NULL, 0, err, sizeof err, args), 0, "capture: %s", err);
	}
	{
		const char *args[] = { "snap", "-f", "csv", pidtxt, NULL };
		run_csv(args, &live, "snap");
	}
	h_kill(&p); /* the replay needs no process */
	{
		const char *args[] = { "replay", "-f", "csv", img, NULL };
		run_csv(args, &replayed, "replay");
	}
	cr_expect_eq(h_count(&replayed, "__main__.Thing"), 10000, "%s: replay found %lld Things", py->label,
		     h_count(&replayed, "__main__.Thing"));
	cr_expect_eq(live.n, replayed.n, "%s: %zu rows live, %zu replayed", py->label, live.n, replayed.n);
	for (size_t i = 0; i < live.n; i++) {
		const struct row *r = h_row(&replayed, live.v[i].kind);
		cr_expect(r && r->count == live.v[i].count && r->size == live.v[i].size, "%s: row %s differs", py->label,
			  live.v[i].kind);
	}
	fprintf(stderr, "capture: %s: replay of the image = live census (%zu kinds)\n", py->label, live.n);
	h_table_free(&live);
	h_table_free(&replayed);
	unlink(img);
}

Test(capture_damaged, image_refused)
{
	char img[] = "/tmp/pycensus-img-XXXXXX", err[2048];
	const char *args[] = { "replay", img, NULL };
	int fd = mkstemp(img);

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "PCIMAGE\n\x07\0\0\0", 12), 12);
	close(fd);
	cr_expect_eq(h_pycensus(NULL, 0, err, sizeof err, args), 2, "%s", err);
	cr_expect(strstr(err, "bad pycensus image: unknown image format version") != NULL, "%s", err);
	unlink(img);
}
