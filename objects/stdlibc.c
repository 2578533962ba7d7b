/* stdlibc.c: the standard library's C types read from outside (objects/stdlibc.h). */
#include "common/compat.h"
#include "objects/stdlibc.h"

#include <string.h>
#include "objects/arraymod.h"
#include "python/rules.h"

/* A length no deque reaches: its blocks alone would take 2^31 / 64 * 528 bytes (16 GiB). */
#define DEQUE_MAX_LEN (INT64_C(1) << 31)

static int64_t rd64(const uint8_t *b, int32_t off)
{
	int64_t v;
	memcpy(&v, b + off, 8);
	return v;
}

static bool fits(int32_t off, size_t have)
{
	return off >= 0 && (size_t)off + 8 <= have;
}

bool stdlibc_is_bytesio(const struct pylayout *L, const char *tp_name, int64_t basicsize)
{
	return L->off.bytesio_buf >= 0 && basicsize == L->off.bytesio_size && strcmp(tp_name, "_io.BytesIO") == 0;
}

const char *stdlibc_unreadable(const struct pylayout *L, const char *tp_name)
{
	if (strcmp(tp_name, "collections.deque") == 0 && !py_deque_blocklen(L))
		return "collections.deque";
	if (strcmp(tp_name, "_io.BytesIO") == 0 && L->off.bytesio_buf < 0)
		return "_io.BytesIO";
	return NULL;
}

enum size_rule stdlibc_rule_by_name(const struct pylayout *L, const char *tp_name, int64_t basicsize, int64_t itemsize)
{
	const struct pyoffsets *o = &L->off;

	if (arraymod_is_array(tp_name, basicsize, itemsize))
		return RULE_ARRAY;
	if (itemsize != 0)
		return RULE_DEFAULT;
	if (strcmp(tp_name, "collections.deque") == 0 && py_deque_blocklen(L) && basicsize == o->deque_size)
		return RULE_DEQUE;
	if (o->buffered_size > 0 && basicsize == o->buffered_size &&
	    (strcmp(tp_name, "_io.BufferedReader") == 0 || strcmp(tp_name, "_io.BufferedWriter") == 0 ||
	     strcmp(tp_name, "_io.BufferedRandom") == 0))
		return RULE_BUFFERED;
	return RULE_DEFAULT;
}

uint64_t stdlibc_deque_sizeof(const struct pylayout *L, int64_t basicsize, const uint8_t *ob, size_t have)
{
	if (!fits(L->off.ob_size, have) || !fits(L->off.deque_leftindex, have))
		return (uint64_t)basicsize;
	return py_deque_sizeof(L, basicsize, rd64(ob, L->off.deque_leftindex), rd64(ob, L->off.ob_size));
}

uint64_t stdlibc_buffered_sizeof(const struct pylayout *L, int64_t basicsize, const uint8_t *ob, size_t have)
{
	if (!fits(L->off.buffered_buffer, have) || !fits(L->off.buffered_buffer_size, have))
		return (uint64_t)basicsize;
	return (uint64_t)basicsize + py_buffered_sizeof_extra(L, (uint64_t)rd64(ob, L->off.buffered_buffer),
							      rd64(ob, L->off.buffered_buffer_size));
}

uint64_t stdlibc_odict_extra(const struct pylayout *L, const uint8_t *ob, size_t have, uint64_t used)
{
	if (!fits(L->off.odict_first, have) || !fits(L->off.odict_fast_nodes_size, have))
		return 0;
	return py_odict_sizeof_extra(L, (uint64_t)rd64(ob, L->off.odict_fast_nodes_size),
				     (uint64_t)rd64(ob, L->off.odict_first), used);
}

bool stdlibc_deque_first(const struct pylayout *L, const uint8_t *ob, size_t have, struct deque_cursor *c)
{
	uint64_t len = py_deque_blocklen(L);
	int64_t n, left;

	if (!len || L->off.deque_block_size > STDLIBC_BLOCK_MAX || !fits(L->off.ob_size, have) ||
	    !fits(L->off.deque_leftblock, have) || !fits(L->off.deque_leftindex, have))
		return false;
	n = rd64(ob, L->off.ob_size);
	left = rd64(ob, L->off.deque_leftindex);
	if (n <= 0 || n > DEQUE_MAX_LEN || left < 0 || (uint64_t)left >= len)
		return false;
	c->block = (uint64_t)rd64(ob, L->off.deque_leftblock);
	c->slot = (uint64_t)left;
	c->left = (uint64_t)n;
	return c->block != 0 && (c->block & 7) == 0;
}

const uint8_t *stdlibc_deque_items(const struct pylayout *L, const uint8_t *b, struct deque_cursor *c, uint64_t *n)
{
	const struct pyoffsets *o = &L->off;
	uint64_t len = py_deque_blocklen(L), slot = c->slot;

	*n = len - slot < c->left ? len - slot : c->left;
	c->left -= *n;
	c->slot = 0;
	memcpy(&c->block, b + o->deque_block_right, 8);
	if (c->left && (c->block & 7))
		c->block = 0; /* left with no block: a deque that changed as it was read */
	return b + o->deque_block_data + 8 * slot;
}
