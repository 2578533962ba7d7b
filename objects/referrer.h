/* referrer.h: how one object holds another, in the words a path to it shows: "['cache']" (a dict
 * value under that key), "[3]" (a list or tuple item), ".handler" (an attribute, a slot or a
 * member), ".__dict__", ".__closure__", ".cell_contents". Read from the target after a census, for
 * the few references a report names; a reference that changed since is simply not found. */
#ifndef PC_REFERRER_H
#define PC_REFERRER_H

#include "common/compat.h"
#include "objects/types.h"

/* Fills buf with how the object at `from` references the object at `to`: 1 when found, 0 when
 * not (buf ""), never more than len bytes. */
int referrer_label(struct pyproc *p, struct typetab *types, uint64_t from, uint64_t to, char *buf, size_t len);

#endif
