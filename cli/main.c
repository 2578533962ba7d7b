/* main.c: pycensus's entry point: the subcommand table and the top-level help. */
#include "common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attach/stop.h"
#include "cli/commands.h"

#ifndef PC_VERSION
#define PC_VERSION "unknown" /* the Makefile passes tools/version's answer */
#endif

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "snap", cmd_snap, "one census of a running process: objects and bytes per kind (guppy3's partition)" },
	{ "stats", cmd_stats, "pymalloc's arenas, pools and size classes, fragmentation, the GC, process memory" },
	{ "stacks", cmd_stacks, "where every thread is: Python frames, thread names, the GIL holder (--native: C frames too)" },
	{ "run", cmd_run, "start a Python program, sample its heap over time and as it exits" },
	{ "diff", cmd_diff, "what changed between two CSV censuses (or a time series' first and last sample)" },
	{ "why", cmd_why, "why objects are alive: the shortest paths from the roots to a kind or an object, merged" },
	{ "retained", cmd_retained, "what keeps memory alive: kinds and objects by retained size (the dominator tree)" },
	{ "leaks", cmd_leaks, "leak suspects: what grew between two censuses, and what holds the new objects" },
	{ "inspect", cmd_inspect, "where memory is wasted: duplicate strings, __slots__, containers, each with bytes to save" },
	{ "top", cmd_top, "live view of a running process: kinds by size and how fast they grow" },
	{ "serve", cmd_serve, "Prometheus metrics over HTTP: a census of each process every interval, /metrics" },
	{ "dump", cmd_dump, "a heap dump: one census's reads, compressed to a FILE that snap, why, retained, stacks, stats analyse" },
	{ "capture", cmd_capture, "debugging aid: a census that saves everything it read to an image FILE" },
	{ "replay", cmd_replay, "debugging aid: the census of a captured image FILE, without the process" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pycensus <command> [options] ...\n"
		"\n"
		"A census of a running CPython (3.8-3.15) heap, read from outside: how many objects of each\n"
		"kind live in the process and how many bytes they take. The target is stopped while its memory\n"
		"is read (copying the arenas takes most of that), never written to, and always resumed.\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < PC_ARRAY_LEN(commands); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"examples:\n"
		"  pycensus snap 12345                  top 20 kinds by size\n"
		"  pycensus snap -n 0 -f csv -o heap.csv 12345\n"
		"  pycensus stats 12345                 sys._debugmallocstats(), gc and memory figures\n"
		"  pycensus stacks --native 12345\n"
		"  pycensus run -i 2 -o series.csv -f csv -- python3 app.py\n"
		"  pycensus diff series.csv             what grew from the first to the last sample\n"
		"  pycensus top 12345                   live view\n"
		"  pycensus why --kind __main__.Request 12345\n"
		"  pycensus dump -o app.pcheap 12345    pause once; then snap app.pcheap, anywhere\n"
		"\n"
		"'pycensus <command> --help' tells more.\n\n");
	cli_print_exit_codes(out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("pycensus %s\n", PC_VERSION);
		return 0;
	}
	cli_version = PC_VERSION;
	stop_install_handlers();
	for (size_t i = 0; i < PC_ARRAY_LEN(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "pycensus: bad usage: unknown command '%s' (fix: see 'pycensus --help')\n", argv[1]);
	return 2;
}
