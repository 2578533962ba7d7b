/* inspect.c: every inspection on one census, their findings' holder paths, and the ranking by
 * bytes to save (census/inspect.h). */
#include "common/compat.h"
#include "census/inspect.h"

#include <stdlib.h>
#include <string.h>
#include "census/paths.h"
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

/* Keeps at most PATH_SAMPLE of the nodes marked in sel, evenly spread over the node order: each
 * object's path costs reads of the target (the label of every step), and a finding may concern
 * 1e5 objects (the copies of a value in every record); their main path and its share are as
 * well told by a sample. */
static void sample(uint8_t *sel, uint32_t n)
{
	uint64_t marked = 0, seen = 0, kept = 0;

	for (uint32_t v = paths_next_selected(sel, 0, n); v < n; v = paths_next_selected(sel, v + 1, n))
		marked += sel[v];
	if (marked <= PATH_SAMPLE)
		return;
	for (uint32_t v = paths_next_selected(sel, 0, n); v < n; v = paths_next_selected(sel, v + 1, n)) {
		/* keep the node when the sample's count reaches the next multiple */
		if ((seen++ + 1) * PATH_SAMPLE / marked > kept)
			kept++;
		else
			sel[v] = 0;
	}
}

void ins_paths(struct ins_ctx *x, struct ins_finding *f)
{
	uint32_t n = x->og->g.n;

	sample(x->sel, n);
	f->nsample = 0;
	f->sample = xmalloc(PATH_SAMPLE * sizeof *f->sample);
	for (uint32_t v = paths_next_selected(x->sel, 0, n); v < n && f->nsample < PATH_SAMPLE;
	     v = paths_next_selected(x->sel, v + 1, n))
		f->sample[f->nsample++] = v;
	memset(x->sel, 0, n);
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

size_t inspect_paths(struct pyproc *p, const struct census *c, const struct objgraph *og, const uint64_t *retained,
		     struct inspection *r)
{
	uint8_t *sel = xcalloc(og->g.n ? og->g.n : 1, 1);
	size_t tied = 0;

	for (size_t i = 0; i < r->nf; i++) {
		struct ins_finding *f = &r->f[i];
		if (!f->nsample)
			continue;
		for (uint32_t k = 0; k < f->nsample; k++)
			sel[f->sample[k]] = 1;
		paths_merge(p, c, og, r->parents, retained, sel, &f->t);
		pathtree_sort(&f->t);
		for (uint32_t k = 0; k < f->nsample; k++)
			sel[f->sample[k]] = 0;
		if (!retained && main_path_ties(&f->t)) {
			pathtree_release(&f->t); /* merged again with retained bytes */
			pathtree_init(&f->t);
			tied++;
			continue;
		}
		free(f->sample);
		f->sample = NULL;
		f->nsample = 0;
	}
	free(sel);
	return tied;
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
	return (x->kind > y->kind) - (x->kind < y->kind);
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

void inspect_run(struct pyproc *p, const struct census *c, const struct objgraph *og, struct inspect_scan *s,
		 const struct inspect_opts *o, struct inspection *r)
{
	struct ins_ctx x = { .p = p, .c = c, .og = og, .o = o, .r = r };

	memset(r, 0, sizeof *r);
	x.parents = r->parents = paths_parents(&og->g);
	x.sel = xcalloc(og->g.n ? og->g.n : 1, 1);
	r->unhashed = s->unhashed;
	r->big_ints = s->big_ints;
	inspect_duplicates(&x, s);
	inspect_slots(&x);
	inspect_containers(&x, s);
	inspect_held(&x);
	if (r->nf) /* f is NULL when nothing was found */
		qsort(r->f, r->nf, sizeof *r->f, by_save);
	keep_top(r, o->top);
	free(x.sel);
}

void inspection_release(struct inspection *r)
{
	for (size_t i = 0; i < r->nf; i++) {
		pathtree_release(&r->f[i].t);
		free(r->f[i].sample);
	}
	free(r->f);
	free(r->parents);
	free(r->skip);
	memset(r, 0, sizeof *r);
}
