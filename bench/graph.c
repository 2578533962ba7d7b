/* graph.c: the object graph's algorithms (model/graph.c, model/dominators.c) on a synthetic heap
 * shaped like a Python program's, timed phase by phase, with the peak RSS after each phase.
 *
 * The heap: a root with the held-from-C, garbage and modules nodes; per module a module object and
 * its dict, the dict holding ten lists (each under an interned key); each list holds 1000 records.
 * A record is a dict of 10 interned keys (64 shared strs) to 2 fresh strs, a tuple (two shared
 * small ints, the record's strs and a key), a list (3 fresh floats, the first str and the dict
 * itself: a cycle) and 6 shared small ints; every 16th record's dict also references the previous
 * record's dict. One record in a hundred is left out of its list (unreachable cycles: garbage), and
 * one in a hundred has a str whose refcount is one more than its references (an edge from
 * held-from-C). That is 8 objects and about 32 references per record: 4 per object.
 *
 * usage: graph [OBJECTS]   (default 1000000; `make bench-graph` runs 1e6 and 1e7, one process each)
 * prints, per phase: seconds, the phase's own peak RSS (VmHWM, reset before each phase through
 * /proc/self/clear_refs) and the RSS it leaves; then the whole run's peak per node. */
#include "common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/graph.h"

enum { K_DICT, K_STR, K_INT, K_TUPLE, K_LIST, K_FLOAT, K_MODULE, NKINDS };
enum { NKEYS = 64, NINTS = 256, PER_LIST = 1000, LISTS_PER_MODULE = 10 };

struct heap {
	struct graph_builder b;
	uint64_t next_addr;
	uint32_t keys[NKEYS], ints[NINTS];
};

static uint32_t obj(struct heap *h, uint32_t kind, uint64_t size, uint32_t refcnt)
{
	h->next_addr += size < 32 ? 32 : (size + 15) & ~15ULL;
	return graph_add_node(&h->b, h->next_addr, size, kind, refcnt);
}

static void ref(struct heap *h, uint32_t src, uint32_t dst)
{
	graph_add_ref(&h->b, src, h->b.addr[dst]);
}

/* One record; returns its dict. */
static uint32_t record(struct heap *h, uint64_t r, uint32_t prev)
{
	uint32_t d = obj(h, K_DICT, 360, GRAPH_NONE);
	uint32_t s1 = obj(h, K_STR, 40 + r % 24, GRAPH_NONE);
	uint32_t s2 = obj(h, K_STR, 50, r % 100 == 7 ? 3 : 2);
	uint32_t t = obj(h, K_TUPLE, 80, GRAPH_NONE);
	uint32_t l = obj(h, K_LIST, 88, GRAPH_NONE);
	uint32_t vals[10] = { s1, s2, t, l, h->ints[r % NINTS], h->ints[(r + 1) % NINTS], h->ints[(r * 7) % NINTS],
			      h->ints[3], h->ints[(r * 3) % NINTS], h->ints[5] };

	for (int i = 0; i < 10; i++) {
		ref(h, d, h->keys[(r + (uint64_t)i * 5) % NKEYS]);
		ref(h, d, vals[i]);
	}
	if (r % 16 == 0 && prev != GRAPH_NONE)
		ref(h, d, prev);
	ref(h, t, h->ints[r % NINTS]);
	ref(h, t, h->ints[(r + 2) % NINTS]);
	ref(h, t, s1);
	ref(h, t, s2);
	ref(h, t, h->keys[r % NKEYS]);
	for (int i = 0; i < 3; i++)
		ref(h, l, obj(h, K_FLOAT, 24, GRAPH_NONE));
	ref(h, l, s1);
	ref(h, l, d);
	return d;
}

static void fill(struct heap *h, uint64_t objects)
{
	uint64_t nrec = objects / 8, r = 0;
	uint32_t root, held, garbage, modules, prev = GRAPH_NONE;

	root = graph_add_node(&h->b, 0, 0, GRAPH_NONE, GRAPH_NONE);
	held = graph_add_node(&h->b, 0, 0, GRAPH_NONE, GRAPH_NONE);
	garbage = graph_add_node(&h->b, 0, 0, GRAPH_NONE, GRAPH_NONE);
	modules = graph_add_node(&h->b, 0, 0, GRAPH_NONE, GRAPH_NONE);
	graph_add_edge(&h->b, root, modules);
	graph_add_edge(&h->b, root, held);
	graph_add_edge(&h->b, root, garbage);
	for (int i = 0; i < NKEYS; i++)
		h->keys[i] = obj(h, K_STR, 48, GRAPH_NONE);
	for (int i = 0; i < NINTS; i++)
		h->ints[i] = obj(h, K_INT, 28, GRAPH_NONE);
	while (r < nrec) {
		uint32_t mod = obj(h, K_MODULE, 72, GRAPH_NONE), mdict = obj(h, K_DICT, 1200, GRAPH_NONE);

		graph_add_edge(&h->b, modules, mod);
		ref(h, mod, mdict);
		for (int li = 0; li < LISTS_PER_MODULE && r < nrec; li++) {
			uint32_t list = obj(h, K_LIST, 56 + 8 * PER_LIST, GRAPH_NONE);

			ref(h, mdict, h->keys[li % NKEYS]);
			ref(h, mdict, list);
			for (int i = 0; i < PER_LIST && r < nrec; i++, r++) {
				uint32_t d = record(h, r, prev);

				if (r % 100 != 42)
					ref(h, list, d);
				prev = d;
			}
		}
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* VmHWM or VmRSS of /proc/self/status, in MiB. */
static double status_mib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	double kb = -1024;

	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, field, strlen(field)))
			kb = strtod(line + strlen(field) + 1, NULL);
	if (f)
		fclose(f);
	return kb / 1024;
}

/* Since Linux 4.0, writing 5 resets the peak RSS (proc(5), clear_refs). */
static void reset_peak(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");

	if (f) {
		fputs("5", f);
		fclose(f);
	}
}

static double peak_all; /* the largest phase peak: clear_refs resets getrusage's too */

static double lap(const char *phase, double t0)
{
	double t = now();

	if (status_mib("VmHWM:") > peak_all)
		peak_all = status_mib("VmHWM:");
	printf("  %-14s %7.3f s   phase peak RSS %7.1f MiB   RSS after %7.1f MiB\n", phase, t - t0,
	       status_mib("VmHWM:"), status_mib("VmRSS:"));
	fflush(stdout);
	reset_peak();
	return now();
}

int main(int argc, char **argv)
{
	uint64_t objects = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
	static struct heap h;
	struct graph g;
	uint32_t *idom, *parent, *kids;
	uint64_t *rb, *rc, kb[NKINDS], kc[NKINDS];
	uint32_t *kfirst;
	double t, start, base = status_mib("VmRSS:");

	graph_builder_init(&h.b);
	reset_peak();
	start = t = now();
	fill(&h, objects);
	t = lap("fill builder", t);
	graph_build(&h.b, &g, 1, 2);
	t = lap("graph_build", t);
	graph_drop_parents(&g); /* as graph_take does before the dominators */
	idom = graph_idom(&g);
	t = lap("graph_idom", t);
	rb = malloc(g.n * sizeof *rb);
	rc = malloc(g.n * sizeof *rc);
	graph_retained(&g, idom, rb, rc);
	t = lap("retained", t);
	graph_kind_retained(&g, idom, rb, rc, NKINDS, kb, kc);
	t = lap("kind_retained", t);
	graph_dom_children(&g, idom, rb, &kfirst, &kids);
	t = lap("dom_children", t);
	parent = graph_bfs_parents(&g, NULL);
	t = lap("bfs_parents", t);
	printf("nodes %u  edges %lu (%.2f per node)  unresolved %lu  held %lu  unreachable %lu\n", g.n,
	       (unsigned long)g.nedges, (double)g.nedges / g.n, (unsigned long)g.unresolved, (unsigned long)g.held,
	       (unsigned long)g.unreachable);
	printf("root retains %lu bytes in %lu objects; dicts retain %lu bytes\n", (unsigned long)rb[0],
	       (unsigned long)rc[0], (unsigned long)kb[K_DICT]);
	printf("total %.3f s  peak RSS %.1f MiB (%.1f at start): %.1f bytes per node\n", t - start, peak_all, base,
	       (peak_all - base) * 1048576.0 / g.n);
	free(parent);
	free(kfirst);
	free(kids);
	free(rb);
	free(rc);
	free(idom);
	graph_release(&g);
	return 0;
}
