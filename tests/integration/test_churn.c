/* test_churn.c: censuses of a target whose four threads allocate and free all the time while a
 * million stable objects sit still (workloads/churn.py), in every --pause mode (issue 13's
 * acceptance), --nonblocking, and --pause copy over --max-memory (arenas streamed live). For each
 * census:
 *  - the totals are within 5 % of the target's own census (its closure plus what its threads
 *    hold, workloads/churn.py "now") taken right before and right after;
 *  - no kind's count or size is beyond twice its true value (the closure, plus for the churned
 *    kinds the most the threads can hold); a kind the closure lacks has at most a few transient
 *    objects; the churned kinds keep their stable objects;
 *  - the census says what it is not: when it dropped objects its CSV carries a '# dropped,N,kind'
 *    line per kind, the warning line names the same counts, and the exit status is 15; when it
 *    dropped none, no such lines and exit 0. Once per mode the text report is checked the same
 *    way, and `diff` of a partial and a whole census notes the partial one.
 * Under --pause copy the objects outside the arenas are read while the target runs; a freed or
 * reused one must be skipped and counted, never lend a garbage length to a size (it did: str at
 * 9.0e18 bytes on 3.12.1).
 *
 * make check: ROUNDS censuses per mode on the core interpreters (h_find_pythons_core);
 * PYCENSUS_TEST_FULL=1: FULL_ROUNDS (200) per mode on every interpreter. make check-ft: FT_ROUNDS
 * per --pause mode on the free-threaded builds (freethreaded/churn_sizes_stay_true), where
 * --nonblocking is refused. Each interpreter prints
 * per mode how many censuses were partial and the largest ratio of a kind to its truth seen. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/integration/harness.h"

#define OUTMAX (1 << 20)
#define ROUNDS 3
#define FULL_ROUNDS 200
#define FT_ROUNDS 4
#define NCHURNED 3
/* Objects of kinds the closure lacks or holds fewer of: the frames the four threads run in (frame
 * objects up to 3.10: 20-25 seen on 3.8.18, each under 512 bytes), None: at most 16 per thread,
 * and 4 KiB per thread. */
#define TRANSIENT_COUNT (4 * 16)
#define TRANSIENT_SIZE (4 * 4096)

static const char *const churned[NCHURNED] = { "str", "bytes", "list" };

struct bound {
	char kind[16];
	long long count, size, most_count, most_size;
};

/* The target's own census of the moment: totals, and what its threads hold per churned kind. */
struct now {
	long long objects, bytes, held[2 * NCHURNED];
};

struct tally {          /* per --pause mode */
	unsigned censuses, partial;
	unsigned long long dropped;
	double worst;       /* the largest count or size ratio of a kind to its truth */
	char worst_kind[128];
	double total_lo, total_hi; /* the extreme ratios of the totals to the target's own */
};

struct churn {
	struct proc p;
	const struct python *py;
	struct table truth;
	struct bound b[NCHURNED];
	char whole_csv[64], partial_csv[64]; /* kept for the diff check */
};

static bool read_bounds(struct churn *ch)
{
	char line[256];

	if (!h_read_truth(&ch->p, &ch->truth))
		return false;
	for (int i = 0; i < NCHURNED; i++)
		if (!h_wait_line(&ch->p, "bound ", line, sizeof line, 120) ||
		    sscanf(line, "bound %15s %lld %lld %lld %lld", ch->b[i].kind, &ch->b[i].count, &ch->b[i].size,
			   &ch->b[i].most_count, &ch->b[i].most_size) != 5)
			return false;
	return h_wait_line(&ch->p, "ready", line, sizeof line, 60);
}

static void ask_now(struct churn *ch, struct now *n)
{
	char line[256];
	long long *h = n->held;

	kill(ch->p.pid, SIGUSR1);
	cr_assert(h_wait_line(&ch->p, "now ", line, sizeof line, 60) &&
		  sscanf(line, "now %lld %lld %lld %lld %lld %lld %lld %lld", &n->objects, &n->bytes, &h[0], &h[1], &h[2],
			 &h[3], &h[4], &h[5]) == 8, "%s: the target did not give its census: %s", ch->py->label, line);
}

static int churned_index(const char *kind)
{
	for (int i = 0; i < NCHURNED; i++)
		if (strcmp(kind, churned[i]) == 0)
			return i;
	return -1;
}

/* The '# dropped' lines: their sum, each checked against the warning line that lists them. */
static unsigned long long dropped_lines(const char *out, const char *warning, const char *what)
{
	unsigned long long sum = 0, named = 0;
	unsigned listed = 0;

	for (const char *s = out; (s = strstr(s, "\n# dropped,")); s++) {
		char kind[128], needle[160];
		unsigned long long n;
		cr_assert(sscanf(s, "\n# dropped,%llu,%127[^\n]", &n, kind) == 2, "%s: bad dropped line %.60s", what, s);
		sum += n;
		if (listed++ < 3) { /* the warning names the largest kinds first */
			snprintf(needle, sizeof needle, " %llu %s", n, kind);
			cr_expect(warning && strstr(warning, needle), "%s: the warning does not name '%s': %.300s", what,
				  needle + 1, warning ? warning : "(no warning)");
		}
	}
	if (warning)
		cr_expect(sscanf(warning, "# warning: the census is partial: dropped %llu objects", &named) == 1 &&
			  named == sum, "%s: the warning says %llu dropped, the lines %llu", what, named, sum);
	return sum;
}

/* Exit status, warning line and '# dropped' lines agree; returns the objects dropped. */
static unsigned long long check_says_partial(const char *out, int rc, const char *err, const char *what)
{
	const char *warning = strstr(out, "# warning: the census is partial: dropped ");
	unsigned long long sum = dropped_lines(out, warning, what);
	bool pools = strstr(out, "\n# dropped_pools,") != NULL;

	cr_assert(rc == 0 || rc == 15, "%s: exit %d: %s", what, rc, err);
	cr_expect_eq(rc == 15, sum > 0 || pools, "%s: exit %d but %llu objects dropped%s", what, rc, sum,
		     pools ? " and pools" : "");
	cr_expect_eq(warning != NULL, sum > 0 || pools, "%s: warning line and dropped lines disagree", what);
	cr_expect(rc != 15 || strstr(err, "the census is partial"), "%s: exit 15 without saying why: %s", what, err);
	return sum;
}

/* How far x lies outside [lo, hi], as a ratio: 1 inside. */
static double outside(double x, double lo, double hi)
{
	return x < lo ? x / lo : x > hi ? x / hi : 1.0;
}

/* Totals within 5 % of the target's own census right before and after. */
static bool check_totals(const struct table *t, const struct now *before, const struct now *after, struct tally *ty,
			 const char *what)
{
	bool ok;
	double r[2];

	long long n = 0, s = 0;
	double lo_n = (double)(before->objects < after->objects ? before->objects : after->objects),
	       hi_n = (double)(before->objects > after->objects ? before->objects : after->objects),
	       lo_s = (double)(before->bytes < after->bytes ? before->bytes : after->bytes),
	       hi_s = (double)(before->bytes > after->bytes ? before->bytes : after->bytes);

	for (size_t i = 0; i < t->n; i++) {
		n += t->v[i].count;
		s += t->v[i].size;
	}
	ok = (double)n >= 0.95 * lo_n && (double)n <= 1.05 * hi_n && (double)s >= 0.95 * lo_s && (double)s <= 1.05 * hi_s;
	cr_expect(ok, "%s: %lld objects, %lld bytes; the target's own: %lld-%lld objects, %lld-%lld bytes", what, n, s,
		  before->objects, after->objects, before->bytes, after->bytes);
	r[0] = outside((double)n, lo_n, hi_n);
	r[1] = outside((double)s, lo_s, hi_s);
	for (int i = 0; i < 2; i++) {
		ty->total_lo = ty->total_lo == 0 || r[i] < ty->total_lo ? r[i] : ty->total_lo;
		ty->total_hi = r[i] > ty->total_hi ? r[i] : ty->total_hi;
	}
	return ok;
}

static void note_ratio(struct tally *ty, const char *kind, double ratio)
{
	if (ratio > ty->worst) {
		ty->worst = ratio;
		snprintf(ty->worst_kind, sizeof ty->worst_kind, "%s", kind);
	}
}

/* --nonblocking, and --pause copy over --max-memory ("streamed": the arenas are read in windows
 * after the target resumed), read the arenas as the target runs. */
static bool reads_live(const char *mode)
{
	return strcmp(mode, "nonblocking") == 0 || strcmp(mode, "streamed") == 0;
}

/* Every kind against its truth: at most twice it (the churned kinds: twice the most the target
 * can hold), the churned kinds' stable objects all there. */
static void check_kinds(const struct churn *ch, const struct table *t, const struct now *before,
			const struct now *after, const char *mode, struct tally *ty, const char *what)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct row *r = &t->v[i], *tr = h_row(&ch->truth, r->kind);
		int c = churned_index(r->kind);
		double tn, ts;

		if (!tr) {
			cr_expect(r->count <= TRANSIENT_COUNT && r->size <= TRANSIENT_SIZE,
				  "%s: %s %lld objects %lld bytes, a kind the target does not hold", what, r->kind, r->count,
				  r->size);
			continue;
		}
		if (c >= 0) {
			const struct bound *b = &ch->b[c];
			double low = reads_live(mode) ? 0.5 : 0.95;
			cr_expect(r->count <= 2 * b->most_count && r->size <= 2 * b->most_size,
				  "%s: %s %lld objects %lld bytes, the target holds at most %lld, %lld", what, r->kind,
				  r->count, r->size, b->most_count, b->most_size);
			/* the stable objects never move; arenas read live may miss some of their pools while
			 * the allocator rewrites its headers (and say so), so their lower bound is looser */
			cr_expect(r->count >= (long long)(low * (double)b->count) && r->size >= (long long)(low * (double)b->size),
				  "%s: %s %lld objects %lld bytes, its stable ones alone are %lld, %lld", what, r->kind,
				  r->count, r->size, b->count, b->size);
			tn = (double)tr->count + (double)(before->held[2 * c] + after->held[2 * c]) / 2;
			ts = (double)tr->size + (double)(before->held[2 * c + 1] + after->held[2 * c + 1]) / 2;
		} else {
			cr_expect(r->count <= 2 * tr->count + TRANSIENT_COUNT && r->size <= 2 * tr->size + TRANSIENT_SIZE,
				  "%s: %s %lld objects %lld bytes, the target holds %lld, %lld", what, r->kind, r->count,
				  r->size, tr->count, tr->size);
			tn = (double)tr->count;
			ts = (double)tr->size;
		}
		if (tn >= 100) /* a ratio of a handful of objects says nothing */
			note_ratio(ty, r->kind, (double)r->count / tn > (double)r->size / ts ? (double)r->count / tn
											   : (double)r->size / ts);
	}
}

static const char *const *snap_args(const char *mode, bool csv, char *pidtxt)
{
	static const char *args[14];
	size_t n = 0;

	args[n++] = "snap";
	args[n++] = "-q";
	if (csv) {
		args[n++] = "-f";
		args[n++] = "csv";
		args[n++] = "--by"; /* every dict is "dict", as the closure names them */
		args[n++] = "type";
	} else {
		args[n++] = "-n";
		args[n++] = "3";
	}
	if (strcmp(mode, "nonblocking") == 0) {
		args[n++] = "--nonblocking";
	} else if (strcmp(mode, "streamed") == 0) {
		args[n++] = "--max-memory"; /* windows of one arena, read after the target resumed */
		args[n++] = "4M";
	} else {
		args[n++] = "--pause";
		args[n++] = mode;
	}
	args[n++] = pidtxt;
	args[n] = NULL;
	return args;
}

static void keep_file(char *path, size_t len, const char *label, const char *what, const char *out)
{
	FILE *f;

	snprintf(path, len, "/tmp/pycensus-churn-%d-%s.csv", (int)getpid(), what);
	f = fopen(path, "w");
	cr_assert(f && fputs(out, f) >= 0 && fclose(f) == 0, "%s: cannot write %s", label, path);
}

static const char *mode_name(const char *mode)
{
	return strcmp(mode, "copy") == 0 ? "--pause copy" : strcmp(mode, "census") == 0 ? "--pause census"
	       : strcmp(mode, "streamed") == 0 ? "--pause copy --max-memory 4M" : "--nonblocking";
}

static void one_census(struct churn *ch, const char *mode, int round, struct tally *ty)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[8192], what[128];
	struct now before, after;
	struct table t;
	unsigned long long dropped;
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)ch->p.pid);
	snprintf(what, sizeof what, "%s %s round %d", ch->py->label, mode_name(mode), round);
	ask_now(ch, &before);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, snap_args(mode, true, pidtxt));
	ask_now(ch, &after);
	dropped = check_says_partial(out, rc, err, what);
	cr_assert(h_parse_csv(out, &t), "%s: unparsable CSV", what);
	if (!check_totals(&t, &before, &after, ty, what)) {
		char kept[128];
		keep_file(kept, sizeof kept, ch->py->label, "off", out);
		fprintf(stderr, "churn: %s: the census whose totals are off is kept in %s\n", what, kept);
	}
	check_kinds(ch, &t, &before, &after, mode, ty, what);
	ty->censuses++;
	ty->partial += rc == 15;
	ty->dropped += dropped;
	if (rc == 15 && !ch->partial_csv[0])
		keep_file(ch->partial_csv, sizeof ch->partial_csv, ch->py->label, "partial", out);
	if (rc == 0 && !ch->whole_csv[0])
		keep_file(ch->whole_csv, sizeof ch->whole_csv, ch->py->label, "whole", out);
	h_table_free(&t);
	free(out);
}

/* The text report: exit 15 exactly when its header warns that the census is partial. */
static void text_census(struct churn *ch, const char *mode)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[8192];
	int rc;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)ch->p.pid);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, snap_args(mode, false, pidtxt));
	cr_expect(h_census_status_ok(rc, out), "%s %s, text: exit %d: %s\n%.2000s", ch->py->label, mode_name(mode), rc, err,
		  out);
	/* a free-threaded target's --pause copy resumes it once its mimalloc pages are copied, unless
	 * they do not fit the memory left to pycensus, which it then says */
	if (ch->py->free_threaded && strcmp(mode, "copy") == 0 && strstr(out, "the mimalloc pages in use ("))
		fprintf(stderr, "churn: %s: the copy did not fit the memory left; the census ran stopped\n", ch->py->label);
	else if (ch->py->free_threaded && strcmp(mode, "copy") == 0)
		cr_expect(strstr(out, "(for the copy; the rest read as it ran)") && !strstr(out, "ran with the target stopped"),
			  "%s --pause copy, text: not a copy:\n%.2000s", ch->py->label, out);
	free(out);
}

/* diff of a partial census and a whole one: a note names the partial side; exit 0. */
static void diff_notes_partial(struct churn *ch)
{
	char *out = malloc(OUTMAX), err[4096], want[128];
	const char *args[] = { "diff", ch->partial_csv, ch->whole_csv, NULL };
	int rc;

	if (!ch->partial_csv[0] || !ch->whole_csv[0]) {
		fprintf(stderr, "churn: %s: diff check skipped: no %s census was taken\n", ch->py->label,
			ch->partial_csv[0] ? "whole" : "partial");
		unlink(ch->partial_csv[0] ? ch->partial_csv : ch->whole_csv);
		free(out);
		return;
	}
	rc = h_pycensus(out, OUTMAX, err, sizeof err, args);
	snprintf(want, sizeof want, "note: %s: the census is partial: dropped ", ch->partial_csv);
	cr_expect(rc == 0 && strstr(out, want) && !strstr(out, ch->whole_csv), "%s: diff exit %d: %s\n%.1000s",
		  ch->py->label, rc, err, out);
	unlink(ch->partial_csv);
	unlink(ch->whole_csv);
	free(out);
}

/* --nonblocking on a free-threaded target: exit 6 naming the cause, the target not left stopped. */
static void nonblocking_refused(struct churn *ch)
{
	char pidtxt[16], *out = malloc(OUTMAX), err[8192];
	int rc;
	char st;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)ch->p.pid);
	rc = h_pycensus(out, OUTMAX, err, sizeof err, snap_args("nonblocking", true, pidtxt));
	cr_expect(rc == 6 && strstr(err, "--nonblocking on a free-threaded build") && strstr(err, "leave --nonblocking out"),
		  "%s --nonblocking: exit %d: %s", ch->py->label, rc, err);
	st = h_state(ch->p.pid);
	cr_expect(st != 't' && st != 'T' && st != '?', "%s: the target was left in state %c", ch->py->label, st);
	free(out);
}

static int rounds(void)
{
	const char *v = getenv("PYCENSUS_TEST_FULL");

	return v && *v && strcmp(v, "0") != 0 ? FULL_ROUNDS : ROUNDS;
}

ParameterizedTestParameters(churn, sizes_stay_true)
{
	static struct python found[H_MAX_PYTHONS];
	size_t n = h_find_pythons_core(found, H_MAX_PYTHONS);
	struct python *params = cr_malloc(sizeof *params * (n ? n : 1));

	memcpy(params, found, sizeof *params * n);
	return cr_make_param_array(struct python, params, n);
}

/* ROUNDS (or FULL_ROUNDS) censuses of the churn target on py in each of the modes, and the text
 * report and diff checks; each mode's tally printed. */
static void churn_modes(struct python *py, const char *const *modes, size_t nmodes, int n)
{
	const char *dir = getenv("PYCENSUS_WORKLOADS");
	char path[512];
	struct churn ch = { .py = py };
	struct tally ty[4];

	cr_assert(nmodes <= PC_ARRAY_LEN(ty));
	memset(ty, 0, sizeof ty);
	snprintf(path, sizeof path, "%s/churn.py", dir ? dir : "tests/integration/workloads");
	char *argv[] = { py->path, path, NULL };
	cr_assert(h_spawn(&ch.p, argv), "cannot start %s", py->path);
	cr_assert(read_bounds(&ch), "%s: the workload did not start", py->label);
	for (size_t m = 0; m < nmodes; m++) {
		text_census(&ch, modes[m]);
		for (int round = 0; round < n; round++)
			one_census(&ch, modes[m], round, &ty[m]);
	}
	diff_notes_partial(&ch);
	for (size_t m = 0; m < nmodes; m++)
		fprintf(stderr, "churn: %s %s: %u censuses, %u partial (%llu objects dropped in all); largest ratio of a kind to the truth %.3f (%s); totals %.4f-%.4f of the target's own\n",
			py->label, mode_name(modes[m]), ty[m].censuses, ty[m].partial, ty[m].dropped, ty[m].worst,
			ty[m].worst_kind, ty[m].total_lo, ty[m].total_hi);
	if (py->free_threaded)
		nonblocking_refused(&ch);
	h_table_free(&ch.truth);
	h_kill(&ch.p);
}

ParameterizedTest(struct python *py, churn, sizes_stay_true, .timeout = 3600)
{
	static const char *const modes[] = { "copy", "census", "nonblocking", "streamed" };

	churn_modes(py, modes, PC_ARRAY_LEN(modes), rounds());
}

/* The free-threaded build (make check-ft): the same censuses in the --pause modes it has, its
 * mimalloc pages copied (copy) or read stopped (census); --nonblocking is refused there (exit 6,
 * with the reason) and leaves the target running. FT_ROUNDS per mode keeps it within seconds (the
 * timeout is for PYCENSUS_TEST_FULL=1: 400 censuses). */
Test(freethreaded, churn_sizes_stay_true, .timeout = 1800)
{
	static const char *const modes[] = { "copy", "census" };
	struct python ft[4];
	size_t n = h_pythons_ft_or_skip(ft, PC_ARRAY_LEN(ft));

	for (size_t i = 0; i < n; i++)
		churn_modes(&ft[i], modes, PC_ARRAY_LEN(modes), rounds() == FULL_ROUNDS ? FULL_ROUNDS : FT_ROUNDS);
}
