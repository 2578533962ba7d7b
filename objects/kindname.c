/* kindname.c: guppy3 kind names. */
#include "common/compat.h"
#include "objects/kindname.h"

#include <stdio.h>
#include <string.h>
#include "common/xalloc.h"
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

/* A heap type's module: the str value of tp_dict['__module__'] (docs/cpython.md 4.3). */
static bool heap_module(struct pyproc *p, const struct pytype *ty, char *buf, size_t len)
{
	uint64_t v;

	return ty->dict && pydict_get_str(p, ty->dict, "__module__", &v) == 1 && pystr_read(p, v, buf, len) == 0;
}

/* A static type's module: tp_name up to its last dot ("_io.BufferedReader"), else builtins. */
static char *static_module(const char *tp_name)
{
	const char *dot = strrchr(tp_name, '.');
	char *m;

	if (!dot)
		return xstrdup("builtins");
	m = xstrdup(tp_name);
	m[dot - tp_name] = '\0';
	return m;
}

char *kindname_of(struct pyproc *p, const struct pytype *ty, const uint8_t *b, const char *tp_name, char **module)
{
	char mod[128], name[128], out[300];
	uint64_t ht_name;

	*module = NULL;
	if (!ty->heap) {
		*module = static_module(tp_name);
		return xstrdup(kindname_static(&p->L, tp_name, out, sizeof out));
	}
	memcpy(&ht_name, b + p->L.off.ht_name, 8);
	if (pystr_read(p, ht_name, name, sizeof name) < 0)
		return NULL;
	if (!heap_module(p, ty, mod, sizeof mod))
		snprintf(mod, sizeof mod, "builtins");
	*module = xstrdup(mod);
	if (strcmp(mod, "builtins") == 0)
		return xstrdup(name);
	snprintf(out, sizeof out, "%s.%s", mod, name);
	return xstrdup(out);
}
