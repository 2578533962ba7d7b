/* cmd_retained.c: `pycensus retained PID`: what keeps memory alive: kinds by retained size and the
 * dominator tree's largest objects (cli/graphtake.h, report/retained.h). */
#include "common/compat.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "cli/graphtake.h"
#include "common/xalloc.h"
#include "objects/brief.h"
#include "report/html.h"
#include "report/json_docs.h"
#include "report/output.h"
#include "report/retained.h"

#define MAX_DEPTH 24

struct retained_args {
	const char *target; /* a PID or a dump (cli/target.h) */
	const char *output;
	size_t limit;        /* kinds and objects listed (0: all kinds, objects down to --min) */
	double min_percent;  /* objects retaining less than this share of the heap are not listed */
	int format;          /* enum cli_format: text, csv, json or html */
	bool quiet;
	struct snapshot_opts opts;
};

static void retained_help(FILE *out)
{
	fprintf(out,
		"usage: pycensus retained [options] PID\n"
		"       pycensus retained [options] DUMP        (a file from 'pycensus dump': the process as it was)\n"
		"\n"
		"What keeps memory alive: takes one census of process PID with its object graph, computes the\n"
		"dominator tree (an object dominates another when every path from the roots to it passes\n"
		"through the first) and prints:\n"
		"  - kinds by retained size: the bytes that would be freed if every object of the kind went,\n"
		"    each object's retained set counted once (Eclipse MAT's retained size of a class);\n"
		"  - the largest objects by retained size, as the dominator tree from the roots, with own\n"
		"    size, objects retained and a short description (a str's text, a module's name, a\n"
		"    container's length). 'pycensus why --addr ADDRESS PID' then shows who holds one.\n"
		"Roots are named as in 'pycensus why --help'.\n"
		"\n"
		"options:\n"
		"  -n, --limit N           kinds and objects listed (default 20; 0: every kind and every object\n"
		"                          above --min)\n"
		"      --min PERCENT       list objects retaining at least this share of the heap (default 1)\n"
		"  -f, --format text|csv|json|html\n"
		"                          output format (default text); csv has one row per kind (row=kind)\n"
		"                          and per listed object (row=object) and ends with '# end'; json\n"
		"                          the same kinds and objects; html a page with both as sortable tables\n"
		"  -o, --output FILE       write to FILE instead of standard output\n"
		"      --pause copy|census how long the target stays stopped (default copy)\n"
		"      --max-memory SIZE|none  the most memory the copy of the arenas may take (default\n"
		"                          256M; see 'pycensus snap --help'), and when given, the\n"
		"                          most the object graph may take (48 bytes per object, 8 per\n"
		"                          reference; else the memory left): past it, exit 20\n"
		"  -q, --quiet             no progress on the terminal\n"
		TARGET_HELP
		"  -h, --help              this help\n"
		"\n"
		"needs: ptrace permission over PID, as 'pycensus snap'.\n\n");
	cli_print_exit_codes(out);
}

static int parse_args(int argc, char **argv, struct retained_args *a, struct pc_err *e)
{
	static const struct option longopts[] = {
		{ "limit", required_argument, NULL, 'n' }, { "min", required_argument, NULL, 'm' },
		{ "format", required_argument, NULL, 'f' }, { "output", required_argument, NULL, 'o' },
		{ "pause", required_argument, NULL, 'P' }, { "max-memory", required_argument, NULL, 'Y' }, { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' }, TARGET_LONGOPTS, { 0, 0, 0, 0 },
	};
	int c;

	*a = (struct retained_args){ .limit = 20, .min_percent = 1 };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+n:f:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': if (cli_parse_rows(optarg, &a->limit, e) < 0) return -1; break;
		case 'm': if (cli_parse_percent(optarg, "--min", &a->min_percent, e) < 0) return -1; break;
		case 'f':
			if ((a->format = cli_parse_format(optarg, CLI_FMT(TEXT) | CLI_FMT(CSV) | CLI_FMT(JSON) | CLI_FMT(HTML), e)) < 0)
				return -1;
			break;
		case 'o': a->output = optarg; break;
		case 'P': if (cli_parse_pause(optarg, &a->opts.pause, e) < 0) return -1; break;
		case 'Y': if (cli_parse_memory(optarg, &a->opts.max_memory, e) < 0) return -1; break;
		case 'q': a->quiet = true; break;
		case 'h': retained_help(stdout); exit(0);
		case TARGET_OPT_EXE: case TARGET_OPT_SYSROOT: target_option(c, optarg); break;
		default:
			return pc_fail(e, PC_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return pc_fail(e, PC_EUSAGE, optind >= argc ? "retained needs a PID" : "retained takes one PID");
	if (a->format == CLI_FMT_HTML && cli_check_html_output(a->output, e) < 0)
		return -1;
	if (output_check_path(a->output, e) < 0)
		return -1;
	a->target = argv[optind];
	return 0;
}

static int by_retained(const void *x, const void *y)
{
	const struct retained_kind *a = x, *b = y;

	return a->retained < b->retained ? 1 : a->retained > b->retained ? -1 : (a->kind > b->kind) - (a->kind < b->kind);
}

static void kinds(const struct graph_take *gt, struct retained_report *r)
{
	size_t n = gt->c.nrows;
	uint64_t *b = xcalloc(n + 1, sizeof *b), *cnt = xcalloc(n + 1, sizeof *cnt);

	graph_kind_retained(&gt->og.g, gt->idom, gt->ret_bytes, gt->ret_count, (uint32_t)n, b, cnt);
	r->kinds = xcalloc(n + 1, sizeof *r->kinds);
	for (size_t i = 0; i < n; i++)
		if (b[i])
			r->kinds[r->nkinds++] = (struct retained_kind){ (uint32_t)i, b[i], cnt[i] };
	qsort(r->kinds, r->nkinds, sizeof *r->kinds, by_retained);
	free(b);
	free(cnt);
}

static void add_object(const struct graph_take *gt, struct pyproc *p, struct typetab *types, struct retained_report *r,
		       uint32_t v, unsigned depth, size_t *cap)
{
	const struct graph *g = &gt->og.g;
	struct retained_object *o;

	xgrow((void **)&r->objects, cap, r->nobjects + 1, sizeof *r->objects);
	o = &r->objects[r->nobjects++];
	*o = (struct retained_object){ depth, v, g->addr[v], graph_size(g, v), gt->ret_bytes[v], gt->ret_count[v], g->kind[v],
				       objgraph_root_name(v), "" };
	if (p && !o->root)
		pybrief(p, types, o->addr, o->brief, sizeof o->brief);
}

/* The dominator tree depth first from the roots, largest first, down to the threshold. */
static void objects(const struct retained_args *a, struct graph_take *gt, struct retained_report *r)
{
	const struct graph *g = &gt->og.g;
	uint64_t min = (uint64_t)((double)r->heap * a->min_percent / 100), *cursor = xcalloc(MAX_DEPTH + 1, sizeof *cursor);
	uint32_t *first, *kids, stack[MAX_DEPTH + 1];
	struct pyproc *p = graph_take_reader(gt);
	struct typetab types;
	size_t cap = 0, depth = 0;

	if (p)
		typetab_init(&types, p);
	graph_dom_children(g, gt->idom, gt->ret_bytes, &first, &kids);
	stack[0] = GRAPH_ROOT;
	cursor[0] = first[GRAPH_ROOT];
	for (;;) {
		uint32_t u = stack[depth], v;
		if (cursor[depth] >= first[u + 1] || (a->limit && r->nobjects >= a->limit) ||
		    gt->ret_bytes[v = kids[cursor[depth]]] < min || gt->ret_bytes[v] == 0) {
			if (depth-- == 0)
				break;
			continue;
		}
		cursor[depth]++;
		add_object(gt, p, &types, r, v, (unsigned)depth, &cap);
		if (depth < MAX_DEPTH) {
			stack[++depth] = v;
			cursor[depth] = first[v];
		}
	}
	if (p)
		typetab_release(&types);
	free(first);
	free(kids);
	free(cursor);
}

static int retained(struct retained_args *a, struct graph_take *gt, struct pc_err *e)
{
	struct retained_report r = { 0 };
	FILE *out;
	int rc = -1;

	if (graph_take(a->target, &a->opts, a->quiet, gt, e) < 0)
		return -1;
	r.c = &gt->c;
	r.og = &gt->og;
	r.heap = gt->c.total_size;
	kinds(gt, &r);
	objects(a, gt, &r);
	if ((out = output_open(a->output, e))) {
		if (a->format == CLI_FMT_JSON)
			rc = report_retained_json(out, &r, e);
		else if (a->format == CLI_FMT_HTML)
			rc = report_retained_html(out, &r, e);
		else
			rc = a->format == CLI_FMT_CSV ? report_retained_csv(out, &r, e) : report_retained_text(out, &r, a->limit, e);
		rc = rc < 0 ? (output_close(out, NULL), -1) : output_close(out, e);
	}
	free(r.kinds);
	free(r.objects);
	return rc;
}

int cmd_retained(int argc, char **argv)
{
	struct pc_err e = { 0 };
	struct retained_args a;
	struct graph_take gt = { 0 };
	int rc;

	if (parse_args(argc, argv, &a, &e) < 0)
		return cli_fail(&e);
	rc = retained(&a, &gt, &e);
	graph_take_release(&gt);
	return rc < 0 ? cli_fail(&e) : 0;
}
