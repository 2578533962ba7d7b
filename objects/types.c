/* types.c: reading, validating and naming type objects. */
#include "common/compat.h"
#include "objects/types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "attach/prefetch.h"
#include "objects/kindname.h"
#include "objects/pyobj.h"
#include "objects/pyvalue.h"
#include "objects/sizes.h"
#include "objects/stdlibc.h"
#include "python/rules.h"

#define INVALID UINT64_MAX
/* A metatype of a metatype of ...: deeper chains are not real. */
#define MAX_META_DEPTH 8
#define MAX_BASE_DEPTH 64

/* structmember.h (3.8-3.15): T_OBJECT 6, T_OBJECT_EX 16; Py_RELATIVE_OFFSET (3.12+ flag 8) only
 * exists while a type is being created. */
#define T_OBJECT 6
#define T_OBJECT_EX 16
#define RELATIVE_OFFSET 8
#define MAX_MEMBERS 256
#define MEMBER_CHUNK 8
/* The most read_type reads of a type at once (PyHeapTypeObject is 936 bytes in 3.14). */
#define TYPE_READ_MAX 2048

/* The longest type name taken for a real one. */
#define NAME_MAX_LEN 200

/* The filter in front of the index: 2^20 bits, 6 % of them set by 60,000 types. */
#define INDEXED_BITS (1u << 20)

static size_t indexed_bit(uint64_t addr)
{
	return (size_t)((addr * UINT64_C(0x9e3779b97f4a7c15)) >> 44); /* the top 20 bits */
}

/* Whether addr may be in the index: false means it is not. */
static bool maybe_indexed(const struct typetab *t, uint64_t addr)
{
	size_t b = indexed_bit(addr);

	return (t->indexed[b / 64] >> (b % 64)) & 1;
}

static void index_put(struct typetab *t, uint64_t addr, uint64_t v)
{
	size_t b = indexed_bit(addr);

	t->indexed[b / 64] |= UINT64_C(1) << (b % 64);
	ptrmap_put(&t->index, addr, v);
}

void typetab_init(struct typetab *t, struct pyproc *p)
{
	static const struct { enum size_rule rule; const char *sym; } syms[] = {
		{ RULE_INT, "PyLong_Type" }, { RULE_STR, "PyUnicode_Type" }, { RULE_BYTES, "PyBytes_Type" },
		{ RULE_BYTEARRAY, "PyByteArray_Type" }, { RULE_TUPLE, "PyTuple_Type" }, { RULE_LIST, "PyList_Type" },
		{ RULE_DICT, "PyDict_Type" }, { RULE_SET, "PySet_Type" }, { RULE_TYPE, "PyType_Type" },
		{ RULE_CODE, "PyCode_Type" }, { RULE_MODULE, "PyModule_Type" }, { RULE_FLOAT, "PyFloat_Type" },
	};

	memset(t, 0, sizeof *t);
	ptrmap_init(&t->index);
	t->indexed = xcalloc(INDEXED_BITS / 64, sizeof *t->indexed);
	t->numpy = xmalloc(sizeof *t->numpy);
	numpy_types_init(t->numpy);
	for (size_t i = 0; i < PC_ARRAY_LEN(syms); i++)
		t->builtin[syms[i].rule] = pyelf_symbol(&p->elf, syms[i].sym);
	t->dict_type = t->builtin[RULE_DICT];
	t->str_type = t->builtin[RULE_STR];
	t->bool_type = pyelf_symbol(&p->elf, "PyBool_Type");
	t->frozenset_type = pyelf_symbol(&p->elf, "PyFrozenSet_Type");
	t->odict_type = pyelf_symbol(&p->elf, "PyODict_Type");
	t->function_type = pyelf_symbol(&p->elf, "PyFunction_Type");
	t->cell_type = pyelf_symbol(&p->elf, "PyCell_Type");
	t->method_type = pyelf_symbol(&p->elf, "PyMethod_Type");
	t->gen_types[0] = pyelf_symbol(&p->elf, "PyGen_Type");
	t->gen_types[1] = pyelf_symbol(&p->elf, "PyCoro_Type");
	t->gen_types[2] = pyelf_symbol(&p->elf, "PyAsyncGen_Type");
	t->frame_type = pyelf_symbol(&p->elf, "PyFrame_Type");
	/* 3.11+: the frame lives inside the object, whose ob_size CPython overwrites (gi_code in
	 * 3.11, gi_weakreflist later): the default var-sized rule would read a pointer as a count */
	if (p->L.off.gen_iframe >= 0)
		t->builtin[RULE_GEN] = t->gen_types[0];
	/* 3.11+ frame objects too (f_back overwrites it); 3.8-3.10 frames size by their code */
	t->builtin[RULE_FRAME] = t->frame_type;
}

static enum ref_shape shape_of(const struct typetab *t, uint64_t addr)
{
	if (addr == t->function_type)
		return SHAPE_FUNCTION;
	if (addr == t->cell_type)
		return SHAPE_CELL;
	if (addr == t->method_type)
		return SHAPE_METHOD;
	if (addr == t->frame_type)
		return SHAPE_FRAME;
	for (size_t i = 0; i < PC_ARRAY_LEN(t->gen_types); i++)
		if (addr == t->gen_types[i])
			return SHAPE_GEN;
	return SHAPE_PLAIN;
}

void typetab_release(struct typetab *t)
{
	free(t->v);
	free(t->members);
	free(t->met);
	strpool_release(&t->strings);
	ptrmap_release(&t->index);
	free(t->indexed);
	if (t->numpy)
		numpy_types_release(t->numpy);
	free(t->numpy);
	memset(t, 0, sizeof *t);
}

static uint64_t rd64(const uint8_t *b, int32_t off)
{
	uint64_t v;
	memcpy(&v, b + off, 8);
	return v;
}

static bool read_type(struct typetab *t, struct pyproc *p, uint64_t addr, struct pytype *ty, int depth);
static struct pytype *lookup(struct typetab *t, struct pyproc *p, uint64_t addr, int depth);

/* A type being read asks about another (its metatype, its base): it is marked "not a type" first,
 * so a chain that loops back to it ends there. Only then: most classes ask about none, and their
 * one entry in the index is put once. */
static void reading(struct typetab *t, uint64_t addr)
{
	index_put(t, addr, INVALID);
}

/* The __sizeof__ a type's objects have, and whether they are OrderedDicts: its own where
 * pycensus knows it (a builtin by address, frozenset as set's, bool as int's; numpy.ndarray by its
 * module's types; array.array, collections.deque and the _io buffered types by name, `by_name`),
 * else its base's. The base is read as a type (once: the table keeps it), so a subclass is known
 * whatever the order the census meets types in; object, the root, is none of them and is not
 * read (60,000 classes made with type() derive from it alone). */
static void find_rule(struct typetab *t, struct pyproc *p, struct pytype *ty, enum size_rule by_name)
{
	const struct pytype *b;

	ty->rule = by_name;
	ty->odict = ty->addr == t->odict_type;
	if (by_name != RULE_DEFAULT)
		return;
	if (!ty->heap) {
		if (ty->addr == t->frozenset_type)
			ty->rule = RULE_SET;
		else if (t->builtin[RULE_GEN] && (ty->addr == t->gen_types[1] || ty->addr == t->gen_types[2]))
			ty->rule = RULE_GEN;
		for (int r = 1; ty->rule == RULE_DEFAULT && r < RULE_COUNT; r++)
			if (t->builtin[r] && ty->addr == t->builtin[r])
				ty->rule = (enum size_rule)r;
		if (ty->rule == RULE_DEFAULT && numpy_is_ndarray(p, t->numpy, ty->addr))
			ty->rule = RULE_NDARRAY;
		if (ty->rule != RULE_DEFAULT)
			return;
	}
	if (!ty->base || ty->base == p->object_type || t->base_depth >= MAX_BASE_DEPTH)
		return;
	reading(t, ty->addr);
	t->base_depth++;
	b = lookup(t, p, ty->base, 0);
	t->base_depth--;
	if (b) {
		ty->rule = b->rule;
		ty->odict = ty->odict || b->odict;
	}
}

/* The length of the UTF-8 sequence at s (a valid one: no overlong form, no surrogate, at most
 * U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned need = s[0] >= 0xf0 && s[0] <= 0xf4 ? 3 : s[0] >= 0xe0 ? 2 : s[0] >= 0xc2 && s[0] < 0xe0 ? 1 : 0;
	uint32_t cp = s[0] & (0x3fu >> need);

	if (!need)
		return 0;
	for (unsigned k = 1; k <= need; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3fu);
	}
	if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need + 1;
}

/* A type's name as CPython allows it: printable ASCII, valid UTF-8 (class Über: tp_name is the
 * UTF-8 of the identifier), and the tab or newline type() accepts; what garbage rarely is. */
static bool plausible_name(const char *s)
{
	size_t n = strlen(s), k;
	bool printable = false;

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i += k) {
		unsigned char ch = (unsigned char)s[i];
		k = 1;
		if (ch >= 0x20 && ch < 0x7f) /* isprint() in the C locale pycensus runs in */
			printable = true;
		else if (ch >= 0x80) {
			if (!(k = utf8_len((const unsigned char *)s + i)))
				return false;
			printable = true;
		} else if (ch != '\t' && ch != '\n')
			return false;
	}
	return printable;
}

/* Reads and checks the PyTypeObject at addr; fills ty on success. */

static bool valid_metatype(struct typetab *t, struct pyproc *p, uint64_t addr, uint64_t meta, int depth)
{
	struct pytype *m;

	if (meta == p->type_type)
		return true;
	if (depth >= MAX_META_DEPTH)
		return false;
	reading(t, addr);
	m = lookup(t, p, meta, depth);
	return m && (m->flags & PC_TPFLAGS_TYPE_SUBCLASS);
}

/* See struct pytype: n_fields from a struct sequence's class dict, and datetime's naive objects. */
static void alloc_rules(struct pyproc *p, struct pytype *ty, const char *tp_name, bool dotted)
{
	uint64_t v, n;
	bool neg;

	if ((ty->flags & PC_TPFLAGS_TUPLE_SUBCLASS) && ty->itemsize == 8 && ty->dict &&
	    pydict_get_str(p, ty->dict, "n_fields", &v) == 1 && pylong_read(p, v, &n, &neg) == 0 && !neg &&
	    n > 0 && n < 1024)
		ty->alloc_items = (uint32_t)n;
	if (dotted && (strcmp(tp_name, "datetime.time") == 0 || strcmp(tp_name, "datetime.datetime") == 0))
		ty->alloc_short = 8; /* sizeof(PyObject *): the tzinfo member */
}

/* The offset of the PyObject * member described by the PyMemberDef at m: 0 at the array's end
 * (a NULL name), -1 for any other member. Whether it fits an instance is the caller's check. */
static int64_t member_object_off(const struct pyoffsets *o, const uint8_t *m)
{
	int32_t type, flags;
	int64_t off;

	if (rd64(m, o->mb_name) == 0)
		return 0;
	memcpy(&type, m + o->mb_type, 4);
	memcpy(&flags, m + o->mb_flags, 4);
	memcpy(&off, m + o->mb_offset, 8);
	return (type == T_OBJECT || type == T_OBJECT_EX) && !(flags & RELATIVE_OFFSET) && off >= 16 && !(off & 7) ? off
														 : -1;
}

/* The type's own tp_members, parsed from the bytes read of the type itself (got bytes at b) when
 * the whole array lies within them: a heap type's follows its PyHeapTypeObject. Otherwise
 * typetab_members reads it when asked. */
static void own_members(struct typetab *t, const struct pyoffsets *o, struct pytype *ty, const uint8_t *b, size_t got)
{
	size_t sz = (size_t)o->memberdef_size;
	int32_t offs[MAX_MEMBERS];
	uint16_t n = 0;

	if (!ty->members_addr || sz == 0 || sz > 64 || o->mb_type < 0) {
		ty->own_read = true; /* what read_member_array reads of it: nothing */
		return;
	}
	if (ty->members_addr < ty->addr || ty->members_addr - ty->addr > got)
		return;
	for (size_t at = (size_t)(ty->members_addr - ty->addr), i = 0; at + sz <= got && i < MAX_MEMBERS; at += sz, i++) {
		int64_t off = member_object_off(o, b + at);
		if (off == 0) {
			ty->own_read = true;
			ty->own_offs = n ? strpool_copy(&t->strings, offs, n * sizeof *offs) : NULL;
			ty->nown_offs = n;
			return;
		}
		if (off > 0)
			offs[n++] = (int32_t)off;
	}
	/* the array goes on past the bytes read */
}

/* A class whose only base is object, which has no member: its member offsets (typetab_members)
 * are its own, known once it is read, when they all fit an instance and none repeats (else
 * typetab_members drops them, when asked): no second pass over its bases per class. */
static void members_of_object_child(struct typetab *t, const struct pyproc *p, struct pytype *ty)
{
	const struct pytype *ob;

	if (!ty->own_read || ty->base != p->object_type || !t->object_slot)
		return;
	ob = &t->v[t->object_slot - 1];
	if (!ob->own_read || ob->nown_offs || ob->base)
		return;
	for (unsigned i = 0; i < ty->nown_offs; i++) {
		if (ty->own_offs[i] + 8 > ty->basicsize)
			return;
		for (unsigned j = 0; j < i; j++)
			if (ty->own_offs[j] == ty->own_offs[i])
				return;
	}
	ty->member_offs = ty->nown_offs ? ty->own_offs : NULL;
	ty->nmember_offs = ty->nown_offs;
	ty->members_read = true;
}

/* What read_type_bytes reads of a type: its PyHeapTypeObject and the member array after it
 * (want), or its PyTypeObject alone (tsz). */
static void type_read_lens(const struct pyoffsets *o, size_t *want, size_t *tsz)
{
	size_t sz = (size_t)o->memberdef_size;

	*tsz = (size_t)o->type_size;
	*want = (size_t)o->heaptype_size + (sz && sz <= 64 ? MEMBER_CHUNK * sz : 0);
}

/* The type at addr, in *b: its PyHeapTypeObject and the member array after it in one read when
 * they are readable (one syscall per class, not three, on 60,000 classes), else its PyTypeObject
 * alone; in place when a batch read ahead holds it (no copy of 1 KiB per class), else read into
 * buf (len bytes). The bytes there, or 0. */
static size_t read_type_bytes(struct pyproc *p, uint64_t addr, bool covered, uint8_t *buf, size_t len,
			      const uint8_t **b)
{
	const struct pyoffsets *o = &p->L.off;
	size_t tsz, want, hsz = (size_t)o->heaptype_size;

	type_read_lens(o, &want, &tsz);
	/* both sizes may come from the target itself (3.13's _Py_DebugOffsets): bounded here */
	if (hsz > len || tsz > len)
		return 0;
	*b = buf;
	if (want <= len && want >= tsz) {
		/* outside the copies (its first word is not in them, so no more of it is): a batch read
		 * ahead holds it or nothing local does */
		if (!covered)
			*b = p->mem.pf ? prefetch_find(p->mem.pf, addr, want) : NULL;
		else
			*b = mem_peek(&p->mem, addr, want);
		if (*b)
			return want;
		*b = buf;
		if (pyproc_readable(p, addr, want) && mem_read(&p->mem, addr, buf, want, NULL) == 0)
			return want;
	}
	if (pyproc_readable(p, addr, tsz) && mem_read(&p->mem, addr, buf, tsz, NULL) == 0)
		return tsz;
	return 0;
}

/* Whether a candidate was met before in this batch: an arena's blocks name each new class about
 * twice (its instances, its MRO tuple read at another pre-header size), and its bounds and maps
 * checks, and sorting it again, were half the cost. A slot per hash of the address, the last
 * one met there: a candidate that lost its slot is checked again, which costs only the time. */
static bool met_before(const struct typetab *t, uint64_t addr)
{
	/* tagged with the batch in the bits above the address (below 2^48: typetab_prefetch drops
	 * the others), so that the table is not cleared for each: what another batch left there
	 * matches nothing */
	uint64_t *slot = &t->met[(addr * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - PREFETCH_MET_BITS)];
	uint64_t tag = (addr & ((UINT64_C(1) << 48) - 1)) | (uint64_t)t->met_batch << 48;

	if (*slot == tag)
		return true;
	*slot = tag;
	return false;
}

/* pyproc_readable, asking first the mapping the last readable range lay in (a heap's classes are
 * malloc neighbours: one mapping holds run after run of them; the search of the maps cost 120
 * instructions a class). */
static bool readable_near(struct pyproc *p, const struct map **last, uint64_t addr, uint64_t len)
{
	if (*last && addr >= (*last)->start && len <= (*last)->end - addr)
		return true;
	if (!pyproc_readable(p, addr, len))
		return false;
	*last = maps_find(&p->maps, addr);
	return true;
}

void typetab_prefetch(struct typetab *t, struct pyproc *p, const uint64_t *addrs, size_t n)
{
	size_t tsz, want, k = 0, head = layout_preheader(&p->L, PC_TPFLAGS_HAVE_GC);
	const struct map *last = NULL;
	uint64_t *a;
	uint32_t *l;

	type_read_lens(&p->L.off, &want, &tsz);
	if (n == 0 || tsz == 0 || want > TYPE_READ_MAX || tsz > TYPE_READ_MAX)
		return;
	a = xmalloc(n * sizeof *a);
	l = xmalloc(n * sizeof *l);
	if (!t->met || ++t->met_batch == 0) { /* new, or its 65,535 tags spent */
		if (!t->met)
			t->met = xmalloc(sizeof *t->met << PREFETCH_MET_BITS);
		memset(t->met, 0, sizeof *t->met << PREFETCH_MET_BITS);
		t->met_batch = 1;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t addr = addrs[i];
		/* what read_type would not read: known already, misaligned, past user space, inside
		 * the arenas; and a candidate met before in this batch, asked first: its table is
		 * small and warm, the type table's index of 60,000 types is not */
		if (!addr || (addr & 7) || (addr >> 48) || met_before(t, addr) ||
		    (maybe_indexed(t, addr) && ptrmap_get(&t->index, addr, NULL)) ||
		    mem_covered(&p->mem, addr, 8))
			continue;
		if (want >= tsz && addr > head && readable_near(p, &last, addr - head, want + head)) {
			a[k] = addr - head; /* with its GC head: the copy of the class as a GC object */
			l[k++] = (uint32_t)(want + head);
		} else if (pyproc_readable(p, addr, tsz)) {
			a[k] = addr;
			l[k++] = (uint32_t)tsz;
		}
	}
	mem_prefetch(&p->mem, a, l, k);
	free(a);
	free(l);
}

/* sizes_rule_fields, asked once per rule and form: a pure function of the layout (100
 * instructions a class otherwise). */
static uint32_t rule_fields(struct typetab *t, struct pyproc *p, enum size_rule r, bool var_sized)
{
	uint32_t *f = &t->rule_fields[r][var_sized];

	if (!*f)
		*f = (uint32_t)sizes_rule_fields(&p->L, r, var_sized) + 1;
	return *f - 1;
}

/* A heap type's tp_name is the UTF-8 of its __name__ (type_new_set_name, type_set_name:
 * PyUnicode_AsUTF8 of ht_name), which a compact ASCII str keeps as its own data: then one look at
 * the str gives both, where reading tp_name as a C string and then the str cost 600 instructions
 * a class. True with name filled (len bytes at most) when tp_name is that data, an ASCII str
 * shorter than len that plausible_name() passes (checked here as it is copied: *dotted says
 * whether it holds a dot); false to read them apart. */
static bool heap_name(struct pyproc *p, uint64_t ht_name, uint64_t tp_name, char *name, size_t len, bool *dotted)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t hs = (uint64_t)o->ascii_size, n;
	const uint8_t *h, *d;
	struct py_str_form f;
	uint32_t state;
	bool printable = false;

	if (!ht_name || hs == 0 || hs > 256 || tp_name != ht_name + hs || o->str_length < 0 || o->str_state < 0 ||
	    (uint64_t)o->str_length + 8 > hs || (uint64_t)o->str_state + 4 > hs)
		return false;
	/* the header and as many bytes as a name may take, in one look when the copy holds them
	 * (an arena's last block may not: then the header alone, and the name after) */
	d = (h = mem_peek(&p->mem, ht_name, hs + len)) != NULL ? h + hs : NULL;
	if (!h && !(h = mem_peek(&p->mem, ht_name, hs)))
		return false;
	memcpy(&n, h + o->str_length, 8);
	memcpy(&state, h + o->str_state, 4);
	f = py_str_form(&p->L, state);
	if (!f.compact || !f.ascii || f.raw_kind != 1 || n == 0 || n >= len ||
	    (!d && !(d = mem_peek(&p->mem, tp_name, n + 1))) || d[n] != 0)
		return false;
	*dotted = false;
	for (uint64_t i = 0; i < n; i++) {
		/* a byte the flag denies (read as pystr_read would take it), or one plausible_name
		 * refuses: as apart, where the name is refused */
		if (d[i] >= 0x7f || (d[i] < 0x20 && d[i] != '\t' && d[i] != '\n'))
			return false;
		printable = printable || d[i] >= 0x20;
		*dotted = *dotted || d[i] == '.';
	}
	if (!printable || n > NAME_MAX_LEN)
		return false;
	memcpy(name, d, n);
	name[n] = '\0';
	return true;
}

static bool read_type(struct typetab *t, struct pyproc *p, uint64_t addr, struct pytype *ty, int depth)
{
	const struct pyoffsets *o = &p->L.off;
	uint8_t buf[TYPE_READ_MAX];
	const uint8_t *b;
	char name[256];
	size_t got;
	bool name_is_ht, dotted, covered;

	if (addr & 7)
		return false;
	/* types (>= 408 bytes) never live in pymalloc's arenas; a free-threaded build's copied
	 * mimalloc pages hold its heap types with the other GC objects */
	covered = mem_covered(&p->mem, addr, 8);
	if ((covered && !py_is_free_threaded(&p->L)) || !(got = read_type_bytes(p, addr, covered, buf, sizeof buf, &b)))
		return false;
	memset(ty, 0, sizeof *ty);
	ty->addr = addr;
	ty->flags = rd64(b, o->tp_flags);
	ty->basicsize = (int64_t)rd64(b, o->tp_basicsize);
	ty->itemsize = (int64_t)rd64(b, o->tp_itemsize);
	ty->dictoffset = (int64_t)rd64(b, o->tp_dictoffset);
	ty->base = rd64(b, o->tp_base);
	ty->dict = rd64(b, o->tp_dict);
	ty->members_addr = rd64(b, o->tp_members);
	ty->heap = (ty->flags & PC_TPFLAGS_HEAPTYPE) != 0;
	if (!(ty->flags & PC_TPFLAGS_READY) || ty->basicsize < 16 || ty->basicsize > (1 << 20) ||
	    ty->itemsize < 0 || ty->itemsize > (1 << 16) || !valid_metatype(t, p, addr, rd64(b, o->ob_type), depth + 1))
		return false;
	/* dotted: what pycensus knows of by name (objects/stdlibc.h, datetime's naive objects) are
	 * types of C modules, whose tp_name is "module.Name": a class named without a dot is none of
	 * them (one class of 60,000 asked seven names in vain) */
	name_is_ht = ty->heap && got >= (size_t)o->heaptype_size &&
		     heap_name(p, rd64(b, o->ht_name), rd64(b, o->tp_name), name, KINDNAME_NAME_MAX, &dotted);
	if (!name_is_ht) {
		if (mem_read_cstr(&p->mem, rd64(b, o->tp_name), name, sizeof name, NULL) < 0 || !plausible_name(name))
			return false;
		dotted = strchr(name, '.') != NULL;
	}
	if (ty->heap) {
		if (got < (size_t)o->heaptype_size) {
			got = (size_t)o->heaptype_size;
			if (mem_read(&p->mem, addr, buf, got, NULL) < 0)
				return false;
			b = buf;
		}
		ty->cached_keys = rd64(b, o->ht_cached_keys);
	}
	ty->pre = layout_preheader(&p->L, ty->flags);
	if (!t->unreadable && dotted)
		t->unreadable = stdlibc_unreadable(&p->L, name);
	find_rule(t, p, ty, dotted ? stdlibc_rule_by_name(&p->L, name, ty->basicsize, ty->itemsize) : RULE_DEFAULT);
	ty->numpy = ty->rule == RULE_NDARRAY ? t->numpy : NULL;
	/* a layout smaller than the fixed fields of the builtin it derives from is garbage */
	ty->fields_end = rule_fields(t, p, ty->rule, ty->itemsize != 0);
	if ((uint64_t)ty->basicsize < ty->fields_end)
		return false;
	ty->exact_dict = addr == t->dict_type;
	ty->shape = shape_of(t, addr);
	/* by name: 3.13+ no longer exports _PyManagedBuffer_Type, and a class statement makes heap types */
	if (!ty->heap && strcmp(name, "managedbuffer") == 0)
		ty->shape = SHAPE_MANAGEDBUFFER;
	else if (dotted && stdlibc_is_bytesio(&p->L, name, ty->basicsize))
		ty->shape = SHAPE_BYTESIO;
	alloc_rules(p, ty, name, dotted);
	ty->name = kindname_of(t, p, ty, b, name, name_is_ht, &ty->module);
	if (ty->name) {
		own_members(t, o, ty, b, got);
		members_of_object_child(t, p, ty);
	}
	return ty->name != NULL;
}

static struct pytype *lookup(struct typetab *t, struct pyproc *p, uint64_t addr, int depth)
{
	uint64_t slot;
	struct pytype ty;

	t->lookups++;
	if (addr == 0) /* a type whose ob_type or base is NULL (fuzzing found it: ptrmap key 0) */
		return NULL;
	if (maybe_indexed(t, addr) && ptrmap_get(&t->index, addr, &slot))
		return slot == INVALID ? NULL : &t->v[slot - 1];
	if (!read_type(t, p, addr, &ty, depth)) {
		index_put(t, addr, INVALID);
		t->rejected++;
		return NULL;
	}
	xgrow((void **)&t->v, &t->cap, t->n + 1, sizeof *t->v);
	t->v[t->n] = ty;
	index_put(t, addr, ++t->n);
	if (addr == p->object_type)
		t->object_slot = t->n;
	return &t->v[t->n - 1];
}

struct pytype *typetab_get(struct typetab *t, struct pyproc *p, uint64_t addr)
{
	if (addr == 0)
		return NULL;
	return lookup(t, p, addr, 0);
}


/* Gathers off in t->members (typetab_members), unless it does not fit the instance or is there. */
static void add_member(struct typetab *t, int64_t basicsize, int64_t off)
{
	if (off + 8 > basicsize)
		return;
	for (size_t i = 0; i < t->nmembers; i++)
		if (t->members[i] == off)
			return;
	xgrow((void **)&t->members, &t->capmembers, t->nmembers + 1, sizeof *t->members);
	t->members[t->nmembers++] = (int32_t)off;
}

/* Reads one tp_members array (until the NULL name), in chunks so a short array at the end of a
 * mapping still reads. */
static void read_member_array(struct typetab *t, struct pyproc *p, uint64_t arr, int64_t basicsize)
{
	const struct pyoffsets *o = &p->L.off;
	size_t sz = (size_t)o->memberdef_size;
	uint8_t buf[MEMBER_CHUNK * 64];

	if (!arr || sz == 0 || sz > 64 || o->mb_type < 0)
		return;
	for (unsigned i = 0; i < MAX_MEMBERS; i += MEMBER_CHUNK) {
		if (mem_read(&p->mem, arr + i * sz, buf, MEMBER_CHUNK * sz, NULL) < 0)
			return;
		for (unsigned k = 0; k < MEMBER_CHUNK; k++) {
			int64_t off = member_object_off(o, buf + k * sz);
			if (off == 0)
				return;
			if (off > 0)
				add_member(t, basicsize, off);
		}
	}
}

#define ANY_MEMBER INT64_MIN /* member_name_in: every member's name, the last one kept */

/* The name of the PyObject * member at off in one tp_members array (every member's with
 * ANY_MEMBER): 1 when found. */
static int member_name_in(struct pyproc *p, uint64_t arr, int64_t off, char *buf, size_t len)
{
	const struct pyoffsets *o = &p->L.off;
	size_t sz = (size_t)o->memberdef_size;
	uint8_t m[64];

	if (!arr || sz == 0 || sz > sizeof m || o->mb_type < 0 || len < 2)
		return 0;
	for (unsigned i = 0; i < MAX_MEMBERS; i++) {
		int64_t moff;
		uint64_t name;
		if (mem_read(&p->mem, arr + i * sz, m, sz, NULL) < 0 || !(name = rd64(m, o->mb_name)))
			return 0;
		memcpy(&moff, m + o->mb_offset, 8);
		if (moff != off && off != ANY_MEMBER)
			continue;
		buf[len - 1] = 0;
		for (size_t k = 0; k + 1 < len; k++) /* byte by byte: the name may end a mapping */
			if (mem_read(&p->mem, name + k, buf + k, 1, NULL) < 0 || buf[k] == 0) {
				buf[k] = 0;
				break;
			}
		if (off != ANY_MEMBER)
			return buf[0] != 0;
	}
	return 0;
}

int typetab_member_name(struct typetab *t, struct pyproc *p, size_t s, int64_t off, char *buf, size_t len)
{
	uint64_t addr = t->v[s].addr;

	for (int depth = 0; addr && depth < MAX_BASE_DEPTH; depth++) {
		struct pytype *b = lookup(t, p, addr, 0);
		uint64_t arr, next;
		if (!b)
			return 0;
		arr = b->members_addr;
		next = b->base;
		if (member_name_in(p, arr, off, buf, len))
			return 1;
		addr = next;
	}
	return 0;
}

void typetab_read_member_names(struct typetab *t, struct pyproc *p, size_t s)
{
	char name[128];

	for (uint64_t addr = t->v[s].addr, depth = 0; addr && depth < MAX_BASE_DEPTH; depth++) {
		struct pytype *b = lookup(t, p, addr, 0);
		if (!b)
			return;
		(void)member_name_in(p, b->members_addr, ANY_MEMBER, name, sizeof name);
		addr = b->base;
	}
}

void typetab_members(struct typetab *t, struct pyproc *p, size_t s)
{
	uint64_t addr = t->v[s].addr;
	int64_t basicsize = t->v[s].basicsize;

	t->v[s].members_read = true;
	t->nmembers = 0;
	for (int depth = 0; addr && depth < MAX_BASE_DEPTH; depth++) {
		/* the type itself by its slot, and object, every class's last base: a look-up in a
		 * cold index per class otherwise */
		struct pytype *b = depth == 0 ? &t->v[s]
				 : addr == p->object_type && t->object_slot ? &t->v[t->object_slot - 1]
									  : lookup(t, p, addr, 0);
		if (!b)
			break;
		if (b->own_read) /* parsed when the type was read */
			for (unsigned i = 0, n = b->nown_offs; i < n; i++)
				add_member(t, basicsize, b->own_offs[i]);
		else
			read_member_array(t, p, b->members_addr, basicsize);
		addr = b->base;
	}
	/* kept in the pool: a malloc and reallocs per class of 60,000 otherwise; its own offsets
	 * when the bases add none (a class deriving from object) */
	if (t->v[s].own_read && t->nmembers == t->v[s].nown_offs &&
	    (!t->nmembers || memcmp(t->members, t->v[s].own_offs, t->nmembers * sizeof *t->members) == 0))
		t->v[s].member_offs = t->nmembers ? t->v[s].own_offs : NULL;
	else
		t->v[s].member_offs = t->nmembers ? strpool_copy(&t->strings, t->members, t->nmembers * sizeof *t->members)
						  : NULL;
	t->v[s].nmember_offs = (unsigned)t->nmembers;
}
