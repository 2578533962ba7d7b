/* sizes.c: sys.getsizeof reproduced from outside. */
#include "common/compat.h"
#include "objects/sizes.h"

#include <string.h>
#include "objects/arraymod.h"
#include "objects/numpy.h"
#include "objects/pyobj.h"
#include "objects/stdlibc.h"
#include "python/rules.h"

static uint64_t rd64(const uint8_t *b, int32_t off)
{
	uint64_t v;
	memcpy(&v, b + off, 8);
	return v;
}

static uint64_t round8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

uint64_t size_preheader(const struct pylayout *L, const struct pytype *ty, bool obj_is_heap_type)
{
	/* type objects: tp_is_gc is true only for heap types (python/rules.h) */
	if (ty->rule == RULE_TYPE && !obj_is_heap_type && !py_static_type_sizeof_has_preheader(L))
		return 0;
	return ty->pre;
}

uint64_t size_int(const struct pylayout *L, uint64_t ndigits)
{
	/* offsetof(ob_digit) + 4 per 30-bit digit */
	return (uint64_t)L->off.long_digit + 4 * py_int_sizeof_digits(L, ndigits);
}

uint64_t size_int_ndigits(const struct pylayout *L, const uint8_t *obj)
{
	int64_t v;

	if (L->off.long_tag >= 0) /* 3.12+: lv_tag = ndigits << 3 | sign */
		return rd64(obj, L->off.long_tag) >> 3;
	v = (int64_t)rd64(obj, L->off.ob_size);
	/* negated as unsigned: a garbage INT64_MIN has no int64 negation (fuzzing found it) */
	return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

uint64_t size_str(const struct pylayout *L, uint64_t length, unsigned kind, bool compact, bool ascii,
		  bool has_data, uint64_t utf8_extra, uint64_t wstr_extra)
{
	const struct pyoffsets *o = &L->off;
	uint64_t s;

	if (compact && ascii)
		s = (uint64_t)o->ascii_size + length + 1;
	else if (compact)
		s = (uint64_t)o->compact_size + (length + 1) * kind;
	else
		s = (uint64_t)o->unicode_size + (has_data ? (length + 1) * kind : 0);
	return s + utf8_extra + wstr_extra;
}

uint64_t size_var(int64_t basicsize, int64_t itemsize, int64_t ob_size)
{
	if (itemsize <= 0)
		return (uint64_t)basicsize;
	return (uint64_t)basicsize + (uint64_t)(ob_size < 0 ? 0 : ob_size) * (uint64_t)itemsize;
}

uint64_t size_list(int64_t basicsize, uint64_t allocated)
{
	return (uint64_t)basicsize + 8 * allocated;
}

uint64_t size_set(int64_t basicsize, bool external_table, uint64_t mask)
{
	return (uint64_t)basicsize + (external_table ? 16 * (mask + 1) : 0);
}

uint64_t size_dict_keys(const struct pylayout *L, uint64_t dk_size, uint64_t index_bytes, unsigned entry_size)
{
	return (uint64_t)L->off.dk_header_size + index_bytes + (2 * dk_size / 3) * entry_size;
}

uint64_t size_dict(const struct pylayout *L, int64_t basicsize, bool split, uint64_t split_values,
		   bool owns_keys, uint64_t keys_size)
{
	(void)L;
	return (uint64_t)basicsize + (split ? 8 * split_values : 0) + (owns_keys ? keys_size : 0);
}

static uint64_t dict_sizeof(struct pyproc *p, const struct pytype *ty, const uint8_t *obj)
{
	const struct pylayout *L = &p->L;
	struct pydictkeys k;
	uint64_t values = rd64(obj, L->off.dict_values), split_n;

	if (pydictkeys_read(p, rd64(obj, L->off.dict_keys), &k) < 0)
		return (uint64_t)ty->basicsize;
	split_n = py_split_values_slots(L, k.size, k.nentries, k.usable);
	return size_dict(L, ty->basicsize, values != 0, split_n, k.refcnt == 1,
			 size_dict_keys(L, k.size, k.index_bytes, k.entry_size));
}

static uint64_t str_sizeof(struct pyproc *p, uint64_t addr, const uint8_t *obj)
{
	const struct pyoffsets *o = &p->L.off;
	uint32_t state;
	uint64_t len = rd64(obj, o->str_length), data, utf8 = 0, wstr = 0;
	struct py_str_form f;
	bool compact, ascii;

	memcpy(&state, obj + o->str_state, 4);
	f = py_str_form(&p->L, state);
	compact = f.compact;
	ascii = f.ascii;
	data = compact ? addr + f.header : rd64(obj, o->str_data);
	if (!(compact && ascii)) {
		uint64_t u = rd64(obj, o->str_utf8);
		if (u && u != data)
			utf8 = rd64(obj, o->str_utf8_length) + 1;
	}
	if (o->str_wstr >= 0) { /* <= 3.11: a separate wchar_t copy */
		uint64_t w = rd64(obj, o->str_wstr);
		if (w && w != data)
			wstr = ((compact && ascii) ? len : rd64(obj, o->str_wstr_length)) * 4 + 4;
	}
	return size_str(&p->L, len, f.kind, compact, ascii, data != 0, utf8, wstr);
}

static uint64_t type_sizeof(struct pyproc *p, const uint8_t *obj, size_t have)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t flags = rd64(obj, o->tp_flags), keys;
	struct pydictkeys k;

	if (!(flags & PC_TPFLAGS_HEAPTYPE) || have < (size_t)o->heaptype_size)
		return (uint64_t)o->type_size;
	keys = rd64(obj, o->ht_cached_keys);
	if (keys && pydictkeys_read(p, keys, &k) == 0)
		return (uint64_t)o->heaptype_size + size_dict_keys(&p->L, k.size, k.index_bytes, k.entry_size);
	return (uint64_t)o->heaptype_size;
}

/* 3.8-3.10: the opcache of a function that has run often enough (python/rules.h). */
static uint64_t code_opcache(struct pyproc *p, const uint8_t *obj, size_t have)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t cache, code, n = 0;

	/* the u8 after co_opcache's fields_end: checked against the copy */
	if (o->co_opcache < 0 || o->co_opcache_size < 0 || (size_t)o->co_opcache_size >= have || o->co_code < 0 ||
	    !(cache = rd64(obj, o->co_opcache)))
		return 0;
	code = rd64(obj, o->co_code);
	if (!code || mem_read_u64(&p->mem, code + (uint64_t)o->ob_size, &n, NULL) < 0 || n > (1u << 30))
		return 0;
	return py_code_opcache_bytes(&p->L, cache, obj[o->co_opcache_size], n);
}

static uint64_t code_sizeof(struct pyproc *p, const struct pytype *ty, const uint8_t *obj, size_t have)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t s, extra;

	if (o->co_cell2arg >= 0) { /* <= 3.10 */
		uint64_t cellvars = rd64(obj, o->co_cellvars), n = 0;
		s = (uint64_t)ty->basicsize;
		if (rd64(obj, o->co_cell2arg) && cellvars &&
		    mem_read_u64(&p->mem, cellvars + (uint64_t)o->ob_size, &n, NULL) == 0 && n < (1u << 20))
			s += 8 * n;
	} else {
		s = round8(size_var(ty->basicsize, ty->itemsize, (int64_t)rd64(obj, o->ob_size)));
	}
	s += code_opcache(p, obj, have);
	extra = rd64(obj, o->co_extra);
	if (extra) {
		uint64_t n = 0;
		if (mem_read_u64(&p->mem, extra + (uint64_t)o->co_extra_size, &n, NULL) == 0 && n > 0 && n < (1u << 16))
			s += (uint64_t)o->co_extra_extras + 8 * n;
	}
	return s;
}

/* 3.8-3.10 frame_sizeof: sizeof(PyFrameObject) (one slot included) plus a slot per local, cell,
 * free and stack entry of its code beyond that one. Not ob_size: a frame from the free list
 * keeps the larger size it was allocated with. */
static uint64_t frame_object_sizeof(struct pyproc *p, const struct pytype *ty, uint64_t addr, const uint8_t *obj)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t stack_at = rd64(obj, o->fo_valuestack), locals_at = addr + (uint64_t)o->fo_localsplus;
	uint64_t code = rd64(obj, o->fo_code), extras;
	int32_t stack = 0;

	if (o->fo_localsplus < 0 || o->co_stacksize < 0 || stack_at < locals_at || (stack_at - locals_at) % 8 ||
	    (stack_at - locals_at) / 8 > (1u << 20) || !code ||
	    mem_read(&p->mem, code + (uint64_t)o->co_stacksize, &stack, 4, NULL) < 0 || stack < 0 ||
	    stack > (1 << 20))
		return size_var(ty->basicsize, ty->itemsize, (int64_t)rd64(obj, o->ob_size));
	extras = (stack_at - locals_at) / 8 + (uint64_t)stack;
	return (uint64_t)ty->basicsize + 8 * extras - (extras ? 8 : 0);
}

/* 3.11+ gen_sizeof and frame_sizeof: the fixed part up to the frame's localsplus, then one slot
 * per local and per stack entry of the frame's code (f_code / f_executable). A generator holds
 * the frame; a frame object points to it (inside itself, or on a thread's stack). */
static uint64_t framed_sizeof(struct pyproc *p, const struct pytype *ty, uint64_t addr, const uint8_t *obj)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t code = 0, frame;
	int32_t nlocals = 0, stack = 0;

	if (ty->rule == RULE_FRAME && o->fo_frame < 0)
		return frame_object_sizeof(p, ty, addr, obj);

	if (ty->rule == RULE_GEN)
		code = rd64(obj, o->gen_iframe + o->if_code);
	else if ((frame = rd64(obj, o->fo_frame)) == 0 ||
		 mem_read_u64(&p->mem, frame + (uint64_t)o->if_code, &code, NULL) < 0)
		return (uint64_t)ty->basicsize;
	code = py_stackref_object(&p->L, code);

	if (o->co_nlocalsplus < 0 || o->co_stacksize < 0 || !code ||
	    mem_read(&p->mem, code + (uint64_t)o->co_nlocalsplus, &nlocals, 4, NULL) < 0 ||
	    mem_read(&p->mem, code + (uint64_t)o->co_stacksize, &stack, 4, NULL) < 0 ||
	    nlocals < 0 || stack < 0 || nlocals > (1 << 20) || stack > (1 << 20))
		return (uint64_t)ty->basicsize;
	return (uint64_t)ty->basicsize + 8 * ((uint64_t)nlocals + (uint64_t)stack);
}

/* numpy methods.c array_sizeof; an array whose descriptor or dimensions cannot be read counts
 * its object alone (and numpy's count of unreadable arrays grows). */
static uint64_t ndarray_sizeof(struct pyproc *p, const struct pytype *ty, const uint8_t *obj, size_t have)
{
	struct numpy_array a;

	if (!ty->numpy || !numpy_array_read(p, ty->numpy, obj, have, &a))
		return (uint64_t)ty->basicsize;
	return numpy_array_sizeof(ty->basicsize, &a);
}

/* arraymodule.c array_array___sizeof__: the object and its allocated items. */
static uint64_t array_sizeof(struct pyproc *p, const struct pytype *ty, const uint8_t *obj, size_t have)
{
	uint64_t items, bytes;

	if (!arraymod_buffer(p, obj, have, &items, &bytes))
		return (uint64_t)ty->basicsize;
	return (uint64_t)ty->basicsize + bytes;
}

static uint64_t sizeof_by_rule(struct pyproc *p, const struct pytype *ty, uint64_t addr, const uint8_t *obj,
			       size_t have)
{
	const struct pyoffsets *o = &p->L.off;

	switch (ty->rule) {
	case RULE_INT:
		return size_int(&p->L, size_int_ndigits(&p->L, obj));
	case RULE_STR:
		return str_sizeof(p, addr, obj);
	case RULE_BYTEARRAY:
		return (uint64_t)ty->basicsize + py_bytearray_buffer_bytes(&p->L, rd64(obj, o->bytearray_alloc));
	case RULE_LIST:
		return size_list(ty->basicsize, rd64(obj, o->list_allocated));
	case RULE_DICT:
		return dict_sizeof(p, ty, obj) +
		       (ty->odict ? stdlibc_odict_extra(&p->L, obj, have, rd64(obj, o->dict_used)) : 0);
	case RULE_SET:
		return size_set(ty->basicsize, rd64(obj, o->set_table) != addr + (uint64_t)o->set_smalltable,
				rd64(obj, o->set_mask));
	case RULE_TYPE:
		return type_sizeof(p, obj, have);
	case RULE_CODE:
		return code_sizeof(p, ty, obj, have);
	case RULE_GEN:
	case RULE_FRAME:
		return framed_sizeof(p, ty, addr, obj);
	case RULE_NDARRAY:
		return ndarray_sizeof(p, ty, obj, have);
	case RULE_ARRAY:
		return array_sizeof(p, ty, obj, have);
	case RULE_DEQUE:
		return stdlibc_deque_sizeof(&p->L, ty->basicsize, obj, have);
	case RULE_BUFFERED:
		return stdlibc_buffered_sizeof(&p->L, ty->basicsize, obj, have);
	default: /* RULE_MODULE too: getsizeof(module) is its basicsize on 3.8-3.13 (measured) */
		return size_var(ty->basicsize, ty->itemsize, ty->itemsize ? (int64_t)rd64(obj, o->ob_size) : 0);
	}
}

int sizes_keys_read(const struct pyproc *p, const struct pytype *ty, const uint8_t *obj, size_t have, uint64_t *addr,
		    uint32_t *len)
{
	const struct pyoffsets *o = &p->L.off;

	*len = (uint32_t)o->dk_header_size;
	if (ty->rule == RULE_TYPE && have >= (size_t)o->heaptype_size && (rd64(obj, o->tp_flags) & PC_TPFLAGS_HEAPTYPE))
		*addr = rd64(obj, o->ht_cached_keys); /* type_sizeof */
	else if (ty->rule == RULE_DICT && have >= (size_t)o->dict_keys + 8)
		*addr = rd64(obj, o->dict_keys); /* dict_sizeof */
	else
		return 0;
	return *addr != 0;
}

static size_t fields_end(const int32_t *offs, size_t n)
{
	size_t end = 0;

	for (size_t i = 0; i < n; i++)
		if (offs[i] >= 0 && (size_t)offs[i] + 8 > end)
			end = (size_t)offs[i] + 8;
	return end;
}

size_t sizes_rule_fields(const struct pylayout *L, enum size_rule r, bool var_sized)
{
	const struct pyoffsets *o = &L->off;
	const int32_t var[] = { var_sized ? o->ob_size : -1 };
	const int32_t i[] = { o->ob_size, o->long_tag };
	const int32_t s[] = { o->str_length, o->str_state, o->str_data, o->str_utf8, o->str_utf8_length, o->str_wstr,
			      o->str_wstr_length };
	const int32_t ba[] = { o->ob_size, o->bytearray_alloc, o->bytearray_bytes, o->bytearray_object };
	const int32_t li[] = { o->ob_size, o->list_item, o->list_allocated };
	const int32_t d[] = { o->dict_used, o->dict_keys, o->dict_values };
	const int32_t se[] = { o->set_table, o->set_mask };
	const int32_t ty[] = { o->tp_flags, o->tp_dict, o->tp_bases, o->tp_mro, o->tp_base };
	const int32_t co[] = { o->ob_size, o->co_cell2arg, o->co_cellvars, o->co_extra, o->co_opcache, o->co_code };
	const int32_t mo[] = { o->md_dict, o->md_name };
	const int32_t fr[] = { o->fo_frame, o->fo_valuestack, o->fo_code, var_sized ? o->ob_size : -1 };
	const int32_t ge[] = { o->gen_iframe >= 0 && o->if_code >= 0 ? o->gen_iframe + o->if_code : -1 };
	const int32_t dq[] = { o->ob_size, o->deque_leftblock, o->deque_leftindex };
	const int32_t bu[] = { o->buffered_buffer, o->buffered_buffer_size };
	size_t v = fields_end(var, 1);

	switch (r) {
	case RULE_INT: return fields_end(i, PC_ARRAY_LEN(i));
	case RULE_STR: return fields_end(s, PC_ARRAY_LEN(s));
	case RULE_BYTEARRAY: return fields_end(ba, PC_ARRAY_LEN(ba));
	case RULE_LIST: return fields_end(li, PC_ARRAY_LEN(li));
	case RULE_DICT: return fields_end(d, PC_ARRAY_LEN(d));
	case RULE_SET: return fields_end(se, PC_ARRAY_LEN(se));
	case RULE_TYPE: return fields_end(ty, PC_ARRAY_LEN(ty));
	case RULE_CODE: return fields_end(co, PC_ARRAY_LEN(co));
	case RULE_MODULE: return fields_end(mo, PC_ARRAY_LEN(mo));
	case RULE_GEN: return fields_end(ge, PC_ARRAY_LEN(ge));
	case RULE_FRAME: return fields_end(fr, PC_ARRAY_LEN(fr));
	case RULE_NDARRAY: return NUMPY_ARRAY_FIELDS;
	case RULE_ARRAY: return ARRAYMOD_FIELDS;
	case RULE_DEQUE: return fields_end(dq, PC_ARRAY_LEN(dq));
	case RULE_BUFFERED: return fields_end(bu, PC_ARRAY_LEN(bu));
	case RULE_TUPLE:
	case RULE_BYTES: return (size_t)o->ob_size + 8;
	default: return v;
	}
}

/* The bytes of the object sizeof_by_rule reads. A compact str's block is smaller than its
 * tp_basicsize (sizeof(PyUnicodeObject)): it needs only its own header. Type objects read what
 * they have. */
static size_t fixed_part(const struct pylayout *L, const struct pytype *ty, const uint8_t *obj, size_t have)
{
	uint32_t state;

	if (ty->rule == RULE_TYPE) /* its fixed fields (a type's copy may stop short of basicsize) */
		return ty->fields_end;
	if (ty->rule != RULE_STR || have < (size_t)L->off.ascii_size)
		return (size_t)ty->basicsize;
	memcpy(&state, obj + L->off.str_state, 4);
	if (!py_str_form(L, state).compact)
		return (size_t)L->off.unicode_size;
	return (size_t)py_str_form(L, state).header;
}

uint64_t sizes_object(struct pyproc *p, const struct pytype *ty, uint64_t addr, const uint8_t *obj, size_t have)
{
	bool heap_type = false;

	if (have < fixed_part(&p->L, ty, obj, have))
		return (uint64_t)ty->basicsize + ty->pre;
	if (ty->rule == RULE_TYPE)
		heap_type = (rd64(obj, p->L.off.tp_flags) & PC_TPFLAGS_HEAPTYPE) != 0;
	return sizeof_by_rule(p, ty, addr, obj, have) + size_preheader(&p->L, ty, heap_type);
}

/* A str's tp_basicsize is sizeof(PyUnicodeObject), but compact strings are allocated as the
 * ASCII/compact header plus their characters (unicodeobject.c PyUnicode_New). */
static uint64_t str_alloc(const struct pylayout *L, const uint8_t *ob, int64_t basicsize)
{
	uint32_t state;
	uint64_t len = rd64(ob, L->off.str_length);
	struct py_str_form f;

	memcpy(&state, ob + L->off.str_state, 4);
	f = py_str_form(L, state);
	if (!f.compact)
		return (uint64_t)basicsize;
	if (len > (1ULL << 40))
		return 0;
	return f.header + (len + 1) * f.kind;
}

uint64_t sizes_alloc_request(const struct pylayout *L, const struct pytype *ty, const uint8_t *ob)
{
	uint64_t need = ty->rule == RULE_STR ? str_alloc(L, ob, ty->basicsize) : (uint64_t)ty->basicsize;

	/* a 3.11+ generator's or frame object's ob_size is overwritten by its own fields */
	if (ty->itemsize > 0 && ty->rule != RULE_GEN && !(ty->rule == RULE_FRAME && L->off.fo_frame >= 0)) {
		int64_t n = (int64_t)rd64(ob, L->off.ob_size);
		if (ty->rule == RULE_INT && L->off.long_tag >= 0)
			n = (int64_t)(rd64(ob, L->off.long_tag) >> 3);
		if (n < -(1LL << 40) || n > (1LL << 40)) /* before negating: INT64_MIN has no negation */
			return 0;
		n = n < 0 ? -n : n;
		if (ty->alloc_items && (uint64_t)n <= ty->alloc_items) /* a struct sequence's hidden fields */
			n = (int64_t)ty->alloc_items;
		need += (uint64_t)n * (uint64_t)ty->itemsize;
	}
	return need;
}
