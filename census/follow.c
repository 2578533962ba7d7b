/* follow.c: objects that only references lead to. The pool walk sees every object inside the
 * arenas and the GC lists lead to tracked objects outside them; what is left are objects outside
 * pymalloc that the GC does not track (long str, bytes and ints, untracked big tuples, 3.11+ code
 * objects) and static objects of the interpreter (None, small ints, static types), which guppy3
 * counts when they are referenced. They are found by following the references of every object
 * counted (census/refs.c), breadth first, one batched read per round. */
#include "common/compat.h"
#include "census/walk.h"

#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "objects/pyobj.h"
#include "symbols/elf.h"

#define HEADER_LEN 40          /* refcnt, type, and ob_size / str length and state */
#define MAX_ROUNDS 100000
#define MAX_REFS (1ULL << 27)  /* items of one container: more means garbage */
#define MAX_OBJECT_COPY (1ULL << 30)
#define FOLLOW_ROUND_BYTES (256ULL << 20)
/* A big array of references is read a chunk per round, the next chunk queued once this one is
 * read: a 10^8-item list needs 4 MiB at a time, not 800 MB, and an array that cannot be read
 * (a garbage length) costs one failed chunk. */
#define PTRS_CHUNK (1ULL << 19)
/* A keys header is read with what follows it up to this many bytes, where readable: a small keys
 * object's indices and entries come with it (64 slots of a class's shared keys, 26 entries of 16
 * bytes), not in a second read the round after. At most KEYS_EXTRA_MAX bytes per batch so,
 * whatever the batch's bound: a dump made with less extra than its replay asks for gave that
 * replay other references (a keys header's extra bytes partly in the file). */
#define KEYS_READ 512u
#define KEYS_EXTRA_MAX (64ULL << 20)

static uint64_t rd64(const uint8_t *b, size_t off)
{
	uint64_t v;
	memcpy(&v, b + off, 8);
	return v;
}

static void image_span(struct walk *w)
{
	const struct elf_load *ld;
	size_t n = w->p->elf.elf ? elf_loads(w->p->elf.elf, &ld) : 0;

	w->fo.image_lo = UINT64_MAX;
	if (!n && w->p->elf.span_hi) { /* a dump: as recorded */
		w->fo.image_lo = w->p->elf.span_lo;
		w->fo.image_hi = w->p->elf.span_hi;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t lo = ld[i].vaddr + w->p->elf.bias, hi = lo + ld[i].memsz;
		w->fo.image_lo = lo < w->fo.image_lo ? lo : w->fo.image_lo;
		w->fo.image_hi = hi > w->fo.image_hi ? hi : w->fo.image_hi;
	}
}

void follow_init(struct walk *w)
{
	uint64_t sym = pyelf_symbol(&w->p->elf, "_PySet_Dummy");

	ptrmap_init(&w->fo.seen);
	ptrmap_init(&w->fo.keys_seen);
	/* _PySet_Dummy is a pointer variable (setobject.c) */
	if (sym)
		mem_read_u64(&w->p->mem, sym, &w->fo.set_dummy, NULL);
	image_span(w);
}

void follow_release(struct walk *w)
{
	ptrmap_release(&w->fo.seen);
	ptrmap_release(&w->fo.keys_seen);
	free(w->fo.jobs);
	for (size_t i = 0; i < w->fo.nkept_bufs; i++)
		free(w->fo.kept_bufs[i]);
	free(w->fo.kept_bufs);
	free(w->fo.kept);
}

/* A batch's buffer, kept with the regions it read (follow's keep) while they fit; else freed. */
static void keep_or_free(struct walk *w, const struct mem_req *reqs, size_t n, uint8_t *data, uint64_t bytes)
{
	struct follow *f = &w->fo;

	if (!f->keep || f->kept_bytes + bytes > FOLLOW_KEEP_MAX) {
		free(data);
		return;
	}
	xgrow((void **)&f->kept, &f->capkept, f->nkept + n + 1, sizeof *f->kept);
	for (size_t i = 0; i < n; i++)
		if (reqs[i].ok)
			f->kept[f->nkept++] = (struct mem_region){ reqs[i].addr, reqs[i].len, reqs[i].buf };
	xgrow((void **)&f->kept_bufs, &f->capkept_bufs, f->nkept_bufs + 1, sizeof *f->kept_bufs);
	f->kept_bufs[f->nkept_bufs++] = data;
	f->kept_bytes += bytes;
}

static void queue(struct walk *w, enum fjob_kind kind, uint64_t addr, uint64_t len, uint64_t aux, int64_t slot)
{
	struct follow *f = &w->fo;

	if (w->room.out) /* the census will fail: nothing more to read */
		return;
	xgrow((void **)&f->jobs, &f->capjobs, f->njobs + 1, sizeof *f->jobs);
	f->jobs[f->njobs++] = (struct fjob){ addr, len, aux, slot, kind, w->gcur };
}

/* A reference: anything already copied (arenas, GC objects outside them) is counted by the other
 * passes; anything else not met before becomes a candidate. */
void follow_ptr(struct walk *w, uint64_t ref)
{
	struct follow *f = &w->fo;
	size_t h;

	if (!ref || (ref & 7))
		return;
	walk_graph_ref(w, ref);
	h = (size_t)((ref >> 3) ^ (ref >> 15)) & (PC_ARRAY_LEN(f->recent) - 1);
	if (f->recent[h] == ref)
		return;
	f->recent[h] = ref;
	if (mem_covered(&w->p->mem, ref, 16) || ptrmap_get(&f->seen, ref, NULL))
		return;
	ptrmap_put(&f->seen, ref, 1);
	if (!pyproc_readable(w->p, ref, 16)) {
		f->not_objects++;
		return;
	}
	queue(w, FJ_HEADER, ref, HEADER_LEN, 0, -1);
}

/* FJ_HEADER's aux: the candidate came from a word of unknown meaning (follow_candidate) */
#define FROM_WORD 1

void follow_candidate(struct walk *w, uint64_t word)
{
	struct follow *f = &w->fo;

	/* user space of x86-64 ends at 2^47; a smaller word is an int or a flag */
	if ((word & 7) || word < 4096 || word >> 47)
		return;
	if (mem_covered(&w->p->mem, word, 16) || ptrmap_get(&f->seen, word, NULL)) {
		walk_graph_ref(w, word); /* not an object start: left unresolved by the graph */
		return;
	}
	if (!pyproc_readable(w->p, word, 16))
		return;
	ptrmap_put(&f->seen, word, 1);
	queue(w, FJ_HEADER, word, HEADER_LEN, FROM_WORD, -1);
}

void follow_local_ptrs(struct walk *w, const uint8_t *b, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		follow_ptr(w, rd64(b, 8 * i));
}

/* aux: the references after this chunk */
static void queue_ptrs(struct walk *w, uint64_t addr, uint64_t n)
{
	uint64_t k = n < PTRS_CHUNK ? n : PTRS_CHUNK;

	queue(w, FJ_PTRS, addr, 8 * k, n - k, -1);
}

void follow_ptrs(struct walk *w, uint64_t addr, uint64_t n)
{
	const uint8_t *b;

	if (n == 0 || n > MAX_REFS || !addr)
		return;
	if ((b = mem_local(&w->p->mem, addr, 8 * n)))
		follow_local_ptrs(w, b, n);
	else if (pyproc_readable(w->p, addr, 8 * n))
		queue_ptrs(w, addr, n);
}

void follow_local_set(struct walk *w, const uint8_t *b, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t key = rd64(b, 16 * i); /* setentry {key, hash} */
		if (key != w->fo.set_dummy)
			follow_ptr(w, key);
	}
}

void follow_set(struct walk *w, uint64_t table, uint64_t n)
{
	const uint8_t *b;

	if (n == 0 || n > MAX_REFS || !table)
		return;
	if ((b = mem_local(&w->p->mem, table, 16 * n)))
		follow_local_set(w, b, n);
	else
		queue(w, FJ_SET, table, 16 * n, 0, -1);
}

static void local_entries(struct walk *w, const uint8_t *b, uint64_t n, unsigned es)
{
	unsigned keyoff = es == 24 ? 8 : 0; /* {hash, key, value} or {key, value} */

	for (uint64_t i = 0; i < n; i++) {
		follow_ptr(w, rd64(b, i * es + keyoff));
		follow_ptr(w, rd64(b, i * es + keyoff + 8));
	}
}

static void entries(struct walk *w, uint64_t addr, uint64_t n, unsigned es)
{
	const uint8_t *b;

	if (n == 0 || n > MAX_REFS)
		return;
	if ((b = mem_local(&w->p->mem, addr, n * es)))
		local_entries(w, b, n, es);
	else
		queue(w, FJ_ENTRIES, addr, n * es, es, -1);
}

/* A split dict's (or an instance's) values array: n references after its header. */
static void follow_values(struct walk *w, uint64_t values, uint64_t n)
{
	int64_t at = w->p->L.off.dv_values;

	follow_ptrs(w, values + (uint64_t)(at > 0 ? at : 0), n);
}

/* A keys object's entries are followed once (shared keys serve many dicts); split values, which
 * belong to one dict or instance, each time. */
static void local_keys(struct walk *w, uint64_t keys, const uint8_t *h, uint64_t have, uint64_t values)
{
	const struct pylayout *L = &w->p->L;
	struct pydictkeys k;
	uint64_t at;

	if (pydictkeys_parse(L, keys, h, &k) < 0) {
		w->fo.bad_keys++;
		return;
	}
	if (values || k.refcnt != 1) {
		if (ptrmap_get(&w->fo.keys_seen, keys, NULL))
			goto values;
		ptrmap_put(&w->fo.keys_seen, keys, k.nentries + 1);
	}
	at = k.entries - keys; /* within the header's read: parse checked entries lie past the header */
	if (k.nentries <= MAX_REFS && at <= have && k.nentries * k.entry_size <= have - at)
		local_entries(w, h + at, k.nentries, k.entry_size);
	else
		entries(w, k.entries, k.nentries, k.entry_size);
values:
	if (values)
		follow_values(w, values, k.nentries);
}

void follow_keys(struct walk *w, uint64_t keys, uint64_t values)
{
	uint64_t len = (uint64_t)w->p->L.off.dk_header_size, seen;
	const uint8_t *h;

	if (!keys || (keys & 7) || len > PYDICTKEYS_HEADER_MAX)
		return;
	/* shared keys met before: their entries are followed, and their count is known, so the
	 * header is not read again for each of the thousands of instances sharing it */
	if (ptrmap_get(&w->fo.keys_seen, keys, &seen)) {
		if (values)
			follow_values(w, values, seen - 1);
		return;
	}
	if ((h = mem_local(&w->p->mem, keys, len)))
		local_keys(w, keys, h, len, values);
	else if (pyproc_readable(w->p, keys, len))
		queue(w, FJ_KEYS, keys, len, values, -1);
	else
		w->fo.bad_keys++;
}

/* How much of a candidate to copy: the fixed part, and a tuple's items. */
static uint64_t copy_len(const struct walk *w, const struct pytype *ty, const uint8_t *hdr)
{
	uint64_t len = (uint64_t)ty->basicsize;

	if (ty->rule == RULE_TUPLE) {
		int64_t n = (int64_t)rd64(hdr, (size_t)w->p->L.off.ob_size);
		if (n > 0 && (uint64_t)n <= MAX_REFS)
			len += (uint64_t)n * 8;
	}
	return len < MAX_OBJECT_COPY ? len : MAX_OBJECT_COPY;
}

static void on_header(struct walk *w, const struct fjob *j, const uint8_t *b)
{
	const struct pytype *ty;
	int64_t t;

	if (!walk_plausible_object(w, b) || (t = walk_type_of(w, b)) < 0) {
		w->fo.not_objects += j->aux != FROM_WORD;
		return;
	}
	ty = &w->types.v[t];
	if (j->aux == FROM_WORD) /* its reference counts once it leads to an object (on_job set gcur) */
		walk_graph_ref(w, j->addr);
	queue(w, FJ_OBJECT, j->addr - ty->pre, ty->pre + copy_len(w, ty, b), j->addr, t);
}

bool follow_is_static(const struct walk *w, uint64_t addr)
{
	const struct map *m = maps_find(&w->p->maps, addr);

	return (addr >= w->fo.image_lo && addr < w->fo.image_hi) || (m && m->path[0] == '/');
}

static void on_object(struct walk *w, const struct fjob *j, const uint8_t *b)
{
	unsigned pre = w->types.v[j->slot].pre;

	if (!walk_same_object(w, j->slot, j->aux, b + pre, j->len - pre)) {
		w->changed++;
		walk_drop(w, j->slot, 1);
		return;
	}
	walk_count(w, j->slot, j->aux, b + pre, j->len - pre);
	w->c->objects_followed++;
	if (follow_is_static(w, j->aux))
		w->c->objects_static++;
}

/* b: the job's bytes, have of them (a keys header's read may bring more than its job asked) */
static void on_job(struct walk *w, const struct fjob *j, const uint8_t *b, uint64_t have)
{
	w->gcur = j->src;
	switch (j->kind) {
	case FJ_HEADER: on_header(w, j, b); break;
	case FJ_OBJECT: on_object(w, j, b); break;
	case FJ_PTRS:
		follow_local_ptrs(w, b, j->len / 8);
		if (j->aux)
			queue_ptrs(w, j->addr + j->len, j->aux);
		break;
	case FJ_KEYS: local_keys(w, j->addr, b, have, j->aux); break;
	case FJ_ENTRIES: local_entries(w, b, j->len / j->aux, (unsigned)j->aux); break;
	case FJ_SET: follow_local_set(w, b, j->len / 16); break;
	}
}

/* The request of job i: its own, or for a keys header queued before in this batch, the first
 * one's (every instance of a class queues its shared keys before the first read of them says
 * how many entries they hold: 660,593 reads of 60,000 headers on a heap of 60,000 classes). A
 * keys header's request reads KEYS_READ bytes where they are readable. Returns the requests;
 * *bytes is what they read in all (their buffers are laid out from offset 0). */
static uint64_t round_bytes(const struct walk *w)
{
	return w->fo.round_bytes ? w->fo.round_bytes : FOLLOW_ROUND_BYTES;
}

static size_t plan_reads(struct walk *w, const struct fjob *jobs, size_t n, struct mem_req *reqs, size_t *req_of,
			 uint64_t *bytes)
{
	struct ptrmap first;
	size_t nreq = 0;
	uint64_t k, extra = 0, len;

	ptrmap_init(&first);
	*bytes = 0;
	for (size_t i = 0; i < n; i++) {
		len = jobs[i].len;
		if (jobs[i].kind == FJ_KEYS) {
			if (ptrmap_get(&first, jobs[i].addr, &k)) {
				req_of[i] = (size_t)k;
				continue;
			}
			ptrmap_put(&first, jobs[i].addr, nreq);
			if (len < KEYS_READ && extra + KEYS_READ <= KEYS_EXTRA_MAX && pyproc_readable(w->p, jobs[i].addr, KEYS_READ)) {
				extra += KEYS_READ - len;
				len = KEYS_READ;
			}
		}
		reqs[nreq] = (struct mem_req){ jobs[i].addr, (void *)(uintptr_t)*bytes, len, false };
		*bytes += len;
		req_of[i] = nreq++;
	}
	ptrmap_release(&first);
	return nreq;
}

/* Reads n jobs in one batch and handles each; new jobs go to w->fo.jobs. */
static void run_batch(struct walk *w, const struct fjob *jobs, size_t n)
{
	struct mem_req *reqs = xcalloc(n ? n : 1, sizeof *reqs);
	size_t *req_of = xcalloc(n ? n : 1, sizeof *req_of), nreq;
	uint64_t bytes;
	uint8_t *data;

	nreq = plan_reads(w, jobs, n, reqs, req_of, &bytes);
	data = xmalloc(bytes ? bytes : 1);
	for (size_t i = 0; i < nreq; i++)
		reqs[i].buf = data + (uintptr_t)reqs[i].buf;
	mem_readv(&w->p->mem, reqs, nreq);
	for (size_t i = 0; i < n; i++) {
		const struct mem_req *r = &reqs[req_of[i]];
		if (r->ok)
			on_job(w, &jobs[i], r->buf, r->len);
		else if ((jobs[i].kind == FJ_HEADER && jobs[i].aux != FROM_WORD) || jobs[i].kind == FJ_OBJECT)
			w->fo.not_objects++;
	}
	keep_or_free(w, reqs, nreq, data, bytes);
	free(reqs);
	free(req_of);
}

/* One round: every queued read, in batches of bounded size. Candidates that became local since
 * they were queued (GC objects outside the arenas, copied by walk_outside) are dropped. */
static void run_round(struct walk *w)
{
	struct fjob *jobs = w->fo.jobs;
	size_t n = w->fo.njobs, first = 0, kept = 0;
	uint64_t bytes = 0, most = round_bytes(w);

	w->fo.jobs = NULL;
	w->fo.njobs = w->fo.capjobs = 0;
	for (size_t i = 0; i < n; i++)
		if (!(jobs[i].kind == FJ_HEADER && mem_covered(&w->p->mem, jobs[i].addr, 16)))
			jobs[kept++] = jobs[i];
	for (size_t i = 0; i < kept; i++) {
		if (bytes + jobs[i].len > most && i > first) {
			run_batch(w, jobs + first, i - first);
			first = i;
			bytes = 0;
		}
		bytes += jobs[i].len;
	}
	run_batch(w, jobs + first, kept - first);
	free(jobs);
}

static void seed_roots(struct walk *w)
{
	const struct pyoffsets *o = &w->p->L.off;
	const int32_t roots[] = { o->is_modules, o->is_sysdict, o->is_builtins };
	uint64_t dicts[256], v;
	size_t n = walk_side_table_dicts(w, dicts, PC_ARRAY_LEN(dicts));

	w->gcur = w->gb ? OG_INTERP : GRAPH_NONE;
	for (size_t i = 0; i < PC_ARRAY_LEN(roots); i++)
		if (roots[i] >= 0 && mem_read_u64(&w->p->mem, w->p->interp + (uint64_t)roots[i], &v, NULL) == 0) {
			if (w->og)
				w->og->interp[i] = v;
			follow_ptr(w, v);
		}
	for (size_t i = 0; i < n; i++)
		follow_ptr(w, dicts[i]);
	w->gcur = w->gb ? OG_THREADS : GRAPH_NONE;
	follow_local_ptrs(w, (const uint8_t *)w->frame_roots, w->nframe_roots);
	w->gcur = GRAPH_NONE;
}

void walk_follow(struct walk *w)
{
	unsigned rounds = 0;

	seed_roots(w);
	while (w->fo.njobs && rounds++ < MAX_ROUNDS) {
		run_round(w);
		walk_graph_ahead(w);
	}
	if (w->fo.njobs)
		census_warn(w->c, "references still unfollowed after %u rounds; the census may miss objects", MAX_ROUNDS);
	if (w->fo.not_objects)
		census_warn(w->c, "%llu references led to memory that is not a valid object; skipped",
			    (unsigned long long)w->fo.not_objects);
	if (w->frames_bad)
		census_warn(w->c, "%llu thread states or frames could not be read; objects only their locals hold may be missing",
			    (unsigned long long)w->frames_bad);
	if (w->fo.broken_deques)
		census_warn(w->c, "%llu deques changed as their blocks were read (--pause census reads them stopped); items after the break may be missing",
			    (unsigned long long)w->fo.broken_deques);
	if (w->types.unreadable)
		census_warn(w->c, "%s: this build's layout (from its headers only) does not describe it: what it holds outside its struct is not counted, nor objects only it holds",
			    w->types.unreadable);
	if (w->fo.bad_keys)
		census_warn(w->c, "%llu dict keys tables failed validation; their entries were not followed",
			    (unsigned long long)w->fo.bad_keys);
}
