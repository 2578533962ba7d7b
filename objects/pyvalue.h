/* pyvalue.h: values of objects in the target that reports beyond the census need: an int's
 * value, a dict's items, an instance's attribute (from its __dict__ or, 3.11+, its managed or
 * inline values). Like pyobj.h, every read is bounded and a malformed object fails cleanly. */
#ifndef PC_PYVALUE_H
#define PC_PYVALUE_H

#include "common/compat.h"
#include "source/pyproc.h"

/* The value of an int object that fits 64 bits (sign in *neg). Fails on wider values. */
int pylong_read(struct pyproc *p, uint64_t addr, uint64_t *v, bool *neg);

/* Calls fn(key, value) for every live item of the dict at addr, in insertion order, for at most
 * `max` items; fn returns false to stop. Returns the items visited, or -1 when the dict is
 * unreadable or implausible. */
typedef bool (*pydict_fn)(struct pyproc *p, uint64_t key, uint64_t value, void *arg);
long pydict_each(struct pyproc *p, uint64_t dict, size_t max, pydict_fn fn, void *arg);

/* The attribute `name` of an instance of a plain class: 1 and *value when found, 0 when absent,
 * -1 when the object or its type is unreadable. */
int pyobj_attr(struct pyproc *p, uint64_t obj, const char *name, uint64_t *value);

#endif
