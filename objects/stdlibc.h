/* stdlibc.h: C types of the standard library whose size or references reach past their struct,
 * known by name (heap types from 3.12/3.13 on: no symbol to find them by) and by the struct size
 * the layout gives (python/layout_fields.def): collections.deque, whose items lie in a chain of
 * blocks that sys.getsizeof counts and that nothing but the deque leads to, the _io buffered
 * objects, whose __sizeof__ counts their buffer, and _io.BytesIO, whose buffer is a bytes object
 * only it leads to (counted as that bytes object). OrderedDict, a dict with nodes of its own, is
 * found by its exported type (PyODict_Type) instead. */
#ifndef PC_STDLIBC_H
#define PC_STDLIBC_H

#include "common/compat.h"
#include "objects/types.h"
#include "python/layout.h"

/* RULE_DEQUE, RULE_BUFFERED or RULE_ARRAY for a type of that name and struct size, else
 * RULE_DEFAULT (and for a deque when the layout does not describe its blocks). */
enum size_rule stdlibc_rule_by_name(const struct pylayout *L, const char *tp_name, int64_t basicsize, int64_t itemsize);

/* _io.BytesIO, whose bytes are a bytes object (buf) no tp_members names. */
bool stdlibc_is_bytesio(const struct pylayout *L, const char *tp_name, int64_t basicsize);

/* The name of a type above that the layout does not describe (tables from headers only), static
 * text, or NULL. */
const char *stdlibc_unreadable(const struct pylayout *L, const char *tp_name);

/* sys.getsizeof of a deque, a buffered object, and what an OrderedDict adds to its dict's, from
 * the object's first `have` bytes at ob (basicsize when they lack the fields). */
uint64_t stdlibc_deque_sizeof(const struct pylayout *L, int64_t basicsize, const uint8_t *ob, size_t have);
uint64_t stdlibc_buffered_sizeof(const struct pylayout *L, int64_t basicsize, const uint8_t *ob, size_t have);
uint64_t stdlibc_odict_extra(const struct pylayout *L, const uint8_t *ob, size_t have, uint64_t used);

/* Where a deque's items are: the block holding the next one, its slot there, the items left. */
struct deque_cursor {
	uint64_t block, slot, left;
};
#define STDLIBC_BLOCK_MAX 1024 /* bytes of a block a reader must have room for (528 in 3.8-3.15) */
/* The first item's place, from the deque's first `have` bytes; false for an empty deque or fields
 * that are none of a deque's (a length past 2^31, an index beyond a block). */
bool stdlibc_deque_first(const struct pylayout *L, const uint8_t *ob, size_t have, struct deque_cursor *c);
/* Of the block c->block whose bytes are b (deque_block_size of them): the items of it in use, as
 * *n references at the returned pointer; c moves to the next block (left 0 at the end; block 0
 * with items left when the chain breaks off: a deque that changed as it was read). */
const uint8_t *stdlibc_deque_items(const struct pylayout *L, const uint8_t *b, struct deque_cursor *c, uint64_t *n);

#endif
