/* rules.c: the version questions of rules.h that need more than a field of the layout. */
#include "common/compat.h"
#include "python/rules.h"

#include <stdio.h>
#include <string.h>

bool py_version_supported(int major, int minor, char *why, size_t len)
{
	const struct pylayout_gen *g[4];
	struct pc_err e = { 0 };
	bool newer;

	if (layout_candidates(major, minor, g, PC_ARRAY_LEN(g), &newer, &e) > 0)
		return true;
	snprintf(why, len, "%s", e.detail);
	return false;
}

bool py_is_eval_function(const char *symbol)
{
	static const char eval[] = "_PyEval_EvalFrameDefault";
	size_t n = sizeof eval - 1;

	return symbol && strncmp(symbol, eval, n) == 0 && (symbol[n] == '\0' || symbol[n] == '.');
}

const char *py_release_refused(int major, int minor, int micro)
{
	if (major == 3 && minor == 14 && micro >= 0 && micro <= 4)
		return "3.14.0-3.14.4 ran the incremental GC that 3.14.5 reverted; pycensus reads the "
		       "generational GC of 3.14.5 and later (upgrade the interpreter)";
	return NULL;
}

bool py_debugmallocstats_proves_pymalloc(int major, int minor)
{
	return major == 3 && minor <= 11;
}

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

const char *py_types_alias(const struct pylayout *L, const char *tp_name)
{
	for (size_t i = 0; i < PC_ARRAY_LEN(aliases); i++)
		if (L->minor >= aliases[i].since && strcmp(tp_name, aliases[i].tp_name) == 0)
			return aliases[i].kind;
	return NULL;
}
