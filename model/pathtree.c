/* pathtree.c: the merged paths tree's storage (model/pathtree.h). Children are found by a scan of
 * the parent's list: a step has few distinct (kind, key) children. Top-level roots are chained
 * from step 0 through next_sibling. */
#include "common/compat.h"
#include "model/pathtree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

void pathtree_init(struct pathtree *t)
{
	memset(t, 0, sizeof *t);
}

void pathtree_release(struct pathtree *t)
{
	free(t->v);
	memset(t, 0, sizeof *t);
}

uint32_t pathtree_child(struct pathtree *t, uint32_t parent, uint32_t kind, const char *root, const char *key,
			const char *label, bool *created)
{
	uint32_t i = parent == PT_NONE ? (t->n ? 0 : PT_NONE) : t->v[parent].first_child, last = PT_NONE;
	struct pt_step *s;

	*created = false;
	for (; i != PT_NONE; last = i, i = t->v[i].next_sibling)
		if (t->v[i].kind == kind && strcmp(t->v[i].root, root) == 0 && strcmp(t->v[i].key, key) == 0)
			return i;
	xgrow((void **)&t->v, &t->cap, t->n + 1, sizeof *t->v);
	s = &t->v[t->n];
	memset(s, 0, sizeof *s);
	s->parent = parent;
	s->first_child = s->next_sibling = PT_NONE;
	s->kind = kind;
	snprintf(s->root, sizeof s->root, "%s", root);
	snprintf(s->key, sizeof s->key, "%s", key);
	snprintf(s->label, sizeof s->label, "%s", label);
	if (last != PT_NONE)
		t->v[last].next_sibling = (uint32_t)t->n;
	else if (parent != PT_NONE)
		t->v[parent].first_child = (uint32_t)t->n;
	*created = true;
	return (uint32_t)t->n++;
}
