/* cfields.c: the references held in the fields of C types whose layout pycensus does not know
 * (census/walk.h). An extension's object (asyncio's Future and Task, Cython classes, an
 * lru_cache wrapper) keeps most of its references in C fields that no tp_members entry names and
 * only its tp_traverse visits, which cannot be called from outside. Such a type's fixed fields
 * are read word by word: a word that leads to a valid object is taken as a reference, one that
 * does not is no error (it was an int, a C pointer, a flag). Without this, a big bytes object
 * held only as a Future's result was never found (200 results of 30 KB: 6 MB missing on 3.12).
 *
 * Left out: types that pycensus reads by their own rules or shapes, types the GC does not track
 * (they hold no references, by CPython's rule that such objects must be traversable), the words
 * tp_members already names, the instance dict and the weak reference list (read elsewhere, or
 * not references at all), and the weakref types, whose wr_object and list links are borrowed.
 * A few other fields hold borrowed pointers (an lru_cache wrapper's list links, a ContextVar's
 * cached value, 3.11-3.15): they lead to objects alive anyway, held by a strong reference too,
 * and add an edge to the graph that the GC would not visit. */
#include "common/compat.h"
#include "census/walk.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

/* A type is sorted once: CF_UNKNOWN until its first instance, then one of the other two. */
enum { CF_UNKNOWN, CF_SKIP, CF_SCAN };

/* tp_name of the weakref types, before and after 3.12 named them after their module */
static const char *const weakref_names[] = {
	"weakref", "weakproxy", "weakcallableproxy",
	"weakref.ReferenceType", "weakref.ProxyType", "weakref.CallableProxyType",
};

static bool is_weakref_type(const struct pytype *ty)
{
	if (ty->heap || !ty->name)
		return false;
	for (size_t i = 0; i < PC_ARRAY_LEN(weakref_names); i++)
		if (strcmp(ty->name, weakref_names[i]) == 0)
			return true;
	return false;
}

/* Whether slot s or one of its bases is a weakref type (weakref.KeyedRef, WeakMethod). May grow
 * the type table: callers take their pointers into it again. */
static bool derives_from_weakref(struct walk *w, size_t s)
{
	uint64_t base = w->types.v[s].base;

	if (is_weakref_type(&w->types.v[s]))
		return true;
	for (int depth = 0; base && depth < 32; depth++) {
		const struct pytype *b = typetab_get(&w->types, w->p, base);
		if (!b)
			return false;
		if (is_weakref_type(b))
			return true;
		base = b->base;
	}
	return false;
}

static bool is_member(const struct pytype *ty, int64_t off)
{
	for (unsigned i = 0; i < ty->nmember_offs; i++)
		if (ty->member_offs[i] == off)
			return true;
	return false;
}

/* The words of slot s to read: from the end of the object header (and ob_size) to its
 * tp_basicsize, at most CF_WORDS of them, leaving out the known ones. */
static uint8_t sort_type(struct walk *w, size_t s, uint64_t mask[CF_MASK_WORDS])
{
	const struct pyoffsets *o = &w->p->L.off;
	const struct pytype *ty = &w->types.v[s];
	uint64_t weaklist = 0;
	int64_t first, end;

	if (!pytype_fields_unknown(ty))
		return CF_SKIP;
	if (o->tp_weaklistoffset < 0 ||
	    mem_read_u64(&w->p->mem, ty->addr + (uint64_t)o->tp_weaklistoffset, &weaklist, NULL) < 0)
		return CF_SKIP;
	first = o->ob_type + 8 + (ty->itemsize ? 8 : 0);
	end = ty->basicsize < first + 8 * CF_WORDS ? ty->basicsize : first + 8 * CF_WORDS;
	if (end <= first || derives_from_weakref(w, s))
		return CF_SKIP;
	ty = &w->types.v[s]; /* derives_from_weakref may have grown the table */
	memset(mask, 0, CF_MASK_WORDS * sizeof *mask);
	bool any = false;
	for (int64_t off = first; off + 8 <= end; off += 8) {
		if (is_member(ty, off) || off == ty->dictoffset || off == (int64_t)weaklist)
			continue;
		unsigned k = (unsigned)((off - first) / 8);
		mask[k / 64] |= UINT64_C(1) << (k % 64);
		any = true;
	}
	return any ? CF_SCAN : CF_SKIP;
}

static void ensure_room(struct cfields *cf, size_t n)
{
	size_t old = cf->cap;

	if (n <= old)
		return;
	xgrow((void **)&cf->state, &cf->cap, n, sizeof *cf->state);
	cf->mask = xrealloc(cf->mask, cf->cap * CF_MASK_WORDS * sizeof *cf->mask);
	memset(cf->state + old, CF_UNKNOWN, cf->cap - old);
}

void cfields_refs(struct walk *w, int64_t t, const uint8_t *ob, size_t have)
{
	struct cfields *cf = &w->cf;
	const uint64_t *mask;
	size_t s = (size_t)t;
	int64_t first;

	ensure_room(cf, w->types.n);
	if (cf->state[s] == CF_UNKNOWN)
		cf->state[s] = sort_type(w, s, cf->mask + s * CF_MASK_WORDS);
	if (cf->state[s] != CF_SCAN)
		return;
	mask = cf->mask + s * CF_MASK_WORDS;
	first = w->p->L.off.ob_type + 8 + (w->types.v[s].itemsize ? 8 : 0);
	cf->objects++;
	for (unsigned i = 0; i < CF_MASK_WORDS; i++)
		for (uint64_t m = mask[i]; m; m &= m - 1) {
			size_t off = (size_t)first + 8 * (64 * i + (unsigned)__builtin_ctzll(m));
			uint64_t v;
			if (off + 8 > have)
				return;
			memcpy(&v, ob + off, 8);
			follow_candidate(w, v);
		}
}

bool cfields_scanned(const struct walk *w, size_t s)
{
	return s < w->cf.cap && w->cf.state[s] == CF_SCAN;
}

void cfields_release(struct cfields *cf)
{
	free(cf->state);
	free(cf->mask);
	memset(cf, 0, sizeof *cf);
}
