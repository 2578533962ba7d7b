/* prom.c: the Prometheus text exposition of censuses (prom.h). */
#include "common/compat.h"
#include "report/prom.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "common/xalloc.h"

void prom_target_init(struct prom_target *t, pid_t pid)
{
	memset(t, 0, sizeof *t);
	t->pid = pid;
}

static void drop_figures(struct prom_target *t)
{
	for (size_t i = 0; i < t->nkinds; i++) {
		free(t->kinds[i].kind);
		free(t->kinds[i].module);
	}
	free(t->kinds);
	t->kinds = NULL;
	t->nkinds = 0;
}

void prom_target_release(struct prom_target *t)
{
	drop_figures(t);
}

static int by_bytes(const void *x, const void *y)
{
	const struct census_row *a = *(const struct census_row *const *)x, *b = *(const struct census_row *const *)y;

	if (a->size != b->size)
		return a->size < b->size ? 1 : -1;
	return strcmp(a->kind, b->kind);
}

/* The top kinds by bytes into t->kinds, the rest summed into t->other. */
static void keep_top(struct prom_target *t, const struct census *c, size_t top)
{
	const struct census_row **v = xcalloc(c->nrows ? c->nrows : 1, sizeof *v);

	for (size_t i = 0; i < c->nrows; i++)
		v[i] = &c->rows[i];
	qsort(v, c->nrows, sizeof *v, by_bytes);
	t->nkinds = c->nrows < top ? c->nrows : top;
	t->kinds = xcalloc(t->nkinds ? t->nkinds : 1, sizeof *t->kinds);
	for (size_t i = 0; i < t->nkinds; i++)
		t->kinds[i] = (struct prom_kind){ xstrdup(v[i]->kind), xstrdup(v[i]->module), v[i]->count, v[i]->size };
	t->other = (struct prom_kind){ 0 };
	for (size_t i = t->nkinds; i < c->nrows; i++) {
		t->other.count += v[i]->count;
		t->other.size += v[i]->size;
	}
	t->nall = c->nrows;
	free(v);
}

void prom_target_set(struct prom_target *t, const struct census *c, size_t top, double now)
{
	drop_figures(t);
	keep_top(t, c, top);
	snprintf(t->python, sizeof t->python, "%s", c->version);
	t->up = true;
	t->error[0] = '\0';
	t->error_code = 0;
	t->censuses++;
	t->timestamp = now;
	t->duration_s = c->wall_s;
	t->pause_s = c->pause_s;
	t->objects = c->nobjects;
	t->bytes = c->total_size;
	t->arenas = c->narenas;
	t->arena_bytes = c->arena_bytes;
	t->pools = c->npools;
	t->blocks = c->nblocks;
	t->allocated_bytes = c->arena_used;
	t->gc_ngen = c->gc_ngen < 4 ? c->gc_ngen : 4;
	memcpy(t->gc_count, c->gc_count, sizeof t->gc_count);
	memcpy(t->gc_collections, c->gc_collections, sizeof t->gc_collections);
	t->gc_enabled = c->gc_enabled;
	t->threads = c->nthreads;
	t->partial = census_partial(c);
	t->dropped_objects = c->dropped_objects;
}

void prom_target_fail(struct prom_target *t, const char *line, int exit_code)
{
	drop_figures(t);
	t->up = false;
	t->have_rss = t->have_uss = false;
	snprintf(t->error, sizeof t->error, "%s", line);
	t->error_code = exit_code;
	t->failures++;
}

/* Length of the UTF-8 sequence at s (1-4), or 0 when it is not one (overlong forms, surrogates
 * and code points past U+10FFFF included, as RFC 3629 says). */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void prom_put_label_value(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	while (*p) {
		size_t n = utf8_len(p);

		if (*p == '\\' || *p == '"')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (n == 0)
			fprintf(out, "\\\\x%02x", *p); /* the text \xNN, its backslash escaped */
		else
			fwrite(p, 1, n, out);
		p += n ? n : 1;
	}
	fputc('"', out);
}

static void put_number(FILE *out, double v)
{
	if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v)
		fprintf(out, " %" PRId64 "\n", (int64_t)v);
	else
		fprintf(out, " %.6f\n", v);
}

/* The HELP text: the text format escapes \\ and newline; OpenMetrics a double quote too (its
 * escaped-string has no bare one). */
static void put_help(FILE *out, const char *help, bool om)
{
	for (; *help; help++) {
		if (*help == '\\' || (om && *help == '"'))
			fprintf(out, "\\%c", *help);
		else if (*help == '\n')
			fputs("\\n", out);
		else
			fputc(*help, out);
	}
}

/* HELP and TYPE lines. OpenMetrics names a counter's family without its samples' _total suffix
 * and gives a family whose name ends in a unit (_bytes, _seconds) a UNIT line: the unit must be
 * the name's suffix (OpenMetrics 1.0, "Unit"). */
static void put_family(FILE *out, bool om, const char *name, const char *type, const char *help)
{
	static const char *const units[] = { "bytes", "seconds" };
	size_t len = strlen(name);

	if (om && strcmp(type, "counter") == 0 && len > 6 && strcmp(name + len - 6, "_total") == 0)
		len -= 6;
	fprintf(out, "# HELP %.*s ", (int)len, name);
	put_help(out, help, om);
	fprintf(out, "\n# TYPE %.*s %s\n", (int)len, name, type);
	for (size_t u = 0; om && u < PC_ARRAY_LEN(units); u++) {
		size_t ul = strlen(units[u]);
		if (len > ul + 1 && name[len - ul - 1] == '_' && strncmp(name + len - ul, units[u], ul) == 0)
			fprintf(out, "# UNIT %.*s %s\n", (int)len, name, units[u]);
	}
}

/* name{pid="..",python=".."[,key=".."]} value */
static void put_sample(FILE *out, const char *name, const struct prom_target *t, const char *key, const char *val,
		       double v)
{
	fprintf(out, "%s{pid=\"%d\",python=", name, (int)t->pid);
	prom_put_label_value(out, t->python);
	if (key) {
		fprintf(out, ",%s=", key);
		prom_put_label_value(out, val);
	}
	fputc('}', out);
	put_number(out, v);
}

/* A family with one series per process: which processes have it, and its value. */
struct family {
	const char *name, *type, *help;
	bool (*has)(const struct prom_target *t);
	double (*value)(const struct prom_target *t);
};

static bool always(const struct prom_target *t) { (void)t; return true; }
static bool is_up(const struct prom_target *t) { return t->up; }
static bool has_rss(const struct prom_target *t) { return t->up && t->have_rss; }
static bool has_uss(const struct prom_target *t) { return t->up && t->have_uss; }
static bool has_gc(const struct prom_target *t) { return t->up && t->gc_ngen > 0; }

#define GETTER(field) \
	static double get_##field(const struct prom_target *t) { return (double)t->field; }
GETTER(up)
GETTER(censuses)
GETTER(failures)
GETTER(timestamp)
GETTER(duration_s)
GETTER(pause_s)
GETTER(partial)
GETTER(dropped_objects)
GETTER(nall)
GETTER(objects)
GETTER(bytes)
GETTER(threads)
GETTER(arenas)
GETTER(arena_bytes)
GETTER(pools)
GETTER(blocks)
GETTER(allocated_bytes)
GETTER(gc_enabled)
GETTER(rss)
GETTER(uss)
#undef GETTER

static const struct family families[] = {
	{ "pycensus_up", "gauge", "1 when the last census of the process succeeded, 0 when it failed (pycensus_census_error says why) or none has ended yet", always, get_up },
	{ "pycensus_censuses_total", "counter", "censuses of the process that succeeded since pycensus started", always, get_censuses },
	{ "pycensus_census_failures_total", "counter", "censuses of the process that failed since pycensus started", always, get_failures },
	{ "pycensus_census_timestamp_seconds", "gauge", "Unix time the last census ended", is_up, get_timestamp },
	{ "pycensus_census_duration_seconds", "gauge", "how long the last census took, from attaching to the last object", is_up, get_duration_s },
	{ "pycensus_census_pause_seconds", "gauge", "how long the last census kept the process stopped", is_up, get_pause_s },
	{ "pycensus_census_partial", "gauge", "1 when the last census dropped objects (changed while read, or failed validation)", is_up, get_partial },
	{ "pycensus_census_dropped_objects", "gauge", "objects the last census dropped", is_up, get_dropped_objects },
	{ "pycensus_kinds", "gauge", "kinds in the last census (those beyond --top are summed as kind=\"" PROM_OTHER_KIND "\")", is_up, get_nall },
	{ "pycensus_objects", "gauge", "objects in the last census", is_up, get_objects },
	{ "pycensus_bytes", "gauge", "bytes of the objects in the last census (sys.getsizeof)", is_up, get_bytes },
	{ "pycensus_python_threads", "gauge", "Python thread states of the main interpreter", is_up, get_threads },
	{ "pycensus_pymalloc_arenas", "gauge", "pymalloc arenas", is_up, get_arenas },
	{ "pycensus_pymalloc_arena_bytes", "gauge", "bytes of the pymalloc arenas", is_up, get_arena_bytes },
	{ "pycensus_pymalloc_pools", "gauge", "pymalloc pools holding at least one allocated block", is_up, get_pools },
	{ "pycensus_pymalloc_blocks", "gauge", "allocated pymalloc blocks", is_up, get_blocks },
	{ "pycensus_pymalloc_allocated_bytes", "gauge", "bytes in allocated pymalloc blocks", is_up, get_allocated_bytes },
	{ "pycensus_gc_enabled", "gauge", "gc.isenabled()", has_gc, get_gc_enabled },
	{ "pycensus_resident_memory_bytes", "gauge", "the process's resident set (VmRSS)", has_rss, get_rss },
	{ "pycensus_unique_memory_bytes", "gauge", "the process's unique set size, USS (Private_Clean + Private_Dirty of smaps_rollup)", has_uss, get_uss },
};

static void put_simple(FILE *out, bool om, const struct family *f, const struct prom_target *t, size_t n)
{
	put_family(out, om, f->name, f->type, f->help);
	for (size_t i = 0; i < n; i++)
		if (f->has(&t[i]))
			put_sample(out, f->name, &t[i], NULL, NULL, f->value(&t[i]));
}

static void put_errors(FILE *out, bool om, const struct prom_target *t, size_t n)
{
	put_family(out, om, "pycensus_census_error", "gauge",
		   "the exit code of the last census when it failed, its error line as label error");
	for (size_t i = 0; i < n; i++)
		if (!t[i].up && t[i].error[0])
			put_sample(out, "pycensus_census_error", &t[i], "error", t[i].error, t[i].error_code);
}

static void put_kinds(FILE *out, bool om, const struct prom_target *t, size_t n, bool bytes)
{
	const char *name = bytes ? "pycensus_kind_bytes" : "pycensus_kind_objects";

	put_family(out, om, name, "gauge", bytes ? "bytes of the objects of each kind (the top --top kinds by bytes, and the rest as kind=\"" PROM_OTHER_KIND "\")"
		   : "objects of each kind (the top --top kinds by bytes, and the rest as kind=\"" PROM_OTHER_KIND "\")");
	for (size_t i = 0; i < n; i++) {
		if (!t[i].up)
			continue;
		for (size_t k = 0; k < t[i].nkinds; k++)
			put_sample(out, name, &t[i], "kind", t[i].kinds[k].kind,
				   (double)(bytes ? t[i].kinds[k].size : t[i].kinds[k].count));
		put_sample(out, name, &t[i], "kind", PROM_OTHER_KIND, (double)(bytes ? t[i].other.size : t[i].other.count));
	}
}

static void put_gc(FILE *out, bool om, const struct prom_target *t, size_t n, bool collections)
{
	const char *name = collections ? "pycensus_gc_collections_total" : "pycensus_gc_counts";
	char gen[12];

	put_family(out, om, name, collections ? "counter" : "gauge",
		   collections ? "collections of each generation (gc.get_stats())" : "gc.get_count() of each generation");
	for (size_t i = 0; i < n; i++) {
		for (unsigned g = 0; has_gc(&t[i]) && g < t[i].gc_ngen; g++) {
			snprintf(gen, sizeof gen, "%u", g);
			put_sample(out, name, &t[i], "generation", gen,
				   (double)(collections ? t[i].gc_collections[g] : t[i].gc_count[g]));
		}
	}
}

static int write_all(FILE *out, bool om, const struct prom_target *t, size_t n, size_t left_out)
{
	put_family(out, om, "pycensus_targets", "gauge", "processes pycensus serve takes censuses of");
	fprintf(out, "pycensus_targets %zu\n", n);
	put_family(out, om, "pycensus_targets_left_out", "gauge",
		   "processes --match found beyond the bound on targets, left out");
	fprintf(out, "pycensus_targets_left_out %zu\n", left_out);
	for (size_t f = 0; f < PC_ARRAY_LEN(families); f++)
		put_simple(out, om, &families[f], t, n);
	put_errors(out, om, t, n);
	put_kinds(out, om, t, n, false);
	put_kinds(out, om, t, n, true);
	put_gc(out, om, t, n, false);
	put_gc(out, om, t, n, true);
	if (om)
		fputs("# EOF\n", out);
	fflush(out);
	return ferror(out) ? -1 : 0;
}

int prom_write(FILE *out, const struct prom_target *t, size_t n, size_t left_out)
{
	return write_all(out, false, t, n, left_out);
}

int prom_write_openmetrics(FILE *out, const struct prom_target *t, size_t n, size_t left_out)
{
	return write_all(out, true, t, n, left_out);
}

bool prom_accepts_openmetrics(const char *accept)
{
	double om = 0, text = 0;

	while (accept && *accept) {
		size_t len = strcspn(accept, ",");
		char range[256];
		const char *q;
		double v = 1;

		snprintf(range, sizeof range, "%.*s", (int)(len < sizeof range ? len : sizeof range - 1), accept);
		if ((q = strstr(range, ";q=")) || (q = strstr(range, "; q=")))
			v = strtod(strchr(q, '=') + 1, NULL);
		q = range + strspn(range, " \t");
		if (strncasecmp(q, "application/openmetrics-text", 28) == 0)
			om = v > om ? v : om;
		else if (strncasecmp(q, "text/plain", 10) == 0 || strncmp(q, "*/*", 3) == 0 || strncasecmp(q, "text/*", 6) == 0)
			text = v > text ? v : text;
		accept += len + (accept[len] == ',');
	}
	return om > 0 && om >= text;
}
