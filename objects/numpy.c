/* numpy.c: numpy arrays read from outside (objects/numpy.h). */
#include "common/compat.h"
#include "objects/numpy.h"

#include <string.h>

/* PyArrayObject_fields (ndarraytypes.h, numpy 1.20 to 2.4: unchanged up to weakreflist) */
#define ARR_DATA 16
#define ARR_ND 24
#define ARR_DIMS 32
#define ARR_BASE 48
#define ARR_DESCR 56
#define ARR_FLAGS 64
#define ARR_MIN_BASICSIZE 80 /* through weakreflist: numpy < 1.20 */
#define NPY_ARRAY_OWNDATA 0x0004
/* NPY_MAXDIMS: 32 in 1.x, 64 in 2.x */
#define NPY_MAXDIMS_ANY 64
/* sizeof(PyArray_Descr): numpy.dtype's tp_basicsize, which tells the two layouts apart */
#define DESCR_SIZE_1X 96
#define DESCR_SIZE_2X 88
#define DESCR_READ 48 /* through the 2.x elsize */
#define DESCR_BAD UINT64_MAX
#define MAX_BASES 8
/* A dimension or a whole array beyond this (2^47 bytes, the user address space) is garbage. */
#define MAX_BYTES (1ULL << 47)

void numpy_types_init(struct numpy_types *n)
{
	memset(n, 0, sizeof *n);
	ptrmap_init(&n->descrs);
}

void numpy_types_release(struct numpy_types *n)
{
	ptrmap_release(&n->descrs);
	memset(n, 0, sizeof *n);
}

static uint64_t rd64(const uint8_t *b, int32_t off)
{
	uint64_t v;
	memcpy(&v, b + off, 8);
	return v;
}

/* numpy's types are static types in the data of its _multiarray_umath extension: nothing else
 * is read as a candidate (a Python class can be named anything). */
static bool in_numpy_core(const struct pyproc *p, uint64_t addr)
{
	const struct map *m = maps_find(&p->maps, addr);
	const char *base;

	if (!m || !m->path)
		return false;
	base = strrchr(m->path, '/');
	return strncmp(base ? base + 1 : m->path, "_multiarray_umath", 17) == 0;
}

/* The fields of the static numpy type at addr named `want`, or false. */
static bool numpy_type(struct pyproc *p, uint64_t addr, const char *want, int64_t *basicsize, int64_t *itemsize)
{
	const struct pyoffsets *o = &p->L.off;
	uint8_t b[16];
	char name[32];
	uint64_t flags, tp_name;

	if (!addr || (addr & 7) || !in_numpy_core(p, addr) ||
	    mem_read_u64(&p->mem, addr + (uint64_t)o->tp_flags, &flags, NULL) < 0 ||
	    mem_read_u64(&p->mem, addr + (uint64_t)o->tp_name, &tp_name, NULL) < 0 ||
	    (flags & PC_TPFLAGS_HEAPTYPE) || !(flags & PC_TPFLAGS_READY) ||
	    mem_read_cstr(&p->mem, tp_name, name, sizeof name, NULL) < 0 || strcmp(name, want) != 0 ||
	    mem_read(&p->mem, addr + (uint64_t)o->tp_basicsize, b, 8, NULL) < 0 ||
	    mem_read(&p->mem, addr + (uint64_t)o->tp_itemsize, b + 8, 8, NULL) < 0)
		return false;
	*basicsize = (int64_t)rd64(b, 0);
	*itemsize = (int64_t)rd64(b, 8);
	return true;
}

bool numpy_is_ndarray(struct pyproc *p, struct numpy_types *n, uint64_t addr)
{
	int64_t basicsize, itemsize;

	if (n->ndarray)
		return addr == n->ndarray;
	if (!numpy_type(p, addr, "numpy.ndarray", &basicsize, &itemsize) || itemsize != 0 ||
	    basicsize < ARR_MIN_BASICSIZE || basicsize > 256)
		return false;
	n->ndarray = addr;
	return true;
}

/* Whether the descriptor's type derives from numpy.dtype; learns the descriptor layout from
 * numpy.dtype's basicsize the first time. */
static bool is_descr_type(struct pyproc *p, struct numpy_types *n, uint64_t type)
{
	const struct pyoffsets *o = &p->L.off;
	int64_t basicsize, itemsize;

	for (int depth = 0; type && depth < MAX_BASES; depth++) {
		if (n->dtype && type == n->dtype)
			return true;
		if (!n->dtype && numpy_type(p, type, "numpy.dtype", &basicsize, &itemsize)) {
			if (basicsize == DESCR_SIZE_1X)
				n->elsize_at = 32, n->elsize_width = 4;
			else if (basicsize == DESCR_SIZE_2X)
				n->elsize_at = 40, n->elsize_width = 8;
			else
				return false; /* a numpy whose descriptor layout was not read */
			n->dtype = type;
			return true;
		}
		if (mem_read_u64(&p->mem, type + (uint64_t)o->tp_base, &type, NULL) < 0)
			return false;
	}
	return false;
}

/* The element size of the descriptor at descr, or DESCR_BAD. Descriptors are few and shared
 * (one per builtin dtype): each is read once. */
static uint64_t descr_elsize(struct pyproc *p, struct numpy_types *n, uint64_t descr)
{
	uint8_t b[DESCR_READ];
	uint64_t v, elsize = 0;

	if (!descr || (descr & 7))
		return DESCR_BAD;
	if (ptrmap_get(&n->descrs, descr, &v))
		return v == DESCR_BAD ? DESCR_BAD : v - 1;
	v = DESCR_BAD;
	if (mem_read(&p->mem, descr, b, sizeof b, NULL) == 0 && is_descr_type(p, n, rd64(b, p->L.off.ob_type))) {
		memcpy(&elsize, b + n->elsize_at, n->elsize_width);
		if (n->elsize_width == 4)
			elsize = (uint64_t)(int64_t)(int32_t)elsize;
		if (elsize < (1ULL << 31))
			v = elsize + 1;
	}
	ptrmap_put(&n->descrs, descr, v);
	return v == DESCR_BAD ? DESCR_BAD : v - 1;
}

/* nbytes = elsize * the product of the dimensions, each checked. */
static bool read_dims(struct pyproc *p, struct numpy_array *a)
{
	int64_t dims[NPY_MAXDIMS_ANY];
	uint64_t n = a->elsize;

	if (a->nd == 0) {
		a->nbytes = n;
		return true;
	}
	if (!a->dims || mem_read(&p->mem, a->dims, dims, 8 * a->nd, NULL) < 0)
		return false;
	for (uint32_t i = 0; i < a->nd; i++) {
		if (dims[i] < 0 || (uint64_t)dims[i] > MAX_BYTES)
			return false;
		if (dims[i] == 0)
			n = 0;
		else if (n > MAX_BYTES / (uint64_t)dims[i])
			return false;
		else
			n *= (uint64_t)dims[i];
	}
	a->nbytes = n;
	return true;
}

bool numpy_array_read(struct pyproc *p, struct numpy_types *n, const uint8_t *ob, size_t have,
		      struct numpy_array *a)
{
	int32_t nd, flags;

	memset(a, 0, sizeof *a);
	if (have < NUMPY_ARRAY_FIELDS)
		goto bad;
	memcpy(&nd, ob + ARR_ND, 4);
	memcpy(&flags, ob + ARR_FLAGS, 4);
	a->data = rd64(ob, ARR_DATA);
	a->dims = rd64(ob, ARR_DIMS);
	a->owns = (flags & NPY_ARRAY_OWNDATA) != 0;
	if (nd < 0 || nd > NPY_MAXDIMS_ANY)
		goto bad;
	a->nd = (uint32_t)nd;
	if ((a->elsize = descr_elsize(p, n, rd64(ob, ARR_DESCR))) == DESCR_BAD || !read_dims(p, a))
		goto bad;
	return true;
bad:
	n->unreadable++;
	return false;
}

void numpy_array_refs(const uint8_t *ob, size_t have, uint64_t out[2])
{
	out[0] = have >= NUMPY_ARRAY_FIELDS ? rd64(ob, ARR_BASE) : 0;
	out[1] = have >= NUMPY_ARRAY_FIELDS ? rd64(ob, ARR_DESCR) : 0;
}

uint64_t numpy_array_sizeof(int64_t basicsize, const struct numpy_array *a)
{
	return (uint64_t)basicsize + 16 * (uint64_t)a->nd + (a->owns ? a->nbytes : 0);
}

uint64_t numpy_data_request(const struct numpy_array *a)
{
	if (!a->owns || !a->data)
		return 0;
	return a->nbytes ? a->nbytes : (a->elsize ? a->elsize : 1);
}

uint64_t numpy_dims_request(const struct numpy_array *a)
{
	return a->dims && a->nd ? 16 * (uint64_t)a->nd : 0;
}
