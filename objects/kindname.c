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

/* A heap type's module: the str value of tp_dict['__module__'] (docs/cpython.md 4.3), NULL when
 * unreadable. The key and the value are most often the same str objects class after class
 * ("__module__" is interned; "__main__" is every class of a script's): their addresses are kept
 * and the strings not read again (60,000 classes read 240,000 strs for their modules). */
static const char *heap_module(struct typetab *t, struct pyproc *p, const struct pytype *ty)
{
	char buf[128];
	uint64_t v;

	if (!ty->dict || pydict_get_key(p, ty->dict, "__module__", &t->module_key, &v) != 1)
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
			const char *tp_name, const char **module)
{
	char name[128], out[300];
	const char *mod;
	uint64_t ht_name;
	size_t nm, nn;

	*module = NULL;
	if (!ty->heap) {
		*module = static_module(t, tp_name);
		return strpool_add(&t->strings, kindname_static(&p->L, tp_name, out, sizeof out));
	}
	memcpy(&ht_name, b + p->L.off.ht_name, 8);
	if (pystr_read(p, ht_name, name, sizeof name) < 0)
		return NULL;
	if (!(mod = heap_module(t, p, ty)))
		mod = strpool_add_again(&t->strings, "builtins", &t->last_module);
	*module = mod;
	if (strcmp(mod, "builtins") == 0)
		return strpool_add(&t->strings, name);
	/* "module.Name": both under 128 bytes, so never cut (a snprintf per class cost 900 instructions) */
	nm = strlen(mod);
	nn = strlen(name);
	memcpy(out, mod, nm);
	out[nm] = '.';
	memcpy(out + nm + 1, name, nn);
	return strpool_addn(&t->strings, out, nm + 1 + nn);
}
