/* inspectdup.c: equal values held as distinct objects (census/inspect.h). The walk hashed every
 * exact str, bytes, int and float; values are grouped by hash, and the groups that waste the most
 * are confirmed by reading their copies (from the census's copy of the arenas when kept, else from
 * the target) and comparing them with the first: a hash collision, or a copy that changed since
 * the census, is left out and counted, never reported.
 * Contents of at most 8 bytes (and ints and floats) were hashed one-to-one and need no reading. */
#include "common/compat.h"
#include "census/inspect.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/prefault.h"
#include "common/xalloc.h"
#include "objects/pyvalue.h"

#define SHOW_CHARS 40           /* characters of a value shown */
#define BATCH_BYTES (4u << 20)  /* copies read per batch when confirming */
#define PIECE (64u << 10)       /* longer values are compared in pieces this big */
#define CONFIRM_BUDGET (256ull << 20) /* bytes read to confirm, per census */
#define MAX_SHOWN_NUMBERS 5

struct group {
	size_t start;        /* in the sorted values */
	uint32_t n;
	uint64_t bytes, save;
};

static const char fix_str[] = "make one copy serve all: sys.intern() them where they are made, or look each up in a "
			      "dict used as a cache; for json.loads, an object_hook (or object_pairs_hook) that interns "
			      "keys and values";
static const char fix_bytes[] = "make one copy serve all: look each up in a dict used as a cache where they are made";
static const char fix_num[] = "share one object per value (a dict used as a cache), or hold the numbers unboxed in "
			      "array.array or numpy (8 bytes each)";

static unsigned form_of(const struct ins_value *v) { return v->formlen >> IV_LEN_BITS; }
static uint64_t len_of(const struct ins_value *v) { return v->formlen & IV_LEN_MAX; }

static int by_hash(const void *a, const void *b)
{
	const struct ins_value *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->formlen != y->formlen)
		return x->formlen < y->formlen ? -1 : 1;
	return (x->node > y->node) - (x->node < y->node);
}

static int by_save(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->save != y->save)
		return x->save < y->save ? 1 : -1;
	return (x->start > y->start) - (x->start < y->start);
}

static void swap_groups(struct group *a, struct group *b)
{
	struct group t = *a;

	*a = *b;
	*b = t;
}

/* Moves the k groups with most to save (by_save's first k) to gr[0..k), in by_save's order; the
 * rest stay behind in some order. A heap of the best k (the least of them on top) is a pass over
 * the groups: the inspections show a few of Sphinx's 30000 groups, where a qsort of them all
 * cost 17 M instructions. */
static void best_first(struct group *gr, size_t n, size_t k)
{
	k = k < n ? k : n;
	for (size_t i = k; i-- > 0;) /* gr[0..k) a heap whose top is the least by by_save */
		for (size_t c, p = i; (c = 2 * p + 1) < k; p = c) {
			if (c + 1 < k && by_save(&gr[c + 1], &gr[c]) > 0)
				c++;
			if (by_save(&gr[c], &gr[p]) <= 0)
				break;
			swap_groups(&gr[c], &gr[p]);
		}
	for (size_t i = k; i < n; i++) {
		if (by_save(&gr[i], &gr[0]) >= 0)
			continue;
		swap_groups(&gr[i], &gr[0]);
		for (size_t c, p = 0; (c = 2 * p + 1) < k; p = c) {
			if (c + 1 < k && by_save(&gr[c + 1], &gr[c]) > 0)
				c++;
			if (by_save(&gr[c], &gr[p]) <= 0)
				break;
			swap_groups(&gr[c], &gr[p]);
		}
	}
	if (k)
		qsort(gr, k, sizeof *gr, by_save);
}

/* Digit d (16 bits) of v's sort key, hash above formlen: d 0 and 1 are formlen's, 2 to 5 the hash's. */
static unsigned digit(const struct ins_value *v, unsigned d)
{
	return (unsigned)((d < 2 ? (uint64_t)v->formlen >> (16 * d) : v->hash >> (16 * (d - 2))) & 0xffff);
}

/* s->v in by_hash's order. The walk appends values as it adds their nodes, in node order, so a
 * stable radix sort on (hash, formlen) gives by_hash's order: six passes of 16 bits, each skipped
 * when all values share the digit, where qsort's comparisons took a tenth of inspect's time on
 * Sphinx's 218000 values. Values out of node order (never seen) fall back to qsort. */
static void sort_values(struct inspect_scan *s)
{
	struct ins_value *tmp, *orig = s->v;
	size_t *count;

	for (size_t i = 1; i < s->nv; i++)
		if (s->v[i].node <= s->v[i - 1].node) {
			qsort(s->v, s->nv, sizeof *s->v, by_hash);
			return;
		}
	if (s->nv < 2)
		return;
	tmp = xmalloc(s->nv * sizeof *tmp);
	count = xmalloc(65537 * sizeof *count);
	for (unsigned d = 0; d < 6; d++) {
		struct ins_value *src = s->v;
		memset(count, 0, 65537 * sizeof *count);
		for (size_t i = 0; i < s->nv; i++)
			count[digit(&src[i], d) + 1]++;
		if (count[digit(&src[0], d) + 1] == s->nv)
			continue; /* one digit for all: already in order */
		for (unsigned k = 0; k < 65536; k++)
			count[k + 1] += count[k];
		for (size_t i = 0; i < s->nv; i++)
			tmp[count[digit(&src[i], d)]++] = src[i];
		s->v = tmp;
		tmp = src;
	}
	if (s->v != orig)
		s->capv = s->nv; /* the values now live in tmp's block */
	free(tmp);
	free(count);
}

/* Keeps in s->v (in their order) only the values whose (hash, formlen) may repeat: two bitmaps of
 * a hash of the key, the first marking keys seen, the second keys seen twice; a value whose bit
 * is not in the second is alone, and a run of one is no group. Most values are alone (a program's
 * strings are mostly distinct): the sort then orders the rest only, in the same order as before,
 * since a stable sort of a subsequence keeps its relative order. The bitmaps (2^22 bits, 512 KiB
 * each) keep false positives rare, and a false positive is only a run of one sorted for nothing. */
static void drop_singletons(struct inspect_scan *s)
{
	enum { BITS = 22 };
	uint64_t *seen = xcalloc((1u << BITS) / 64, sizeof *seen), *twice = xcalloc((1u << BITS) / 64, sizeof *twice);
	size_t k = 0;

	for (size_t i = 0; i < s->nv; i++) {
		uint64_t h = (s->v[i].hash ^ (uint64_t)s->v[i].formlen * 0x9e3779b97f4a7c15ULL) >> (64 - BITS);
		uint64_t bit = 1ull << (h & 63);

		twice[h >> 6] |= seen[h >> 6] & bit;
		seen[h >> 6] |= bit;
	}
	for (size_t i = 0; i < s->nv; i++) {
		uint64_t h = (s->v[i].hash ^ (uint64_t)s->v[i].formlen * 0x9e3779b97f4a7c15ULL) >> (64 - BITS);

		if (twice[h >> 6] & (1ull << (h & 63)))
			s->v[k++] = s->v[i];
	}
	s->nv = k;
	free(seen);
	free(twice);
}

struct ins_sort {
	pthread_t thread;
	struct inspect_scan *s;
	size_t values; /* s->nv before drop_singletons */
};

static void *sort_main(void *arg)
{
	struct ins_sort *t = arg;

	t->values = t->s->nv;
	drop_singletons(t->s);
	sort_values(t->s);
	return NULL;
}

void inspect_scan_sort_start(struct inspect_scan *s)
{
	struct ins_sort *t = xcalloc(1, sizeof *t);

	prefault_wait(); /* the sort frees the values' first block */
	t->s = s;
	if (s->sorting || pthread_create(&t->thread, NULL, sort_main, t) != 0) {
		free(t);
		return;
	}
	s->sorting = t;
}

bool inspect_scan_sort_wait(struct inspect_scan *s, size_t *values)
{
	struct ins_sort *t = s->sorting;

	if (!t)
		return false;
	pthread_join(t->thread, NULL);
	*values = t->values;
	free(t);
	s->sorting = NULL;
	return true;
}

/* Where a value's contents start in its object. */
static uint64_t data_offset(const struct pylayout *L, unsigned form)
{
	if (form == IV_BYTES)
		return (uint64_t)L->off.bytes_sval;
	return (uint64_t)(form == IV_ASCII ? L->off.ascii_size : L->off.compact_size);
}

/* The runs of equal (hash, form, length) of at least two objects. */
static struct group *find_groups(const struct objgraph *og, const struct inspect_scan *s, size_t *ng)
{
	struct group *gr = NULL;
	size_t cap = 0, n = 0;

	for (size_t i = 0, j; i < s->nv; i = j) {
		uint64_t bytes = 0, big = 0;
		for (j = i; j < s->nv && s->v[j].hash == s->v[i].hash && s->v[j].formlen == s->v[i].formlen; j++) {
			uint64_t sz = s->v[j].node < og->g.n ? graph_size(&og->g, s->v[j].node) : 0;
			bytes += sz;
			big = sz > big ? sz : big;
		}
		if (j - i < 2)
			continue;
		xgrow((void **)&gr, &cap, n + 1, sizeof *gr);
		gr[n++] = (struct group){ i, (uint32_t)(j - i), bytes, bytes - big };
	}
	*ng = n;
	return gr;
}

/* One code point as text fit for a report line: printable ASCII as is, escapes for the rest. */
static size_t put_cp(char *out, size_t room, uint32_t cp, bool bytes)
{
	char tmp[12];
	int n;

	if (cp == '\\' || cp == '\'')
		n = snprintf(tmp, sizeof tmp, "\\%c", (char)cp);
	else if (cp == '\n' || cp == '\t' || cp == '\r')
		n = snprintf(tmp, sizeof tmp, "\\%c", cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r');
	else if (cp >= 0x20 && cp < 0x7f)
		n = snprintf(tmp, sizeof tmp, "%c", (char)cp);
	else if (bytes || cp < 0xa0)
		n = snprintf(tmp, sizeof tmp, "\\x%02x", cp);
	else if (cp < 0x800)
		n = snprintf(tmp, sizeof tmp, "%c%c", 0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
	else if (cp < 0x10000 && (cp < 0xd800 || cp > 0xdfff))
		n = snprintf(tmp, sizeof tmp, "%c%c%c", 0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
	else if (cp >= 0x10000 && cp < 0x110000)
		n = snprintf(tmp, sizeof tmp, "%c%c%c%c", 0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f),
			     0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
	else
		n = snprintf(tmp, sizeof tmp, "\\u%04x", cp & 0xffff);
	if (n < 0 || (size_t)n >= room)
		return 0;
	memcpy(out, tmp, (size_t)n + 1);
	return (size_t)n;
}

/* 'text...' or b'bytes...' from the first `have` bytes of a value of n bytes. */
static void show(unsigned form, const uint8_t *b, uint64_t have, uint64_t n, char *out, size_t len)
{
	unsigned width = form == IV_UCS2 ? 2 : form == IV_UCS4 ? 4 : 1;
	uint64_t chars = have / width, total = n / width, i;
	size_t at = (size_t)snprintf(out, len, "%s'", form == IV_BYTES ? "b" : "");

	for (i = 0; i < chars && i < SHOW_CHARS; i++) {
		uint32_t cp = 0;
		size_t put;
		memcpy(&cp, b + i * width, width);
		if (!(put = put_cp(out + at, len - at - 8, cp, form == IV_BYTES)))
			break;
		at += put;
	}
	snprintf(out + at, len - at, "%s'", i < total ? "..." : "");
}

/* Reads copies [k, k+m) of group values v (n bytes each, n <= PIECE) and marks those equal to ref. */
static uint64_t compare_batch(struct ins_ctx *x, const struct ins_value *v, size_t m, const uint8_t *ref, uint64_t n,
			      uint64_t off)
{
	struct mem_req *reqs = xcalloc(m, sizeof *reqs);
	uint8_t *bufs = xmalloc(m * n);
	uint64_t ok = 0;

	for (size_t i = 0; i < m; i++)
		reqs[i] = (struct mem_req){ x->og->g.addr[v[i].node] + off, bufs + i * n, (size_t)n, false };
	mem_readv(&x->p->mem, reqs, m);
	for (size_t i = 0; i < m; i++)
		if (reqs[i].ok && memcmp(bufs + i * n, ref, n) == 0)
			ok += ins_mark(x, v[i].node);
	free(reqs);
	free(bufs);
	return ok;
}

/* A long value: compared piece by piece with the first copy. */
static bool equal_long(struct ins_ctx *x, uint64_t a, uint64_t b, uint64_t n, uint8_t *pa, uint8_t *pb)
{
	for (uint64_t done = 0; done < n; done += PIECE) {
		size_t piece = n - done < PIECE ? (size_t)(n - done) : PIECE;
		if (mem_read(&x->p->mem, a + done, pa, piece, NULL) < 0 || mem_read(&x->p->mem, b + done, pb, piece, NULL) < 0 ||
		    memcmp(pa, pb, piece) != 0)
			return false;
	}
	return true;
}

/* Marks in x->sel the copies of group g equal to its first readable copy, whose first bytes go to
 * head (up to hlen); returns how many (0 when none could be read). */
static uint64_t confirm(struct ins_ctx *x, const struct inspect_scan *s, const struct group *g, uint8_t *head,
			uint64_t hlen, uint64_t *budget)
{
	const struct ins_value *v = &s->v[g->start];
	uint64_t n = len_of(v), off = data_offset(&x->p->L, form_of(v)), ok = 0, take = n < hlen ? n : hlen;
	uint8_t *ref = xmalloc(n < PIECE ? (n ? n : 1) : PIECE), *other = NULL;
	size_t first = 0;

	while (first < g->n && take && mem_read(&x->p->mem, x->og->g.addr[v[first].node] + off, head, take, NULL) < 0)
		first++;
	if (n <= IV_EXACT) { /* the hash is the value: every copy is equal */
		for (size_t i = first; i < g->n; i++)
			ok += ins_mark(x, v[i].node);
	} else if (first < g->n && n <= PIECE && mem_read(&x->p->mem, x->og->g.addr[v[first].node] + off, ref, n, NULL) == 0) {
		size_t per = BATCH_BYTES / n ? BATCH_BYTES / n : 1;
		for (size_t i = first; i < g->n && *budget >= n; i += per) {
			size_t m = g->n - i < per ? g->n - i : per;
			*budget -= *budget > m * n ? m * n : *budget;
			ok += compare_batch(x, v + i, m, ref, n, off);
		}
	} else if (first < g->n) {
		other = xmalloc(PIECE);
		ok += ins_mark(x, v[first].node);
		for (size_t i = first + 1; i < g->n && *budget >= 2 * n; i++, *budget -= 2 * n)
			if (equal_long(x, x->og->g.addr[v[first].node] + off, x->og->g.addr[v[i].node] + off, n, ref, other))
				ok += ins_mark(x, v[i].node);
	}
	free(ref);
	free(other);
	return ok;
}

/* A finding for the copies of g marked in x->sel. */
static void add_text(struct ins_ctx *x, const struct inspect_scan *s, const struct group *g, const uint8_t *head,
		     uint64_t hlen)
{
	const struct ins_value *v = &s->v[g->start];
	const struct graph *G = &x->og->g;
	unsigned form = form_of(v);
	struct ins_finding *f;
	uint64_t big = 0, n = len_of(v), unit = form == IV_UCS2 ? 2 : form == IV_UCS4 ? 4 : 1;

	f = ins_add(x->r, INS_DUPLICATE, G->kind[v[0].node]);
	for (uint32_t i = 0; i < g->n; i++) {
		if (!x->sel[v[i].node])
			continue;
		f->objects++;
		f->bytes += graph_size(G, v[i].node);
		big = graph_size(G, v[i].node) > big ? graph_size(G, v[i].node) : big;
	}
	f->save = f->bytes - big;
	show(form, head, hlen < n ? hlen : n, n, f->what, sizeof f->what);
	snprintf(f->detail, sizeof f->detail, "%llu %s", (unsigned long long)(n / unit),
		 form == IV_BYTES ? "bytes" : n / unit == 1 ? "character" : "characters");
	f->fix = form == IV_BYTES ? fix_bytes : fix_str;
	ins_paths(x, f);
}

static void duplicate_texts(struct ins_ctx *x, const struct inspect_scan *s, struct group *gr, size_t ng)
{
	uint8_t head[4 * SHOW_CHARS];
	uint64_t budget = CONFIRM_BUDGET, ok;
	size_t shown = 0;

	for (size_t i = 0, ordered = 0; i < ng && shown < x->o->top; i++) {
		if (i == ordered) { /* the next best, a few more each time some are not confirmed */
			best_first(gr + i, ng - i, x->o->top - shown + 8);
			ordered = i + x->o->top - shown + 8;
		}
		ok = confirm(x, s, &gr[i], head, sizeof head, &budget);
		x->r->unconfirmed += gr[i].n - ok;
		if (ok < 2) {
			for (uint32_t k = 0; k < gr[i].n; k++)
				x->sel[s->v[gr[i].start + k].node] = 0;
			continue;
		}
		add_text(x, s, &gr[i], head, sizeof head);
		shown++;
	}
}

/* int and float: one finding per type, its most repeated values named. */
static void boxed(struct ins_ctx *x, const struct inspect_scan *s, struct group *gr, size_t ng, unsigned form)
{
	const struct graph *G = &x->og->g;
	struct ins_finding *f = NULL;
	size_t at = 0, named = 0;

	best_first(gr, ng, MAX_SHOWN_NUMBERS); /* only the named values' order shows */
	for (size_t i = 0; i < ng; i++) {
		const struct ins_value *v = &s->v[gr[i].start];
		char val[48] = "";
		if (!f)
			f = ins_add(x->r, INS_BOXED, G->kind[v[0].node]);
		for (uint32_t k = 0; k < gr[i].n; k++)
			ins_mark(x, v[k].node);
		f->objects += gr[i].n;
		f->bytes += gr[i].bytes;
		f->save += gr[i].save;
		if (named++ >= MAX_SHOWN_NUMBERS)
			continue;
		if (form == IV_FLOAT) {
			double d;
			uint64_t w;
			if (mem_read_u64(&x->p->mem, G->addr[v[0].node] + (uint64_t)x->p->L.off.float_val, &w, NULL) == 0) {
				memcpy(&d, &w, 8);
				snprintf(val, sizeof val, "%.17g", d);
			}
		} else {
			uint64_t u;
			bool neg;
			if (pylong_read(x->p, G->addr[v[0].node], &u, &neg) == 0)
				snprintf(val, sizeof val, "%s%llu", neg ? "-" : "", (unsigned long long)u);
		}
		at += (size_t)snprintf(f->detail + at, sizeof f->detail - at, "%s%s x %u", at ? ", " : "", val[0] ? val : "?",
				       gr[i].n);
		at = at < sizeof f->detail ? at : sizeof f->detail - 1;
	}
	if (!f)
		return;
	snprintf(f->what, sizeof f->what, "%zu %s values held %llu times", ng, form == IV_INT ? "int" : "float",
		 (unsigned long long)f->objects);
	f->fix = fix_num;
	ins_paths(x, f);
}

void inspect_duplicates(struct ins_ctx *x, struct inspect_scan *s)
{
	struct group *gr, *text, *num[2];
	size_t ng, nt = 0, nn[2] = { 0, 0 }, values;

	if (!inspect_scan_sort_wait(s, &values)) {
		values = s->nv;
		drop_singletons(s);
		sort_values(s);
	}
	x->r->values = values;
	gr = find_groups(x->og, s, &ng);
	text = xmalloc((ng ? ng : 1) * sizeof *text);
	num[0] = xmalloc((ng ? ng : 1) * sizeof *text);
	num[1] = xmalloc((ng ? ng : 1) * sizeof *text);
	for (size_t i = 0; i < ng; i++) {
		unsigned form = form_of(&s->v[gr[i].start]);
		if (form == IV_INT || form == IV_FLOAT) {
			num[form == IV_FLOAT][nn[form == IV_FLOAT]++] = gr[i];
			continue;
		}
		text[nt++] = gr[i];
		x->r->dup_groups++;
		x->r->dup_objects += gr[i].n;
		x->r->dup_save += gr[i].save;
	}
	duplicate_texts(x, s, text, nt);
	boxed(x, s, num[0], nn[0], IV_INT);
	boxed(x, s, num[1], nn[1], IV_FLOAT);
	free(gr);
	free(text);
	free(num[0]);
	free(num[1]);
}
