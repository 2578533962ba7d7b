/* nativesym.h: naming native code addresses of a process: the mapping that holds an address, and
 * the ELF symbol around it (.symtab and .dynsym through libelf, files opened through
 * /proc/PID/root, runtime address = symbol value + the mapping's load bias; a stripped file's
 * .symtab from its detached debug file when one is installed, see elf_find_debug_for). Each file is opened
 * once and its symbols sorted once. Files come from the target and are untrusted: a file that
 * does not open or has no symbols just leaves its addresses unnamed. */
#ifndef PC_NATIVESYM_H
#define PC_NATIVESYM_H

#include "common/compat.h"
#include <sys/types.h>
#include "attach/procfs.h"

struct nativesym;

struct native_name {
	const char *object; /* basename of the mapping's file, "[vdso]", "[anon]"...; never NULL */
	const char *symbol; /* NULL when unknown; owned by the nativesym */
	uint64_t offset;    /* address - symbol start; or, without a symbol, address - load bias */
	bool from_dynsym_only; /* no .symtab, own or detached: only exported functions have names */
};

/* maps must outlive the result. */
struct nativesym *nativesym_new(pid_t pid, const struct maps *maps);
void nativesym_free(struct nativesym *ns); /* accepts NULL */

/* Names addr. For a return address (every frame but the innermost) pass the address itself; the
 * lookup uses addr - 1 so a call that ends a function is named after that function. Always
 * fills *out. */
void nativesym_lookup(struct nativesym *ns, uint64_t addr, bool return_address, struct native_name *out);

#endif
