/* refs.c: the references one object holds, as gc.get_referents() and guppy3 see them for the
 * containers that matter: tuple, list, dict (combined, split, 3.11/3.12 values arrays, 3.13
 * inline values), set/frozenset, type, module, function, cell, bound method, a memoryview's
 * managed buffer's exporter (managed buffers are GC-tracked: found on the GC lists), the locals of
 * generators and frame objects (census/framerefs.c), a numpy array's base and descriptor,
 * code objects (every field, listed in
 * tp_members or not), a collections.deque's items (in its blocks), a BytesIO's buffer, and every type's PyObject *
 * members (tp_members: slotted instances, property, ...). */
#include "common/compat.h"
#include "census/walk.h"
#include "census/framerefs.h"
#include "objects/numpy.h"
#include "objects/stdlibc.h"
#include "python/rules.h"

#include <string.h>

static uint64_t rd64(const uint8_t *b, int64_t off)
{
	uint64_t v;
	memcpy(&v, b + off, 8);
	return v;
}

/* The field at off when the copy holds it. */
static void field(struct walk *w, const uint8_t *ob, size_t have, int32_t off)
{
	if (off >= 0 && (size_t)off + 8 <= have)
		follow_ptr(w, rd64(ob, off));
}

static void tuple_refs(struct walk *w, uint64_t addr, const uint8_t *ob, size_t have)
{
	const struct pyoffsets *o = &w->p->L.off;
	int64_t n = (int64_t)rd64(ob, o->ob_size);

	if (n <= 0)
		return;
	/* divided, not multiplied: 8 * n wraps for a garbage n (fuzzing found it) */
	if ((uint64_t)o->tuple_item <= have && (uint64_t)n <= (have - (uint64_t)o->tuple_item) / 8)
		follow_local_ptrs(w, ob + o->tuple_item, (uint64_t)n);
	else
		follow_ptrs(w, addr + (uint64_t)o->tuple_item, (uint64_t)n);
}

static void set_refs(struct walk *w, uint64_t addr, const uint8_t *ob, size_t have)
{
	const struct pyoffsets *o = &w->p->L.off;
	uint64_t table = rd64(ob, o->set_table), mask = rd64(ob, o->set_mask);

	if (mask >= (1ULL << 27))
		return;
	if (table == addr + (uint64_t)o->set_smalltable && (uint64_t)o->set_smalltable + 16 * (mask + 1) <= have)
		follow_local_set(w, ob + o->set_smalltable, mask + 1);
	else
		follow_set(w, table, mask + 1);
}

static void type_refs(struct walk *w, const uint8_t *ob, size_t have)
{
	const struct pyoffsets *o = &w->p->L.off;
	const int32_t fields[] = { o->tp_dict, o->tp_bases, o->tp_mro, o->tp_base };
	const int32_t heap_fields[] = { o->ht_name, o->ht_qualname, o->ht_slots, o->ht_module };

	for (size_t i = 0; i < PC_ARRAY_LEN(fields); i++)
		field(w, ob, have, fields[i]);
	if (!(rd64(ob, o->tp_flags) & PC_TPFLAGS_HEAPTYPE) || have < (size_t)o->heaptype_size)
		return;
	for (size_t i = 0; i < PC_ARRAY_LEN(heap_fields); i++)
		field(w, ob, have, heap_fields[i]);
	follow_keys(w, rd64(ob, o->ht_cached_keys), 0);
}

static void shape_refs(struct walk *w, enum ref_shape shape, const uint8_t *ob, size_t have)
{
	const struct pyoffsets *o = &w->p->L.off;
	const int32_t func[] = { o->func_code, o->func_globals, o->func_defaults, o->func_kwdefaults, o->func_closure,
				 o->func_doc, o->func_name, o->func_qualname, o->func_dict, o->func_module,
				 o->func_annotations };

	if (shape == SHAPE_FUNCTION)
		for (size_t i = 0; i < PC_ARRAY_LEN(func); i++)
			field(w, ob, have, func[i]);
	else if (shape == SHAPE_CELL)
		field(w, ob, have, o->cell_ref);
	else if (shape == SHAPE_METHOD) {
		field(w, ob, have, o->meth_func);
		field(w, ob, have, o->meth_self);
	} else if (shape == SHAPE_MANAGEDBUFFER)
		field(w, ob, have, o->mbuf_obj);
	else if (shape == SHAPE_BYTESIO)
		field(w, ob, have, o->bytesio_buf);
}

/* Everything a code object holds (Include/cpython/code.h): constants (nested code among them),
 * names, the line and exception tables, and 3.11+'s co_localsplusnames and co_localspluskinds,
 * which tp_members does not list. A code object has no tp_traverse: these objects are often
 * untracked and outside pymalloc, found only from here. */
static void code_refs(struct walk *w, const uint8_t *ob, size_t have)
{
	const struct pyoffsets *o = &w->p->L.off;
	const int32_t fields[] = { o->co_consts, o->co_names, o->co_varnames, o->co_freevars, o->co_cellvars,
				   o->co_localsplusnames, o->co_localspluskinds, o->co_filename, o->co_name,
				   o->co_qualname, o->co_code, o->co_lnotab, o->co_linetable, o->co_exceptiontable };

	for (size_t i = 0; i < PC_ARRAY_LEN(fields); i++)
		field(w, ob, have, fields[i]);
}

/* A deque's items, block after block from its leftblock: a queue's backlog of big str or bytes
 * (outside pymalloc, untracked) is found only from here. At most the blocks its length needs are
 * read, each through the reader's chunks (one read per 16 KiB of blocks malloc placed together);
 * a chain that breaks off (a deque that changed as it was read) is counted. */
static void deque_refs(struct walk *w, const uint8_t *ob, size_t have)
{
	const struct pylayout *L = &w->p->L;
	uint8_t block[STDLIBC_BLOCK_MAX];
	struct deque_cursor c;

	if (!stdlibc_deque_first(L, ob, have, &c))
		return;
	while (c.left) {
		const uint8_t *items;
		uint64_t n;
		if (!c.block || mem_read(&w->p->mem, c.block, block, (size_t)L->off.deque_block_size, NULL) < 0) {
			w->fo.broken_deques++;
			return;
		}
		items = stdlibc_deque_items(L, block, &c, &n);
		follow_local_ptrs(w, items, n);
	}
}

static void rule_refs(struct walk *w, const struct pytype *ty, uint64_t addr, const uint8_t *ob, size_t have)
{
	const struct pyoffsets *o = &w->p->L.off;

	switch (ty->rule) {
	case RULE_TUPLE:
		tuple_refs(w, addr, ob, have);
		break;
	case RULE_LIST: {
		int64_t n = (int64_t)rd64(ob, o->ob_size);
		if (n > 0)
			follow_ptrs(w, rd64(ob, o->list_item), (uint64_t)n);
		break;
	}
	case RULE_DICT:
		follow_keys(w, rd64(ob, o->dict_keys), rd64(ob, o->dict_values));
		break;
	case RULE_SET:
		set_refs(w, addr, ob, have);
		break;
	case RULE_TYPE:
		type_refs(w, ob, have);
		break;
	case RULE_CODE:
		code_refs(w, ob, have);
		break;
	case RULE_NDARRAY: {
		uint64_t held[2];
		numpy_array_refs(ob, have, held);
		follow_ptr(w, held[0]);
		follow_ptr(w, held[1]);
		break;
	}
	case RULE_DEQUE:
		deque_refs(w, ob, have);
		break;
	case RULE_MODULE:
		field(w, ob, have, o->md_dict);
		field(w, ob, have, o->md_name);
		break;
	default:
		break;
	}
}

/* Attribute values kept outside a dict object (docs/cpython.md 4.2): 3.11 the values pointer at -32,
 * 3.12 the tagged dict-or-values word at -24 (values = word + 1 when bit 0 is set), 3.13 inline
 * values after the object (capacity @0, valid @3, values @8). The pre-header words are in the
 * copy: ob points pre bytes into it. */
static void values_refs(struct walk *w, const struct pytype *ty, uint64_t addr, const uint8_t *ob, size_t have)
{
	const struct pylayout *L = &w->p->L;
	uint64_t pre[2], values, bs = (uint64_t)ty->basicsize;

	if (!py_has_managed_dict(L, ty->flags) || ty->pre < -py_managed_words_offset(L))
		return;
	pre[0] = rd64(ob, py_managed_words_offset(L));
	pre[1] = rd64(ob, py_managed_dict_offset(L));
	if ((values = py_managed_values(L, pre)))
		follow_keys(w, ty->cached_keys, values);
	else if (py_inline_values(L, ty->flags)) {
		uint8_t hdr[8];
		if (bs + 8 <= have)
			memcpy(hdr, ob + bs, 8);
		else if (mem_read(&w->p->mem, addr + bs, hdr, 8, NULL) < 0)
			return;
		if (!hdr[PY_DICTVALUES_VALID] || !hdr[0])
			return; /* not valid: the values moved to a dict object */
		if (bs + 8 + 8 * (uint64_t)hdr[0] <= have)
			follow_local_ptrs(w, ob + bs + 8, hdr[0]);
		else
			follow_ptrs(w, addr + bs + 8, hdr[0]);
	}
}

void walk_refs(struct walk *w, int64_t t, uint64_t addr, const uint8_t *ob, size_t have)
{
	const struct pytype *ty;

	if (!w->types.v[t].members_read)
		typetab_members(&w->types, w->p, (size_t)t);
	ty = &w->types.v[t];
	for (unsigned i = 0; i < ty->nmember_offs; i++)
		field(w, ob, have, ty->member_offs[i]);
	if (have >= ty->fields_end)
		rule_refs(w, ty, addr, ob, have);
	shape_refs(w, ty->shape, ob, have);
	if (ty->shape == SHAPE_GEN || ty->shape == SHAPE_FRAME) /* the call is the cost: once per object */
		framerefs_object(w, ty->shape, addr, ob, have);
	values_refs(w, ty, addr, ob, have);
	if (pytype_fields_unknown(ty))
		cfields_refs(w, t, ob, have);
}
