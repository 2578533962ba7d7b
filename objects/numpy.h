/* numpy.h: numpy's array object, as far as sizes need it: recognising numpy.ndarray and
 * numpy.dtype in the target, and per array its dimensions, element size and whether it owns its
 * data. numpy's layout, not CPython's: the same on every CPython, and known for the numpy
 * releases whose headers were read (docs/cpython.md 5.4):
 *   numpy 1.24.2 numpy/core/include/numpy/ndarraytypes.h (Debian bookworm's python3-numpy)
 *   numpy 2.4.6  numpy/_core/include/numpy/ndarraytypes.h (Debian sid's python3-numpy)
 * PyArrayObject_fields is the same in both (data @16, nd @24, dimensions @32, strides @40,
 * base @48, descr @56, flags @64); PyArray_Descr is not: 1.x keeps `int elsize` @32 (its
 * sizeof, numpy.dtype's tp_basicsize, is 96), 2.x `npy_intp elsize` @40 (sizeof 88). */
#ifndef PC_NUMPY_H
#define PC_NUMPY_H

#include "common/compat.h"
#include "common/ptrmap.h"
#include "source/pyproc.h"

/* The bytes of an array object the reader needs: through `int flags` (@64). */
#define NUMPY_ARRAY_FIELDS 72

/* What one census learned about numpy in the target. */
struct numpy_types {
	uint64_t ndarray;       /* numpy.ndarray, once recognised */
	uint64_t dtype;         /* numpy.dtype, once recognised from a descriptor's type */
	int32_t elsize_at;      /* where a descriptor keeps its element size: 32 (1.x) or 40 (2.x) */
	uint8_t elsize_width;   /* 4 (int, 1.x) or 8 (npy_intp, 2.x); 0: numpy.dtype unrecognised */
	struct ptrmap descrs;   /* descriptor -> element size + 1; DESCR_BAD: not a usable descriptor */
	uint64_t unreadable;    /* arrays whose dimensions or descriptor could not be read */
};

struct numpy_array {
	uint64_t data;          /* the data buffer */
	uint64_t dims;          /* dimensions and strides, one allocation of 2 * nd npy_intp (0-d: none) */
	uint64_t elsize, nbytes;
	uint32_t nd;
	bool owns;              /* NPY_ARRAY_OWNDATA: the data is the array's to free */
};

void numpy_types_init(struct numpy_types *n);
void numpy_types_release(struct numpy_types *n);

/* Whether the type at addr, an ancestor of some type, is numpy.ndarray: a static type named so in
 * numpy's _multiarray_umath extension, with the fields above. Remembered once true. */
bool numpy_is_ndarray(struct pyproc *p, struct numpy_types *n, uint64_t addr);

/* Reads one array (its object's first `have` bytes at ob): false when its descriptor or
 * dimensions cannot be read or are implausible (counted in n->unreadable). */
bool numpy_array_read(struct pyproc *p, struct numpy_types *n, const uint8_t *ob, size_t have,
		      struct numpy_array *a);

/* The objects an array holds (ndarray has no tp_traverse): base (the array or buffer exporter
 * a view or np.frombuffer() array is made from) and descr, into out[2]; 0 where unreadable. */
void numpy_array_refs(const uint8_t *ob, size_t have, uint64_t out[2]);

/* sys.getsizeof without the GC pre-header (numpy methods.c array_sizeof): tp_basicsize, the
 * dimensions and strides, and the data when the array owns it. */
uint64_t numpy_array_sizeof(int64_t basicsize, const struct numpy_array *a);
/* What numpy asked its allocator for: the data (ctors.c: "allocate something even for zero-space
 * arrays", the element size or 1), and the dimensions (npy_alloc_cache_dim: at least 2 entries). */
uint64_t numpy_data_request(const struct numpy_array *a);
uint64_t numpy_dims_request(const struct numpy_array *a);

#endif
