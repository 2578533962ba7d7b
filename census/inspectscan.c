/* inspectscan.c: what `inspect` needs from the walk (census/inspect.h): while the census has an
 * object's bytes in local memory, the hash of an exact str, bytes, int or float value, and the
 * length and storage of a list, dict or set that may be wasteful. Strings longer than the copy
 * (large ones live outside the arenas) are hashed from bounded reads of the target. */
#include "common/compat.h"
#include "census/inspect.h"

#include <stdlib.h>
#include <string.h>
#include "census/walk.h"
#include "common/hugepages.h"
#include "common/prefault.h"
#include "common/xalloc.h"
#include "objects/pyobj.h"
#include "objects/sizes.h"
#include "python/rules.h"

#define READ_PIECE (64u << 10) /* a value not in local memory is read in pieces this big */

void inspect_scan_clear(struct inspect_scan *s)
{
	size_t values;

	inspect_scan_sort_wait(s, &values); /* a census started again: its sort is of no use */
	s->nv = s->nct = 0;
	s->unhashed = s->big_ints = 0;
}

void inspect_scan_release(struct inspect_scan *s)
{
	size_t values;

	inspect_scan_sort_wait(s, &values);
	prefault_wait();
	free(s->v);
	free(s->ct);
	memset(s, 0, sizeof *s);
}

/* splitmix64's finaliser: one-to-one on 64-bit words */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t ins_hash_small(const uint8_t *b, size_t n)
{
	uint64_t w = 0;

	memcpy(&w, b, n < 8 ? n : 8);
	return mix(w);
}

uint64_t ins_hash_start(unsigned form, uint64_t n)
{
	return mix(((uint64_t)form << 56) ^ n ^ 0x9e3779b97f4a7c15ULL);
}

uint64_t ins_hash_add(uint64_t h, const uint8_t *b, size_t n)
{
	uint64_t w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, b + i, 8);
		h = mix(h ^ w) + 0x9e3779b97f4a7c15ULL;
	}
	if (i < n) {
		w = 0;
		memcpy(&w, b + i, n - i);
		h = mix(h ^ w ^ ((uint64_t)(n - i) << 59));
	}
	return h;
}

uint64_t ins_hash_end(uint64_t h)
{
	return mix(h);
}

static uint64_t rd64(const uint8_t *b, int64_t off)
{
	uint64_t v;
	memcpy(&v, b + off, 8);
	return v;
}

/* The hash of n bytes at addr (local at `local` when not NULL); false when unreadable. */
static bool hash_contents(struct walk *w, unsigned form, uint64_t addr, const uint8_t *local, uint64_t n, uint64_t *h)
{
	uint8_t *buf;
	uint64_t done;

	if (!local)
		local = mem_local(&w->p->mem, addr, n);
	if (local) {
		*h = n <= IV_EXACT ? ins_hash_small(local, n) : ins_hash_end(ins_hash_add(ins_hash_start(form, n), local, n));
		return true;
	}
	buf = xmalloc(n < READ_PIECE ? n : READ_PIECE);
	*h = ins_hash_start(form, n);
	for (done = 0; done < n;) {
		size_t piece = n - done < READ_PIECE ? (size_t)(n - done) : READ_PIECE;
		if (mem_read(&w->p->mem, addr + done, buf, piece, NULL) < 0) {
			free(buf);
			return false;
		}
		if (n <= IV_EXACT)
			*h = ins_hash_small(buf, n);
		else
			*h = ins_hash_add(*h, buf, piece);
		done += piece;
	}
	free(buf);
	if (n > IV_EXACT)
		*h = ins_hash_end(*h);
	return true;
}

static void add_value(struct walk *w, uint64_t h, unsigned form, uint64_t len)
{
	struct inspect_scan *s = w->is;

	if (s->nv == s->capv) { /* xgrow is a call: this runs for each of 218000 values on Sphinx */
		/* values and containers are fewer than nodes: half of the graph's room (Sphinx: 218000
		 * values of 525000 objects); more still fits */
		prefault_wait(); /* the array may move */
		huge_reserve((void **)&s->v, &s->capv, w->gb->cap / 2, sizeof *s->v);
		xgrow((void **)&s->v, &s->capv, s->nv + 1, sizeof *s->v);
		huge_advise(s->v, s->capv * sizeof *s->v);
		prefault_elems(s->v, s->nv, PREFAULT_BLOCK, s->capv, sizeof *s->v);
	}
	if (!(s->nv & (PREFAULT_BLOCK - 1))) /* the next block, as the writer enters this one */
		prefault_elems(s->v, s->nv + PREFAULT_BLOCK, PREFAULT_BLOCK, s->capv, sizeof *s->v);
	s->v[s->nv++] = (struct ins_value){ h, w->gcur, (uint32_t)form << IV_LEN_BITS | (uint32_t)(len & IV_LEN_MAX) };
}

/* The contents of a compact str or a bytes object: where they start and how many bytes. */
static bool contents(struct walk *w, const struct pytype *ty, const uint8_t *ob, size_t have, unsigned *form,
		     uint64_t *off, uint64_t *n)
{
	const struct pyoffsets *o = &w->p->L.off;

	if (ty->rule == RULE_BYTES) {
		int64_t len = (int64_t)rd64(ob, o->ob_size);
		*form = IV_BYTES;
		*off = (uint64_t)o->bytes_sval;
		*n = len < 0 ? UINT64_MAX : (uint64_t)len;
	} else {
		uint32_t state;
		struct py_str_form f;
		if (have < (size_t)o->ascii_size)
			return false;
		memcpy(&state, ob + o->str_state, 4);
		f = py_str_form(&w->p->L, state);
		if (!f.compact || (f.raw_kind != 1 && f.raw_kind != 2 && f.raw_kind != 4))
			return false;
		*form = f.ascii ? IV_ASCII : f.raw_kind == 1 ? IV_UCS1 : f.raw_kind == 2 ? IV_UCS2 : IV_UCS4;
		*off = f.header;
		*n = rd64(ob, o->str_length);
		*n = *n > IV_LEN_MAX ? UINT64_MAX : *n * f.raw_kind;
	}
	return *n <= IV_LEN_MAX;
}

static void scan_text(struct walk *w, const struct pytype *ty, uint64_t addr, const uint8_t *ob, size_t have)
{
	unsigned form;
	uint64_t off, n, h;

	if (!contents(w, ty, ob, have, &form, &off, &n) ||
	    !hash_contents(w, form, addr + off, off + n <= have ? ob + off : NULL, n, &h)) {
		w->is->unhashed++;
		return;
	}
	add_value(w, h, form, n);
}

/* A dump's census reads what `inspect` would hash and the copies do not hold: the contents of a
 * large str or bytes (outside the arenas, where the census reads only its header). The recorder
 * keeps the read for the file; the hash itself is not kept. */
void walk_dump_value(struct walk *w, const struct pytype *ty, uint64_t addr, const uint8_t *ob, size_t have)
{
	unsigned form;
	uint64_t off, n, h;

	if ((ty->addr == w->types.str_type || ty->addr == w->types.builtin[RULE_BYTES]) &&
	    contents(w, ty, ob, have, &form, &off, &n) && off + n > have)
		(void)hash_contents(w, form, addr + off, NULL, n, &h);
}

/* An int of at most two 30-bit digits: its size word (sign and digits) and digits, exactly. */
static void scan_int(struct walk *w, const uint8_t *ob, size_t have)
{
	const struct pyoffsets *o = &w->p->L.off;
	uint64_t nd = size_int_ndigits(&w->p->L, ob), word;
	uint8_t d[8] = { 0 };

	if (nd > 2 || (size_t)o->long_digit + 4 * nd > have) {
		w->is->big_ints++;
		return;
	}
	word = rd64(ob, o->long_tag >= 0 ? o->long_tag : o->ob_size);
	memcpy(d, ob + o->long_digit, 4 * nd);
	add_value(w, ins_hash_small(d, 8), IV_INT, word);
}

static void add_container(struct walk *w, enum ins_container what, uint64_t len, uint64_t storage, uint64_t minimal)
{
	struct inspect_scan *s = w->is;

	if (s->nct == s->capct) {
		prefault_wait();
		huge_reserve((void **)&s->ct, &s->capct, w->gb->cap / 2, sizeof *s->ct);
		xgrow((void **)&s->ct, &s->capct, s->nct + 1, sizeof *s->ct);
		huge_advise(s->ct, s->capct * sizeof *s->ct);
		prefault_elems(s->ct, s->nct, PREFAULT_BLOCK, s->capct, sizeof *s->ct);
	}
	if (!(s->nct & (PREFAULT_BLOCK - 1)))
		prefault_elems(s->ct, s->nct + PREFAULT_BLOCK, PREFAULT_BLOCK, s->capct, sizeof *s->ct);
	s->ct[s->nct++] = (struct ins_container_rec){ w->gcur, len > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)len,
						      storage, minimal, (uint8_t)what };
}

/* The keys table a dict built anew from n items gets (Objects/dictobject.c dict_merge presizes
 * with ESTIMATE_SIZE(n) = (3n + 1) / 2, rounded up to a power of two, at least PyDict_MINSIZE 8),
 * with the same entry size; index bytes 1, 2, 4 or 8 per slot by table size. */
static uint64_t minimal_keys(const struct pylayout *L, uint64_t n, unsigned entry_size)
{
	uint64_t size = 8, want = (3 * n + 1) / 2;

	while (size < want)
		size <<= 1;
	return size_dict_keys(L, size, size * (size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffULL ? 4 : 8),
			      entry_size);
}

static void scan_dict(struct walk *w, const uint8_t *ob)
{
	const struct pylayout *L = &w->p->L;
	uint64_t used = rd64(ob, L->off.dict_used), keys = rd64(ob, L->off.dict_keys), storage, minimal;
	const uint8_t *h = mem_local(&w->p->mem, keys, (uint64_t)L->off.dk_header_size);
	struct pydictkeys k;

	if (used > (1ULL << 40))
		return;
	if (used <= 1 || rd64(ob, L->off.dict_values)) { /* split tables share their keys: no slack of their own */
		if (used <= 1)
			add_container(w, IC_DICT, used, 0, 0);
		return;
	}
	if ((h ? pydictkeys_parse(L, keys, h, &k) : pydictkeys_read(w->p, keys, &k)) < 0 || k.refcnt != 1)
		return;
	storage = size_dict_keys(L, k.size, k.index_bytes, k.entry_size);
	minimal = minimal_keys(L, used, k.entry_size);
	if (storage >= 4 * minimal)
		add_container(w, IC_DICT, used, storage, minimal);
}

void walk_inspect(struct walk *w, const struct pytype *ty, uint64_t addr, const uint8_t *ob, size_t have)
{
	const struct typetab *t = &w->types;
	const struct pyoffsets *o = &w->p->L.off;
	uint64_t n, a, fv;

	if (!w->is || w->gcur == GRAPH_NONE || ty->addr == 0)
		return;
	if (ty->addr == t->str_type || ty->addr == t->builtin[RULE_BYTES]) {
		scan_text(w, ty, addr, ob, have);
	} else if (ty->addr == t->builtin[RULE_INT]) {
		scan_int(w, ob, have);
	} else if (ty->addr == t->builtin[RULE_FLOAT] && (size_t)o->float_val + 8 <= have) {
		fv = rd64(ob, o->float_val);
		add_value(w, mix(fv), IV_FLOAT, 8);
	} else if (ty->addr == t->builtin[RULE_LIST]) {
		n = rd64(ob, o->ob_size);
		a = rd64(ob, o->list_allocated);
		if (n <= a && a < (1ULL << 40) && (n <= 1 || a >= 4 * n + 8))
			add_container(w, IC_LIST, n, 8 * a, 8 * n);
	} else if (ty->addr == t->dict_type) {
		scan_dict(w, ob);
	} else if (ty->addr == t->builtin[RULE_SET]) {
		a = rd64(ob, o->set_table) == addr + (uint64_t)o->set_smalltable ? 0 : 16 * (rd64(ob, o->set_mask) + 1);
		add_container(w, IC_SET, UINT32_MAX, a, 0);
	}
}
