/* checks.c: assertions several integration tests share: a census against the closure of the
 * target's own heap, and two censuses that must agree. */
#include "common/compat.h"
#include "tests/integration/checks.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/* pycensus may see more objects of these kinds than the closure of gc.get_objects(): objects
 * referenced only from C (identifier strings up to 3.11, code objects' hidden co_localsplusnames
 * tuples and co_localspluskinds bytes from 3.11, the interned-string table). README explains. */
bool h_c_only_refs(const char *kind)
{
	return strcmp(kind, "str") == 0 || strcmp(kind, "tuple") == 0 || strcmp(kind, "bytes") == 0;
}

/* Every kind with at least 1000 objects in the closure of gc.get_objects(): pycensus finds at
 * least 99 % of them (static objects and large untracked ones included: references lead to them),
 * and no more than 101 % unless the kind is one C-only references explain. */
void h_check_whole_heap(const struct table *b, const struct table *truth, const struct python *py)
{
	for (size_t i = 0; i < truth->n; i++) {
		const struct row *t = &truth->v[i];
		long long mine = strcmp(t->kind, "dict") == 0 ? h_count_prefix(b, "dict ") : h_count(b, t->kind);
		if (t->count < 1000)
			continue;
		fprintf(stderr, "  %-12s %-28s closure %7lld (static %5lld, big untracked %4lld)  pycensus %7lld\n",
			py->label, t->kind, t->count, t->statics, t->big_untracked, mine);
		cr_expect(mine >= t->count * 0.99, "%s: %s: pycensus %lld, expected at least 99%% of %lld", py->label,
			  t->kind, mine, t->count);
		cr_expect(mine <= t->count * 1.01 || h_c_only_refs(t->kind), "%s: %s: pycensus %lld, closure has %lld",
			  py->label, t->kind, mine, t->count);
	}
}

void h_assert_same_table(const struct table *x, const struct table *y, const char *what, const struct python *py)
{
	cr_expect_eq(x->n, y->n, "%s: %s: %zu vs %zu rows", py->label, what, x->n, y->n);
	for (size_t i = 0; i < x->n; i++) {
		const struct row *r = h_row(y, x->v[i].kind);
		cr_expect(r && r->count == x->v[i].count && r->size == x->v[i].size, "%s: %s: row %s differs", py->label,
			  what, x->v[i].kind);
	}
}

