/* pathtree.c: the merged paths tree's storage (model/pathtree.h). Children are found by a scan of
 * the parent's list: a step has few distinct (kind, key) children. */
#include "common/compat.h"
#include "model/pathtree.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

void pathtree_init(struct pathtree *t)
{
	memset(t, 0, sizeof *t);
	t->first_root = PT_NONE;
}

void pathtree_release(struct pathtree *t)
{
	free(t->v);
	memset(t, 0, sizeof *t);
}

static const struct pathtree *sort_tree;

static int by_weight(const void *x, const void *y)
{
	const struct pt_step *a = &sort_tree->v[*(const uint32_t *)x], *b = &sort_tree->v[*(const uint32_t *)y];

	if (a->retained != b->retained)
		return a->retained < b->retained ? 1 : -1;
	if (a->through != b->through)
		return a->through < b->through ? 1 : -1;
	return (*(const uint32_t *)x > *(const uint32_t *)y) - (*(const uint32_t *)x < *(const uint32_t *)y);
}

/* Re-links one sibling list starting at *head in weight order. */
static void sort_siblings(struct pathtree *t, uint32_t *head, uint32_t *buf)
{
	size_t n = 0;

	for (uint32_t i = *head; i != PT_NONE; i = t->v[i].next_sibling)
		buf[n++] = i;
	if (n < 2)
		return;
	sort_tree = t;
	qsort(buf, n, sizeof *buf, by_weight);
	*head = buf[0];
	for (size_t k = 0; k + 1 < n; k++)
		t->v[buf[k]].next_sibling = buf[k + 1];
	t->v[buf[n - 1]].next_sibling = PT_NONE;
}

void pathtree_sort(struct pathtree *t)
{
	uint32_t *buf;

	if (!t->n)
		return;
	/* a sibling list is at most all steps long */
	buf = xmalloc(t->n * sizeof *buf);
	for (size_t i = 0; i < t->n; i++)
		sort_siblings(t, &t->v[i].first_child, buf);
	sort_siblings(t, &t->first_root, buf);
	free(buf);
}

/* snprintf(dst, len, "%s", src) without its format parsing (a third of pathtree_child's cost). */
static void copy_text(char *dst, size_t len, const char *src)
{
	size_t k = strnlen(src, len - 1);

	memcpy(dst, src, k);
	dst[k] = '\0';
}

uint32_t pathtree_child(struct pathtree *t, uint32_t parent, uint32_t kind, const char *root, const char *key,
			const char *label, bool *created)
{
	uint32_t i = parent == PT_NONE ? t->first_root : t->v[parent].first_child, last = PT_NONE;
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
	copy_text(s->root, sizeof s->root, root);
	copy_text(s->key, sizeof s->key, key);
	copy_text(s->label, sizeof s->label, label);
	if (last != PT_NONE)
		t->v[last].next_sibling = (uint32_t)t->n;
	else if (parent != PT_NONE)
		t->v[parent].first_child = (uint32_t)t->n;
	else
		t->first_root = (uint32_t)t->n;
	*created = true;
	return (uint32_t)t->n++;
}
