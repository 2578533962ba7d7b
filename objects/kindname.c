/* kindname.c: guppy3 kind names. */
#include "common/compat.h"
#include "objects/kindname.h"

#include <stdio.h>
#include <string.h>
#include "common/strpool.h"
#include "objects/pyobj.h"
#include "python/rules.h"

const char *kindname_static(const struct pylayout *L, const char *tp_name, char *buf, size_t len)
{
	const char *alias = py_types_alias(L, tp_name);

	if (alias)
		return alias;
	snprintf(buf, len, "%s", tp_name);
	return buf;
}

/* The entries of a class dict looked at for the "__module__" key met last (a class namespace's
 * first few: where type() puts it). */
#define MODULE_ENTRIES 16
/* The bytes of dk_indices of a class dict up to 64 slots (one byte each). */
#define MODULE_INDEX_BYTES 64
/* pydict_get_key's bound on a dict's slots (a larger one is not read) */
#define MODULE_DICT_SLOTS (1u << 20)

/* tp_dict['__module__'] by the key's address alone (the str object met last, "__module__" being
 * interned), looking at the dict's words, its keys header and its entries where they lie copied:
 * first the entry where the key was last, then the first MODULE_ENTRIES (pydict_get_key copies
 * each and read 440 instructions a class). A class dict is a combined table, its keys unique:
 * the entry holding that str is the one. True with *v set when found so; else pydict_get_key
 * asks. */
static bool module_by_key(struct typetab *t, struct pyproc *p, uint64_t dict, uint64_t *v)
{
	const struct pyoffsets *o = &p->L.off;
	const uint8_t *w, *h, *e;
	struct pydictkeys k;
	uint64_t keys, values, kaddr, n, span;
	unsigned keyoff;

	if (!t->module_key || o->dict_values != o->dict_keys + 8 || o->dk_header_size <= 0 ||
	    o->dk_header_size > PYDICTKEYS_HEADER_MAX || !(w = mem_peek(&p->mem, dict + (uint64_t)o->dict_keys, 16)))
		return false;
	memcpy(&keys, w, 8);
	memcpy(&values, w + 8, 8);
	if (values || !keys)
		return false;
	/* the header, its indices and the first entries in one look when the copy holds them (a
	 * class dict's keys object is a few hundred bytes); else the header alone */
	span = (uint64_t)o->dk_header_size + MODULE_INDEX_BYTES + MODULE_ENTRIES * 24;
	if (!(h = mem_peek(&p->mem, keys, span))) {
		span = (uint64_t)o->dk_header_size;
		if (!(h = mem_peek(&p->mem, keys, span)))
			return false;
	}
	if (pydictkeys_parse(&p->L, keys, h, &k) < 0 || k.size > MODULE_DICT_SLOTS ||
	    (k.entry_size != 24 && k.entry_size != 16))
		return false;
	keyoff = k.entry_size == 24 ? 8 : 0; /* {hash, key, value} or {key, value} */
	n = k.nentries < MODULE_ENTRIES ? k.nentries : MODULE_ENTRIES;
	if (!n)
		return false;
	if (k.entries >= keys && k.entries - keys <= span && n * k.entry_size <= span - (k.entries - keys))
		e = h + (k.entries - keys);
	else if (!(e = mem_peek(&p->mem, k.entries, n * k.entry_size)))
		return false;
	for (uint64_t i = 0, at; i < n; i++) {
		at = (t->module_index + i) % n;
		memcpy(&kaddr, e + at * k.entry_size + keyoff, 8);
		if (kaddr == t->module_key) {
			t->module_index = (unsigned)at;
			memcpy(v, e + at * k.entry_size + keyoff + 8, 8);
			return true;
		}
	}
	return false;
}

/* A heap type's module: the str value of tp_dict['__module__'] (docs/cpython.md 4.3), NULL when
 * unreadable. The key and the value are most often the same str objects class after class
 * ("__module__" is interned; "__main__" is every class of a script's): their addresses are kept
 * and the strings not read again (60,000 classes read 240,000 strs for their modules). */
static const char *heap_module(struct typetab *t, struct pyproc *p, const struct pytype *ty)
{
	char buf[128];
	uint64_t v;

	if (!ty->dict)
		return NULL;
	if (!module_by_key(t, p, ty->dict, &v) && pydict_get_key(p, ty->dict, "__module__", &t->module_key, &v) != 1)
		return NULL;
	if (v && v == t->module_at)
		return t->module_text;
	if (pystr_read(p, v, buf, sizeof buf) < 0)
		return NULL;
	t->module_at = v;
	return t->module_text = strpool_add_again(&t->strings, buf, &t->last_module);
}

/* A static type's module: tp_name (read_type's, under 256 bytes) up to its last dot
 * ("_io.BufferedReader"), else builtins. */
static const char *static_module(struct typetab *t, const char *tp_name)
{
	const char *dot = strrchr(tp_name, '.');
	char m[256];

	if (!dot || (size_t)(dot - tp_name) >= sizeof m)
		return strpool_add_again(&t->strings, "builtins", &t->last_module);
	memcpy(m, tp_name, (size_t)(dot - tp_name));
	m[dot - tp_name] = '\0';
	return strpool_add_again(&t->strings, m, &t->last_module);
}

const char *kindname_of(struct typetab *t, struct pyproc *p, const struct pytype *ty, const uint8_t *b,
			const char *tp_name, bool name_is_ht, const char **module)
{
	char buf[KINDNAME_NAME_MAX], out[300];
	const char *name = buf;
	const char *mod;
	uint64_t ht_name;
	size_t nm, nn;

	*module = NULL;
	if (!ty->heap) {
		*module = static_module(t, tp_name);
		return strpool_add(&t->strings, kindname_static(&p->L, tp_name, out, sizeof out));
	}
	memcpy(&ht_name, b + p->L.off.ht_name, 8);
	if (name_is_ht)
		name = tp_name;
	else if (pystr_read(p, ht_name, buf, sizeof buf) < 0)
		return NULL;
	if (!(mod = heap_module(t, p, ty)))
		mod = strpool_add_again(&t->strings, "builtins", &t->last_module);
	*module = mod;
	/* the module met last is most often this one (a string of the pool: never changes) */
	if (mod != t->measured_module) {
		t->measured_module = mod;
		t->measured_len = strlen(mod);
		t->measured_builtins = strcmp(mod, "builtins") == 0;
	}
	if (t->measured_builtins)
		return strpool_add(&t->strings, name);
	/* "module.Name": both under 128 bytes, so never cut (a snprintf per class cost 900 instructions) */
	nm = t->measured_len;
	nn = strlen(name);
	memcpy(out, mod, nm);
	out[nm] = '.';
	memcpy(out + nm + 1, name, nn);
	return strpool_addn(&t->strings, out, nm + 1 + nn);
}
