/* linetable.h: the line number of a bytecode offset, from a code object's line table, decoded as
 * each CPython version does it (pure logic: the bytes are copied from the target first).
 *
 *   3.8, 3.9  co_lnotab:     (bytecode delta, signed line delta) byte pairs
 *   3.10      co_linetable:  (bytecode delta, signed line delta) pairs, -128 = no line
 *   3.11+     co_linetable:  the location table (entries of 1-8 code units, varint line deltas)
 *
 * `addr` is a byte offset into the code (3.10+ frames count code units: multiply by 2). Every
 * function reads only tab[0, len) and returns the line, or -1 when the table has no line for addr
 * (as PyCode_Addr2Line does); a negative addr gives firstlineno, as in CPython. */
#ifndef PC_LINETABLE_H
#define PC_LINETABLE_H

#include "common/compat.h"

int linetable_lnotab(const uint8_t *tab, size_t len, int firstlineno, int addr);
int linetable_310(const uint8_t *tab, size_t len, int firstlineno, int addr);
int linetable_locations(const uint8_t *tab, size_t len, int firstlineno, int addr);

#endif
