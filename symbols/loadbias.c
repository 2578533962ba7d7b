/* loadbias.c: where an ELF file sits in a process: the load bias from the process's maps (the
 * mapping of the file with the lowest offset, matched to the segment it maps). */
#include "common/compat.h"
#include "symbols/elf.h"

#include <inttypes.h>
#include <string.h>
#include <unistd.h>

/* The mapping with the lowest file offset among those of the file: by path when given, else by
 * inode (anonymous mappings have inode 0, so ino 0 matches nothing). */
static const struct map *lowest_mapping(const struct maps *maps, const char *path, uint64_t ino)
{
	const struct map *best = NULL;

	for (size_t i = 0; i < maps->n; i++) {
		const struct map *m = &maps->v[i];
		bool same = path ? m->path && strcmp(m->path, path) == 0 : ino && m->inode == ino;

		if (same && (!best || m->offset < best->offset))
			best = m;
	}
	return best;
}

/* The kernel and ld.so map each segment from the page holding p_offset; a mapping that starts
 * exactly there is that segment's, else take the first segment whose file range holds it. */
static const struct elf_load *load_for_offset(const struct elf_file *f, uint64_t off,
					      uint64_t pagemask)
{
	const struct elf_load *loads;
	size_t n = elf_loads(f, &loads);

	for (size_t i = 0; i < n; i++)
		if ((loads[i].offset & pagemask) == off)
			return &loads[i];
	for (size_t i = 0; i < n; i++) {
		const struct elf_load *l = &loads[i];

		if ((l->offset & pagemask) <= off && off - (l->offset & pagemask) < l->filesz)
			return l;
	}
	return NULL;
}

int elf_load_bias(const struct elf_file *f, const struct maps *maps, const char *mapped_path,
		  uint64_t *bias, struct pc_err *e)
{
	uint64_t pagemask = ~((uint64_t)sysconf(_SC_PAGESIZE) - 1);
	const char *name = mapped_path ? mapped_path : elf_path(f);
	const struct map *m;
	const struct elf_load *l;

	if (!elf_is_pie(f)) {
		*bias = 0;
		return 0;
	}
	m = lowest_mapping(maps, name, 0);
	if (!m)
		m = lowest_mapping(maps, NULL, elf_inode(f));
	if (!m)
		return pc_fail(e, PC_ENOTPYTHON, "%s is not mapped in the process", name);
	l = load_for_offset(f, m->offset, pagemask);
	if (!l)
		return pc_fail(e, PC_ENOTPYTHON, "mapping of %s at file offset %#" PRIx64
			       " matches no segment", name, m->offset);
	/* File offset m->offset sits at m->start; the segment maps its offset page at its vaddr
	 * page plus the bias. Unsigned wrap-around gives the right answer for negative biases. */
	*bias = m->start - (m->offset - (l->offset & pagemask)) - (l->vaddr & pagemask);
	return 0;
}

