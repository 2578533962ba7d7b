/* brief.c: a short description of one object (objects/brief.h). */
#include "common/compat.h"
#include "objects/brief.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "objects/pyobj.h"

#define BRIEF_TEXT 40

static void quoted(struct pyproc *p, uint64_t str, const char *before, char *buf, size_t len)
{
	char s[BRIEF_TEXT + 1];

	if (str && pystr_read(p, str, s, sizeof s) == 0)
		snprintf(buf, len, "%s'%s%s'", before, s, strlen(s) >= BRIEF_TEXT ? "..." : "");
}

static void length(struct pyproc *p, uint64_t addr, int32_t off, char *buf, size_t len)
{
	int64_t n;

	if (off >= 0 && mem_read_u64(&p->mem, addr + (uint64_t)off, (uint64_t *)&n, NULL) == 0 && n >= 0 && n < (1LL << 40))
		snprintf(buf, len, "len %" PRId64, n);
}

static uint64_t field(struct pyproc *p, uint64_t addr, int32_t off)
{
	uint64_t v = 0;

	if (off < 0 || mem_read_u64(&p->mem, addr + (uint64_t)off, &v, NULL) < 0)
		return 0;
	return v;
}

void pybrief(struct pyproc *p, struct typetab *types, uint64_t addr, char *buf, size_t len)
{
	const struct pyoffsets *o = &p->L.off;
	struct pytype *ty;
	uint64_t tp;

	buf[0] = 0;
	if (!pyproc_readable(p, addr, 16) || mem_read_u64(&p->mem, addr + (uint64_t)o->ob_type, &tp, NULL) < 0 ||
	    !(ty = typetab_get(types, p, tp)))
		return;
	switch (ty->rule) {
	case RULE_STR: quoted(p, addr, "", buf, len); return;
	case RULE_MODULE: quoted(p, field(p, addr, o->md_name), "module ", buf, len); return;
	case RULE_LIST:
	case RULE_TUPLE: length(p, addr, o->ob_size, buf, len); return;
	case RULE_DICT: length(p, addr, o->dict_used, buf, len); return;
	case RULE_TYPE: {
		struct pytype *t = typetab_get(types, p, addr);
		if (t)
			snprintf(buf, len, "class %s", t->name);
		return;
	}
	default: break;
	}
	if (ty->shape == SHAPE_FUNCTION)
		quoted(p, field(p, addr, o->func_qualname), "function ", buf, len);
}
