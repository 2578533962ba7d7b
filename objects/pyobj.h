/* pyobj.h: reading a few object kinds' contents from the target: str text and dict lookups by
 * string key (needed for type names: a class's module is tp_dict['__module__']). Every read is
 * bounded; malformed objects fail cleanly. */
#ifndef PC_PYOBJ_H
#define PC_PYOBJ_H

#include "common/compat.h"
#include "source/pyproc.h"

/* Copies a str object's text as UTF-8 (non-Latin-1 code points as '?') into buf (NUL-terminated,
 * truncated to max-1 bytes). Fails when addr is not a plausible compact or legacy str. */
int pystr_read(struct pyproc *p, uint64_t addr, char *buf, size_t max);

/* Looks key up in the dict at addr by comparing key strings (no hashing); *value is the entry's
 * value. Returns 1 when found, 0 when absent, -1 when the dict is unreadable or implausible. */
int pydict_get_str(struct pyproc *p, uint64_t dict, const char *key, uint64_t *value);
/* The same, for the same key looked up in many dicts: *key_at (0 at first) keeps the address of
 * the key str last matched, and an entry holding that address matches without reading it. */
int pydict_get_key(struct pyproc *p, uint64_t dict, const char *key, uint64_t *key_at, uint64_t *value);

/* Fields of a dict's keys object that sizes and walkers need, read once. */
struct pydictkeys {
	int64_t refcnt;
	uint64_t size;        /* slots: dk_size, or 1 << dk_log2_size */
	uint64_t index_bytes; /* bytes of dk_indices */
	uint64_t usable, nentries;
	unsigned kind;        /* 3.11+: 0 general, 1 unicode, 2 split; 3.8-3.10: 0 */
	unsigned entry_size;  /* 24, or 16 for 3.11+ unicode/split keys */
	uint64_t entries;     /* address of the first entry */
};
int pydictkeys_read(struct pyproc *p, uint64_t keys, struct pydictkeys *k);
/* The same from a header already copied (dk_header_size bytes at h, of the keys object at keys). */
#define PYDICTKEYS_HEADER_MAX 64 /* bytes; sizeof(PyDictKeysObject) is 32-40 */
int pydictkeys_parse(const struct pylayout *L, uint64_t keys, const uint8_t *h, struct pydictkeys *k);

#endif
