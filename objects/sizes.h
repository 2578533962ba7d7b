/* sizes.h: sys.getsizeof of an object from its bytes, per CPython version (docs/cpython.md 5.1, 5.2).
 * The formulas are pure functions (unit-tested); sizes_object() gathers their inputs, reading the
 * few out-of-object fields (dict keys, code extras, module defs) through the memory reader. */
#ifndef PC_SIZES_H
#define PC_SIZES_H

#include "common/compat.h"
#include "objects/types.h"

/* getsizeof adds this before-object part (GC header, managed dict/weakref words). */
uint64_t size_preheader(const struct pylayout *L, const struct pytype *ty, bool obj_is_heap_type);

uint64_t size_int(const struct pylayout *L, uint64_t ndigits);
uint64_t size_str(const struct pylayout *L, uint64_t length, unsigned kind, bool compact, bool ascii,
		  bool has_data, uint64_t utf8_extra, uint64_t wstr_extra);
uint64_t size_var(int64_t basicsize, int64_t itemsize, int64_t ob_size);
uint64_t size_list(int64_t basicsize, uint64_t allocated);
uint64_t size_set(int64_t basicsize, bool external_table, uint64_t mask);
/* The keys object's own size (_PyDict_KeysSize). */
uint64_t size_dict_keys(const struct pylayout *L, uint64_t dk_size, uint64_t index_bytes, unsigned entry_size);
/* usable: 2/3 of the slots (USABLE_FRACTION) */
uint64_t size_dict(const struct pylayout *L, int64_t basicsize, bool split, uint64_t split_values,
		   bool owns_keys, uint64_t keys_size);

/* sys.getsizeof of the object at addr of type ty; obj holds its first `have` bytes locally. */
/* The end of the fixed fields the sizes and references of rule r read without further checks
 * (for var-sized types, ob_size too): a type whose tp_basicsize is smaller cannot have that layout,
 * and an object copy shorter than this cannot be read by the rule. */
size_t sizes_rule_fields(const struct pylayout *L, enum size_rule r, bool var_sized);
uint64_t sizes_object(struct pyproc *p, const struct pytype *ty, uint64_t addr, const uint8_t *obj, size_t have);
/* The keys header sizes_object() reads outside the object (fields at obj, have bytes) to size it
 * (a heap type's shared keys, a dict's keys): 1 with [*addr, *addr + *len), else 0. For reading
 * many ahead in one batch (attach/mem.h mem_prefetch). */
int sizes_keys_read(const struct pyproc *p, const struct pytype *ty, const uint8_t *obj, size_t have, uint64_t *addr,
		    uint32_t *len);

/* The bytes the object itself was allocated with, pre-header excluded: basicsize plus its items
 * (str: the compact header and characters; a 3.11+ generator or frame object: basicsize only,
 * its frame slots are not in its header). 0 when the header is implausible. */
uint64_t sizes_alloc_request(const struct pylayout *L, const struct pytype *ty, const uint8_t *ob);

/* ndigits of an int (|ob_size| before 3.12, lv_tag >> 3 from 3.12). */
uint64_t size_int_ndigits(const struct pylayout *L, const uint8_t *obj);

#endif
