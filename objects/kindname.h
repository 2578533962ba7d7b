/* kindname.h: guppy3's name for a type (guppy/heapy: builtins by their short name, the aliases of
 * the `types` module as `types.X`, `function` and `module` shortened, other classes as
 * `module.Name` with the class's __name__). */
#ifndef PC_KINDNAME_H
#define PC_KINDNAME_H

#include "objects/types.h"

/* The bytes of a heap type's __name__ a kind name takes (its first 127). */
#define KINDNAME_NAME_MAX 128

/* The kind name for the type ty, whose object bytes (heaptype_size of them for heap types) are in
 * b and whose tp_name is tp_name, and in *module the name of the module that defines it: both
 * kept in t's string pool. name_is_ht: tp_name is a heap type's __name__ already, read from its
 * str (shorter than KINDNAME_NAME_MAX), not to be read again. NULL (and *module NULL) when a heap
 * type's name cannot be read. */
const char *kindname_of(struct typetab *t, struct pyproc *p, const struct pytype *ty, const uint8_t *b,
			const char *tp_name, bool name_is_ht, const char **module);

/* The guppy name of a static type from its tp_name, for the target's version. */
const char *kindname_static(const struct pylayout *L, const char *tp_name, char *buf, size_t len);

#endif
