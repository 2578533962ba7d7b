/* nativesym.c: address -> (object, symbol + offset) for a process's mappings. */
#include "common/compat.h"
#include "symbols/nativesym.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "symbols/elf.h"
#include "symbols/debugfile.h"

/* More distinct files than this in one process's stacks is not worth opening. */
#define MAX_OBJECTS 256

struct fsym {
	uint64_t start, size; /* runtime addresses */
	const char *name;     /* in the elf_file's string table */
	unsigned rank;        /* preference among aliases: exported > global > local */
};

struct nobj {
	char *path;           /* as the maps name it */
	const char *base;     /* its basename */
	struct elf_file *elf; /* NULL when it did not open */
	uint64_t bias;
	bool no_symtab;
	struct fsym *syms;
	size_t n, cap;
};

struct nativesym {
	pid_t pid;
	const struct maps *maps;
	struct nobj *objs;
	size_t n, cap;
};

struct nativesym *nativesym_new(pid_t pid, const struct maps *maps)
{
	struct nativesym *ns = xcalloc(1, sizeof *ns);

	ns->pid = pid;
	ns->maps = maps;
	return ns;
}

void nativesym_free(struct nativesym *ns)
{
	if (!ns)
		return;
	for (size_t i = 0; i < ns->n; i++) {
		elf_close(ns->objs[i].elf);
		free(ns->objs[i].syms);
		free(ns->objs[i].path);
	}
	free(ns->objs);
	free(ns);
}

static bool collect(const struct elf_sym *s, void *arg)
{
	struct nobj *o = arg;

	if (!s->size || !s->value || !s->name || !s->name[0])
		return true;
	xgrow((void **)&o->syms, &o->cap, o->n + 1, sizeof *o->syms);
	o->syms[o->n++] = (struct fsym){ s->value + o->bias, s->size, s->name,
					 s->dynamic ? 2u : s->local ? 0u : 1u };
	return true;
}

/* By address; among aliases of one address the preferred name sorts last. */
static int cmp_sym(const void *a, const void *b)
{
	const struct fsym *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (int)x->rank - (int)y->rank;
}

static void load(struct nativesym *ns, struct nobj *o)
{
	char full[PATH_MAX + 32];

	proc_mapped_file(ns->pid, ns->maps, o->path, full, sizeof full);
	o->elf = elf_open(full, NULL);
	if (!o->elf || elf_load_bias(o->elf, ns->maps, o->path, &o->bias, NULL) < 0)
		return;
	/* A stripped library's names from its detached debug file, when installed. */
	elf_find_debug_for(o->elf, ns->pid, o->path, NULL);
	o->no_symtab = !elf_has_symtab(o->elf);
	elf_symbols_each(o->elf, collect, o);
	qsort(o->syms, o->n, sizeof *o->syms, cmp_sym);
}

static struct nobj *object_for(struct nativesym *ns, const char *path)
{
	const char *slash = strrchr(path, '/');
	struct nobj *o;

	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->objs[i].path, path) == 0)
			return &ns->objs[i];
	if (ns->n >= MAX_OBJECTS)
		return NULL;
	xgrow((void **)&ns->objs, &ns->cap, ns->n + 1, sizeof *ns->objs);
	o = &ns->objs[ns->n++];
	memset(o, 0, sizeof *o);
	o->path = xstrdup(path);
	o->base = slash ? strrchr(o->path, '/') + 1 : o->path;
	load(ns, o);
	return o;
}

/* The symbol that contains addr: the last one starting at or before it, or an enclosing one a
 * few entries back (nested or overlapping symbols). */
static const struct fsym *find(const struct nobj *o, uint64_t addr)
{
	size_t lo = 0, hi = o->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o->syms[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo, k = 0; i > 0 && k < 16; i--, k++) {
		const struct fsym *s = &o->syms[i - 1];
		if (addr - s->start < s->size)
			return s;
	}
	return NULL;
}

void nativesym_lookup(struct nativesym *ns, uint64_t addr, bool return_address, struct native_name *out)
{
	uint64_t look = return_address && addr ? addr - 1 : addr;
	const struct map *m = maps_find(ns->maps, look);
	const struct nobj *o;
	const struct fsym *s;

	memset(out, 0, sizeof *out);
	out->object = "[unmapped]";
	out->offset = addr;
	if (!m)
		return;
	if (!m->path[0] || m->path[0] == '[') {
		out->object = m->path[0] ? m->path : "[anon]";
		out->offset = addr - m->start;
		return;
	}
	o = object_for(ns, m->path);
	if (!o) {
		out->object = m->path;
		return;
	}
	out->object = o->base;
	out->from_dynsym_only = o->elf && o->no_symtab;
	out->offset = o->elf ? addr - o->bias : addr;
	if (o->elf && (s = find(o, look))) {
		out->symbol = s->name;
		out->offset = addr - s->start;
	}
}
