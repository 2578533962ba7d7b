/* types.h: the type table: every type object met in the heap, read and validated once, with its
 * guppy3-style kind name (`str`, `function`, `types.CodeType`, `module.Class`), its pre-header
 * size and the rule that gives its objects' sys.getsizeof. Candidate addresses that are not
 * valid types are remembered too, so each is examined once. */
#ifndef PC_TYPES_H
#define PC_TYPES_H

#include "common/compat.h"
#include "common/ptrmap.h"
#include "common/strpool.h"
#include "objects/numpy.h"
#include "source/pyproc.h"

/* Which __sizeof__ an object's type inherits (docs/cpython.md 5.2); RULE_DEFAULT is
 * basicsize + n * itemsize. */
enum size_rule {
	RULE_DEFAULT, RULE_INT, RULE_STR, RULE_BYTES, RULE_BYTEARRAY, RULE_TUPLE, RULE_LIST, RULE_DICT,
	RULE_SET, RULE_TYPE, RULE_CODE, RULE_MODULE, RULE_FLOAT,
	RULE_GEN,   /* 3.11+ generator, coroutine, async generator: the frame inside sizes it */
	RULE_FRAME, /* frame object: its code sizes it (3.11+: the code of the frame it points to) */
	RULE_NDARRAY, /* numpy.ndarray and its subclasses: their data buffer (objects/numpy.h) */
	RULE_ARRAY,   /* array.array: its item buffer (objects/arraymod.h) */
	RULE_DEQUE,   /* collections.deque: its blocks (objects/stdlibc.h) */
	RULE_BUFFERED, /* _io.BufferedReader, BufferedWriter, BufferedRandom: their buffer */
	RULE_COUNT
};

/* Pointer fields beyond tp_members that the census follows, by exact type. SHAPE_GEN:
 * generators, coroutines and async generators (3.11+: the frame inside them); SHAPE_FRAME: frame
 * objects (3.8-3.10). Both in census/framerefs.c. SHAPE_MANAGEDBUFFER: what a memoryview's buffer
 * was exported by (master.obj), held by nothing else when only the memoryview is kept.
 * SHAPE_BYTESIO: an _io.BytesIO's buffer, a bytes object (objects/stdlibc.h). */
enum ref_shape { SHAPE_PLAIN, SHAPE_FUNCTION, SHAPE_CELL, SHAPE_METHOD, SHAPE_GEN, SHAPE_FRAME, SHAPE_MANAGEDBUFFER, SHAPE_BYTESIO };

struct pytype {
	uint64_t addr, flags, base, dict;
	uint64_t members_addr; /* tp_members */
	int64_t basicsize, itemsize, dictoffset;
	uint64_t cached_keys;  /* heap types: ht_cached_keys (shared instance-dict keys) */
	unsigned pre;          /* bytes before an instance in its block */
	enum size_rule rule;
	uint32_t fields_end;   /* the end of the fixed fields its rule reads (sizes_rule_fields) */
	bool heap;             /* Py_TPFLAGS_HEAPTYPE */
	bool gc_sized;         /* sys.getsizeof adds the GC header for its instances */
	bool exact_dict;       /* this is `dict` itself (ownership applies) */
	bool odict;            /* OrderedDict or a subclass: its nodes in its size (objects/stdlibc.h) */
	/* How its instances are allocated where that is not tp_basicsize + ob_size * tp_itemsize:
	 * a struct sequence (os.stat_result) holds n_fields items but shows fewer in ob_size
	 * (Objects/structseq.c), a naive datetime.time or datetime.datetime is allocated without
	 * its tzinfo pointer (Modules/_datetimemodule.c time_alloc/datetime_alloc). */
	uint32_t alloc_items;  /* n_fields of a struct sequence, 0 otherwise */
	uint8_t alloc_short;   /* bytes a naive instance may lack of tp_basicsize */
	enum ref_shape shape;
	struct numpy_types *numpy; /* RULE_NDARRAY: the census's numpy state (the table's) */
	const char *name;      /* guppy kind (in the table's string pool) */
	const char *module;    /* the module that defines it ("builtins" for static types without a dot) */
	/* offsets of PyObject * members (T_OBJECT, T_OBJECT_EX) of the type and its bases, read on
	 * first use by typetab_members() */
	const int32_t *member_offs; /* in the table's pool */
	unsigned nmember_offs;
	bool members_read;
	/* its own tp_members' object-member offsets, parsed from the read of the type itself when the
	 * array lies within it (own_read), else read by typetab_members when asked */
	const int32_t *own_offs;
	uint16_t nown_offs;
	bool own_read;
	/* the census accumulates here */
	uint64_t count, size;
	uint64_t dict_of_count, dict_of_size; /* dicts owned by instances of this type */
};

/* typetab_prefetch's table of candidates met: 8,192 slots (64 KiB) for the 2,000 classes an
 * arena of 60,000 brings at most. */
#define PREFETCH_MET_BITS 13

struct typetab {
	struct ptrmap index;   /* type address -> slot + 1; INVALID for known non-types */
	uint64_t *indexed;     /* a bit per hash of the addresses in index: most are not, and asking
	                        * 128 KiB that stay cached spares a miss in an index of 2 MiB */
	struct pytype *v;
	size_t n, cap;
	uint64_t builtin[RULE_COUNT]; /* address of the static type that defines each rule */
	uint64_t dict_type, str_type, bool_type, frozenset_type;
	uint64_t function_type, cell_type, method_type;
	uint64_t gen_types[3], frame_type; /* generator, coroutine, async generator; frame */
	uint64_t odict_type;   /* PyODict_Type */
	size_t object_slot;    /* object's slot + 1, once read; 0 before */
	unsigned base_depth;   /* bases being read to find a type's rule (find_rule) */
	const char *unreadable; /* a type (objects/stdlibc.h) met that the layout does not describe */
	struct numpy_types *numpy; /* numpy's types and descriptors, once met */
	uint64_t lookups, rejected;
	/* kind names and modules (objects/kindname.c): one pool, modules kept once per run of
	 * classes; the str objects of the last __module__ key and value met, so as not to read
	 * them again class after class */
	struct strpool strings;
	const char *last_module, *module_text;
	uint64_t module_key, module_at;
	unsigned module_index; /* the entry of its class dict where module_key was found last */
	const char *measured_module; /* the pool's module string kindname_of measured last: */
	size_t measured_len;         /* its length, */
	bool measured_builtins;      /* and whether it is "builtins" */
	uint64_t *met;         /* typetab_prefetch: candidates met in the batch (2^PREFETCH_MET_BITS) */
	uint16_t met_batch;    /* the batch's tag in met */
	uint32_t rule_fields[RULE_COUNT][2]; /* sizes_rule_fields + 1 by rule and var-sized; 0: not asked */
	int32_t *members;      /* typetab_members gathers a type's offsets here, then copies them */
	size_t nmembers, capmembers;
};

void typetab_init(struct typetab *t, struct pyproc *p);
void typetab_release(struct typetab *t);

/* The type at addr, validated, or NULL. Never fails hard: garbage is remembered as "not a type".
 * The pointer is valid until the next typetab_get (the table grows); keep indexes, not pointers. */
struct pytype *typetab_get(struct typetab *t, struct pyproc *p, uint64_t addr);
/* Reads ahead, in one batched read (attach/mem.h mem_prefetch), what typetab_get would read of
 * each candidate address in addrs[0..n) the table has not met: a stretch of the heap about to be
 * walked meets its new classes in a few syscalls, not one each. Changes nothing in the table.
 * A class is read with the GC head before it: the batch, kept (mem_prefetch_hold), holds the
 * copy census/outside.c makes of it as a GC object outside the arenas. */
void typetab_prefetch(struct typetab *t, struct pyproc *p, const uint64_t *addrs, size_t n);

/* The object-member offsets of the type in slot s (own and inherited), read once. Offsets that
 * do not fit the type's basicsize are dropped. */
void typetab_members(struct typetab *t, struct pyproc *p, size_t s);
/* The name of the member at offset off of the type in slot s or its bases ("__weakref__",
 * "handler"): 1 and buf filled when found, 0 otherwise. */
int typetab_member_name(struct typetab *t, struct pyproc *p, size_t s, int64_t off, char *buf, size_t len);
/* Reads the name of every member of type slot s and of its bases, keeping none: a dump's census
 * reads them so that the file holds the labels of C fields (static strings the census itself
 * never reads) that `why` and `inspect` print. */
void typetab_read_member_names(struct typetab *t, struct pyproc *p, size_t s);

/* A C type the GC tracks whose layout pycensus does not know (no rule, no shape): its fixed
 * fields are read word by word for references (census/cfields.c) and named by offset
 * (objects/referrer.c). */
static inline bool pytype_fields_unknown(const struct pytype *ty)
{
	return (ty->flags & PC_TPFLAGS_HAVE_GC) && ty->rule == RULE_DEFAULT && ty->shape == SHAPE_PLAIN;
}

#endif
