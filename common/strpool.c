/* strpool.c: strings in blocks that never move. */
#include "common/compat.h"
#include "common/strpool.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

#define BLOCK_BYTES 65536u

struct strpool_block {
	struct strpool_block *next;
	size_t used, cap;
	_Alignas(max_align_t) char data[];
};

/* n bytes in the pool at an offset that is a multiple of align (a power of two). */
static char *take(struct strpool *sp, size_t n, size_t align)
{
	struct strpool_block *b = sp->head;
	size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;
	char *out;

	if (!b || at > b->cap || b->cap - at < n) {
		size_t cap = n > BLOCK_BYTES ? n : BLOCK_BYTES;
		b = xmalloc(sizeof *b + cap);
		b->used = 0;
		b->cap = cap;
		if (sp->head && cap > BLOCK_BYTES) { /* a long one alone: the current block stays open */
			b->next = sp->head->next;
			sp->head->next = b;
		} else {
			b->next = sp->head;
			sp->head = b;
		}
		at = 0;
	}
	out = b->data + at;
	b->used = at + n;
	return out;
}

const char *strpool_addn(struct strpool *sp, const char *s, size_t n)
{
	char *out = take(sp, n + 1, 1);

	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

const void *strpool_copy(struct strpool *sp, const void *v, size_t n)
{
	void *out = take(sp, n ? n : 1, _Alignof(max_align_t));

	if (n)
		memcpy(out, v, n);
	return out;
}

const char *strpool_add(struct strpool *sp, const char *s)
{
	return strpool_addn(sp, s, strlen(s));
}

const char *strpool_add_again(struct strpool *sp, const char *s, const char **prev)
{
	if (!*prev || strcmp(*prev, s) != 0)
		*prev = strpool_add(sp, s);
	return *prev;
}

void strpool_release(struct strpool *sp)
{
	while (sp->head) {
		struct strpool_block *b = sp->head;
		sp->head = b->next;
		free(b);
	}
}
