/* ehtable.h: where the binary-search table of a mapped object's .eh_frame_hdr lies in a process,
 * found from the process's memory alone (the ELF header and program headers the loader mapped
 * with the object's first page, then PT_GNU_EH_FRAME). So the unwinder needs no file: it works
 * for a file deleted since it was mapped, one in another mount namespace or chroot, the vDSO, and
 * through any live thread. Memory is untrusted: every header field is bounded and checked. */
#ifndef PC_EHTABLE_H
#define PC_EHTABLE_H

#include "common/compat.h"
#include "attach/mem.h"
#include "attach/procfs.h"

struct ehtable {
	uint64_t start, end; /* the object's mapped range (every mapping of its file) */
	uint64_t hdr;        /* runtime address of .eh_frame_hdr: the table's offsets are from it */
	uint64_t table;      /* runtime address of the table: nfde (initial location, FDE) pairs of
	                      * 4-byte signed offsets from hdr, sorted */
	uint64_t nfde;
};

/* The object mapped at ip and its table. Fails (-1) for anonymous memory (JIT code), an object
 * without PT_GNU_EH_FRAME, a table encoded other than GCC and LLVM's linkers write it, or
 * headers that do not read or do not check out. */
int ehtable_find(struct mem *m, const struct maps *maps, uint64_t ip, struct ehtable *out);

#endif
