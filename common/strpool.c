/* strpool.c: strings in blocks that never move. */
#include "common/compat.h"
#include "common/strpool.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

#define BLOCK_BYTES 65536u

struct strpool_block {
	struct strpool_block *next;
	size_t used, cap;
	char data[];
};

const char *strpool_addn(struct strpool *sp, const char *s, size_t n)
{
	struct strpool_block *b = sp->head;
	char *out;

	if (!b || b->cap - b->used < n + 1) {
		size_t cap = n + 1 > BLOCK_BYTES ? n + 1 : BLOCK_BYTES;
		b = xmalloc(sizeof *b + cap);
		b->used = 0;
		b->cap = cap;
		if (sp->head && cap > BLOCK_BYTES) { /* a long string alone: the current block stays open */
			b->next = sp->head->next;
			sp->head->next = b;
		} else {
			b->next = sp->head;
			sp->head = b;
		}
	}
	out = b->data + b->used;
	memcpy(out, s, n);
	out[n] = '\0';
	b->used += n + 1;
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
