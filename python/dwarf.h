/* dwarf.h: struct layouts read at run time from an interpreter's DWARF (elfutils' libdw): the
 * rows of python/layout_fields.def computed as tools/gen_layouts computes them with gdb, so a
 * build pycensus has no generated table for can still be read when its debug information is at
 * hand (a libpython built with -g, or a distribution's detached .debug file, see
 * elf_find_debug_for in symbols/debugfile.h).
 *
 * Row semantics (those of gdb's `(long)&((TYPE *)0)->PATH` and `sizeof(TYPE)`):
 *   TYPE  "struct TAG" / "union TAG" / "enum TAG" name a tag; a bare name is a typedef (or a base
 *         type by its DWARF name, "long int"). Typedefs and qualifiers are followed; a struct
 *         only declared where the typedef is (an opaque `struct _is` in a non-core unit) is
 *         replaced by the complete definition of the same tag from any unit.
 *   PATH  member names joined by '.', each looked up like C does, through anonymous struct and
 *         union members; every member but the last must be a struct or union held inline
 *         (not a pointer or an array). A bit-field gives what gdb gives: the offset of the
 *         storage unit of its declared type that holds it (of its byte when it straddles two).
 * The first alternative ("A|B") that resolves wins, types outer and paths inner; a row none
 * of whose alternatives resolves is -1.
 *
 * The file is untrusted: every walk is bounded (path components, typedef chains, nesting of
 * anonymous members, sibling lists that must move forward), so corrupt DWARF gives -1 rows or
 * an error, never a crash or a hang. */
#ifndef PC_DWARF_H
#define PC_DWARF_H

#include "common/compat.h"
#include "common/error.h"
#include "python/layout.h"

/* The named types of one file's DWARF, indexed once. */
struct dwarf_types;

/* Opens the ELF file at path and indexes its DWARF types (one pass over every unit). Fails
 * when the file does not open (PC_EPERM, PC_EUNSUPPORTED), is not a 64-bit little-endian x86-64
 * ELF file, or has no DWARF (PC_EUNSUPPORTED). */
struct dwarf_types *dwarf_types_open(const char *path, struct pc_err *e);
void dwarf_types_close(struct dwarf_types *t); /* accepts NULL */
/* How many named types the index holds. */
size_t dwarf_types_count(const struct dwarf_types *t);
/* One row: offset of the first resolving alternative of types ("A|B") x paths ("a.b|c"), or of
 * sizeof for dwarf_types_size; -1 when none resolves. Never fails otherwise. */
int64_t dwarf_types_offset(const struct dwarf_types *t, const char *types, const char *paths);
int64_t dwarf_types_size(const struct dwarf_types *t, const char *types);

/* Fills every field of *out from the DWARF of the ELF file at path (-1 where the build lacks
 * the type or member). Fails, with every field -1, when the file does not open (PC_EPERM,
 * PC_EUNSUPPORTED), is not a 64-bit little-endian x86-64 ELF file, has no DWARF, or its DWARF
 * describes none of the rows (PC_EUNSUPPORTED). */
int dwarf_layout_read(const char *path, struct pyoffsets *out, struct pc_err *e);

#endif
