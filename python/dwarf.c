/* dwarf.c: the rows of layout_fields.def from an interpreter's DWARF. One pass over the units
 * indexes every named type at unit level (first complete definition of each tag, first typedef
 * of each name); each row is then a few lookups and a short walk of one struct's members. */
#include "common/compat.h"
#include "python/dwarf.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"

/* Bounds for untrusted DWARF; real builds stay far below them. */
#define MAX_PATH_PARTS 8     /* "types.builtins.initialized" has 3 */
#define MAX_TYPE_CHAIN 16    /* typedef -> const -> typedef -> struct ... */
#define MAX_ANON_DEPTH 8     /* anonymous struct inside anonymous union inside ... */
#define MAX_NAME 128         /* a type or member name in a row */
#define MAX_MEMBERS 100000   /* members of one struct walked */

/* One row of layout_fields.def. */
struct row {
	const char *types; /* "A|B" */
	const char *paths; /* "a.b|c", NULL for a SIZE row */
	size_t at;         /* offsetof(struct pyoffsets, field) */
};

static const struct row rows[] = {
#define OFF(field, type, path) { type, path, offsetof(struct pyoffsets, field) },
#define SIZE(field, type) { type, NULL, offsetof(struct pyoffsets, field) },
#include "python/layout_fields.def"
#undef OFF
#undef SIZE
};

/* Name spaces of C types: tags are apart from typedef names. */
enum ns { NS_STRUCT, NS_UNION, NS_ENUM, NS_TYPEDEF, NS_BASE };

struct entry {
	const char *name; /* in libdw's string data; NULL for an empty slot */
	uint32_t hash;
	enum ns ns;
	Dwarf_Die die;
};

struct index {
	struct entry *v;
	size_t cap, n; /* cap is a power of two, at most half full */
};

static uint32_t hash_name(enum ns ns, const char *s, size_t len)
{
	uint32_t h = 2166136261u ^ (uint32_t)ns; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static struct entry *slot(const struct index *ix, enum ns ns, const char *name, size_t len, uint32_t h)
{
	size_t mask = ix->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct entry *x = &ix->v[i];

		if (!x->name || (x->hash == h && x->ns == ns && strncmp(x->name, name, len) == 0 &&
				 x->name[len] == '\0'))
			return x;
	}
}

static void grow(struct index *ix)
{
	struct index old = *ix;

	ix->cap = old.cap ? 2 * old.cap : 4096;
	ix->v = xcalloc(ix->cap, sizeof *ix->v);
	for (size_t i = 0; i < old.cap; i++)
		if (old.v[i].name)
			*slot(ix, old.v[i].ns, old.v[i].name, strlen(old.v[i].name), old.v[i].hash) = old.v[i];
	free(old.v);
}

/* The first entry of a name wins. */
static void add(struct index *ix, enum ns ns, const char *name, Dwarf_Die *die)
{
	size_t len = strlen(name);
	uint32_t h = hash_name(ns, name, len);
	struct entry *x;

	if (2 * (ix->n + 1) > ix->cap)
		grow(ix);
	x = slot(ix, ns, name, len, h);
	if (x->name)
		return;
	*x = (struct entry){ .name = name, .hash = h, .ns = ns, .die = *die };
	ix->n++;
}

static bool find(const struct index *ix, enum ns ns, const char *name, size_t len, Dwarf_Die *out)
{
	struct entry *x;

	if (!ix->cap)
		return false;
	x = slot(ix, ns, name, len, hash_name(ns, name, len));
	if (!x->name)
		return false;
	*out = x->die;
	return true;
}

static bool is_declaration(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	bool flag = false;

	return dwarf_attr(die, DW_AT_declaration, &a) && dwarf_formflag(&a, &flag) == 0 && flag;
}

static void index_die(struct index *ix, Dwarf_Die *die)
{
	enum ns ns;
	const char *name;

	switch (dwarf_tag(die)) {
	case DW_TAG_structure_type: ns = NS_STRUCT; break;
	case DW_TAG_union_type: ns = NS_UNION; break;
	case DW_TAG_enumeration_type: ns = NS_ENUM; break;
	case DW_TAG_typedef: ns = NS_TYPEDEF; break;
	case DW_TAG_base_type: ns = NS_BASE; break;
	default: return;
	}
	name = dwarf_diename(die);
	if (!name || !name[0])
		return;
	/* A tag is indexed by its complete definition only; declarations are what it completes. */
	if (ns <= NS_ENUM && is_declaration(die))
		return;
	add(ix, ns, name, die);
}

/* Children of die in order; false when there are none or the list is corrupt. Each step must
 * move forward in the section, so a sibling link pointing back cannot loop. */
static bool first_child(Dwarf_Die *die, Dwarf_Die *child)
{
	return dwarf_child(die, child) == 0;
}

static bool next_sibling(Dwarf_Die *die)
{
	Dwarf_Die next;
	Dwarf_Off here = dwarf_dieoffset(die);

	if (dwarf_siblingof(die, &next) != 0 || dwarf_dieoffset(&next) <= here)
		return false;
	*die = next;
	return true;
}

/* Every unit's top-level types: C types live at unit level (those declared inside functions
 * are out of a global lookup's reach, for gdb as here). Partial units (dwz) count too. */
static void build_index(Dwarf *dbg, struct index *ix)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie, die;
	uint8_t unit_type;
	Dwarf_Half version;

	while (dwarf_get_units(dbg, cu, &cu, &version, &unit_type, &cudie, NULL) == 0) {
		int tag = dwarf_tag(&cudie);

		if (tag != DW_TAG_compile_unit && tag != DW_TAG_partial_unit && tag != DW_TAG_type_unit)
			continue;
		if (!first_child(&cudie, &die))
			continue;
		do
			index_die(ix, &die);
		while (next_sibling(&die));
	}
}

/* The type a DIE's DW_AT_type names; false for none (void) or a bad reference. */
static bool type_of(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute a;

	return dwarf_attr(die, DW_AT_type, &a) && dwarf_formref_die(&a, out);
}

/* Follows typedefs and qualifiers; a declared-only struct, union or enum becomes the complete
 * definition of its tag (gdb does the same for opaque types). */
static bool strip(const struct index *ix, Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Die cur = *die;

	for (int i = 0; i < MAX_TYPE_CHAIN; i++) {
		int tag = dwarf_tag(&cur);
		const char *name;
		enum ns ns;

		switch (tag) {
		case DW_TAG_typedef:
		case DW_TAG_const_type:
		case DW_TAG_volatile_type:
		case DW_TAG_restrict_type:
		case DW_TAG_atomic_type:
			if (!type_of(&cur, &cur))
				return false;
			continue;
		case DW_TAG_structure_type: ns = NS_STRUCT; break;
		case DW_TAG_union_type: ns = NS_UNION; break;
		case DW_TAG_enumeration_type: ns = NS_ENUM; break;
		default:
			if (tag < 0)
				return false;
			*out = cur;
			return true;
		}
		if (!is_declaration(&cur)) {
			*out = cur;
			return true;
		}
		name = dwarf_diename(&cur);
		return name && find(ix, ns, name, strlen(name), out);
	}
	return false;
}

static bool is_aggregate(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);

	return tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
}

/* DW_AT_data_member_location: a constant, or (DWARF 2/3) DW_OP_plus_uconst; absent in a union
 * member, where the offset is 0. */
static bool member_location(Dwarf_Die *m, uint64_t *off)
{
	Dwarf_Attribute a;
	Dwarf_Op *ops;
	size_t nops;
	Dwarf_Word v;

	*off = 0;
	if (!dwarf_attr(m, DW_AT_data_member_location, &a))
		return true;
	switch (dwarf_whatform(&a)) {
	case DW_FORM_block1:
	case DW_FORM_block2:
	case DW_FORM_block4:
	case DW_FORM_block:
	case DW_FORM_exprloc:
		if (dwarf_getlocation(&a, &ops, &nops) != 0 || nops != 1 || ops[0].atom != DW_OP_plus_uconst)
			return false;
		*off = ops[0].number;
		return true;
	default:
		if (dwarf_formudata(&a, &v) != 0)
			return false;
		*off = v;
		return true;
	}
}

static bool udata(Dwarf_Die *die, unsigned int name, uint64_t *out)
{
	Dwarf_Attribute a;
	Dwarf_Word v;

	if (!dwarf_attr(die, name, &a) || dwarf_formudata(&a, &v) != 0)
		return false;
	*out = v;
	return true;
}

/* The byte offset gdb gives `&p->member`. For a bit-field that is the start of the storage unit
 * of its declared type holding it (gdb's value_primitive_field), or of its byte when it
 * straddles units. Bit positions: DW_AT_data_bit_offset (DWARF 4+), or DW_AT_bit_offset counted
 * from the most significant bit of a DW_AT_byte_size unit (DWARF 2/3). */
static bool member_offset(const struct index *ix, Dwarf_Die *m, uint64_t *off)
{
	uint64_t bitsize, bitpos, byte, unit, bitoff, cbits;
	Dwarf_Die t;
	int tsize;

	if (!udata(m, DW_AT_bit_size, &bitsize))
		return member_location(m, off);
	if (!type_of(m, &t) || !strip(ix, &t, &t) || (tsize = dwarf_bytesize(&t)) <= 0 || tsize > 8 ||
	    bitsize > 64)
		return false;
	cbits = 8 * (uint64_t)tsize;
	if (!udata(m, DW_AT_data_bit_offset, &bitpos)) {
		if (!member_location(m, &byte) || byte > UINT32_MAX)
			return false;
		bitpos = 8 * byte;
		if (udata(m, DW_AT_bit_offset, &bitoff)) {
			if (!udata(m, DW_AT_byte_size, &unit))
				unit = (uint64_t)tsize;
			if (unit > 8 || bitoff + bitsize > 8 * unit)
				return false;
			bitpos += 8 * unit - bitoff - bitsize;
		}
	}
	if (bitpos > 8 * (uint64_t)INT32_MAX)
		return false;
	*off = (bitpos - (bitpos % cbits + bitsize <= cbits ? bitpos % cbits : bitpos % 8)) / 8;
	return true;
}

/* Looks name up among agg's members like C does: a member of that name, or one inside an
 * anonymous struct or union member. Adds its offset to *off and gives its DIE. */
static bool find_member(const struct index *ix, Dwarf_Die *agg, const char *name, size_t len,
			int depth, uint64_t *off, Dwarf_Die *member)
{
	Dwarf_Die m, inner;
	size_t count = 0;

	if (depth > MAX_ANON_DEPTH || !first_child(agg, &m))
		return false;
	do {
		const char *mn;
		uint64_t mo, sub = 0;

		if (++count > MAX_MEMBERS)
			return false;
		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		mn = dwarf_diename(&m);
		if (mn && strncmp(mn, name, len) == 0 && mn[len] == '\0') {
			if (!member_offset(ix, &m, &mo))
				return false;
			*off += mo;
			*member = m;
			return true;
		}
		if (!mn && type_of(&m, &inner) && strip(ix, &inner, &inner) && is_aggregate(&inner) &&
		    find_member(ix, &inner, name, len, depth + 1, &sub, member)) {
			if (!member_location(&m, &mo))
				return false;
			*off += mo + sub;
			return true;
		}
	} while (next_sibling(&m));
	return false;
}

/* (long)&((type *)0)->path, or -1. */
static int64_t offset_of(const struct index *ix, Dwarf_Die *type, const char *path, size_t plen)
{
	Dwarf_Die cur, member;
	uint64_t off = 0;
	size_t parts = 0;

	if (!strip(ix, type, &cur))
		return -1;
	while (plen > 0) {
		const char *dot = memchr(path, '.', plen);
		size_t n = dot ? (size_t)(dot - path) : plen;

		if (n == 0 || n > MAX_NAME || ++parts > MAX_PATH_PARTS || !is_aggregate(&cur) ||
		    !find_member(ix, &cur, path, n, 0, &off, &member))
			return -1;
		if (!dot)
			break;
		if (!type_of(&member, &cur) || !strip(ix, &cur, &cur))
			return -1;
		path = dot + 1;
		plen -= n + 1;
		if (plen == 0)
			return -1; /* "a." */
	}
	return parts && off <= INT32_MAX ? (int64_t)off : -1;
}

/* sizeof(type), or -1. */
static int64_t size_of(const struct index *ix, Dwarf_Die *type)
{
	Dwarf_Die cur;
	Dwarf_Word size;

	if (!strip(ix, type, &cur))
		return -1;
	if (dwarf_tag(&cur) == DW_TAG_array_type) {
		if (dwarf_aggregate_size(&cur, &size) != 0)
			return -1;
	} else {
		int b = dwarf_bytesize(&cur);

		if (b < 0)
			return -1;
		size = (Dwarf_Word)b;
	}
	return size <= INT32_MAX ? (int64_t)size : -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* One alternative of a row, trimmed: [*s, *s + *len). */
static void trim(const char **s, size_t *len)
{
	while (*len && is_space(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && is_space((*s)[*len - 1]))
		(*len)--;
}

/* A type named as the .def names it: "struct TAG", "union TAG", "enum TAG" or a typedef (then
 * a base type) name. */
static bool lookup_type(const struct index *ix, const char *spec, size_t len, Dwarf_Die *out)
{
	static const struct { const char *kw; enum ns ns; } tags[] = {
		{ "struct", NS_STRUCT }, { "union", NS_UNION }, { "enum", NS_ENUM },
	};

	trim(&spec, &len);
	for (size_t i = 0; i < PC_ARRAY_LEN(tags); i++) {
		size_t k = strlen(tags[i].kw);

		if (len > k && strncmp(spec, tags[i].kw, k) == 0 && is_space(spec[k])) {
			spec += k;
			len -= k;
			trim(&spec, &len);
			return len > 0 && len <= MAX_NAME && find(ix, tags[i].ns, spec, len, out);
		}
	}
	return len > 0 && len <= MAX_NAME &&
	       (find(ix, NS_TYPEDEF, spec, len, out) || find(ix, NS_BASE, spec, len, out));
}

/* Calls each '|' alternative of list in order until fn resolves one (>= 0). */
static int64_t first_alt(const char *list, int64_t (*fn)(const char *s, size_t len, void *arg), void *arg)
{
	while (list) {
		const char *bar = strchr(list, '|');
		size_t len = bar ? (size_t)(bar - list) : strlen(list);
		const char *s = list;
		int64_t v;

		trim(&s, &len);
		if (len > 0 && (v = fn(s, len, arg)) >= 0)
			return v;
		list = bar ? bar + 1 : NULL;
	}
	return -1;
}

struct row_ctx {
	const struct index *ix;
	const char *paths; /* NULL for a size */
	Dwarf_Die type;
};

static int64_t try_path(const char *s, size_t len, void *arg)
{
	struct row_ctx *c = arg;

	return offset_of(c->ix, &c->type, s, len);
}

static int64_t try_type(const char *s, size_t len, void *arg)
{
	struct row_ctx *c = arg;

	if (!lookup_type(c->ix, s, len, &c->type))
		return -1;
	return c->paths ? first_alt(c->paths, try_path, c) : size_of(c->ix, &c->type);
}

struct dwarf_types {
	char *path;
	int fd;
	Elf *elf;
	Dwarf *dbg;
	struct index ix;
};

static int open_error(const char *path, int err, struct pc_err *e)
{
	return pc_fail(e, err == EACCES || err == EPERM ? PC_EPERM : PC_EUNSUPPORTED,
		       "cannot read struct layouts from %s: %s", path, strerror(err));
}

static int check_elf(Elf *elf, const char *path, struct pc_err *e)
{
	GElf_Ehdr eh;

	if (!elf || elf_kind(elf) != ELF_K_ELF || gelf_getclass(elf) != ELFCLASS64 ||
	    !gelf_getehdr(elf, &eh) || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
		return pc_fail(e, PC_EUNSUPPORTED, "cannot read struct layouts from %s: not an x86-64 ELF file",
			       path);
	return 0;
}

/* A .debug_info with bytes (a stripped file may keep the header as SHT_NOBITS). */
static bool has_debug_info(Elf *elf)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS || sh.sh_size == 0)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && (strcmp(name, ".debug_info") == 0 || strcmp(name, ".zdebug_info") == 0))
			return true;
	}
	return false;
}

static int open_dwarf(struct dwarf_types *t, struct pc_err *e)
{
	struct stat st;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return pc_fail(e, PC_EINTERNAL, "libelf refuses ELF version %d", EV_CURRENT);
	/* O_NONBLOCK: the path may come from the target's filesystem and name a FIFO. */
	t->fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (t->fd < 0 || fstat(t->fd, &st) < 0)
		return open_error(t->path, errno, e);
	if (!S_ISREG(st.st_mode))
		return pc_fail(e, PC_EUNSUPPORTED, "cannot read struct layouts from %s: not a regular file",
			       t->path);
	t->elf = elf_begin(t->fd, ELF_C_READ_MMAP, NULL);
	if (check_elf(t->elf, t->path, e) < 0)
		return -1;
	if (!has_debug_info(t->elf))
		return pc_fail(e, PC_EUNSUPPORTED, "cannot read struct layouts from %s: it has no DWARF debug "
			       "information (a stripped file's is in its detached debug file)", t->path);
	t->dbg = dwarf_begin_elf(t->elf, DWARF_C_READ, NULL);
	if (!t->dbg)
		return pc_fail(e, PC_EUNSUPPORTED, "cannot read struct layouts from %s: %s", t->path,
			       dwarf_errmsg(-1));
	return 0;
}

struct dwarf_types *dwarf_types_open(const char *path, struct pc_err *e)
{
	struct dwarf_types *t = xcalloc(1, sizeof *t);

	t->path = xstrdup(path);
	t->fd = -1;
	if (open_dwarf(t, e) < 0) {
		dwarf_types_close(t);
		return NULL;
	}
	build_index(t->dbg, &t->ix);
	return t;
}

/* Releases in reverse order of dwarf_types_open; every member may still be unset. */
void dwarf_types_close(struct dwarf_types *t)
{
	if (!t)
		return;
	free(t->ix.v); /* names in it point into libdw's data: gone with dwarf_end */
	if (t->dbg)
		dwarf_end(t->dbg);
	if (t->elf)
		elf_end(t->elf);
	if (t->fd >= 0)
		close(t->fd);
	free(t->path);
	free(t);
}

size_t dwarf_types_count(const struct dwarf_types *t)
{
	return t->ix.n;
}

int64_t dwarf_types_offset(const struct dwarf_types *t, const char *types, const char *paths)
{
	struct row_ctx c = { .ix = &t->ix, .paths = paths };

	return paths ? first_alt(types, try_type, &c) : -1;
}

int64_t dwarf_types_size(const struct dwarf_types *t, const char *types)
{
	struct row_ctx c = { .ix = &t->ix, .paths = NULL };

	return first_alt(types, try_type, &c);
}

int dwarf_layout_read(const char *path, struct pyoffsets *out, struct pc_err *e)
{
	struct dwarf_types *t = dwarf_types_open(path, e);
	size_t found = 0;

	for (size_t i = 0; i < PC_ARRAY_LEN(rows); i++) {
		int32_t v = -1;

		if (t)
			v = (int32_t)(rows[i].paths ? dwarf_types_offset(t, rows[i].types, rows[i].paths)
					  : dwarf_types_size(t, rows[i].types));
		memcpy((char *)out + rows[i].at, &v, sizeof v);
		found += v >= 0;
	}
	if (!t)
		return -1;
	if (found == 0) {
		pc_fail(e, PC_EUNSUPPORTED, "the DWARF of %s describes none of CPython's structs (%zu types indexed)",
			path, t->ix.n);
		dwarf_types_close(t);
		return -1;
	}
	dwarf_types_close(t);
	return 0;
}
