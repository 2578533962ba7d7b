/* protobuf.c: the Protocol Buffers wire format, encoding only. */
#include "common/compat.h"
#include "report/protobuf.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

/* Wire types (protobuf encoding guide): VARINT for every integer and bool, LEN for the rest. */
#define PB_VARINT 0
#define PB_LEN 2

void pb_append(struct pb *b, const void *s, size_t n)
{
	xgrow((void **)&b->v, &b->cap, b->n + n, 1);
	if (n)
		memcpy(b->v + b->n, s, n);
	b->n += n;
}

void pb_varint(struct pb *b, uint64_t v)
{
	uint8_t tmp[10]; /* 64 bits in 7-bit groups */
	size_t n = 0;

	do {
		tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	pb_append(b, tmp, n);
}

void pb_key(struct pb *b, unsigned field, unsigned wire)
{
	pb_varint(b, (uint64_t)field << 3 | wire);
}

void pb_uint(struct pb *b, unsigned field, uint64_t v)
{
	pb_key(b, field, PB_VARINT);
	pb_varint(b, v);
}

void pb_bytes(struct pb *b, unsigned field, const void *s, size_t n)
{
	pb_key(b, field, PB_LEN);
	pb_varint(b, n);
	pb_append(b, s, n);
}

void pb_message(struct pb *b, unsigned field, const struct pb *m)
{
	pb_bytes(b, field, m->v, m->n);
}

void pb_packed(struct pb *b, unsigned field, const uint64_t *v, size_t n)
{
	struct pb body = { 0 };

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		pb_varint(&body, v[i]);
	pb_message(b, field, &body);
	pb_release(&body);
}

void pb_clear(struct pb *b)
{
	b->n = 0;
}

void pb_release(struct pb *b)
{
	free(b->v);
	memset(b, 0, sizeof *b);
}
