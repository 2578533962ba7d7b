/* ehtable.c: an object's .eh_frame_hdr table from the process's memory. */
#include "common/compat.h"
#include "symbols/ehtable.h"

#include <elf.h>
#include <string.h>

/* DWARF pointer encodings (LSB 5.0, "DWARF Exception Header Encoding"). */
#define PE_UDATA4 0x03
#define PE_SDATA4 0x0b
#define PE_DATAREL 0x30

/* More program headers than this is not an object a loader mapped. */
#define MAX_PHDRS 64

/* Every mapping of the file mapped at m: the one at file offset 0 (its ELF header) and the range
 * all of them span. The vDSO is one object in one mapping. */
static const struct map *object_range(const struct maps *maps, const struct map *m, uint64_t *start, uint64_t *end)
{
	const struct map *base = NULL;

	*start = m->start;
	*end = m->end;
	if (!m->inode)
		return strcmp(m->path, "[vdso]") == 0 ? m : NULL;
	for (size_t i = 0; i < maps->n; i++) {
		const struct map *o = &maps->v[i];
		if (o->inode != m->inode || strcmp(o->path, m->path) != 0)
			continue;
		if (o->offset == 0 && (!base || o->start < base->start) && o->start <= m->start)
			base = o;
		*start = o->start < *start ? o->start : *start;
		*end = o->end > *end ? o->end : *end;
	}
	return base;
}

/* The load bias from the segment mapped at file offset 0, and the runtime address of
 * PT_GNU_EH_FRAME; false when the headers do not check out. */
static bool eh_frame_hdr(struct mem *mem, const struct maps *maps, uint64_t base, uint64_t *hdr, uint64_t *len)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[MAX_PHDRS];
	uint64_t bias = 0, eh_vaddr = 0;
	bool have_bias = false;

	if (mem_read(mem, base, &eh, sizeof eh, NULL) < 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof *ph || eh.e_phnum == 0 ||
	    eh.e_phnum > MAX_PHDRS || eh.e_phoff > (1u << 20) ||
	    !maps_readable(maps, base + eh.e_phoff, (uint64_t)eh.e_phnum * sizeof *ph) ||
	    mem_read(mem, base + eh.e_phoff, ph, eh.e_phnum * sizeof *ph, NULL) < 0)
		return false;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0 && !have_bias) {
			bias = base - (ph[i].p_vaddr & ~(uint64_t)4095);
			have_bias = true;
		} else if (ph[i].p_type == PT_GNU_EH_FRAME) {
			eh_vaddr = ph[i].p_vaddr;
			*len = ph[i].p_memsz;
		}
	}
	if (!have_bias || !eh_vaddr)
		return false;
	*hdr = eh_vaddr + bias;
	return true;
}

int ehtable_find(struct mem *m, const struct maps *maps, uint64_t ip, struct ehtable *out)
{
	const struct map *at = maps_find(maps, ip), *base;
	uint8_t h[12];
	uint32_t n;
	uint64_t len = 0;

	memset(out, 0, sizeof *out);
	if (!at || !(base = object_range(maps, at, &out->start, &out->end)) ||
	    !eh_frame_hdr(m, maps, base->start, &out->hdr, &len) || len < sizeof h ||
	    !maps_readable(maps, out->hdr, sizeof h) || mem_read(m, out->hdr, h, sizeof h, NULL) < 0)
		return -1;
	/* version 1; eh_frame_ptr in 4 bytes; the count as udata4; the table as datarel sdata4 pairs
	 * (what GNU ld, gold, lld and mold write) */
	if (h[0] != 1 || (h[1] & 0x0f) == 0 || ((h[1] & 0x07) != PE_UDATA4) || h[2] != PE_UDATA4 ||
	    h[3] != (PE_DATAREL | PE_SDATA4))
		return -1;
	memcpy(&n, h + 8, 4);
	out->table = out->hdr + sizeof h;
	out->nfde = n;
	if (n == 0 || (uint64_t)n * 8 > len - sizeof h || !maps_readable(maps, out->table, (uint64_t)n * 8))
		return -1;
	return 0;
}
