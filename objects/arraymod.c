/* arraymod.c: array.array read from outside (objects/arraymod.h). */
#include "common/compat.h"
#include "objects/arraymod.h"

#include <string.h>

#define ARR_ITEM 24
#define ARR_ALLOCATED 32
#define ARR_DESCR 40
#define ARR_SIZE 64
#define DESCR_ITEMSIZE 4
#define MAX_BYTES (1ULL << 47)

bool arraymod_is_array(const char *tp_name, int64_t basicsize, int64_t itemsize)
{
	return strcmp(tp_name, "array.array") == 0 && basicsize == ARR_SIZE && itemsize == 0;
}

/* The item size each typecode has on x86-64 Linux (arraymodule.c descriptors; 'u' is wchar_t,
 * 'w' Py_UCS4 from 3.13). */
static int32_t typecode_size(char c)
{
	switch (c) {
	case 'b': case 'B': return 1;
	case 'h': case 'H': return 2;
	case 'i': case 'I': case 'f': case 'u': case 'w': return 4;
	case 'l': case 'L': case 'q': case 'Q': case 'd': return 8;
	default: return 0;
	}
}

bool arraymod_buffer(struct pyproc *p, const uint8_t *ob, size_t have, uint64_t *items, uint64_t *bytes)
{
	uint8_t d[8];
	uint64_t descr;
	int64_t allocated;
	int32_t itemsize;

	if (have < ARRAYMOD_FIELDS)
		return false;
	memcpy(items, ob + ARR_ITEM, 8);
	memcpy(&allocated, ob + ARR_ALLOCATED, 8);
	memcpy(&descr, ob + ARR_DESCR, 8);
	if (!descr || mem_read(&p->mem, descr, d, sizeof d, NULL) < 0)
		return false;
	memcpy(&itemsize, d + DESCR_ITEMSIZE, 4);
	if (itemsize <= 0 || itemsize != typecode_size((char)d[0]) || allocated < 0 ||
	    (uint64_t)allocated > MAX_BYTES / (uint64_t)itemsize)
		return false;
	*bytes = (uint64_t)allocated * (uint64_t)itemsize;
	return true;
}
