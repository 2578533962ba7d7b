/* referrer.c: how one object holds another (objects/referrer.h). Each reader looks for the
 * referent's address where the referrer's type keeps references and names the place; the first
 * place found wins. */
#include "common/compat.h"
#include "objects/referrer.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "objects/pyobj.h"
#include "objects/pyvalue.h"
#include "python/rules.h"

#define ITEMS_CHUNK 4096
#define MAX_ITEMS (1ULL << 24)  /* items scanned in one container */
#define KEY_TEXT 48             /* characters of a str key shown */
#define CFIELD_BYTES 1072       /* census/cfields.c: 128 words after a header of up to 40 bytes */

struct named {
	int32_t off;
	const char *name;
};

static int found(char *buf, size_t len, const char *fmt, const char *s)
{
	snprintf(buf, len, fmt, s);
	return 1;
}

/* A fixed field of the referrer that holds `to`. */
static int field_label(struct pyproc *p, uint64_t from, uint64_t to, const struct named *f, size_t n, char *buf,
		       size_t len)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v;
		if (f[i].off >= 0 && mem_read_u64(&p->mem, from + (uint64_t)f[i].off, &v, NULL) == 0 && v == to)
			return found(buf, len, ".%s", f[i].name);
	}
	return 0;
}

/* The index of `to` among n pointers at addr. */
static int items_label(struct pyproc *p, uint64_t addr, int64_t n, uint64_t to, char *buf, size_t len)
{
	uint64_t items[ITEMS_CHUNK];

	if (n <= 0 || (uint64_t)n > MAX_ITEMS)
		return 0;
	for (uint64_t done = 0, k; done < (uint64_t)n; done += k) {
		k = (uint64_t)n - done < ITEMS_CHUNK ? (uint64_t)n - done : ITEMS_CHUNK;
		if (mem_read(&p->mem, addr + 8 * done, items, 8 * k, NULL) < 0)
			return 0;
		for (uint64_t i = 0; i < k; i++)
			if (items[i] == to) {
				snprintf(buf, len, "[%" PRIu64 "]", done + i);
				return 1;
			}
	}
	return 0;
}

/* A dict key as a subscript: ['name'], [42], or [<kind>] for other keys. */
static void key_text(struct pyproc *p, struct typetab *types, uint64_t key, char *buf, size_t len)
{
	char s[KEY_TEXT + 1];
	uint64_t v;
	bool neg;
	uint64_t tp;
	struct pytype *ty;

	if (mem_read_u64(&p->mem, key + (uint64_t)p->L.off.ob_type, &tp, NULL) == 0 && (ty = typetab_get(types, p, tp))) {
		if (ty->rule == RULE_STR && pystr_read(p, key, s, sizeof s) == 0) {
			snprintf(buf, len, "['%s%s']", s, strlen(s) >= KEY_TEXT ? "..." : "");
			return;
		}
		if (ty->rule == RULE_INT && pylong_read(p, key, &v, &neg) == 0) {
			snprintf(buf, len, "[%s%" PRIu64 "]", neg ? "-" : "", v);
			return;
		}
		snprintf(buf, len, "[<%s>]", ty->name);
		return;
	}
	snprintf(buf, len, "[?]");
}

struct dict_find {
	uint64_t to, key;
	bool is_key;
};

static bool dict_match(struct pyproc *p, uint64_t key, uint64_t value, void *arg)
{
	struct dict_find *f = arg;

	(void)p;
	if (value == f->to || key == f->to) {
		f->key = key;
		f->is_key = key == f->to && value != f->to;
		return false;
	}
	return true;
}

static int dict_label(struct pyproc *p, struct typetab *types, uint64_t from, uint64_t to, char *buf, size_t len)
{
	struct dict_find f = { to, 0, false };

	if (pydict_each(p, from, MAX_ITEMS, dict_match, &f) < 0 || !f.key)
		return 0;
	if (f.is_key)
		return found(buf, len, "%s", "(a key)");
	key_text(p, types, f.key, buf, len);
	return 1;
}

/* Attribute values laid out by a class's shared keys (3.11+): values[i] belongs to key i. */
static int values_label(struct pyproc *p, uint64_t keys, uint64_t values, uint64_t to, char *buf, size_t len)
{
	struct pydictkeys k;
	uint64_t v, key;
	char name[KEY_TEXT + 1];

	if (!keys || !pyproc_readable(p, keys, (uint64_t)p->L.off.dk_header_size) || pydictkeys_read(p, keys, &k) < 0 ||
	    k.nentries > (1u << 16))
		return 0;
	values += (uint64_t)(p->L.off.dv_values > 0 ? p->L.off.dv_values : 0);
	for (uint64_t i = 0; i < k.nentries; i++) {
		if (mem_read_u64(&p->mem, values + 8 * i, &v, NULL) < 0)
			return 0;
		if (v != to)
			continue;
		if (mem_read_u64(&p->mem, k.entries + i * k.entry_size + (k.entry_size == 24 ? 8 : 0), &key, NULL) < 0 ||
		    pystr_read(p, key, name, sizeof name) < 0)
			return found(buf, len, "%s", ".(an attribute)");
		return found(buf, len, ".%s", name);
	}
	return 0;
}

/* An instance's own attributes: its __dict__, or (3.11+) the values kept outside a dict object. */
static int instance_label(struct pyproc *p, const struct pytype *ty, uint64_t from, uint64_t to, char *buf, size_t len)
{
	const struct pylayout *L = &p->L;
	uint64_t pre[2], values, d;
	uint8_t valid = 0;

	if (py_has_managed_dict(L, ty->flags)) {
		if (mem_read(&p->mem, from + (uint64_t)py_managed_words_offset(L), pre, sizeof pre, NULL) < 0)
			return 0;
		if (py_managed_word_is_dict(L, pre[1]) && pre[1] == to)
			return found(buf, len, "%s", ".__dict__");
		if ((values = py_managed_values(L, pre)))
			return values_label(p, ty->cached_keys, values, to, buf, len);
		if (py_inline_values(L, ty->flags) && L->off.dv_valid >= 0 &&
		    mem_read(&p->mem, from + (uint64_t)ty->basicsize + (uint64_t)L->off.dv_valid, &valid, 1, NULL) == 0 &&
		    valid)
			return values_label(p, ty->cached_keys, from + (uint64_t)ty->basicsize, to, buf, len);
		return 0;
	}
	if (ty->dictoffset > 0 && mem_read_u64(&p->mem, from + (uint64_t)ty->dictoffset, &d, NULL) == 0 && d == to)
		return found(buf, len, "%s", ".__dict__");
	return 0;
}

static int shape_label(struct pyproc *p, const struct pytype *ty, uint64_t from, uint64_t to, char *buf, size_t len)
{
	const struct pyoffsets *o = &p->L.off;
	const struct named func[] = {
		{ o->func_globals, "__globals__" }, { o->func_closure, "__closure__" }, { o->func_defaults, "__defaults__" },
		{ o->func_kwdefaults, "__kwdefaults__" }, { o->func_dict, "__dict__" }, { o->func_code, "__code__" },
		{ o->func_annotations, "__annotations__" }, { o->func_module, "__module__" }, { o->func_name, "__name__" },
		{ o->func_qualname, "__qualname__" }, { o->func_doc, "__doc__" },
	};
	const struct named cell[] = { { o->cell_ref, "cell_contents" } };
	const struct named meth[] = { { o->meth_self, "__self__" }, { o->meth_func, "__func__" } };

	switch (ty->shape) {
	case SHAPE_FUNCTION: return field_label(p, from, to, func, PC_ARRAY_LEN(func), buf, len);
	case SHAPE_CELL: return field_label(p, from, to, cell, PC_ARRAY_LEN(cell), buf, len);
	case SHAPE_METHOD: return field_label(p, from, to, meth, PC_ARRAY_LEN(meth), buf, len);
	case SHAPE_GEN:
	case SHAPE_FRAME: return found(buf, len, "%s", "(a local of its frame)");
	default: return 0;
	}
}

static int rule_label(struct pyproc *p, struct typetab *types, const struct pytype *ty, uint64_t from, uint64_t to,
		      char *buf, size_t len)
{
	const struct pyoffsets *o = &p->L.off;
	const struct named type[] = { { o->tp_dict, "__dict__" }, { o->tp_mro, "__mro__" }, { o->tp_bases, "__bases__" },
				       { o->tp_base, "__base__" } };
	const struct named module[] = { { o->md_dict, "__dict__" } };
	const struct named code[] = { { o->co_consts, "co_consts" }, { o->co_names, "co_names" },
				      { o->co_localsplusnames, "co_localsplusnames" }, { o->co_filename, "co_filename" },
				      { o->co_name, "co_name" }, { o->co_qualname, "co_qualname" } };
	uint64_t a = 0;
	int64_t n = 0;

	switch (ty->rule) {
	case RULE_DICT: return dict_label(p, types, from, to, buf, len);
	case RULE_TUPLE:
		return mem_read_u64(&p->mem, from + (uint64_t)o->ob_size, (uint64_t *)&n, NULL) == 0 &&
		       items_label(p, from + (uint64_t)o->tuple_item, n, to, buf, len);
	case RULE_LIST:
		return mem_read_u64(&p->mem, from + (uint64_t)o->ob_size, (uint64_t *)&n, NULL) == 0 &&
		       mem_read_u64(&p->mem, from + (uint64_t)o->list_item, &a, NULL) == 0 && items_label(p, a, n, to, buf, len);
	case RULE_SET: return found(buf, len, "%s", "(an element)");
	case RULE_TYPE: return field_label(p, from, to, type, PC_ARRAY_LEN(type), buf, len);
	case RULE_MODULE: return field_label(p, from, to, module, PC_ARRAY_LEN(module), buf, len);
	case RULE_CODE: return field_label(p, from, to, code, PC_ARRAY_LEN(code), buf, len);
	default: return 0;
	}
}

static int member_label(struct pyproc *p, struct typetab *types, size_t slot, uint64_t from, uint64_t to, char *buf,
			size_t len)
{
	char name[64];

	if (!types->v[slot].members_read)
		typetab_members(types, p, slot);
	for (unsigned i = 0; i < types->v[slot].nmember_offs; i++) {
		int32_t off = types->v[slot].member_offs[i];
		uint64_t v;
		if (mem_read_u64(&p->mem, from + (uint64_t)off, &v, NULL) == 0 && v == to) {
			if (!typetab_member_name(types, p, slot, off, name, sizeof name))
				snprintf(name, sizeof name, "(slot at +%d)", off);
			return found(buf, len, ".%s", name);
		}
	}
	return 0;
}

/* A C type the census reads word by word (census/cfields.c): the field by its offset, as nothing
 * names it. */
static int cfield_label(struct pyproc *p, const struct pytype *ty, uint64_t from, uint64_t to, char *buf, size_t len)
{
	uint64_t words[CFIELD_BYTES / 8];
	int64_t first = p->L.off.ob_type + 8, end = ty->basicsize < CFIELD_BYTES ? ty->basicsize : CFIELD_BYTES;

	if (!pytype_fields_unknown(ty) || end <= first ||
	    mem_read(&p->mem, from, words, (size_t)end, NULL) < 0)
		return 0;
	for (int64_t off = first; off + 8 <= end; off += 8)
		if (words[off / 8] == to) {
			snprintf(buf, len, "(C field at +%" PRId64 ")", off);
			return 1;
		}
	return 0;
}

int referrer_label(struct pyproc *p, struct typetab *types, uint64_t from, uint64_t to, char *buf, size_t len)
{
	uint64_t tp;
	struct pytype *ty;
	size_t slot;

	buf[0] = 0;
	if (!pyproc_readable(p, from, 16) || mem_read_u64(&p->mem, from + (uint64_t)p->L.off.ob_type, &tp, NULL) < 0 ||
	    !(ty = typetab_get(types, p, tp)))
		return 0;
	slot = (size_t)(ty - types->v);
	if (rule_label(p, types, &types->v[slot], from, to, buf, len) || member_label(p, types, slot, from, to, buf, len) ||
	    shape_label(p, &types->v[slot], from, to, buf, len) || instance_label(p, &types->v[slot], from, to, buf, len))
		return 1;
	if (tp == to)
		return found(buf, len, "%s", ".__class__");
	buf[0] = 0;
	return cfield_label(p, &types->v[slot], from, to, buf, len);
}
