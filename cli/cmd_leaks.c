/* cmd_leaks.c: `pycensus leaks PID`: leak suspects from two censuses an interval apart: the kinds
 * that grew and, for the biggest, where their new objects are held (cli/graphtake.h,
 * census/paths.h, report/leaks.h). */
#include "common/compat.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "attach/stop.h"
#include "cli/commands.h"
#include "cli/graphtake.h"
#include "cli/progress.h"
#include "census/paths.h"
#include "common/xalloc.h"
#include "objects/brief.h"
#include "report/json_docs.h"
#include "report/leaks.h"
#include "report/output.h"

#define MAX_WALK 100000u   /* dominator-tree steps one object's walk to the root may take */

struct leaks_args {
	int pid;
	double interval;
	size_t suspects, limit;
	const char *output;
	bool quiet, json;
	struct snapshot_opts opts;
};

static void leaks_help(FILE *out)
{
	fprintf(out,
		"usage: pycensus leaks [options] PID\n"
		"\n"
		"Leak suspects: takes two censuses of process PID an interval apart, each with its object\n"
		"graph; lists the kinds that grew, and for the ones that grew most, where the objects new\n"
		"since the first census are held: the path from the roots most of them share (as 'pycensus\n"
		"why' prints it) and their common dominator, the one object whose release would free them\n"
		"all. The first census is the baseline: take it once the program has started up (imports\n"
		"and caches warmed), or its start-up shows as growth. Ctrl-C during the wait takes the second\n"
		"census at once.\n"
		"\n"
		"options:\n"
		"  -i, --interval SECONDS  time between the two censuses (default 10)\n"
		"  -k, --suspects N        kinds to explain, those that grew most by bytes (default 3)\n"
		"  -n, --rows N            kinds listed in the growth table (default 10; 0: all)\n"
		"  -f, --format text|json  output format (default text); json has every kind that grew\n"
		"  -o, --output FILE       write to FILE instead of standard output\n"
		"      --pause copy|census how long the target stays stopped at each census (default copy)\n"
		"      --max-memory SIZE|none  the most memory the copy of the arenas may take (default\n"
		"                          256M; see 'pycensus snap --help'), and when given, the\n"
		"                          most the object graph may take (48 bytes per object, 8 per\n"
		"                          reference; else the memory left): past it, exit 20\n"
		"  -q, --quiet             no progress on the terminal\n"
		"  -h, --help              this help\n"
		"\n"
		"needs: ptrace permission over PID, as 'pycensus snap'.\n\n");
	cli_print_exit_codes(out);
}

static int parse_args(int argc, char **argv, struct leaks_args *a, struct pc_err *e)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' }, { "suspects", required_argument, NULL, 'k' },
		{ "rows", required_argument, NULL, 'n' }, { "output", required_argument, NULL, 'o' },
		{ "pause", required_argument, NULL, 'P' }, { "max-memory", required_argument, NULL, 'Y' }, { "quiet", no_argument, NULL, 'q' },
		{ "format", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 },
	};
	unsigned long k;
	int c, f;

	*a = (struct leaks_args){ .interval = 10, .suspects = 3, .limit = 10 };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+i:k:n:o:f:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': if (cli_parse_interval(optarg, &a->interval, e) < 0) return -1; break;
		case 'k':
			if (cli_parse_count(optarg, "--suspects", "kinds", &k, e) < 0)
				return -1;
			a->suspects = k;
			break;
		case 'n': if (cli_parse_rows(optarg, &a->limit, e) < 0) return -1; break;
		case 'o': a->output = optarg; break;
		case 'f':
			if ((f = cli_parse_format(optarg, CLI_FMT(TEXT) | CLI_FMT(JSON), e)) < 0)
				return -1;
			a->json = f == CLI_FMT_JSON;
			break;
		case 'P': if (cli_parse_pause(optarg, &a->opts.pause, e) < 0) return -1; break;
		case 'Y': if (cli_parse_memory(optarg, &a->opts.max_memory, e) < 0) return -1; break;
		case 'q': a->quiet = true; break;
		case 'h': leaks_help(stdout); exit(0);
		default:
			return pc_fail(e, PC_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return pc_fail(e, PC_EUSAGE, optind >= argc ? "leaks needs a PID" : "leaks takes one PID");
	if (output_check_path(a->output, e) < 0)
		return -1;
	return cli_parse_pid(argv[optind], &a->pid, e);
}

static int by_addr(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return (a > b) - (a < b);
}

/* The first census: its rows into c1 and its objects' addresses, sorted, into *addrs. */
static int baseline(struct leaks_args *a, struct census *c1, uint64_t **addrs, size_t *n, struct pc_err *e)
{
	struct graph_take gt;
	const struct graph *g;
	int rc = graph_take_pid(a->pid, &a->opts, a->quiet, false, &gt, e); /* addresses only */

	g = &gt.og.g;
	if (rc == 0) {
		*n = g->n > OG_FIRST ? g->n - OG_FIRST : 0;
		*addrs = xmalloc((*n ? *n : 1) * sizeof **addrs);
		memcpy(*addrs, g->addr + OG_FIRST, *n * sizeof **addrs);
		qsort(*addrs, *n, sizeof **addrs, by_addr);
		*c1 = gt.c;
		census_init(&gt.c); /* moved to c1 */
	}
	graph_take_release(&gt);
	return rc;
}

/* Sleeps until `when` (monotonic) or the first interrupt, which ends the wait early. */
static void wait_until(double when)
{
	static volatile sig_atomic_t stop;

	stop = 0;
	stop_on_interrupt(&stop);
	while (!stop) {
		double left = when - mono_now();
		struct timespec ts;
		if (left <= 0)
			break;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	stop_on_interrupt(NULL);
}

static int by_growth(const void *x, const void *y)
{
	const struct leak_growth *a = x, *b = y;

	if (a->dbytes != b->dbytes)
		return a->dbytes < b->dbytes ? 1 : -1;
	return (a->dcount < b->dcount) - (a->dcount > b->dcount);
}

static void growth(const struct census *c1, const struct census *c2, struct leak_report *r)
{
	r->growth = xcalloc(c2->nrows + 1, sizeof *r->growth);
	for (size_t i = 0; i < c2->nrows; i++) {
		size_t j = census_row_index(c1, c2->rows[i].kind);
		int64_t dc = (int64_t)c2->rows[i].count - (j == STRINDEX_NONE ? 0 : (int64_t)c1->rows[j].count);
		int64_t db = (int64_t)c2->rows[i].size - (j == STRINDEX_NONE ? 0 : (int64_t)c1->rows[j].size);
		if (db > 0 || (db == 0 && dc > 0))
			r->growth[r->ngrowth++] = (struct leak_growth){ (uint32_t)i, dc, db };
	}
	qsort(r->growth, r->ngrowth, sizeof *r->growth, by_growth);
}

/* The deepest node that dominates every selected node (strictly), GRAPH_NONE when that is only
 * the root or a synthetic node, or a walk is longer than MAX_WALK. */
static uint32_t common_dominator(const struct graph *g, const uint32_t *idom, const uint8_t *sel)
{
	uint32_t *pos = xmalloc((size_t)g->n * sizeof *pos), *chain = xmalloc(MAX_WALK * sizeof *chain), v, u, k = 0;
	uint32_t best = 0, found = GRAPH_NONE;
	bool first = true;

	for (v = 0; v < g->n; v++)
		pos[v] = GRAPH_NONE;
	for (v = OG_FIRST; v < g->n && found == GRAPH_NONE; v++) {
		if (!sel[v])
			continue;
		if (first) {
			for (u = idom[v]; u != GRAPH_NONE && k < MAX_WALK; u = idom[u])
				pos[u] = k, chain[k++] = u;
			first = false;
			continue;
		}
		for (u = idom[v], k = 0; u != GRAPH_NONE && pos[u] == GRAPH_NONE && k < MAX_WALK; u = idom[u], k++)
			;
		if (u == GRAPH_NONE || pos[u] == GRAPH_NONE)
			found = GRAPH_ROOT; /* no common node within reach */
		else if (pos[u] > best)
			best = pos[u];
	}
	if (found == GRAPH_NONE && !first)
		found = chain[best];
	free(pos);
	free(chain);
	return found != GRAPH_NONE && found >= OG_FIRST ? found : GRAPH_NONE;
}

/* One suspect: the objects of its kind new since the first census (all of them when none is). */
static void explain(struct graph_take *gt, struct pyproc *p, const uint32_t *parents, const uint64_t *base, size_t nbase,
		    struct leak_suspect *s, struct typetab *types)
{
	const struct graph *g = &gt->og.g;
	uint8_t *sel = xcalloc(g->n, 1);
	size_t nsel = 0;

	for (uint32_t v = OG_FIRST; v < g->n; v++)
		if (g->kind[v] == s->g.kind && !bsearch(&g->addr[v], base, nbase, sizeof *base, by_addr))
			nsel += sel[v] = 1;
	s->new_only = nsel > 0;
	for (uint32_t v = OG_FIRST; v < g->n && !nsel; v++)
		sel[v] = g->kind[v] == s->g.kind;
	pathtree_init(&s->t);
	paths_merge(p, &gt->c, &gt->og, parents, gt->ret_bytes, sel, &s->t);
	pathtree_sort(&s->t);
	s->dominator = common_dominator(g, gt->idom, sel);
	if (s->dominator != GRAPH_NONE) {
		s->dominator_retained = gt->ret_bytes[s->dominator];
		s->dominated = s->t.selected;
		pybrief(p, types, g->addr[s->dominator], s->dominator_brief, sizeof s->dominator_brief);
	}
	for (uint32_t v = OG_FIRST; v < g->n; v++) /* each selected object's retained set once */
		if (sel[v] && (gt->idom[v] == GRAPH_NONE || !sel[gt->idom[v]]))
			s->t.selected_retained += gt->ret_bytes[v];
	free(sel);
}

static int leaks(struct leaks_args *a, struct graph_take *gt, struct leak_report *r, struct pc_err *e)
{
	struct census c1;
	uint64_t *base = NULL;
	size_t nbase = 0;
	double t0;
	struct pyproc *p;
	struct typetab types;
	uint32_t *parents;
	int rc;

	census_init(&c1);
	if ((rc = baseline(a, &c1, &base, &nbase, e)) == 0) {
		t0 = mono_now() - c1.wall_s;
		wait_until(t0 + a->interval);
		a->opts.graph_held = nbase * sizeof *base;
		rc = graph_take_pid(a->pid, &a->opts, a->quiet, true, gt, e);
		r->seconds = mono_now() - gt->c.wall_s - t0;
	}
	if (rc == 0 && !(p = graph_take_reader(gt)))
		rc = pc_fail(e, PC_EEXITED, "the process exited before its leak paths were read");
	if (rc == 0) {
		r->c = &gt->c;
		r->og = &gt->og;
		growth(&c1, &gt->c, r);
		parents = paths_parents(&gt->og.g);
		typetab_init(&types, p);
		r->suspects = xcalloc(a->suspects, sizeof *r->suspects);
		for (size_t i = 0; i < r->ngrowth && r->nsuspects < a->suspects; i++) {
			r->suspects[r->nsuspects].g = r->growth[i];
			explain(gt, p, parents, base, nbase, &r->suspects[r->nsuspects++], &types);
		}
		typetab_release(&types);
		free(parents);
	}
	census_release(&c1);
	free(base);
	return rc;
}

int cmd_leaks(int argc, char **argv)
{
	struct pc_err e = { 0 };
	struct leaks_args a;
	struct graph_take gt = { 0 };
	struct leak_report r = { 0 };
	FILE *out;
	int rc;

	if (parse_args(argc, argv, &a, &e) < 0)
		return cli_fail(&e);
	rc = leaks(&a, &gt, &r, &e);
	if (rc == 0 && (out = output_open(a.output, &e))) {
		rc = a.json ? report_leaks_json(out, &r, &e) : report_leaks_text(out, &r, a.limit, &e);
		rc = rc < 0 ? (output_close(out, NULL), -1) : output_close(out, &e);
	} else if (rc == 0) {
		rc = -1;
	}
	for (size_t i = 0; i < r.nsuspects; i++)
		pathtree_release(&r.suspects[i].t);
	free(r.suspects);
	free(r.growth);
	graph_take_release(&gt);
	return rc < 0 ? cli_fail(&e) : 0;
}
