/* unwind.c: libunwind-ptrace with a read-only, windowed memory accessor. */
#include "common/compat.h"
#include "symbols/unwind.h"

#include <libunwind-ptrace.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "symbols/ehtable.h"

/* libunwind's own search of one .eh_frame_hdr table: exported, not declared in its headers
 * (Linux perf declares it the same way). */
extern int UNW_OBJ(dwarf_search_unwind_table)(unw_addr_space_t as, unw_word_t ip, unw_dyn_info_t *di,
					      unw_proc_info_t *pi, int need_unwind_info, void *arg);

/* Objects whose tables are remembered per unwinder (a process maps a few dozen). */
#define NTABLES 128

#define WIN_SIZE 4096u
#define NWIN 64u /* direct-mapped by page: 256 KiB of stack and unwind tables */

struct window {
	uint64_t page; /* page address + 1; 0 = empty */
	uint8_t data[WIN_SIZE];
};

/* libunwind-ptrace's own find_proc_info calls back into access_mem with ITS argument (the
 * struct UPT_info, which starts with the pid and zero padding), not ours; this first word tells
 * the two apart. */
#define UNWINDER_MAGIC 0x70636e7377696e64ULL /* "pcnswind" */

struct unwinder {
	uint64_t magic;
	unw_addr_space_t as;
	struct mem *mem;
	const struct maps *maps;
	void *upt;           /* libunwind-ptrace state of the thread being unwound */
	struct window *win;  /* NWIN windows, valid while one thread is unwound */
	struct ehtable tables[NTABLES]; /* the objects' unwind tables found so far */
	size_t ntables;
};

/* One page of the target, served from the window cache. */
static const uint8_t *page_of(struct unwinder *u, uint64_t page)
{
	struct window *w = &u->win[(page / WIN_SIZE) % NWIN];

	if (w->page == page + 1)
		return w->data;
	if (!maps_readable(u->maps, page, WIN_SIZE) || mem_read(u->mem, page, w->data, WIN_SIZE, NULL) < 0) {
		w->page = 0;
		return NULL;
	}
	w->page = page + 1;
	return w->data;
}

static int acc_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg)
{
	struct unwinder *u = arg;
	uint64_t page = addr & ~(uint64_t)(WIN_SIZE - 1), off = addr - page;
	const uint8_t *a, *b;

	if (write)
		return -UNW_EREADONLYREG;
	if (u->magic != UNWINDER_MAGIC) /* reading unwind tables for _UPT_find_proc_info */
		return _UPT_access_mem(as, addr, val, 0, arg);
	if (!(a = page_of(u, page)))
		return -UNW_EINVAL;
	if (off + sizeof *val <= WIN_SIZE) {
		memcpy(val, a + off, sizeof *val);
		return 0;
	}
	/* A word across two pages: copy a's tail before b may evict it (same slot only when NWIN
	 * wraps, which two consecutive pages never do). */
	if (!(b = page_of(u, page + WIN_SIZE)))
		return -UNW_EINVAL;
	memcpy(val, a + off, WIN_SIZE - off);
	memcpy((uint8_t *)val + (WIN_SIZE - off), b, sizeof *val - (WIN_SIZE - off));
	return 0;
}

static int acc_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write, void *arg)
{
	struct unwinder *u = arg;

	if (write)
		return -UNW_EREADONLYREG;
	return _UPT_access_reg(as, reg, val, 0, u->upt);
}

static int acc_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write, void *arg)
{
	struct unwinder *u = arg;

	if (write)
		return -UNW_EREADONLYREG;
	return _UPT_access_fpreg(as, reg, val, 0, u->upt);
}

/* The unwind table of the object mapped at ip, remembered; NULL when it has none in memory. */
static const struct ehtable *table_for(struct unwinder *u, uint64_t ip)
{
	struct ehtable t;

	for (size_t i = 0; i < u->ntables; i++)
		if (ip >= u->tables[i].start && ip < u->tables[i].end)
			return u->tables[i].nfde ? &u->tables[i] : NULL;
	if (ehtable_find(u->mem, u->maps, ip, &t) < 0) {
		const struct map *m = maps_find(u->maps, ip);
		if (!m)
			return NULL;
		t = (struct ehtable){ .start = m->start, .end = m->end }; /* remembered as having none */
	}
	if (u->ntables < NTABLES)
		u->tables[u->ntables++] = t;
	return t.nfde ? &u->tables[u->ntables - 1] : NULL;
}

/* The object's .eh_frame_hdr as the loader mapped it, read through our reader: no file is
 * opened, so a library deleted since, or one seen under another root (a container's mount
 * namespace, a chroot), unwinds as any other. libunwind-ptrace's own search opens the maps' paths
 * from our filesystem: only the fallback for objects without the table in memory. */
static int acc_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need, void *arg)
{
	struct unwinder *u = arg;
	const struct ehtable *t = table_for(u, ip);
	unw_dyn_info_t di;

	if (!t)
		return _UPT_find_proc_info(as, ip, pi, need, u->upt);
	memset(&di, 0, sizeof di);
	di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	di.start_ip = t->start;
	di.end_ip = t->end;
	di.u.rti.segbase = t->hdr;
	di.u.rti.table_data = t->table;
	di.u.rti.table_len = t->nfde * 8 / sizeof(unw_word_t); /* in words, as libunwind counts */
	return UNW_OBJ(dwarf_search_unwind_table)(as, ip, &di, pi, need, u);
}

/* libunwind releases what its table search allocated itself (its parser's put_unwind_info):
 * this callback is reached only for dynamic unwind info, which nothing registers here. */
static void acc_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	(void)as, (void)pi, (void)arg;
}

static int acc_dyn_info(unw_addr_space_t as, unw_word_t *addr, void *arg)
{
	return _UPT_get_dyn_info_list_addr(as, addr, ((struct unwinder *)arg)->upt);
}

/* Resuming would write registers and continue the thread: never. */
static int acc_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	(void)as, (void)c, (void)arg;
	return -UNW_EINVAL;
}

/* Names come from symbols/nativesym.c, not from libunwind. */
static int acc_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf, size_t len, unw_word_t *off, void *arg)
{
	(void)as, (void)addr, (void)buf, (void)len, (void)off, (void)arg;
	return -UNW_ENOINFO;
}

static const unw_accessors_t accessors = {
	.find_proc_info = acc_find_proc_info,
	.put_unwind_info = acc_put_unwind_info,
	.get_dyn_info_list_addr = acc_dyn_info,
	.access_mem = acc_mem,
	.access_reg = acc_reg,
	.access_fpreg = acc_fpreg,
	.resume = acc_resume,
	.get_proc_name = acc_proc_name,
};

struct unwinder *unwinder_new(struct mem *m, const struct maps *maps)
{
	struct unwinder *u = xcalloc(1, sizeof *u);

	u->magic = UNWINDER_MAGIC;
	u->mem = m;
	u->maps = maps;
	u->win = xcalloc(NWIN, sizeof *u->win);
	/* libunwind copies the table; its prototype just lacks the const. */
	u->as = unw_create_addr_space((unw_accessors_t *)&accessors, 0);
	if (u->as)
		unw_set_caching_policy(u->as, UNW_CACHE_GLOBAL);
	return u;
}

void unwinder_free(struct unwinder *u)
{
	if (!u)
		return;
	if (u->as)
		unw_destroy_addr_space(u->as);
	free(u->win);
	free(u);
}

static void walk(unw_cursor_t *c, uint64_t *ips, size_t max, size_t *n, bool *truncated)
{
	uint64_t last_sp = 0;

	for (*n = 0; *n < max;) {
		unw_word_t ip = 0, sp = 0;
		if (unw_get_reg(c, UNW_REG_IP, &ip) < 0 || unw_get_reg(c, UNW_REG_SP, &sp) < 0 || ip == 0) {
			*truncated = ip != 0 || *n == 0;
			return;
		}
		/* The stack grows down: an outer frame below the inner one means garbage. */
		if (*n > 0 && sp < last_sp) {
			*truncated = true;
			return;
		}
		ips[(*n)++] = ip;
		last_sp = sp;
		int r = unw_step(c);
		if (r <= 0) {
			*truncated = r < 0;
			return;
		}
	}
	*truncated = true;
}

int unwind_thread(struct unwinder *u, pid_t tid, uint64_t *ips, size_t max, size_t *n, bool *truncated,
		  struct pc_err *e)
{
	unw_cursor_t c;
	int r;

	*n = 0;
	*truncated = false;
	if (!u->as)
		return pc_fail(e, PC_EINTERNAL, "libunwind: cannot create an address space");
	u->upt = _UPT_create(tid);
	if (!u->upt)
		return pc_fail(e, PC_ETARGETMEM, "libunwind: cannot attach to thread %d", (int)tid);
	for (unsigned i = 0; i < NWIN; i++) /* another thread: its stack pages differ */
		u->win[i].page = 0;
	r = unw_init_remote(&c, u->as, u);
	if (r < 0) {
		_UPT_destroy(u->upt);
		u->upt = NULL;
		return pc_fail(e, PC_ETARGETMEM, "libunwind: cannot read the registers of thread %d (%s)", (int)tid,
			       unw_strerror(r));
	}
	walk(&c, ips, max, n, truncated);
	_UPT_destroy(u->upt);
	u->upt = NULL;
	return 0;
}
