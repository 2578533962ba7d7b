/* tree.c: a process tree's censuses and their sum. */
#include "common/compat.h"
#include "model/tree.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

void tree_init(struct tree *t, pid_t root)
{
	memset(t, 0, sizeof *t);
	t->root = root;
	census_init(&t->total);
}

void tree_release(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		census_release(&t->v[i].c);
	census_release(&t->total);
	free(t->v);
	memset(t, 0, sizeof *t);
}

struct tree_member *tree_add(struct tree *t)
{
	struct tree_member *m;

	xgrow((void **)&t->v, &t->cap, t->n + 1, sizeof *t->v);
	m = &t->v[t->n++];
	memset(m, 0, sizeof *m);
	census_init(&m->c);
	return m;
}

/* Size classes are matched by block size: two interpreters of different versions can have
 * different classes (8- and 16-byte alignment). */
static void merge_classes(struct census *into, const struct census *from)
{
	for (unsigned i = 0; i < from->nclasses && i < PC_ARRAY_LEN(from->classes); i++) {
		const struct census_sizeclass *f = &from->classes[i];
		unsigned j;

		for (j = 0; j < into->nclasses && into->classes[j].block_size != f->block_size; j++)
			;
		if (j == into->nclasses) {
			if (j >= PC_ARRAY_LEN(into->classes))
				continue;
			into->classes[into->nclasses++] = (struct census_sizeclass){ .block_size = f->block_size };
		}
		into->classes[j].pools += f->pools;
		into->classes[j].blocks += f->blocks;
		into->classes[j].avail += f->avail;
		into->classes[j].objects += f->objects;
	}
}

void tree_merge(struct tree *t, const struct census *c)
{
	for (size_t i = 0; i < c->nrows; i++) {
		const struct census_row *r = &c->rows[i];
		if (strcmp(r->kind, CENSUS_UNATTRIBUTED) == 0) /* blocks, not objects */
			census_add_unattributed(&t->total, r->count, r->size);
		else
			census_add_typed(&t->total, r->kind, r->type, r->module, r->count, r->size);
	}
	merge_classes(&t->total, c);
	t->total.size_alloc = c->size_alloc;
	t->total.narenas += c->narenas;
	t->total.npools += c->npools;
	t->total.nblocks += c->nblocks;
	t->total.pause_s += c->pause_s;
	t->total.wall_s += c->wall_s;
	t->total.rss += c->rss;
	t->censused++;
	t->partial += census_partial(c);
}
