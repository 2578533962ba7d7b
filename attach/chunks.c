/* chunks.c: the store of target chunks read whole (see chunks.h). */
#include "common/compat.h"
#include "attach/chunks.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"

void chunks_init(struct chunks *c)
{
	memset(c, 0, sizeof *c);
	ptrmap_init(&c->index);
}

void chunks_release(struct chunks *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].data);
	free(c->v);
	ptrmap_release(&c->index);
	memset(c, 0, sizeof *c);
}

const uint8_t *chunks_find(const struct chunks *c, uint64_t addr, uint64_t len)
{
	uint64_t base = addr & ~(uint64_t)(CHUNK_SIZE - 1), slot;
	const struct chunk *ch;

	if (c->n == 0 || base == 0 || len > CHUNK_SIZE || addr - base + len > CHUNK_SIZE ||
	    !ptrmap_get(&c->index, base, &slot))
		return NULL;
	ch = &c->v[slot - 1];
	if (addr - base < ch->lo || addr - base + len > ch->hi)
		return NULL;
	return ch->data + (addr - base);
}

bool chunks_room(const struct chunks *c, uint64_t base)
{
	uint64_t slot;

	return base != 0 && (c->n < CHUNK_MAX || ptrmap_get(&c->index, base, &slot));
}

struct chunk *chunks_slot(struct chunks *c, uint64_t base)
{
	uint64_t slot;

	if (ptrmap_get(&c->index, base, &slot))
		return &c->v[slot - 1];
	if (!chunks_room(c, base)) /* base 0 is ptrmap's reserved key; page 0 is never mapped */
		return NULL;
	xgrow((void **)&c->v, &c->cap, c->n + 1, sizeof *c->v);
	c->v[c->n] = (struct chunk){ base, 0, 0, xmalloc(CHUNK_SIZE) };
	ptrmap_put(&c->index, base, ++c->n);
	return &c->v[c->n - 1];
}

void chunks_held(struct chunk *ch, uint32_t lo, uint32_t n)
{
	uint32_t hi = lo + n;

	if (ch->hi > ch->lo && lo <= ch->hi && hi >= ch->lo) {
		ch->lo = lo < ch->lo ? lo : ch->lo;
		ch->hi = hi > ch->hi ? hi : ch->hi;
	} else {
		ch->lo = lo;
		ch->hi = hi;
	}
}
