/* inspect.c: every inspection on one census, their findings' holder paths, and the ranking by
 * bytes to save (census/inspect.h). */
#include "common/compat.h"
#include "census/inspect.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "census/paths.h"
#include "common/hugepages.h"
#include "common/xalloc.h"

struct ins_finding *ins_add(struct inspection *r, enum ins_kind kind, uint32_t row)
{
	struct ins_finding *f;

	xgrow((void **)&r->f, &r->capf, r->nf + 1, sizeof *r->f);
	f = &r->f[r->nf++];
	memset(f, 0, sizeof *f);
	f->kind = kind;
	f->row = row;
	pathtree_init(&f->t);
	return f;
}

/* The nodes marked in sel, in id order, into *out (malloc'ed), each cleared: only the blocks of 64
 * nodes that dirty names (ins_mark) are looked at, and their bits cleared, where a search from each
 * marked node took a tenth of the inspections' instructions on Sphinx (81639 empty lists in one
 * finding) and a pass over every node per finding 2 % of inspect's. Returns how many. */
static size_t take_marked(uint8_t *sel, uint64_t *dirty, uint32_t n, uint32_t **out)
{
	size_t cap = 256, k = 0;
	uint32_t *v = xmalloc(cap * sizeof *v);

	for (uint32_t w = 0; w <= n >> 12; w++)
		for (; dirty[w]; dirty[w] &= dirty[w] - 1) {
			uint32_t b = (w << 12) + ((uint32_t)__builtin_ctzll(dirty[w]) << 6);
			uint32_t end = n - b < 64 ? n : b + 64;

			for (uint32_t i = b; i < end; i++) {
				uint64_t word;

				if (!(i & 7) && end - i >= 8 && (memcpy(&word, sel + i, 8), !word)) {
					i += 7; /* a block's marks are few: whole zero words skipped */
					continue;
				}
				if (sel[i]) {
					sel[i] = 0;
					if (k == cap)
						xgrow((void **)&v, &cap, k + 1, sizeof *v);
					v[k++] = i;
				}
			}
		}
	*out = v;
	return k;
}

/* f's sample: at most PATH_SAMPLE of the marked nodes, evenly spread over the node order: each
 * object's path costs reads of the target (the label of every step), and a finding may concern
 * 1e5 objects (the copies of a value in every record); their main path and its share are as
 * well told by a sample. */
void ins_paths(struct ins_ctx *x, struct ins_finding *f)
{
	uint32_t *marked;
	size_t n = take_marked(x->sel, x->dirty, x->og->g.n, &marked), kept = 0;

	f->nsample = 0;
	f->sample = xmalloc(PATH_SAMPLE * sizeof *f->sample);
	for (size_t i = 0; i < n && f->nsample < PATH_SAMPLE; i++) {
		/* keep the node when the sample's count reaches the next multiple */
		if (n > PATH_SAMPLE && (i + 1) * PATH_SAMPLE / n <= kept)
			continue;
		kept++;
		f->sample[f->nsample++] = marked[i];
	}
	free(marked);
}

/* Whether the main path of t (report/leaks.c leak_main_path: the root, then at each step the child
 * most objects pass through, if at least half of them) meets a tie in objects through: only the
 * order of the steps, by retained bytes, then chooses. */
static bool main_path_ties(const struct pathtree *t)
{
	uint64_t half = 0;
	uint32_t first = t->first_root;

	for (;;) {
		uint32_t best = PT_NONE, ties = 0;
		for (uint32_t k = first; k != PT_NONE; k = t->v[k].next_sibling) {
			if (t->v[k].through < half)
				continue;
			if (best == PT_NONE || t->v[k].through > t->v[best].through)
				best = k, ties = 0;
			else if (t->v[k].through == t->v[best].through)
				ties++;
		}
		if (best == PT_NONE)
			return false;
		if (ties)
			return true;
		half = (t->v[best].through + 1) / 2;
		first = t->v[best].first_child;
	}
}

/* The labels of t's main path (leak_main_path's steps: the root most objects pass through, then at
 * each step the child most pass through, if at least half of them): the only path the reports
 * print, and the only labels of containers' items read (census/paths.h). */
static void label_main_path(struct pyproc *p, const struct objgraph *og, struct paths_labels *labels,
			    struct pathtree *t)
{
	uint32_t best = PT_NONE;

	for (uint32_t i = t->first_root; i != PT_NONE; i = t->v[i].next_sibling)
		if (best == PT_NONE || t->v[i].through > t->v[best].through)
			best = i;
	for (size_t n = 0; best != PT_NONE && n < PT_MAX_DEPTH; n++) {
		uint64_t half = (t->v[best].through + 1) / 2;
		uint32_t next = PT_NONE;

		paths_label_step(p, og, labels, t, best);
		for (uint32_t k = t->v[best].first_child; k != PT_NONE; k = t->v[k].next_sibling)
			if (t->v[k].through >= half && (next == PT_NONE || t->v[k].through > t->v[next].through))
				next = k;
		best = next;
	}
}

size_t inspect_paths(struct pyproc *p, const struct census *c, const struct objgraph *og, const uint64_t *retained,
		     struct inspection *r)
{
	size_t tied = 0;

	if (!r->labels) {
		r->labels = xmalloc(sizeof *r->labels);
		paths_labels_init(r->labels);
	}
	for (size_t i = 0; i < r->nf; i++) {
		struct ins_finding *f = &r->f[i];
		if (!f->nsample)
			continue;
		paths_merge_nodes(p, c, og, r->parents, retained, f->sample, f->nsample, r->labels, &f->t);
		pathtree_sort(&f->t);
		if (!retained && main_path_ties(&f->t)) {
			pathtree_release(&f->t); /* merged again with retained bytes */
			pathtree_init(&f->t);
			tied++;
			continue;
		}
		label_main_path(p, og, r->labels, &f->t);
		free(f->sample);
		f->sample = NULL;
		f->nsample = 0;
	}
	return tied;
}

struct inspect_reach {
	pthread_t thread;
	const struct graph *g;
	const uint32_t *parents;
	atomic_bool stop;     /* set when no finding needs it: the thread ends within 65536 nodes */
	bool ok;              /* r filled */
	struct graph_reach r;
};

static void *reach_main(void *arg)
{
	struct inspect_reach *t = arg;

	t->ok = graph_reach_prepare(t->g, t->parents, &t->stop, &t->r);
	return NULL;
}

/* The pass starts on its own thread; without one (pthread_create refused) it is made when asked. */
static void reach_start(struct inspection *r, const struct graph *g)
{
	struct inspect_reach *t = xcalloc(1, sizeof *t);

	t->g = g;
	t->parents = r->parents;
	atomic_init(&t->stop, false);
	if (pthread_create(&t->thread, NULL, reach_main, t) != 0) {
		free(t);
		return;
	}
	r->reach = t;
}

/* Waits for the pass (stopped first unless `want`); returns its result, NULL if it was stopped or
 * never started. Either way r->reach is gone once the caller releases what it got. */
static struct inspect_reach *reach_join(struct inspection *r, bool want)
{
	struct inspect_reach *t = r->reach;

	if (!t)
		return NULL;
	if (!want)
		atomic_store(&t->stop, true);
	pthread_join(t->thread, NULL);
	r->reach = NULL;
	if (t->ok)
		return t;
	free(t);
	return NULL;
}

static void reach_release(struct inspect_reach *t)
{
	if (!t)
		return;
	graph_reach_release(&t->r);
	free(t);
}

uint64_t *inspect_sample_retained(const struct objgraph *og, struct inspection *r)
{
	struct inspect_reach *t = reach_join(r, true);
	const struct graph *g = &og->g;
	uint32_t *nodes = NULL;
	uint64_t *bytes, *retained = huge_alloc((size_t)g->n * sizeof *retained);
	size_t n = 0, cap = 0;
	bool ok;

	for (size_t i = 0; i < r->nf; i++) {
		if (!r->f[i].nsample) /* its sample is NULL: merged already */
			continue;
		xgrow((void **)&nodes, &cap, n + r->f[i].nsample + 1, sizeof *nodes);
		memcpy(nodes + n, r->f[i].sample, r->f[i].nsample * sizeof *nodes);
		n += r->f[i].nsample;
	}
	/* zeroed here: calloc's memory is fresh only when mapped for it, and otherwise calloc writes
	 * every 4 KiB page of it (500 faults on Sphinx) */
	retained = retained ? memset(retained, 0, (size_t)g->n * sizeof *retained) : xcalloc(g->n ? g->n : 1, sizeof *retained);
	bytes = xmalloc((n ? n : 1) * sizeof *bytes);
	/* past a few passes over the graph the dominator tree is cheaper (graph.h) */
	if (t)
		ok = graph_retained_of_reach(g, r->parents, &t->r, nodes, n, 4 * ((uint64_t)g->n + g->nedges), bytes);
	else
		ok = graph_retained_of(g, r->parents, nodes, n, 4 * ((uint64_t)g->n + g->nedges), bytes);
	reach_release(t);
	for (size_t i = 0; ok && i < n; i++)
		retained[nodes[i]] = bytes[i];
	free(nodes);
	free(bytes);
	if (!ok) {
		free(retained);
		retained = NULL;
	}
	return retained;
}

uint32_t ins_row(const struct census *c, const char *kind)
{
	size_t r = census_row_index(c, kind);

	return r == STRINDEX_NONE ? GRAPH_NONE : (uint32_t)r;
}

static int by_save(const void *a, const void *b)
{
	const struct ins_finding *x = a, *y = b;

	if (x->save != y->save)
		return x->save < y->save ? 1 : -1;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	if (x->kind != y->kind)
		return (x->kind > y->kind) - (x->kind < y->kind);
	/* a total order: equal findings of one inspection (one empty dict under each of two holders)
	 * are listed the same way by every census of the same heap, whatever qsort does with ties */
	if (x->row != y->row)
		return (x->row > y->row) - (x->row < y->row);
	return strcmp(x->what, y->what);
}

static int by_objects(const void *a, const void *b)
{
	const struct ins_skip *x = a, *y = b;

	return (x->objects < y->objects) - (x->objects > y->objects);
}

/* At most o->top findings of each inspection, the most to save (r->f sorted by save), and the
 * top classes left out by instances: the __slots__ advisor finds every class it can size. */
static void keep_top(struct inspection *r, size_t top)
{
	size_t kept[INS_NKINDS] = { 0 }, n = 0;

	for (size_t i = 0; i < r->nf; i++) {
		if (kept[r->f[i].kind]++ >= top) {
			pathtree_release(&r->f[i].t);
			free(r->f[i].sample);
			continue;
		}
		r->f[n++] = r->f[i];
	}
	r->nf = n;
	if (r->nskip) /* skip is NULL when no class was left out */
		qsort(r->skip, r->nskip, sizeof *r->skip, by_objects);
	r->nskip = r->nskip < top ? r->nskip : top;
}

/* The containers and held-from-C inspections, on a thread of their own while the first runs the
 * duplicates and the __slots__ advisor: they read the graph, the census and the scan's container
 * records only, never the target (whose reader is the first thread's), and write their findings
 * and marks to their own context (Sphinx: 28 M instructions of the inspections' 75 M). */
struct ins_side {
	pthread_t thread;
	bool started;         /* else it ran on the first thread, in side_start */
	struct ins_ctx x;
	struct inspection r;
	struct inspect_scan *s;
};

static void side_run(struct ins_side *t)
{
	inspect_containers(&t->x, t->s);
	inspect_held(&t->x);
}

static void *side_main(void *arg)
{
	side_run(arg);
	return NULL;
}

static struct ins_side *side_start(const struct ins_ctx *x, struct inspect_scan *s)
{
	struct ins_side *t = xcalloc(1, sizeof *t);

	t->x = *x;
	t->x.r = &t->r;
	t->x.sel = xcalloc(x->og->g.n ? x->og->g.n : 1, 1);
	t->x.dirty = xcalloc(((size_t)x->og->g.n >> 12) + 1, sizeof *t->x.dirty);
	t->s = s;
	t->started = pthread_create(&t->thread, NULL, side_main, t) == 0;
	if (!t->started)
		side_run(t); /* no thread: here, now */
	return t;
}

/* Waits for the side's inspections and appends their findings to r's, in the order they would
 * have had on one thread (the ranking that follows is a total order anyway). */
static void side_join(struct ins_side *t, struct inspection *r)
{
	if (t->started)
		pthread_join(t->thread, NULL);
	if (t->r.nf) {
		xgrow((void **)&r->f, &r->capf, r->nf + t->r.nf, sizeof *r->f);
		memcpy(r->f + r->nf, t->r.f, t->r.nf * sizeof *r->f);
		r->nf += t->r.nf;
	}
	free(t->r.f);
	free(t->x.sel);
	free(t->x.dirty);
	free(t);
}

void inspect_run(struct pyproc *p, const struct census *c, const struct objgraph *og, struct inspect_scan *s,
		 const struct inspect_opts *o, struct inspection *r)
{
	struct ins_ctx x = { .p = p, .c = c, .og = og, .o = o, .r = r };
	struct ins_side *side;

	memset(r, 0, sizeof *r);
	x.parents = r->parents = paths_parents(&og->g);
	reach_start(r, &og->g);
	x.sel = xcalloc(og->g.n ? og->g.n : 1, 1);
	x.dirty = xcalloc(((size_t)og->g.n >> 12) + 1, sizeof *x.dirty);
	r->unhashed = s->unhashed;
	r->big_ints = s->big_ints;
	side = side_start(&x, s);
	inspect_duplicates(&x, s);
	inspect_slots(&x);
	side_join(side, r);
	if (r->nf) /* f is NULL when nothing was found */
		qsort(r->f, r->nf, sizeof *r->f, by_save);
	keep_top(r, o->top);
	free(x.sel);
	free(x.dirty);
}

void inspection_release(struct inspection *r)
{
	reach_release(reach_join(r, false));
	for (size_t i = 0; i < r->nf; i++) {
		pathtree_release(&r->f[i].t);
		free(r->f[i].sample);
	}
	free(r->f);
	free(r->parents);
	if (r->labels)
		paths_labels_release(r->labels);
	free(r->labels);
	free(r->skip);
	memset(r, 0, sizeof *r);
}
