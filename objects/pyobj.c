/* pyobj.c: str text and dict lookups in the target. */
#include "common/compat.h"
#include "objects/pyobj.h"
#include "python/rules.h"

#include <string.h>

/* A dict with more slots than this is not a class or module namespace worth searching. */
#define MAX_DICT_SLOTS (1u << 20)


static size_t utf8_put(char *out, size_t room, uint32_t cp)
{
	if (cp < 0x80 && room >= 1) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800 && room >= 2) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (room >= 1)
		out[0] = '?';
	return room >= 1;
}

/* The str's length and state words, in one read when they are near (they are: 3.8-3.15). */
static int str_len_state(struct pyproc *p, uint64_t addr, uint64_t *len, uint32_t *state)
{
	const struct pyoffsets *o = &p->L.off;
	int64_t lo = o->str_length < o->str_state ? o->str_length : o->str_state;
	int64_t hi = o->str_length + 8 > o->str_state + 4 ? o->str_length + 8 : o->str_state + 4;
	uint8_t h[64];

	if (lo < 0 || hi - lo > (int64_t)sizeof h)
		return mem_read_u64(&p->mem, addr + (uint64_t)o->str_length, len, NULL) < 0 ||
		       mem_read_u32(&p->mem, addr + (uint64_t)o->str_state, state, NULL) < 0 ? -1 : 0;
	if (mem_read(&p->mem, addr + (uint64_t)lo, h, (size_t)(hi - lo), NULL) < 0)
		return -1;
	memcpy(len, h + (o->str_length - lo), 8);
	memcpy(state, h + (o->str_state - lo), 4);
	return 0;
}

int pystr_read(struct pyproc *p, uint64_t addr, char *buf, size_t max)
{
	const struct pyoffsets *o = &p->L.off;
	uint8_t data[256];
	uint64_t len, dataaddr;
	uint32_t state;
	unsigned kind;
	struct py_str_form f;
	size_t n = 0, take;

	if (max == 0 || str_len_state(p, addr, &len, &state) < 0)
		return -1;
	f = py_str_form(&p->L, state);
	kind = f.raw_kind;
	if (len > (1u << 30) || (kind != 1 && kind != 2 && kind != 4))
		return -1;
	if (f.compact)
		dataaddr = addr + f.header;
	else if (mem_read_u64(&p->mem, addr + (uint64_t)o->str_data, &dataaddr, NULL) < 0 || !dataaddr)
		return -1;
	take = (size_t)len < sizeof data / kind ? (size_t)len : sizeof data / kind;
	if (take && mem_read(&p->mem, dataaddr, data, take * kind, NULL) < 0)
		return -1;
	if (f.ascii && kind == 1) { /* its own UTF-8 (a class's name and module: 120,000 reads on 60,000 classes) */
		size_t k = take < max - 1 ? take : max - 1;
		while (n < k && data[n] < 0x80)
			n++;
		memcpy(buf, data, n);
		if (n == k) /* else a byte the flag denies: from there on as below */
			take = 0;
	}
	for (size_t i = n; i < take && n + 1 < max; i++) {
		uint32_t cp = kind == 1 ? data[i] : kind == 2 ? (uint32_t)(data[2 * i] | data[2 * i + 1] << 8)
							       : (uint32_t)(data[4 * i] | data[4 * i + 1] << 8 |
									    data[4 * i + 2] << 16 | (uint32_t)data[4 * i + 3] << 24);
		n += utf8_put(buf + n, max - 1 - n, cp);
	}
	buf[n] = '\0';
	return 0;
}

static unsigned index_width(uint64_t size)
{
	return size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffULL ? 4 : 8;
}

int pydictkeys_parse(const struct pylayout *L, uint64_t keys, const uint8_t *h, struct pydictkeys *k)
{
	const struct pyoffsets *o = &L->off;

	memset(k, 0, sizeof *k);
	memcpy(&k->refcnt, h + o->dk_refcnt, 8);
	memcpy(&k->usable, h + o->dk_usable, 8);
	memcpy(&k->nentries, h + o->dk_nentries, 8);
	k->entry_size = 24;
	if (o->dk_size >= 0) { /* 3.8-3.10 */
		memcpy(&k->size, h + o->dk_size, 8);
		if (k->size == 0 || k->size > (1ULL << 40) || (k->size & (k->size - 1)))
			return -1;
		k->index_bytes = k->size * index_width(k->size);
	} else {
		unsigned log2 = h[o->dk_log2_size], log2ix = h[o->dk_log2_index_bytes];
		if (log2 > 40 || log2ix > 43)
			return -1;
		k->size = 1ULL << log2;
		k->index_bytes = 1ULL << log2ix;
		k->kind = h[o->dk_kind];
		if (k->kind > 2)
			return -1;
		if (k->kind != 0)
			k->entry_size = 16;
	}
	if (k->nentries > k->size || k->usable > k->size)
		return -1;
	k->entries = keys + (uint64_t)o->dk_indices + k->index_bytes;
	return 0;
}

int pydictkeys_read(struct pyproc *p, uint64_t keys, struct pydictkeys *k)
{
	size_t len = (size_t)p->L.off.dk_header_size, slot = (size_t)(keys >> 4) % PC_ARRAY_LEN(p->keys_cache);
	uint8_t *h = p->keys_cache[slot].hdr;

	if (len > sizeof p->keys_cache[slot].hdr || keys == 0)
		return -1;
	if (p->keys_cache[slot].addr != keys) {
		if (mem_read(&p->mem, keys, h, len, NULL) < 0)
			return -1;
		p->keys_cache[slot].addr = keys;
	}
	return pydictkeys_parse(&p->L, keys, h, k);
}

/* Whether the entry's key is the str key (keylen bytes), kept in *key_at when it is. An ASCII key
 * is skipped on its length alone (a str of another length has other UTF-8). */
static int match_entry(struct pyproc *p, const uint8_t *ent, unsigned keyoff, const char *key, size_t keylen,
		       uint64_t *key_at)
{
	uint64_t kaddr, len;
	uint32_t state;
	char buf[128];
	bool ascii = true;

	memcpy(&kaddr, ent + keyoff, 8);
	if (!kaddr)
		return 0;
	for (size_t i = 0; i < keylen; i++)
		ascii = ascii && (unsigned char)key[i] < 0x80;
	if (ascii && (str_len_state(p, kaddr, &len, &state) < 0 || len != keylen))
		return 0;
	if (pystr_read(p, kaddr, buf, sizeof buf) < 0 || strlen(buf) != keylen || memcmp(buf, key, keylen) != 0)
		return 0;
	if (key_at)
		*key_at = kaddr;
	return 1;
}

/* A dict's ma_keys and ma_values, in one read when they are neighbours (3.8-3.15: they are). */
static int dict_words(struct pyproc *p, uint64_t dict, uint64_t *keys, uint64_t *values)
{
	const struct pyoffsets *o = &p->L.off;
	uint8_t b[16];

	if (o->dict_values == o->dict_keys + 8) {
		if (mem_read(&p->mem, dict + (uint64_t)o->dict_keys, b, 16, NULL) < 0)
			return -1;
		memcpy(keys, b, 8);
		memcpy(values, b + 8, 8);
		return 0;
	}
	return mem_read_u64(&p->mem, dict + (uint64_t)o->dict_keys, keys, NULL) < 0 ||
	       mem_read_u64(&p->mem, dict + (uint64_t)o->dict_values, values, NULL) < 0 ? -1 : 0;
}

/* Entries read at once: a class dict's all (its namespace: a handful of names). */
#define ENTRY_BATCH 16

int pydict_get_key(struct pyproc *p, uint64_t dict, const char *key, uint64_t *key_at, uint64_t *value)
{
	const struct pyoffsets *o = &p->L.off;
	struct pydictkeys k;
	uint64_t keys, values;
	uint8_t ent[ENTRY_BATCH * 24];
	unsigned keyoff;

	if (dict_words(p, dict, &keys, &values) < 0 || pydictkeys_read(p, keys, &k) < 0 || k.size > MAX_DICT_SLOTS ||
	    k.entry_size > 24)
		return -1;
	keyoff = k.entry_size == 24 ? 8 : 0; /* {hash, key, value} or {key, value} */
	for (uint64_t at = 0; at < k.nentries; at += ENTRY_BATCH) {
		uint64_t n = k.nentries - at < ENTRY_BATCH ? k.nentries - at : ENTRY_BATCH, i, kaddr;
		if (mem_read(&p->mem, k.entries + at * k.entry_size, ent, n * k.entry_size, NULL) < 0)
			return -1;
		/* the key str matched last, by address alone, before reading any other key */
		for (i = 0; key_at && *key_at && i < n; i++) {
			memcpy(&kaddr, ent + i * k.entry_size + keyoff, 8);
			if (kaddr == *key_at)
				break;
		}
		if (!key_at || !*key_at || i == n)
			for (i = 0; i < n && !match_entry(p, ent + i * k.entry_size, keyoff, key, strlen(key), key_at); i++)
				;
		if (i == n)
			continue;
		if (values) /* split table: the values live in ma_values */
			return mem_read_u64(&p->mem, values + (uint64_t)(o->dv_values > 0 ? o->dv_values : 0) + (at + i) * 8,
					    value, NULL) < 0 ? -1 : 1;
		memcpy(value, ent + i * k.entry_size + keyoff + 8, 8);
		return 1;
	}
	return 0;
}

int pydict_get_str(struct pyproc *p, uint64_t dict, const char *key, uint64_t *value)
{
	return pydict_get_key(p, dict, key, NULL, value);
}
