/* pprof.c: censuses as gzipped pprof profiles (profile.proto, field numbers from google/pprof's
 * proto/profile.proto). */
#include "common/compat.h"
#include "report/pprof.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "common/xalloc.h"
#include "report/output.h"

/* profile.proto's field numbers. */
enum {
	PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3, PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_TIME_NANOS = 9, PROFILE_PERIOD_TYPE = 11,
	PROFILE_PERIOD = 12, PROFILE_COMMENT = 13, PROFILE_DEFAULT_SAMPLE_TYPE = 14,
	VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2,
	MAPPING_ID = 1, MAPPING_FILENAME = 5, MAPPING_HAS_FUNCTIONS = 7,
	LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1,
	FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3,
};

#define PPROF_MAX_DEPTH 8

/* The strings every profile has, interned first by pprof_init in this order. */
static const char *const fixed_strings[] = { "", "inuse_objects", "count", "inuse_space", "bytes", "space", "pycensus" };
enum { STR_INUSE_OBJECTS = 1, STR_COUNT, STR_INUSE_SPACE, STR_BYTES, STR_SPACE, STR_PYCENSUS };

static const char *string_at(const void *base, size_t i)
{
	return ((char *const *)base)[i];
}

void pprof_init(struct pprof *p)
{
	memset(p, 0, sizeof *p);
	for (size_t i = 0; i < PC_ARRAY_LEN(fixed_strings); i++) /* [0] = "", as the format requires */
		pprof_string(p, fixed_strings[i]);
}

void pprof_release(struct pprof *p)
{
	for (size_t i = 0; i < p->nstrings; i++)
		free(p->strings[i]);
	for (size_t i = 0; i < p->nframes; i++)
		free(p->frames[i]);
	free(p->strings);
	free(p->frames);
	free(p->comments);
	strindex_release(&p->string_index);
	strindex_release(&p->frame_index);
	pb_release(&p->samples);
	memset(p, 0, sizeof *p);
}

uint64_t pprof_string(struct pprof *p, const char *s)
{
	size_t i = strindex_find(&p->string_index, s, string_at, p->strings);

	if (i != STRINDEX_NONE)
		return i;
	xgrow((void **)&p->strings, &p->capstrings, p->nstrings + 1, sizeof *p->strings);
	p->strings[p->nstrings] = xstrdup(s);
	strindex_add(&p->string_index, p->strings[p->nstrings], p->nstrings, string_at, p->strings);
	return p->nstrings++;
}

/* The id (index + 1: ids are nonzero) of the frame `name` at `depth` from the leaf. */
static uint64_t frame_id(struct pprof *p, const char *name, size_t depth)
{
	size_t len = strlen(name), i;
	char *key = xmalloc(len + 2);

	key[0] = (char)('0' + depth);
	memcpy(key + 1, name, len + 1);
	i = strindex_find(&p->frame_index, key, string_at, p->frames);
	if (i != STRINDEX_NONE) {
		free(key);
		return i + 1;
	}
	xgrow((void **)&p->frames, &p->capframes, p->nframes + 1, sizeof *p->frames);
	p->frames[p->nframes] = key;
	strindex_add(&p->frame_index, key, p->nframes, string_at, p->frames);
	pprof_string(p, name); /* interned now: the string table is complete before encoding */
	return ++p->nframes;
}

void pprof_sample(struct pprof *p, const char *const *frames, size_t n, uint64_t objects, uint64_t bytes)
{
	uint64_t loc[PPROF_MAX_DEPTH], values[2] = { objects, bytes };
	struct pb s = { 0 };

	if (n > PPROF_MAX_DEPTH)
		n = PPROF_MAX_DEPTH;
	for (size_t i = 0; i < n; i++) /* location_id[0] is the leaf */
		loc[i] = frame_id(p, frames[n - 1 - i], i);
	pb_packed(&s, SAMPLE_LOCATION_ID, loc, n);
	pb_packed(&s, SAMPLE_VALUE, values, 2);
	pb_message(&p->samples, PROFILE_SAMPLE, &s);
	pb_release(&s);
}

void pprof_comment(struct pprof *p, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	xgrow((void **)&p->comments, &p->capcomments, p->ncomments + 1, sizeof *p->comments);
	p->comments[p->ncomments++] = pprof_string(p, line);
}

static void value_type(struct pb *out, unsigned field, uint64_t type, uint64_t unit)
{
	struct pb m = { 0 };

	pb_uint(&m, VALUE_TYPE_TYPE, type);
	pb_uint(&m, VALUE_TYPE_UNIT, unit);
	pb_message(out, field, &m);
	pb_release(&m);
}

/* Frame i's location (id i + 1, one line calling function i + 1) and that function. */
static void put_frame(struct pb *out, const struct pprof *p, size_t i, struct pb *m, struct pb *line)
{
	const char *name = p->frames[i] + 1;
	uint64_t s = strindex_find(&p->string_index, name, string_at, p->strings);

	pb_clear(line);
	pb_uint(line, LINE_FUNCTION_ID, i + 1);
	pb_clear(m);
	pb_uint(m, LOCATION_ID, i + 1);
	pb_uint(m, LOCATION_MAPPING_ID, 1);
	pb_message(m, LOCATION_LINE, line);
	pb_message(out, PROFILE_LOCATION, m);
	pb_clear(m);
	pb_uint(m, FUNCTION_ID, i + 1);
	pb_uint(m, FUNCTION_NAME, s);
	pb_uint(m, FUNCTION_SYSTEM_NAME, s);
	pb_message(out, PROFILE_FUNCTION, m);
}

void pprof_encode(const struct pprof *p, int64_t time_nanos, struct pb *out)
{
	struct pb m = { 0 }, line = { 0 };

	pb_clear(out);
	value_type(out, PROFILE_SAMPLE_TYPE, STR_INUSE_OBJECTS, STR_COUNT);
	value_type(out, PROFILE_SAMPLE_TYPE, STR_INUSE_SPACE, STR_BYTES);
	pb_append(out, p->samples.v, p->samples.n); /* whole Profile.sample fields already */
	/* one mapping that says its functions are known, so no reader tries to symbolize addresses */
	pb_uint(&m, MAPPING_ID, 1);
	pb_uint(&m, MAPPING_FILENAME, STR_PYCENSUS);
	pb_uint(&m, MAPPING_HAS_FUNCTIONS, 1);
	pb_message(out, PROFILE_MAPPING, &m);
	for (size_t i = 0; i < p->nframes; i++)
		put_frame(out, p, i, &m, &line);
	for (size_t i = 0; i < p->nstrings; i++)
		pb_bytes(out, PROFILE_STRING_TABLE, p->strings[i], strlen(p->strings[i]));
	pb_uint(out, PROFILE_TIME_NANOS, (uint64_t)time_nanos);
	value_type(out, PROFILE_PERIOD_TYPE, STR_SPACE, STR_BYTES);
	pb_uint(out, PROFILE_PERIOD, 1); /* a census, not a sample: every object counted once */
	pb_packed(out, PROFILE_COMMENT, p->comments, p->ncomments);
	pb_uint(out, PROFILE_DEFAULT_SAMPLE_TYPE, STR_INUSE_SPACE);
	pb_release(&m);
	pb_release(&line);
}

/* gzip (RFC 1952) of v[0..n) to out, in 64 KiB pieces. */
static int gzip_to(FILE *out, const uint8_t *v, size_t n, struct pc_err *e)
{
	uint8_t buf[65536];
	z_stream z = { 0 };
	int zr = Z_OK;

	/* windowBits 15 + 16: zlib writes the gzip header and trailer instead of its own */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return pc_fail(e, PC_EINTERNAL, "zlib: deflateInit2 failed");
	z.next_in = (Bytef *)(uintptr_t)v;
	while (zr == Z_OK) {
		size_t chunk = n < (1u << 30) ? n : (1u << 30); /* avail_in is an unsigned int */
		z.avail_in = (uInt)chunk;
		z.next_out = buf;
		z.avail_out = sizeof buf;
		zr = deflate(&z, chunk == n ? Z_FINISH : Z_NO_FLUSH);
		n -= chunk - z.avail_in;
		if (zr == Z_BUF_ERROR) /* no progress possible this round; more output room next */
			zr = Z_OK;
		fwrite(buf, 1, sizeof buf - z.avail_out, out);
	}
	deflateEnd(&z);
	if (zr != Z_STREAM_END)
		return pc_fail(e, PC_EINTERNAL, "zlib: deflate failed (%d)", zr);
	return output_check(out, "pprof profile", e);
}

int pprof_write(FILE *out, const struct pprof *p, int64_t time_nanos, struct pc_err *e)
{
	struct pb b = { 0 };
	int rc;

	pprof_encode(p, time_nanos, &b);
	rc = gzip_to(out, b.v, b.n, e);
	pb_release(&b);
	return rc;
}

/* A census's notes as comments, each line prefixed (a tree's "process PID "): Python's version,
 * the warnings and what was dropped, as the CSV's comment lines say them. */
static void census_comments(struct pprof *p, const char *prefix, const struct census *c)
{
	pprof_comment(p, "%spython %s%s%s", prefix, c->version, c->build[0] ? "; " : "", c->build);
	pprof_comment(p, "%sobjects %" PRIu64 ", bytes %" PRIu64 ", pause %.3f s", prefix, c->nobjects,
		      c->total_size, c->pause_s);
	pprof_comment(p, "%swarnings %zu, dropped objects %" PRIu64 " of %zu kinds, dropped pools %" PRIu64 "%s",
		      prefix, c->nwarnings, c->dropped_objects, c->ndropped, c->dropped_pools,
		      census_partial(c) ? ": the census is partial" : "");
	for (size_t i = 0; i < c->nwarnings; i++)
		pprof_comment(p, "%swarning: %s", prefix, c->warnings[i]);
	for (size_t i = 0; i < c->ndropped; i++)
		pprof_comment(p, "%sdropped %" PRIu64 " %s", prefix, c->dropped[i].count, c->dropped[i].kind);
}

static void header_comments(struct pprof *p, const char *version, bool size_alloc)
{
	pprof_comment(p, "pycensus %s", version);
	pprof_comment(p, "%s", size_alloc ? "inuse_space: allocator footprint (--size alloc)"
					  : "inuse_space: sys.getsizeof of each object");
}

/* The census's rows as samples, under `root` when not NULL (a tree's process frame). */
static void census_samples(struct pprof *p, const char *root, const struct census *c)
{
	for (size_t i = 0; i < c->nrows; i++) {
		const struct census_row *r = &c->rows[i];
		const char *frames[3] = { root, r->module, r->kind };

		if (root)
			pprof_sample(p, frames, 3, r->count, r->size);
		else
			pprof_sample(p, frames + 1, 2, r->count, r->size);
	}
}

int report_pprof(FILE *out, const struct census *c, const char *version, int64_t time_nanos, struct pc_err *e)
{
	struct pprof p;
	int rc;

	pprof_init(&p);
	header_comments(&p, version, c->size_alloc);
	pprof_comment(&p, "pid %d", (int)c->pid);
	if (c->origin[0])
		pprof_comment(&p, "%s", c->origin);
	census_comments(&p, "", c);
	census_samples(&p, NULL, c);
	rc = pprof_write(out, &p, time_nanos, e);
	pprof_release(&p);
	return rc;
}

int report_tree_pprof(FILE *out, const struct tree *t, const char *version, int64_t time_nanos, struct pc_err *e)
{
	struct pprof p;
	int rc;

	pprof_init(&p);
	header_comments(&p, version, t->total.size_alloc);
	pprof_comment(&p, "process tree of pid %d: %zu processes, %zu censused%s", (int)t->root, t->n, t->censused,
		      t->truncated ? " (more processes than listed: the tree was cut)" : "");
	for (size_t i = 0; i < t->n; i++) {
		const struct tree_member *m = &t->v[i];
		char frame[300], prefix[32];

		if (m->code != 0) {
			pprof_comment(&p, "skipped %d: %s", (int)m->pid, m->why);
			continue;
		}
		snprintf(frame, sizeof frame, "%d %s", (int)m->pid, m->cmdline);
		snprintf(prefix, sizeof prefix, "process %d ", (int)m->pid);
		census_comments(&p, prefix, &m->c);
		census_samples(&p, frame, &m->c);
	}
	rc = pprof_write(out, &p, time_nanos, e);
	pprof_release(&p);
	return rc;
}
