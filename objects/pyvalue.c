/* pyvalue.c: int values, dict items and instance attributes read from the target. */
#include "common/compat.h"
#include "objects/pyvalue.h"

#include <string.h>
#include "objects/pyobj.h"
#include "python/rules.h"

/* A dict with more slots than this is not a registry worth walking. */
#define MAX_DICT_SLOTS (1u << 20)
#define PYLONG_SHIFT 30 /* 30-bit digits on every 64-bit build */

int pylong_read(struct pyproc *p, uint64_t addr, uint64_t *v, bool *neg)
{
	const struct pyoffsets *o = &p->L.off;
	uint32_t digits[3];
	uint64_t n, word;

	if (!pyproc_readable(p, addr, 32))
		return -1;
	if (o->long_tag >= 0) { /* 3.12+: lv_tag = ndigits << 3 | sign (0 +, 1 zero, 2 -) */
		if (mem_read_u64(&p->mem, addr + (uint64_t)o->long_tag, &word, NULL) < 0)
			return -1;
		n = word >> 3;
		*neg = (word & 3) == 2;
		if ((word & 3) == 1)
			n = 0;
	} else {
		if (mem_read_u64(&p->mem, addr + (uint64_t)o->ob_size, &word, NULL) < 0)
			return -1;
		*neg = (int64_t)word < 0;
		n = *neg ? (uint64_t)-(int64_t)word : word;
	}
	if (n > 3 || (n && mem_read(&p->mem, addr + (uint64_t)o->long_digit, digits, n * 4, NULL) < 0))
		return -1;
	*v = 0;
	for (uint64_t i = n; i > 0; i--) {
		if (i == 3 && digits[2] >= 16) /* 60 + 4 bits: anything more overflows */
			return -1;
		*v = (*v << PYLONG_SHIFT) | (digits[i - 1] & ((1u << PYLONG_SHIFT) - 1));
	}
	return 0;
}

long pydict_each(struct pyproc *p, uint64_t dict, size_t max, pydict_fn fn, void *arg)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t keys, values, vbase;
	struct pydictkeys k;
	uint8_t ent[24];
	unsigned keyoff;
	long seen = 0;

	if (!pyproc_readable(p, dict, (uint64_t)o->dict_size) ||
	    mem_read_u64(&p->mem, dict + (uint64_t)o->dict_keys, &keys, NULL) < 0 ||
	    mem_read_u64(&p->mem, dict + (uint64_t)o->dict_values, &values, NULL) < 0 ||
	    !pyproc_readable(p, keys, (uint64_t)o->dk_header_size) || pydictkeys_read(p, keys, &k) < 0 ||
	    k.size > MAX_DICT_SLOTS)
		return -1;
	keyoff = k.entry_size == 24 ? 8 : 0; /* {hash, key, value} or {key, value} */
	vbase = values + (uint64_t)(o->dv_values > 0 ? o->dv_values : 0);
	for (uint64_t i = 0; i < k.nentries && (size_t)seen < max; i++) {
		uint64_t key, value;
		if (mem_read(&p->mem, k.entries + i * k.entry_size, ent, k.entry_size, NULL) < 0)
			return -1;
		memcpy(&key, ent + keyoff, 8);
		memcpy(&value, ent + keyoff + 8, 8);
		if (values && mem_read_u64(&p->mem, vbase + i * 8, &value, NULL) < 0)
			return -1;
		if (!key || !value) /* deleted entry (dummy key with NULL value) or unset split slot */
			continue;
		seen++;
		if (!fn(p, key, value, arg))
			break;
	}
	return seen;
}

/* Index of the str key `name` in a keys object (split keys of a class: entry i <-> values[i]). */
static int keys_index(struct pyproc *p, uint64_t keys, const char *name, uint64_t *index)
{
	struct pydictkeys k;
	char buf[128];

	if (!pyproc_readable(p, keys, (uint64_t)p->L.off.dk_header_size) || pydictkeys_read(p, keys, &k) < 0 ||
	    k.size > MAX_DICT_SLOTS)
		return -1;
	for (uint64_t i = 0; i < k.nentries; i++) {
		uint64_t key;
		if (mem_read_u64(&p->mem, k.entries + i * k.entry_size + (k.entry_size == 24 ? 8 : 0), &key, NULL) < 0)
			return -1;
		if (key && pystr_read(p, key, buf, sizeof buf) == 0 && strcmp(buf, name) == 0) {
			*index = i;
			return 1;
		}
	}
	return 0;
}

/* An attribute kept in values laid out by the class's shared keys (3.11+ managed dicts). */
static int values_attr(struct pyproc *p, uint64_t type, uint64_t values, const char *name, uint64_t *value)
{
	uint64_t keys, i;
	int r;

	if (mem_read_u64(&p->mem, type + (uint64_t)p->L.off.ht_cached_keys, &keys, NULL) < 0 || !keys)
		return -1;
	if ((r = keys_index(p, keys, name, &i)) <= 0)
		return r;
	values += (uint64_t)(p->L.off.dv_values > 0 ? p->L.off.dv_values : 0);
	if (mem_read_u64(&p->mem, values + 8 * i, value, NULL) < 0)
		return -1;
	return *value ? 1 : 0;
}

/* docs/cpython.md 4.2: the words before a managed-dict object hold its dict or its values
 * (python/rules.h); 3.13+ keeps the values inline after the object (valid while the byte
 * `valid` says so). */
static int managed_attr(struct pyproc *p, uint64_t obj, uint64_t type, uint64_t flags, const char *name,
			uint64_t *value)
{
	const struct pylayout *L = &p->L;
	uint64_t pre[2], values, basicsize;
	uint8_t valid = 0;

	if (mem_read(&p->mem, obj + (uint64_t)py_managed_words_offset(L), pre, sizeof pre, NULL) < 0)
		return -1;
	if ((values = py_managed_values(L, pre)))
		return values_attr(p, type, values, name, value);
	if (pre[1] && py_managed_word_is_dict(L, pre[1]))
		return pydict_get_str(p, pre[1], name, value);
	if (py_inline_values(L, flags) && L->off.dv_valid >= 0 &&
	    mem_read_u64(&p->mem, type + (uint64_t)L->off.tp_basicsize, &basicsize, NULL) == 0 &&
	    basicsize < 4096 &&
	    mem_read(&p->mem, obj + basicsize + (uint64_t)L->off.dv_valid, &valid, 1, NULL) == 0 && valid)
		return values_attr(p, type, obj + basicsize, name, value);
	return 0;
}

int pyobj_attr(struct pyproc *p, uint64_t obj, const char *name, uint64_t *value)
{
	const struct pyoffsets *o = &p->L.off;
	uint64_t type, flags, dict;
	int64_t dictoffset;

	if (!pyproc_readable(p, obj, (uint64_t)o->ob_type + 8) || mem_read_u64(&p->mem, obj + (uint64_t)o->ob_type, &type, NULL) < 0 ||
	    !pyproc_readable(p, type, (uint64_t)o->type_size) ||
	    mem_read_u64(&p->mem, type + (uint64_t)o->tp_flags, &flags, NULL) < 0 ||
	    mem_read_u64(&p->mem, type + (uint64_t)o->tp_dictoffset, (uint64_t *)&dictoffset, NULL) < 0)
		return -1;
	if (py_has_managed_dict(&p->L, flags))
		return pyproc_readable(p, obj + (uint64_t)py_managed_words_offset(&p->L), (uint64_t)-py_managed_words_offset(&p->L))
			       ? managed_attr(p, obj, type, flags, name, value) : -1;
	if (dictoffset <= 0 || dictoffset > 4096) /* negative offsets are var-sized objects: not needed */
		return 0;
	if (mem_read_u64(&p->mem, obj + (uint64_t)dictoffset, &dict, NULL) < 0)
		return -1;
	return dict && pyproc_readable(p, dict, 48) ? pydict_get_str(p, dict, name, value) : 0;
}
