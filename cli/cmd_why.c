/* cmd_why.c: `pycensus why PID --kind KIND | --addr ADDR`: why objects are alive, as the merged
 * shortest paths from the roots (census/paths.h), in text, Graphviz, JSON or HTML. */
#include "common/compat.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "cli/graphtake.h"
#include "census/paths.h"
#include "common/xalloc.h"
#include "report/html.h"
#include "report/json_docs.h"
#include "report/output.h"
#include "report/paths.h"

struct why_args {
	const char *target; /* a PID or a dump (cli/target.h) */
	const char *kind, *output;
	uint64_t addr;
	double min_percent; /* branches retaining less of the selection are summed in one line */
	int format;         /* enum cli_format: text, dot, json or html */
	bool quiet;
	struct snapshot_opts opts;
};

static void why_help(FILE *out)
{
	fprintf(out,
		"usage: pycensus why [options] (--kind KIND | --addr ADDRESS) PID\n"
		"       pycensus why [options] (--kind KIND | --addr ADDRESS) DUMP   (a file from 'pycensus dump')\n"
		"\n"
		"Why objects are alive: takes one census of process PID with its object graph (every\n"
		"reference the census follows), then prints the shortest paths from the roots to the selected\n"
		"objects, merged into one tree (Eclipse MAT's \"merge shortest paths to GC roots\"). Each step\n"
		"names how the one before holds it and its kind: ['receivers'] (a dict value), [3] (an item),\n"
		".handler (an attribute), .__closure__, with the number of selected objects whose path passes\n"
		"there and the bytes they retain (what would be freed if nothing else held them).\n"
		"\n"
		"Roots: (interpreter) is sys.modules, sys.__dict__, builtins and the static types; (thread\n"
		"stacks) the locals of running frames; (held from C) objects whose refcount counts more\n"
		"references than pycensus found (an extension's state, a C local, a C type's fields): a path\n"
		"starts there only when no Python root reaches the object; (unreachable: garbage) cycles\n"
		"the collector has not freed yet.\n"
		"\n"
		"options:\n"
		"      --kind KIND         every object of this kind, as 'pycensus snap' names it\n"
		"                          ('dict of __main__.Request', '__main__.Request', 'list')\n"
		"      --addr ADDRESS      one object, by its address (0x7f..., as 'pycensus retained' lists)\n"
		"      --min PERCENT       show the branches retaining at least this share of what the\n"
		"                          selection retains (default 1; the rest is summed in one line)\n"
		"  -f, --format text|dot|json|html\n"
		"                          output format (default text); dot is a Graphviz graph\n"
		"                          ('dot -Tsvg why.dot -o why.svg' draws it); json has every step\n"
		"                          (no --min cut) with its parent and children; html every step as\n"
		"                          a tree that folds, the branches above 1%% open\n"
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

static int parse_addr(const char *s, uint64_t *v, struct pc_err *e)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 16);
	if (errno || end == s || *end || *v == 0 || (*v & 7))
		return pc_fail(e, PC_EUSAGE, "--addr takes an object's address in hex (0x7f3a...), not '%s'", s);
	return 0;
}

static int parse_args(int argc, char **argv, struct why_args *a, struct pc_err *e)
{
	static const struct option longopts[] = {
		{ "kind", required_argument, NULL, 'k' }, { "addr", required_argument, NULL, 'A' },
		{ "format", required_argument, NULL, 'f' }, { "output", required_argument, NULL, 'o' },
		{ "pause", required_argument, NULL, 'P' }, { "max-memory", required_argument, NULL, 'Y' }, { "quiet", no_argument, NULL, 'q' },
		{ "min", required_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' }, TARGET_LONGOPTS, { 0, 0, 0, 0 },
	};
	int c;

	*a = (struct why_args){ .min_percent = 1 };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': a->kind = optarg; break;
		case 'A': if (parse_addr(optarg, &a->addr, e) < 0) return -1; break;
		case 'f':
			if ((a->format = cli_parse_format(optarg, CLI_FMT(TEXT) | CLI_FMT(DOT) | CLI_FMT(JSON) | CLI_FMT(HTML), e)) < 0)
				return -1;
			break;
		case 'o': a->output = optarg; break;
		case 'm': if (cli_parse_percent(optarg, "--min", &a->min_percent, e) < 0) return -1; break;
		case 'P': if (cli_parse_pause(optarg, &a->opts.pause, e) < 0) return -1; break;
		case 'Y': if (cli_parse_memory(optarg, &a->opts.max_memory, e) < 0) return -1; break;
		case 'q': a->quiet = true; break;
		case 'h': why_help(stdout); exit(0);
		case TARGET_OPT_EXE: case TARGET_OPT_SYSROOT: target_option(c, optarg); break;
		default:
			return pc_fail(e, PC_EUSAGE, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return pc_fail(e, PC_EUSAGE, optind >= argc ? "why needs a PID" : "why takes one PID");
	if (!a->kind == !a->addr)
		return pc_fail(e, PC_EUSAGE, "why needs one selection: --kind KIND or --addr ADDRESS");
	if (a->kind && !a->kind[0])
		return pc_fail(e, PC_EUSAGE, "--kind needs a kind name ('dict of __main__.Request')");
	if (a->format == CLI_FMT_HTML && cli_check_html_output(a->output, e) < 0)
		return -1;
	if (output_check_path(a->output, e) < 0)
		return -1;
	a->target = argv[optind];
	return 0;
}

/* Marks the selected nodes; what[] names the selection; *retained: their retained bytes, each
 * object's set once. */
static int select_nodes(const struct why_args *a, const struct graph_take *gt, uint8_t *sel, char *what, size_t len,
			struct pathtree *t, struct pc_err *e)
{
	const struct graph *g = &gt->og.g;
	uint64_t *kb, *kc;
	size_t row;
	uint32_t v;

	if (a->addr) {
		if ((v = graph_find(g, a->addr)) == GRAPH_NONE || v < OG_FIRST)
			return pc_fail(e, PC_ENOTFOUND, "no object at 0x%llx in the census of %d", (unsigned long long)a->addr, (int)gt->c.pid);
		sel[v] = 1;
		t->selected_retained = gt->ret_bytes[v];
		t->selected_retained_objects = gt->ret_count[v];
		snprintf(what, len, "object at 0x%llx (%s)", (unsigned long long)a->addr,
			 g->kind[v] < gt->c.nrows ? gt->c.rows[g->kind[v]].kind : "?");
		return 0;
	}
	if ((row = census_row_index(&gt->c, a->kind)) == STRINDEX_NONE)
		return pc_fail(e, PC_ENOTFOUND, "no object of kind '%s' in the census of %d", a->kind, (int)gt->c.pid);
	for (v = OG_FIRST; v < g->n; v++)
		sel[v] = g->kind[v] == row;
	kb = xcalloc(gt->c.nrows, sizeof *kb);
	kc = xcalloc(gt->c.nrows, sizeof *kc);
	graph_kind_retained(g, gt->idom, gt->ret_bytes, gt->ret_count, (uint32_t)gt->c.nrows, kb, kc);
	t->selected_retained = kb[row];
	t->selected_retained_objects = kc[row];
	free(kb);
	free(kc);
	snprintf(what, len, "objects of kind '%s'", a->kind);
	return 0;
}

static int write_report(const struct why_args *a, const struct graph_take *gt, const struct pathtree *t,
			const char *what, struct pc_err *e)
{
	FILE *out = output_open(a->output, e);
	int rc;

	if (!out)
		return -1;
	if (a->format == CLI_FMT_JSON)
		rc = report_paths_json(out, &gt->c, &gt->og, t, what, e);
	else if (a->format == CLI_FMT_HTML)
		rc = report_paths_html(out, &gt->c, &gt->og, t, what, e);
	else
		rc = a->format == CLI_FMT_DOT ? report_paths_dot(out, &gt->c, t, what, e)
					      : report_paths_text(out, &gt->c, &gt->og, t, what, a->min_percent, e);
	return rc < 0 ? (output_close(out, NULL), -1) : output_close(out, e);
}

static int why(struct why_args *a, struct graph_take *gt, struct pc_err *e)
{
	struct pathtree t;
	uint8_t *sel;
	uint32_t *parents;
	struct pyproc *p;
	char what[400];
	int rc = -1;

	if (graph_take(a->target, &a->opts, a->quiet, gt, e) < 0)
		return -1;
	sel = xcalloc(gt->og.g.n, 1);
	pathtree_init(&t);
	if (select_nodes(a, gt, sel, what, sizeof what, &t, e) == 0) {
		if (!(p = graph_take_reader(gt)))
			rc = pc_fail(e, PC_EEXITED, "the process exited before the paths' labels were read");
		else {
			parents = paths_parents(&gt->og.g);
			paths_merge(p, &gt->c, &gt->og, parents, gt->ret_bytes, sel, &t);
			free(parents);
			pathtree_sort(&t);
			rc = write_report(a, gt, &t, what, e);
		}
	}
	pathtree_release(&t);
	free(sel);
	return rc;
}

int cmd_why(int argc, char **argv)
{
	struct pc_err e = { 0 };
	struct why_args a;
	struct graph_take gt = { 0 };
	int rc;

	if (parse_args(argc, argv, &a, &e) < 0)
		return cli_fail(&e);
	rc = why(&a, &gt, &e);
	graph_take_release(&gt);
	return rc < 0 ? cli_fail(&e) : 0;
}
