/* arraymod.h: array.array (Modules/arraymodule.c), whose items live in a buffer of their own:
 * recognising the type and reading the buffer's address and size. The layout is the same in
 * 3.8-3.15 (the DWARF of the pyenv builds' array modules 3.8.18, 3.10.13, 3.12.1, 3.13.0:
 * sizeof(arrayobject) 64, ob_item @24, allocated @32, ob_descr @40; struct arraydescr's int
 * itemsize @4 after char typecode), and tp_basicsize 64 on every interpreter tested. */
#ifndef PC_ARRAYMOD_H
#define PC_ARRAYMOD_H

#include "common/compat.h"
#include "source/pyproc.h"

#define ARRAYMOD_FIELDS 48 /* through ob_descr */

/* The type named array.array with arrayobject's size (a C type: tp_name holds the module). */
bool arraymod_is_array(const char *tp_name, int64_t basicsize, int64_t itemsize);

/* The item buffer of the array whose object's first `have` bytes are at ob: its address and
 * the bytes allocated for it (allocated * itemsize). False when the descriptor is not one of
 * the module's (typecode and itemsize disagree) or the count is implausible. */
bool arraymod_buffer(struct pyproc *p, const uint8_t *ob, size_t have, uint64_t *items, uint64_t *bytes);

#endif
