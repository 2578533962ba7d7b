/* cmd_top.c: `pycensus top PID`: a live view of a process's heap, refreshed every interval: kinds
 * by size with their change since the start and rate. On a terminal it takes the keyboard (q,
 * s/c/d, p) and gives the terminal back on every exit path; otherwise it prints a table per
 * interval. */
#include "common/compat.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include "attach/procfs.h"
#include "attach/stop.h"
#include "cli/commands.h"
#include "cli/pace.h"
#include "cli/tree.h"
#include "common/xalloc.h"
#include "census/snapshot.h"
#include "report/diff.h"
#include "report/escape.h"
#include "report/overhead.h"
#include "report/series.h"

enum sort_key { SORT_SIZE, SORT_COUNT, SORT_DELTA };

struct top {
	int pid;
	struct pace pace;      /* -i and --max-overhead: when the next sample is due */
	unsigned long count;   /* -c: samples before quitting (0: no limit) */
	size_t rows;           /* -n: 0 fits the terminal */
	bool tty, paused;
	enum sort_key sort;
	struct snapshot_opts opts;
	struct copybuf keep;   /* the arena copy's buffer, kept from one census to the next */
	struct series s;
	double t0;
	bool subprocesses;     /* the tree under PID: its kinds summed, a line per process */
	struct tree tree;      /* the latest sample's processes, with --subprocesses */
};

/* The terminal as it was, for the signal handler to restore (stop.h's restore hook). */
static struct termios saved_tty;
static volatile sig_atomic_t tty_raw;
static volatile sig_atomic_t stop_sig;

static void restore_tty(void)
{
	static const char show[] = "\033[?25h\033[?1049l";

	if (!tty_raw)
		return;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	if (write(STDOUT_FILENO, show, sizeof show - 1) < 0) {
		/* the terminal is gone: nothing to restore on it */
	}
	tty_raw = 0;
}

static int raw_tty(struct pc_err *e)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return pc_fail(e, PC_EINTERNAL, "tcgetattr: %s", strerror(errno));
	t = saved_tty;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO); /* ISIG stays: Ctrl-C still quits */
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) < 0)
		return pc_fail(e, PC_EINTERNAL, "tcsetattr: %s", strerror(errno));
	tty_raw = 1;
	fputs("\033[?1049h\033[?25l", stdout); /* alternate screen, hidden cursor */
	return 0;
}

static void top_help(FILE *out)
{
	fprintf(out,
		"usage: pycensus top [options] PID\n"
		"\n"
		"A live view of process PID's heap: a census every interval, kinds by size with their count,\n"
		"size, change since pycensus started and rate per minute. Keys: q quit, s/c/d sort by size,\n"
		"count or change, p pause/resume sampling. Without a terminal it prints a table per interval.\n"
		"\n"
		"options:\n"
		"  -i, --interval SECONDS  time between censuses (default 1), the shortest under\n"
		"                          --max-overhead\n"
		"  -n, --rows N            kinds to show (default: what fits the terminal, 20 without one)\n"
		"  -c, --count N           quit after N samples\n"
		"      --arenas auto|symbols|scan   as for snap\n"
		"      --subprocesses      the process tree under PID: every process censused in turn each\n"
		"                          interval (one stopped at a time), the kinds summed over the tree,\n"
		"                          and a line per process, largest first (their pauses summed count\n"
		"                          against --max-overhead)\n");
	fputs(pace_help, out);
	fputs(cli_pause_help, out);
	fputs(cli_memory_help, out);
	fputs("  -h, --help              this help\n\n", out);
	cli_print_exit_codes(out);
}

static int parse_args(int argc, char **argv, struct top *t, struct pc_err *e)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' }, { "rows", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'c' },    { "arenas", required_argument, NULL, 'a' },
		{ "pause", required_argument, NULL, 'P' },    { "help", no_argument, NULL, 'h' },
		{ "subprocesses", no_argument, NULL, 'T' },   { "max-overhead", required_argument, NULL, 'M' },
		{ "max-memory", required_argument, NULL, 'Y' }, { 0, 0, 0, 0 },
	};
	size_t n;
	int c;

	t->pace = (struct pace){ .interval = 1.0, .budget = PACE_DEFAULT_BUDGET };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+i:n:c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': if (cli_parse_interval(optarg, &t->pace.interval, e) < 0) return -1; break;
		case 'M': if (pace_parse(optarg, &t->pace.budget, e) < 0) return -1; break;
		case 'n': if (cli_parse_rows(optarg, &t->rows, e) < 0) return -1; break;
		case 'c':
			if (cli_parse_rows(optarg, &n, e) < 0 || n == 0)
				return pc_fail(e, PC_EUSAGE, "-c needs a number of samples, not '%s'", optarg);
			t->count = n;
			break;
		case 'a': if (cli_parse_arenas(optarg, &t->opts.arenas, e) < 0) return -1; break;
		case 'P': if (cli_parse_pause(optarg, &t->opts.pause, e) < 0) return -1; break;
		case 'Y': if (cli_parse_memory(optarg, &t->opts.max_memory, e) < 0) return -1; break;
		case 'T': t->subprocesses = true; break;
		case 'h': top_help(stdout); exit(0);
		default:
			return pc_fail(e, PC_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return pc_fail(e, PC_EUSAGE, optind >= argc ? "top needs a PID" : "top takes one PID");
	return cli_parse_pid(argv[optind], &t->pid, e);
}

static int by_key(const void *x, const void *y, void *arg)
{
	const struct diff_row *a = x, *b = y;
	enum sort_key sort_key = *(const enum sort_key *)arg;

	if (sort_key == SORT_COUNT && a->count_b != b->count_b)
		return a->count_b < b->count_b ? 1 : -1;
	if (sort_key == SORT_DELTA && a->dsize != b->dsize)
		return a->dsize < b->dsize ? 1 : -1;
	if (a->size_b != b->size_b)
		return a->size_b < b->size_b ? 1 : -1;
	return strcmp(a->kind, b->kind);
}

static size_t fit_rows(const struct top *t)
{
	struct winsize ws;

	if (t->rows)
		return t->rows;
	if (t->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 8)
		return ws.ws_row - 7u;
	return 20;
}

/* The pause share so far and the interval the budget gives (report/overhead.h). */
static void put_overhead(FILE *out, const struct top *t)
{
	static const struct overhead_words words = { "pause share: after the next sample", "pause %.2f %% of its time",
						     " (budget %g %%)", " (no budget)" };
	const struct series_point *p = &t->s.v[t->s.n - 1];
	struct overhead o;

	overhead_of(&t->s, &o);
	overhead_put_share(out, &t->s, &o, &words);
	fprintf(out, ", interval %.2f s%s\n", p->interval_s,
		p->interval_s > t->pace.interval * (1 + 1e-9) ? " (stretched)" : "");
}

static void put_header(FILE *out, const struct top *t)
{
	const struct series_point *p = &t->s.v[t->s.n - 1];
	static const char *const names[] = { "size", "count", "change" };

	if (t->subprocesses)
		fprintf(out, "pycensus top - process tree of %d: %zu processes, %zu censused; sample %u at %.1f s%s\n",
			t->pid, t->tree.n, t->tree.censused, p->sample, p->time_s, t->paused ? "  [PAUSED]" : "");
	else
		fprintf(out, "pycensus top - pid %d, Python %s, sample %u at %.1f s%s\n", t->pid, t->s.last.version,
			p->sample, p->time_s, t->paused ? "  [PAUSED]" : "");
	fprintf(out, "RSS %.1f MiB, ", (double)p->rss / 1048576.0);
	if (strcmp(t->s.last.arena_source, "mimalloc") != 0) /* a free-threaded build has no pymalloc */
		fprintf(out, "pymalloc %.1f MiB in %" PRIu64 " blocks, ", (double)p->pymalloc_bytes / 1048576.0,
			p->pymalloc_blocks);
	fprintf(out, "%" PRIu64 " objects, %.1f MiB; last pause %.3f s\n", p->objects, (double)p->size / 1048576.0,
		p->pause_s);
	put_overhead(out, t);
	fprintf(out, "sorted by %s%s\n\n", names[t->sort], t->tty ? "; keys: q quit, s/c/d sort, p pause" : "");
}

static int by_bytes(const void *x, const void *y)
{
	const struct tree_member *a = *(const struct tree_member *const *)x, *b = *(const struct tree_member *const *)y;
	uint64_t sa = a->code ? 0 : a->c.total_size, sb = b->code ? 0 : b->c.total_size;

	return sa != sb ? (sa < sb ? 1 : -1) : (a->pid > b->pid) - (a->pid < b->pid);
}

/* --subprocesses: a line per process, largest first, at most `max` of them. */
static size_t put_processes(FILE *out, const struct tree *tr, size_t max)
{
	const struct tree_member **v = xcalloc(tr->n ? tr->n : 1, sizeof *v);
	size_t shown = 0;

	for (size_t i = 0; i < tr->n; i++)
		v[i] = &tr->v[i];
	qsort(v, tr->n, sizeof *v, by_bytes);
	fprintf(out, "%7s %10s %12s  %-32s %s\n", "PID", "Objects", "Size", "Role", "Command");
	for (; shown < tr->n && shown < max; shown++) {
		const struct tree_member *m = v[shown];
		if (m->code)
			fprintf(out, "%7d %10s %12s  ", (int)m->pid, "-", "skipped");
		else
			fprintf(out, "%7d %10" PRIu64 " %12" PRIu64 "  ", (int)m->pid, m->c.nobjects, m->c.total_size);
		fprintf(out, "%-32.32s ", m->role[0] ? m->role : "-");
		report_put_text(out, m->cmdline, 60);
		fputc('\n', out);
	}
	fputc('\n', out);
	free(v);
	return shown + 2;
}

static void render(struct top *t, FILE *out)
{
	const struct series_point *p = &t->s.v[t->s.n - 1];
	double min = (p->time_s - t->s.v[0].time_s) / 60.0;
	size_t rows = fit_rows(t);
	struct diff d;

	if (t->tty)
		fputs("\033[H\033[2J", out);
	put_header(out, t);
	if (t->subprocesses) {
		size_t used = put_processes(out, &t->tree, rows / 3 > 3 ? rows / 3 : 3);
		rows = rows > used + 3 ? rows - used : 3;
	}
	fprintf(out, "%10s %12s %12s %13s %s\n", "Count", "Size", "Change", "Bytes/min", "Kind");
	diff_build(&t->s.first, &t->s.last, &d);
	qsort_r(d.rows, d.n, sizeof *d.rows, by_key, &t->sort);
	for (size_t i = 0, shown = 0; i < d.n && shown < rows; i++) {
		const struct diff_row *r = &d.rows[i];

		if (!r->count_b && !r->size_b)
			continue; /* gone since the start */
		fprintf(out, "%10" PRIu64 " %12" PRIu64 " %+12" PRId64 " %+13.0f ", r->count_b, r->size_b, r->dsize,
			min > 0 ? (double)r->dsize / min : 0.0);
		report_put_text(out, r->kind, 60);
		fputc('\n', out);
		shown++;
	}
	if (!t->tty)
		fputc('\n', out);
	fflush(out);
	diff_release(&d);
}

/* A census that began at `start` into the series (at start + offset: the tree's is dated at its
 * middle), and the interval after it (its pause: the tree's pauses summed). */
static void add_sample(struct top *t, const struct census *c, double start, double offset, uint64_t rss)
{
	if (t->s.n == 0)
		t->t0 = start + offset;
	series_add(&t->s, c, start + offset - t->t0, rss, false);
	/* the tree's memory is not the root's: its growth is not followed (pace_due) */
	t->s.v[t->s.n - 1].interval_s = pace_sampled(&t->pace, start, c->pause_s, mono_now(), t->subprocesses ? 0 : rss);
}

/* --subprocesses: the tree's censuses, their sum into the series. */
static int take_tree(struct top *t, struct pc_err *e)
{
	double start = mono_now(), now;
	int rc;

	tree_release(&t->tree);
	tree_init(&t->tree, t->pid);
	rc = tree_take(t->pid, &t->opts, 0, &t->tree, e);
	now = (start + mono_now()) / 2;
	if (rc == 0)
		add_sample(t, &t->tree.total, start, now - start, t->tree.total.rss);
	return rc;
}

static int take(struct top *t, struct pc_err *e)
{
	struct source src;
	struct census c;
	double now;
	int rc;

	if (t->subprocesses)
		return take_tree(t, e);
	if (source_open_pid(&src, t->pid, 0, e) < 0)
		return -1;
	census_init(&c);
	rc = snapshot_take(&src, &t->opts, &c, e);
	source_close(&src);
	now = mono_now() - c.wall_s;
	if (rc == 0)
		add_sample(t, &c, now, 0, proc_rss(t->pid));
	census_release(&c);
	return rc;
}

/* Waits up to `ms` for a key (TTY) or just sleeps; returns the key, 0 on timeout, -1 on signal. */
static int wait_key(const struct top *t, int ms)
{
	struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
	char ch;
	int r;

	if (!t->tty) {
		poll(NULL, 0, ms);
		return stop_sig ? -1 : 0;
	}
	r = poll(&pfd, 1, ms);
	if (stop_sig)
		return -1;
	if (r > 0 && read(STDIN_FILENO, &ch, 1) == 1)
		return (unsigned char)ch;
	return 0;
}

/* One key: true to quit. */
static bool on_key(struct top *t, int key, double *next)
{
	switch (key) {
	case 'q': case 'Q': return true;
	case 's': t->sort = SORT_SIZE; break;
	case 'c': t->sort = SORT_COUNT; break;
	case 'd': t->sort = SORT_DELTA; break;
	case 'p':
		t->paused = !t->paused;
		*next = mono_now(); /* resuming samples at once */
		break;
	default: return false;
	}
	render(t, stdout);
	return false;
}

static int loop(struct top *t, struct pc_err *e)
{
	t->pace.next = mono_now();
	for (unsigned long k = 0;;) {
		int key;

		if (!t->paused && mono_now() >= t->pace.next &&
		    pace_due(&t->pace, mono_now(), t->subprocesses ? 0 : proc_rss(t->pid))) {
			int rc = take(t, e);
			if (stop_sig) /* Ctrl-C during the census: the target was resumed, this sample dropped */
				return 0;
			if (rc < 0)
				return t->s.n && (e->code == PC_EEXITED || e->code == PC_ENOPROC) ? 1 : -1;
			render(t, stdout);
			if (t->count && ++k >= t->count)
				return 0;
		}
		key = wait_key(t, t->paused ? -1 : (int)((t->pace.next - mono_now()) * 1000) + 1);
		if (key < 0)
			return 0;
		if (key > 0 && on_key(t, key, &t->pace.next))
			return 0;
	}
}

int cmd_top(int argc, char **argv)
{
	struct pc_err e = { 0 };
	struct top t;
	int rc;

	memset(&t, 0, sizeof t);
	if (parse_args(argc, argv, &t, &e) < 0)
		return cli_fail(&e);
	t.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	series_init(&t.s);
	t.s.paced = true;
	t.s.interval = t.pace.interval;
	t.s.budget = t.pace.budget;
	t.opts.keep_copy = &t.keep;
	stop_on_interrupt(&stop_sig);
	if (t.tty && raw_tty(&e) < 0)
		return cli_fail(&e);
	rc = loop(&t, &e);
	restore_tty();
	stop_on_interrupt(NULL);
	series_release(&t.s);
	tree_release(&t.tree);
	copybuf_release(&t.keep);
	if (rc == 1) {
		fprintf(stderr, "pycensus: process %d exited\n", t.pid);
		return 0;
	}
	return rc < 0 ? cli_fail(&e) : 0;
}
