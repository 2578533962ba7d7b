/* protobuf.h: a small Protocol Buffers encoder (wire format of protobuf.dev/programming-guides/
 * encoding): varints (wire type 0) and length-delimited fields (wire type 2: strings, embedded
 * messages, packed repeated varints), appended to a growable buffer. Enough for profile.proto
 * (report/pprof.h) without a protobuf library; it writes, it never parses. Out of memory is fatal
 * (common/xalloc.h). */
#ifndef PC_PROTOBUF_H
#define PC_PROTOBUF_H

#include "common/compat.h"
#include <stddef.h>

/* An encoded message (or a run of fields of one): bytes v[0..n). Zeroed is empty. */
struct pb {
	uint8_t *v;
	size_t n, cap;
};

/* A base-128 varint: 7 bits a byte, least significant first, high bit set on all but the last. */
void pb_varint(struct pb *b, uint64_t v);
/* A field's key: (field << 3) | wire type. */
void pb_key(struct pb *b, unsigned field, unsigned wire);
/* A varint field; int64 values go as their two's complement (a negative one takes 10 bytes). */
void pb_uint(struct pb *b, unsigned field, uint64_t v);
/* A length-delimited field: a string, bytes, or an encoded message (pb_message). */
void pb_bytes(struct pb *b, unsigned field, const void *s, size_t n);
void pb_message(struct pb *b, unsigned field, const struct pb *m);
/* A packed repeated varint field (proto3's default for repeated scalars); nothing when n == 0. */
void pb_packed(struct pb *b, unsigned field, const uint64_t *v, size_t n);
/* Bytes already encoded (whole fields), as they are. */
void pb_append(struct pb *b, const void *s, size_t n);
/* Empties b, keeping its memory. */
void pb_clear(struct pb *b);
void pb_release(struct pb *b);

#endif
