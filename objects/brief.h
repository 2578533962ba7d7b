/* brief.h: a short description of one object read from the target, for reports that list single
 * objects: a str's first characters, a module's or function's name, a container's length. */
#ifndef PC_BRIEF_H
#define PC_BRIEF_H

#include "common/compat.h"
#include "objects/types.h"

/* Fills buf (always terminated; "" when nothing short can be said). */
void pybrief(struct pyproc *p, struct typetab *types, uint64_t addr, char *buf, size_t len);

#endif
