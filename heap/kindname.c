/* kindname.c: guppy3 kind names. */
#include "common/compat.h"
#include "heap/kindname.h"

#include <stdio.h>
#include <string.h>
#include "common/xalloc.h"
#include "heap/pyobj.h"

/* Lib/types.py binds these names to builtin types; guppy3 names such types `types.<name>`,
 * the last binding of a type winning (BuiltinMethodType after BuiltinFunctionType), except
 * function and module which it shortens. `since` is the minor version that added the name. */
static const struct { const char *tp_name, *kind; int since; } aliases[] = {
	{ "function", "function", 0 },
	{ "module", "module", 0 },
	{ "code", "types.CodeType", 0 },
	{ "mappingproxy", "types.MappingProxyType", 0 },
	{ "cell", "types.CellType", 8 },
	{ "generator", "types.GeneratorType", 0 },
	{ "coroutine", "types.CoroutineType", 0 },
	{ "async_generator", "types.AsyncGeneratorType", 0 },
	{ "method", "types.MethodType", 0 },
	{ "builtin_function_or_method", "types.BuiltinMethodType", 0 },
	{ "wrapper_descriptor", "types.WrapperDescriptorType", 0 },
	{ "method-wrapper", "types.MethodWrapperType", 0 },
	{ "method_descriptor", "types.MethodDescriptorType", 0 },
	{ "classmethod_descriptor", "types.ClassMethodDescriptorType", 0 },
	{ "traceback", "types.TracebackType", 0 },
	{ "frame", "types.FrameType", 0 },
	{ "getset_descriptor", "types.GetSetDescriptorType", 0 },
	{ "member_descriptor", "types.MemberDescriptorType", 0 },
	{ "ellipsis", "types.EllipsisType", 10 },
	{ "NoneType", "types.NoneType", 10 },
	{ "NotImplementedType", "types.NotImplementedType", 10 },
};

const char *kindname_static(const char *tp_name, int minor, char *buf, size_t len)
{
	for (size_t i = 0; i < PC_ARRAY_LEN(aliases); i++)
		if (minor >= aliases[i].since && strcmp(tp_name, aliases[i].tp_name) == 0)
			return aliases[i].kind;
	snprintf(buf, len, "%s", tp_name);
	return buf;
}

/* A heap type's module: the str value of tp_dict['__module__'] (CPYTHON.md 4.3). */
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
		return xstrdup(kindname_static(tp_name, p->L.minor, out, sizeof out));
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
