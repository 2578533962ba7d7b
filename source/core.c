/* core.c: reading an ELF core file as the process it was (source/core.h). The file is hostile
 * until checked: every header, note and segment is bounded against the file's size. */
#include "common/compat.h"
#include "source/core.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common/xalloc.h"
#include "source/corezip.h"

/* Bounds a hostile core can claim before it is refused: a process has at most vm.max_map_count
 * mappings (65530 by default), one segment and one NT_FILE entry each. */
#define MAX_SEGMENTS (1u << 20)
#define MAX_NT_FILES (1u << 20)

/* Offsets in the x86-64 kernel's struct elf_prstatus and elf_prpsinfo (include/uapi/linux/
 * elfcore.h): pr_cursig (short) after the 12-byte siginfo header, pr_pid after two sigsets. */
#define PRSTATUS_CURSIG 12
#define PRSTATUS_PID 32
#define PRPSINFO_PID 24
#define PRPSINFO_SIZE 136

struct nt_file {
	uint64_t start, end, offset; /* offset in bytes */
	const char *path;            /* into the core */
};

/* What parsing gathers before the image is built. */
struct parse {
	Elf64_Phdr *loads;         /* copies: the table need not be aligned */
	size_t nloads;
	struct nt_file *files;
	size_t nfiles;
	uint64_t at_phdr;
	uint32_t pid, first_tid;
	const char *why;
};

/* A regular file: an ELF header of type ET_CORE, or a compressed stream that decompresses to one or
 * is damaged from its start (then core_load names the damage). */
bool core_sniff(const char *path)
{
	Elf64_Ehdr h;
	struct stat st;
	const char *zip = corezip_kind(path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, &h, 18) : -1;
	close(fd);
	if (n >= 0 && zip)
		n = corezip_head(path, zip, (uint8_t *)&h, 18);
	if (zip && n < 0)
		return true;
	return n == 18 && memcmp(h.e_ident, ELFMAG, SELFMAG) == 0 && h.e_type == ET_CORE;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* NT_FILE: count, page size, count {start, end, page offset}, then count NUL-ended paths. */
static void note_file(struct parse *ps, const uint8_t *d, uint64_t n)
{
	uint64_t count, page;
	const char *s, *end = (const char *)d + n;

	if (n < 16 || ps->files)
		return;
	count = get64(d);
	page = get64(d + 8);
	if (count > MAX_NT_FILES || count * 24 > n - 16 || page == 0 || page > (1u << 30)) {
		ps->why = "corrupt: bad NT_FILE note";
		return;
	}
	ps->files = xcalloc(count + 1, sizeof *ps->files);
	s = (const char *)d + 16 + count * 24;
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *r = d + 16 + i * 24;
		const char *z = memchr(s, '\0', (size_t)(end - s));
		if (!z || get64(r + 8) <= get64(r) || get64(r + 16) > UINT64_MAX / page) {
			ps->why = "corrupt: bad NT_FILE note";
			return;
		}
		ps->files[ps->nfiles++] = (struct nt_file){ get64(r), get64(r + 8), get64(r + 16) * page, s };
		s = z + 1;
	}
}

static void note_auxv(struct parse *ps, const uint8_t *d, uint64_t n)
{
	for (uint64_t i = 0; i + 16 <= n; i += 16)
		if (get64(d + i) == AT_PHDR)
			ps->at_phdr = get64(d + i + 8);
}

static void note(struct core *c, struct parse *ps, uint32_t type, const uint8_t *d, uint64_t n)
{
	if (type == NT_PRSTATUS && n >= PRSTATUS_PID + 4) {
		if (c->nthreads++ == 0) {
			uint16_t sig;
			memcpy(&sig, d + PRSTATUS_CURSIG, 2);
			c->signal = sig;
			ps->first_tid = get32(d + PRSTATUS_PID);
		}
	} else if (type == NT_PRPSINFO && n >= PRPSINFO_SIZE) {
		ps->pid = get32(d + PRPSINFO_PID);
	} else if (type == NT_FILE) {
		note_file(ps, d, n);
	} else if (type == NT_AUXV) {
		note_auxv(ps, d, n);
	}
}

/* The notes of one PT_NOTE segment (already bounded to the file); only the kernel's "CORE" ones. */
static void notes(struct core *c, struct parse *ps, const uint8_t *p, uint64_t n)
{
	uint64_t off = 0;

	while (!ps->why && n - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr h;
		uint64_t name, desc;
		memcpy(&h, p + off, sizeof h);
		name = ((uint64_t)h.n_namesz + 3) & ~3ull;
		desc = ((uint64_t)h.n_descsz + 3) & ~3ull;
		off += sizeof h;
		if (name > n - off || h.n_descsz > n - off - name) {
			ps->why = "corrupt: a note runs past its segment";
			return;
		}
		if (h.n_namesz == 5 && memcmp(p + off, "CORE", 5) == 0)
			note(c, ps, h.n_type, p + off + name, h.n_descsz);
		off += name + (desc < n - off - name ? desc : n - off - name);
	}
}

static const char *check_ehdr(const uint8_t *b, size_t len, const Elf64_Ehdr **out)
{
	static char why[160];
	const Elf64_Ehdr *h = (const Elf64_Ehdr *)b;

	if (len < sizeof *h || memcmp(b, ELFMAG, SELFMAG) != 0)
		return "not an ELF file";
	if (b[EI_CLASS] != ELFCLASS64 || b[EI_DATA] != ELFDATA2LSB || h->e_machine != EM_X86_64) {
		snprintf(why, sizeof why, "a core from another architecture (ELF machine %u, %s, %s-endian): this "
			 "pycensus reads x86-64 cores", h->e_machine, b[EI_CLASS] == ELFCLASS64 ? "64-bit" : "32-bit",
			 b[EI_DATA] == ELFDATA2LSB ? "little" : "big");
		return why;
	}
	if (h->e_type != ET_CORE)
		return "an ELF file but not a core file";
	if (h->e_phentsize != sizeof(Elf64_Phdr) || h->e_phoff > len)
		return "corrupt: bad program header table";
	*out = h;
	return NULL;
}

/* The program headers' count: past 0xffff it is in section 0's sh_info (PN_XNUM). */
static const char *phnum(const uint8_t *b, size_t len, const Elf64_Ehdr *h, uint64_t *n)
{
	*n = h->e_phnum;
	if (*n == PN_XNUM) {
		Elf64_Shdr s0;
		if (h->e_shoff > len || len - h->e_shoff < sizeof s0)
			return "truncated: the section header is missing";
		memcpy(&s0, b + h->e_shoff, sizeof s0);
		*n = s0.sh_info;
	}
	if (*n > MAX_SEGMENTS || *n * sizeof(Elf64_Phdr) > len - h->e_phoff)
		return "truncated: the program header table runs past the end";
	return NULL;
}

static const char *segments(struct core *c, struct parse *ps)
{
	const Elf64_Ehdr *h = NULL;
	const char *why = check_ehdr(c->buf, c->len, &h);
	uint64_t n = 0;

	if (!why)
		why = phnum(c->buf, c->len, h, &n);
	if (why)
		return why;
	ps->loads = xcalloc(n + 1, sizeof *ps->loads);
	for (uint64_t i = 0; i < n && !ps->why; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, c->buf + h->e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_offset > c->len || ph.p_filesz > c->len - ph.p_offset)
			return "truncated: a segment lies past the end of the file (cut short by RLIMIT_CORE or a copy?)";
		if (ph.p_type == PT_NOTE)
			notes(c, ps, c->buf + ph.p_offset, ph.p_filesz);
		else if (ph.p_type == PT_LOAD && ph.p_memsz) {
			if (ph.p_filesz > ph.p_memsz || ph.p_vaddr + ph.p_memsz < ph.p_vaddr ||
			    (ps->nloads && ph.p_vaddr < ps->loads[ps->nloads - 1].p_vaddr + ps->loads[ps->nloads - 1].p_memsz))
				return "corrupt: segments overlap, are out of order, or hold more than they map";
			ps->loads[ps->nloads++] = ph;
		}
	}
	if (!ps->why && (!ps->nloads || !ps->nfiles || !c->nthreads))
		return "corrupt: no memory segments, NT_FILE note or thread (not a process's core?)";
	return ps->why;
}

/* The NT_FILE entry holding addr (the entries sorted by start, not overlapping), or NULL. */
static const struct nt_file *file_at(const struct parse *ps, uint64_t addr)
{
	size_t lo = 0, hi = ps->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ps->files[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && addr < ps->files[lo - 1].end ? &ps->files[lo - 1] : NULL;
}

static int by_file_start(const void *a, const void *b)
{
	const struct nt_file *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sorts the NT_FILE entries (the kernel writes them in address order; gdb too) and refuses
 * overlapping ones. */
static const char *sort_files(struct parse *ps)
{
	qsort(ps->files, ps->nfiles, sizeof *ps->files, by_file_start);
	for (size_t i = 1; i < ps->nfiles; i++)
		if (ps->files[i].start < ps->files[i - 1].end)
			return "corrupt: the NT_FILE note's mappings overlap";
	return NULL;
}

/* Where pycensus finds a file the core names: --exe for the executable, else under --sysroot. */
static bool resolve(void *arg, const char *mapped, char *out, size_t len)
{
	const struct core *c = arg;

	if (c->o.exe && strcmp(mapped, c->exe) == 0)
		snprintf(out, len, "%s", c->o.exe);
	else if (snprintf(out, len, "%s%s", c->o.sysroot ? c->o.sysroot : "", mapped) >= (int)len)
		return false;
	return access(out, R_OK) == 0;
}

/* The file mapped at `mapped`, mmap'd once; NULL when it cannot be read. */
static const struct core_file *open_file(struct core *c, const char *mapped)
{
	char path[PATH_MAX + 256];
	struct stat st;
	void *m;
	int fd;

	for (size_t i = 0; i < c->nfiles; i++)
		if (strcmp(c->files[i].mapped, mapped) == 0)
			return c->files[i].data ? &c->files[i] : NULL;
	if (c->nfiles >= CORE_MAX_FILES)
		return NULL;
	struct core_file *f = &c->files[c->nfiles++];
	f->mapped = xstrdup(mapped);
	if (!resolve(c, mapped, path, sizeof path) || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	m = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0
		    ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	close(fd);
	if (m == MAP_FAILED)
		return NULL;
	f->data = m;
	f->len = (size_t)st.st_size;
	return f;
}

static void add_region(struct core *c, uint64_t addr, uint64_t len, const uint8_t *data)
{
	if (!len)
		return;
	xgrow((void **)&c->img.regions, &c->region_cap, c->img.nregions + 1, sizeof *c->img.regions);
	c->img.regions[c->img.nregions++] = (struct mem_region){ addr, len, data };
}

/* [start, end) of file nf, read from the file from byte `skip` of the range on (the core holds
 * the bytes before); what the file cannot give is missing. */
static void from_file(struct core *c, const struct nt_file *nf, uint64_t start, uint64_t end, uint64_t skip)
{
	const struct core_file *f = open_file(c, nf->path);
	uint64_t at = nf->offset + (start - nf->start) + skip, want = end - start - skip, got = 0;

	if (f && at < f->len) {
		got = f->len - at < want ? f->len - at : want;
		add_region(c, start + skip, got, f->data + at);
	}
	c->missing_bytes += want - got;
}

static void add_map(struct core *c, const struct nt_file *nf, uint64_t start, uint64_t end, uint32_t flags)
{
	struct map m = { .start = start, .end = end, .r = (flags & PF_R) != 0, .w = (flags & PF_W) != 0,
			 .x = (flags & PF_X) != 0, .priv = true };

	m.path = xstrdup(nf ? nf->path : "");
	if (nf) {
		m.offset = nf->offset + (start - nf->start);
		m.inode = 1; /* a file: NT_FILE gives no inode */
	}
	xgrow((void **)&c->img.maps.v, &c->img.maps.cap, c->img.maps.n + 1, sizeof *c->img.maps.v);
	c->img.maps.v[c->img.maps.n++] = m;
	c->mapped_bytes += end - start;
}

/* One segment: its map, its bytes in the core, and the rest from its file when read-only. */
static void segment(struct core *c, const struct parse *ps, const Elf64_Phdr *ph)
{
	const struct nt_file *nf = file_at(ps, ph->p_vaddr);
	uint64_t end = ph->p_vaddr + ph->p_memsz;

	if (nf && end > nf->end)
		nf = NULL; /* a segment wider than the file's mapping is not the file's */
	add_map(c, nf, ph->p_vaddr, end, ph->p_flags);
	add_region(c, ph->p_vaddr, ph->p_filesz, c->buf + ph->p_offset);
	if (nf && !(ph->p_flags & PF_W))
		from_file(c, nf, ph->p_vaddr, end, ph->p_filesz);
	else
		c->missing_bytes += ph->p_memsz - ph->p_filesz;
}

/* gdb leaves read-only file mappings out of the core altogether (no segment): the parts of each
 * NT_FILE range no segment covers are the file's, read-only. loads are sorted. */
static void uncovered(struct core *c, const struct parse *ps, const struct nt_file *nf)
{
	uint64_t at = nf->start;
	size_t lo = 0, hi = ps->nloads;

	while (lo < hi) { /* the first segment that ends after the file's start */
		size_t mid = lo + (hi - lo) / 2;
		if (ps->loads[mid].p_vaddr + ps->loads[mid].p_memsz <= at)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t j = lo; j < ps->nloads && at < nf->end; j++) {
		uint64_t s = ps->loads[j].p_vaddr, e = s + ps->loads[j].p_memsz;
		if (s >= nf->end)
			break;
		if (s > at) {
			add_map(c, nf, at, s, PF_R);
			from_file(c, nf, at, s, 0);
		}
		at = e;
	}
	if (at < nf->end) {
		add_map(c, nf, at, nf->end, PF_R);
		from_file(c, nf, at, nf->end, 0);
	}
}

static int by_map_start(const void *a, const void *b)
{
	const struct map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int by_region_addr(const void *a, const void *b)
{
	const struct mem_region *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The maps and regions, sorted; NULL, or why they overlap (NT_FILE ranges that overlap). */
static const char *build(struct core *c, const struct parse *ps)
{
	const struct nt_file *exe = file_at(ps, ps->at_phdr);

	c->img.pid = ps->pid ? ps->pid : ps->first_tid;
	snprintf(c->exe, sizeof c->exe, "%s", exe ? exe->path : ps->files[0].path);
	for (size_t i = 0; i < ps->nloads; i++)
		segment(c, ps, &ps->loads[i]);
	for (size_t i = 0; i < ps->nfiles; i++)
		uncovered(c, ps, &ps->files[i]);
	if (!c->img.nregions)
		return "corrupt: none of its segments holds any memory";
	qsort(c->img.maps.v, c->img.maps.n, sizeof *c->img.maps.v, by_map_start);
	qsort(c->img.regions, c->img.nregions, sizeof *c->img.regions, by_region_addr);
	for (size_t i = 1; i < c->img.maps.n; i++)
		if (c->img.maps.v[i].start < c->img.maps.v[i - 1].end)
			return "corrupt: the NT_FILE note's mappings overlap";
	return NULL;
}

/* The core's own bytes at addr, NULL when it holds none there. */
static const uint8_t *core_bytes(const struct core *c, uint64_t addr, uint64_t *n)
{
	for (size_t i = 0; i < c->img.nregions; i++) {
		const struct mem_region *r = &c->img.regions[i];
		if (r->addr == addr && r->data >= c->buf && r->data < c->buf + c->len) {
			*n = r->len;
			return r->data;
		}
	}
	return NULL;
}

/* The ELF header and program headers at the start of a file's first mapping, as the core and the
 * file hold them: they differ between two builds (entry, offsets, sizes). Only they: the rest of
 * the first page may be writable data (Debian's python3.14 maps it RW). */
static bool same_headers(const uint8_t *mem, uint64_t n, const struct core_file *f)
{
	const Elf64_Ehdr *h = (const Elf64_Ehdr *)f->data;
	uint64_t want = sizeof *h;

	if (f->len < sizeof *h || n < sizeof *h)
		return f->len >= n && memcmp(mem, f->data, n) == 0;
	if (h->e_phoff <= f->len && (uint64_t)h->e_phnum * sizeof(Elf64_Phdr) <= f->len - h->e_phoff &&
	    h->e_phoff + (uint64_t)h->e_phnum * sizeof(Elf64_Phdr) <= n)
		want = h->e_phoff + (uint64_t)h->e_phnum * sizeof(Elf64_Phdr);
	return memcmp(mem, f->data, want) == 0;
}

/* The executable and every libpython must be found, and be the files the process mapped: the
 * core keeps each one's first page (coredump_filter bit 4, on by default), which must match. */
static int check_files(struct core *c, const char *path, struct pc_err *e)
{
	for (size_t i = 0; i < c->img.maps.n; i++) {
		const struct map *m = &c->img.maps.v[i];
		const char *b = strrchr(m->path, '/');
		const struct core_file *f;
		const uint8_t *first;
		uint64_t n;
		char where[PATH_MAX + 256];
		if (!b || m->offset || (strcmp(m->path, c->exe) != 0 && strncmp(b + 1, "libpython", 9) != 0))
			continue;
		if (!(f = open_file(c, m->path))) {
			resolve(c, m->path, where, sizeof where);
			return pc_fail(e, PC_ECOREFILE, "%s: the process mapped %s, which is not at %s: give %s",
				       path, m->path, where, strcmp(m->path, c->exe) == 0 ? "the executable with --exe PATH "
				       "or the root of its files with --sysroot DIR" : "the root of its files with --sysroot DIR");
		}
		first = core_bytes(c, m->start, &n);
		if (first && !same_headers(first, n, f))
			return pc_fail(e, PC_ECOREFILE, "%s: %s is not the file the process mapped (its ELF header "
				       "differs from the core's copy): give the right one with --exe or --sysroot", path,
				       m->path);
	}
	return 0;
}

/* c->buf and c->len set: the rest of c from them. On failure c is released. */
static int parse(struct core *c, const char *path, struct pc_err *e)
{
	struct parse ps = { 0 };
	const char *why = segments(c, &ps);

	if (!why)
		why = sort_files(&ps);
	if (!why)
		why = build(c, &ps);
	free(ps.loads);
	free(ps.files);
	if (why) {
		core_release(c);
		return pc_fail(e, PC_EBADDUMP, "bad core file %s: %s", path, why);
	}
	if (check_files(c, path, e) < 0) {
		core_release(c);
		return -1;
	}
	return 0;
}

int core_load(const char *path, const struct core_opts *o, struct core *c, struct pc_err *e)
{
	struct stat st, zst;
	int fd;

	memset(c, 0, sizeof *c);
	c->o = *o;
	c->zip = corezip_kind(path);
	if (stat(path, &zst) < 0)
		return pc_fail(e, PC_EBADDUMP, "cannot open core file %s: %s", path, strerror(errno));
	c->written = (int64_t)zst.st_mtime;
	if (c->zip ? corezip_open(path, c->zip, &fd, e) < 0 : (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return c->zip ? -1 : pc_fail(e, PC_EBADDUMP, "cannot open core file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		close(fd);
		return pc_fail(e, PC_EBADDUMP, "core file %s is empty or not a regular file", path);
	}
	c->buf = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd); /* a decompressed core's temporary file lives as long as this mapping */
	if (c->buf == MAP_FAILED) {
		c->buf = NULL;
		return pc_fail(e, PC_EBADDUMP, "cannot read core file %s: %s", path, strerror(errno));
	}
	c->len = (size_t)st.st_size;
	c->mapped = true;
	return parse(c, path, e);
}

int core_parse(const uint8_t *buf, size_t len, const struct core_opts *o, struct core *c, struct pc_err *e)
{
	memset(c, 0, sizeof *c);
	c->o = *o;
	c->buf = (uint8_t *)buf;
	c->len = len;
	return parse(c, "(buffer)", e);
}

void core_release(struct core *c)
{
	for (size_t i = 0; i < c->nfiles; i++) {
		if (c->files[i].data)
			munmap(c->files[i].data, c->files[i].len);
		free(c->files[i].mapped);
	}
	maps_release(&c->img.maps);
	free(c->img.regions);
	if (c->buf && c->mapped)
		munmap(c->buf, c->len);
	memset(c, 0, sizeof *c);
}

/* The interpreter as the core holds it: its files opened where core_load found them. */
static int core_locate(struct source *s, struct pyproc *p, struct pc_err *e)
{
	struct core *c = s->arg;

	memset(p, 0, sizeof *p);
	p->pid = (pid_t)c->img.pid;
	s->via = p->pid;
	image_copy_maps(&p->maps, &c->img.maps);
	mem_init_buffer(&p->mem);
	mem_set_image(&p->mem, c->img.regions, c->img.nregions);
	if (pyelf_open_files(&p->elf, p->pid, c->exe, &p->maps, &p->mem, resolve, c, e) < 0 ||
	    pyproc_finish(p, e) < 0) {
		pyproc_close(p);
		return -1;
	}
	return 0;
}

static const struct source_ops core_ops = { .locate = core_locate };

void source_open_core(struct source *s, struct core *c)
{
	source_open_ops(s, &core_ops, (pid_t)c->img.pid, 0, c);
	s->img = &c->img; /* a replay: the census asks no live process about itself */
}

void core_origin(const struct core *c, const char *path, char *buf, size_t len)
{
	char sig[32] = "", when[48] = "";
	time_t t = (time_t)c->written;
	struct tm tm;
	int n;

	if (c->signal)
		snprintf(sig, sizeof sig, " (signal %d)", c->signal);
	if (c->written && gmtime_r(&t, &tm))
		strftime(when, sizeof when, ", written %Y-%m-%d %H:%M:%S UTC", &tm);
	n = snprintf(buf, len, "from %s%score file %.48s of PID %u%s%s, %u thread%s", c->zip ? c->zip : "",
		     c->zip ? "-compressed " : "", path, c->img.pid, sig, when, c->nthreads, c->nthreads == 1 ? "" : "s");
	if (c->missing_bytes && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "; %.1f KiB of its %.1f MiB not in the core",
			 (double)c->missing_bytes / 1024.0, (double)c->mapped_bytes / 1048576.0);
}
