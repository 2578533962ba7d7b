/* elf.c: one ELF file read through libelf into tables built once at open: symbols sorted by
 * name, sections, PT_LOAD segments and the build-id. Lookups never go back to libelf, so the
 * untrusted file is validated in one place, here at open. A stripped file's detached debug file
 * is opened the same way (symbol table and notes only) and its symbols merged into the table. */
#include "common/compat.h"
#include "symbols/elf.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"

/* GNU build-ids are 16 or 20 bytes; a longer note is not one we would recognise anyway. */
#define BUILD_ID_MAX 64
/* .gnu_debuglink names a file in a directory; longer names are not ones a distribution uses. */
#define DEBUGLINK_MAX 256

/* The table position breaks ties between equal names so lookups are deterministic. */
struct sym_entry {
	struct elf_sym s;
	size_t order;
};

struct elf_file {
	char *path;
	int fd;
	Elf *elf;
	uint64_t ino; /* lets elf_load_bias recognise a mapping whose path differs */
	bool pie;
	struct sym_entry *syms;
	size_t nsyms, symcap;
	struct elf_section *secs;
	size_t nsecs, seccap;
	struct elf_load *loads;
	size_t nloads, loadcap;
	char build_id[2 * BUILD_ID_MAX + 1];
	bool debug_only;        /* opened as a detached debug file: .symtab and notes only */
	bool own_symtab;        /* the file has a .symtab of its own */
	char debuglink[DEBUGLINK_MAX]; /* .gnu_debuglink file name, "" when none */
	uint32_t debuglink_crc;
	struct elf_file *debug; /* the detached debug file whose .symtab was merged, or NULL */
};

static int corrupt(const struct elf_file *f, const char *what, struct pc_err *e)
{
	return pc_fail(e, PC_ENOTPYTHON, "%s: corrupt %s: %s", f->path, what, elf_errmsg(-1));
}

static int open_error(const char *path, int err, struct pc_err *e)
{
	if (err == EACCES || err == EPERM)
		return pc_fail(e, PC_EPERM, "cannot open %s: %s", path, strerror(err));
	return pc_fail(e, PC_ENOTPYTHON, "cannot open %s: %s", path, strerror(err));
}

static int open_file(struct elf_file *f, struct pc_err *e)
{
	struct stat st;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return pc_fail(e, PC_EINTERNAL, "libelf refuses ELF version %d: %s", EV_CURRENT,
			       elf_errmsg(-1));
	/* O_NONBLOCK: the path comes from the target's filesystem and could name a FIFO. */
	f->fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (f->fd < 0)
		return open_error(f->path, errno, e);
	if (fstat(f->fd, &st) < 0)
		return open_error(f->path, errno, e);
	if (!S_ISREG(st.st_mode))
		return pc_fail(e, PC_ENOTPYTHON, "%s is not a regular file", f->path);
	f->ino = st.st_ino;
	f->elf = elf_begin(f->fd, ELF_C_READ_MMAP, NULL);
	if (!f->elf)
		return pc_fail(e, PC_ENOTPYTHON, "%s is not an ELF file: %s", f->path,
			       elf_errmsg(-1));
	return 0;
}

static int check_header(struct elf_file *f, struct pc_err *e)
{
	GElf_Ehdr eh;

	if (elf_kind(f->elf) != ELF_K_ELF || gelf_getclass(f->elf) != ELFCLASS64 ||
	    !gelf_getehdr(f->elf, &eh) || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64 || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
		return pc_fail(e, PC_ENOTPYTHON,
			       "%s is not an x86-64 ELF executable or shared object", f->path);
	f->pie = eh.e_type == ET_DYN;
	return 0;
}

static void hex_build_id(struct elf_file *f, const unsigned char *id, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		f->build_id[2 * i] = digits[id[i] >> 4];
		f->build_id[2 * i + 1] = digits[id[i] & 0xf];
	}
	f->build_id[2 * n] = '\0';
}

/* gelf_getnote checks that every name and descriptor lies inside d, so the reads are safe. */
static void scan_notes(struct elf_file *f, Elf_Data *d)
{
	GElf_Nhdr nh;
	size_t off = 0, name_off, desc_off, next;

	if (!d || !d->d_buf || f->build_id[0])
		return;
	while ((next = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
		const char *base = d->d_buf;

		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == sizeof "GNU" &&
		    memcmp(base + name_off, "GNU", sizeof "GNU") == 0 && nh.n_descsz > 0 &&
		    nh.n_descsz <= BUILD_ID_MAX) {
			hex_build_id(f, (const unsigned char *)base + desc_off, nh.n_descsz);
			return;
		}
		off = next;
	}
}

static void note_segment(struct elf_file *f, const GElf_Phdr *ph)
{
	/* Notes aligned to 8 (GNU properties) use a different padding rule. */
	Elf_Type t = ph->p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR;

	if (f->build_id[0] || ph->p_offset > INT64_MAX)
		return;
	scan_notes(f, elf_getdata_rawchunk(f->elf, (int64_t)ph->p_offset, ph->p_filesz, t));
}

static void add_load(struct elf_file *f, const GElf_Phdr *ph)
{
	struct elf_load *l;

	xgrow((void **)&f->loads, &f->loadcap, f->nloads + 1, sizeof *f->loads);
	l = &f->loads[f->nloads++];
	*l = (struct elf_load){ .vaddr = ph->p_vaddr, .offset = ph->p_offset,
				.filesz = ph->p_filesz, .memsz = ph->p_memsz,
				.r = ph->p_flags & PF_R, .w = ph->p_flags & PF_W,
				.x = ph->p_flags & PF_X };
}

/* Grows the list one entry at a time: the header's count is untrusted and may be huge. */
static int read_segments(struct elf_file *f, struct pc_err *e)
{
	size_t n;

	if (elf_getphdrnum(f->elf, &n) != 0)
		return corrupt(f, "program headers", e);
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(f->elf, (int)i, &ph))
			return corrupt(f, "program headers", e);
		if (ph.p_type == PT_LOAD)
			add_load(f, &ph);
		else if (ph.p_type == PT_NOTE)
			note_segment(f, &ph);
	}
	return 0;
}

/* A string table is usable when its last byte is NUL: then every offset below its size starts
 * a terminated string, and checking each st_name against the size is enough. */
static Elf_Data *string_table(const struct elf_file *f, size_t index)
{
	Elf_Scn *scn = elf_getscn(f->elf, index);
	GElf_Shdr sh;
	Elf_Data *d;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_STRTAB)
		return NULL;
	d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf || d->d_size == 0 || ((const char *)d->d_buf)[d->d_size - 1] != '\0')
		return NULL;
	return d;
}

static bool wanted(const GElf_Sym *s, const Elf_Data *strs)
{
	int type = GELF_ST_TYPE(s->st_info);

	return s->st_shndx != SHN_UNDEF && type != STT_SECTION && type != STT_FILE &&
	       s->st_name > 0 && s->st_name < strs->d_size &&
	       ((const char *)strs->d_buf)[s->st_name] != '\0';
}

static void add_symbol(struct elf_file *f, const GElf_Sym *s, const Elf_Data *strs, bool dynamic)
{
	struct sym_entry *x = &f->syms[f->nsyms];

	x->s = (struct elf_sym){ .name = (const char *)strs->d_buf + s->st_name,
				 .value = s->st_value, .size = s->st_size, .dynamic = dynamic,
				 .local = GELF_ST_BIND(s->st_info) == STB_LOCAL };
	x->order = f->nsyms++;
}

static int read_symbols(struct elf_file *f, Elf_Scn *scn, const GElf_Shdr *sh, struct pc_err *e)
{
	Elf_Data *syms = elf_getdata(scn, NULL);
	Elf_Data *strs = string_table(f, sh->sh_link);
	size_t n;

	/* A SHT_NOBITS table has no bytes (d_buf NULL): reading its entries would crash libelf. */
	if (!syms || !syms->d_buf || !strs)
		return corrupt(f, sh->sh_type == SHT_DYNSYM ? ".dynsym" : ".symtab", e);
	/* The count comes from data libelf has checked against the file size. */
	n = syms->d_size / sizeof(Elf64_Sym);
	xgrow((void **)&f->syms, &f->symcap, f->nsyms + n, sizeof *f->syms);
	for (size_t i = 1; i < n; i++) { /* entry 0 is the reserved null symbol */
		GElf_Sym s;

		if (!gelf_getsym(syms, (int)i, &s))
			return corrupt(f, "symbol", e);
		if (wanted(&s, strs))
			add_symbol(f, &s, strs, sh->sh_type == SHT_DYNSYM);
	}
	return 0;
}

/* Names that do not fit struct elf_section are left out rather than truncated, so a lookup can
 * never match a prefix. */
static void add_section(struct elf_file *f, const GElf_Shdr *sh, size_t shstrndx)
{
	const char *name = shstrndx ? elf_strptr(f->elf, shstrndx, sh->sh_name) : NULL;
	struct elf_section *s;

	if (!name || !name[0] || strlen(name) >= sizeof s->name)
		return;
	xgrow((void **)&f->secs, &f->seccap, f->nsecs + 1, sizeof *f->secs);
	s = &f->secs[f->nsecs++];
	*s = (struct elf_section){ .addr = sh->sh_addr, .offset = sh->sh_offset,
				   .size = sh->sh_size, .nobits = sh->sh_type == SHT_NOBITS,
				   .writable = sh->sh_flags & SHF_WRITE,
				   .alloc = sh->sh_flags & SHF_ALLOC };
	memcpy(s->name, name, strlen(name) + 1);
}

static bool is_named(const struct elf_file *f, size_t shstrndx, const GElf_Shdr *sh, const char *want)
{
	const char *name = shstrndx ? elf_strptr(f->elf, shstrndx, sh->sh_name) : NULL;

	return name && strcmp(name, want) == 0;
}

/* .gnu_debuglink: a NUL-terminated file name, padding to 4, then the CRC-32 of the debug file.
 * A name with a '/' or "." / ".." is ignored: it must name a file, not climb directories. */
static void read_debuglink(struct elf_file *f, Elf_Scn *scn)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	const char *buf;
	size_t len, crc_at;

	if (!d || !d->d_buf || d->d_size < 5)
		return;
	buf = d->d_buf;
	len = strnlen(buf, d->d_size);
	crc_at = (len + 4) & ~(size_t)3;
	if (len == 0 || len >= sizeof f->debuglink || crc_at + 4 > d->d_size || memchr(buf, '/', len) ||
	    strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0)
		return;
	memcpy(f->debuglink, buf, len + 1);
	memcpy(&f->debuglink_crc, buf + crc_at, 4); /* little-endian file, little-endian host */
}

/* A detached debug file keeps the original's section headers, but every allocated section
 * (.dynsym included) is SHT_NOBITS there: only its .symtab and notes have bytes. */
static int read_sections(struct elf_file *f, struct pc_err *e)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(f->elf, &shstrndx) != 0)
		return corrupt(f, "section headers", e);
	while ((scn = elf_nextscn(f->elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return corrupt(f, "section headers", e);
		add_section(f, &sh, shstrndx);
		if (sh.sh_type == SHT_SYMTAB)
			f->own_symtab = true;
		if ((sh.sh_type == SHT_SYMTAB || (sh.sh_type == SHT_DYNSYM && !f->debug_only)) &&
		    read_symbols(f, scn, &sh, e) < 0)
			return -1;
		if (sh.sh_type == SHT_NOTE)
			scan_notes(f, elf_getdata(scn, NULL));
		if (sh.sh_type == SHT_PROGBITS && is_named(f, shstrndx, &sh, ".gnu_debuglink"))
			read_debuglink(f, scn);
	}
	return 0;
}

/* Order: name, then .dynsym before .symtab, globals before locals, then table position. */
static int sym_cmp(const void *pa, const void *pb)
{
	const struct sym_entry *a = pa, *b = pb;
	int c = strcmp(a->s.name, b->s.name);

	if (c)
		return c;
	if (a->s.dynamic != b->s.dynamic)
		return a->s.dynamic ? -1 : 1;
	if (a->s.local != b->s.local)
		return a->s.local ? 1 : -1;
	return a->order < b->order ? -1 : a->order > b->order;
}

static struct elf_file *open_elf(const char *path, bool debug_only, struct pc_err *e)
{
	struct elf_file *f = xcalloc(1, sizeof *f);

	f->path = xstrdup(path);
	f->fd = -1;
	f->debug_only = debug_only;
	if (open_file(f, e) < 0 || check_header(f, e) < 0 ||
	    (!debug_only && read_segments(f, e) < 0) || read_sections(f, e) < 0) {
		elf_close(f);
		return NULL;
	}
	if (f->nsyms)
		qsort(f->syms, f->nsyms, sizeof *f->syms, sym_cmp);
	return f;
}

struct elf_file *elf_open(const char *path, struct pc_err *e)
{
	return open_elf(path, false, e);
}

/* Releases in reverse order of elf_open; every member may still be unset. The merged debug
 * symbols point into f->debug's string table, so it goes after them. */
void elf_close(struct elf_file *f)
{
	if (!f)
		return;
	free(f->syms);
	elf_close(f->debug);
	free(f->secs);
	free(f->loads);
	if (f->elf)
		elf_end(f->elf); /* after this the symbol names are gone */
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f);
}

bool elf_is_pie(const struct elf_file *f) { return f->pie; }
const char *elf_path(const struct elf_file *f) { return f->path; }
const char *elf_build_id(const struct elf_file *f) { return f->build_id; }
bool elf_has_symtab(const struct elf_file *f) { return f->own_symtab || f->debug; }
const char *elf_debuglink(const struct elf_file *f) { return f->debuglink; }

const char *elf_symtab_path(const struct elf_file *f)
{
	if (f->own_symtab)
		return f->path;
	return f->debug ? f->debug->path : NULL;
}

/* GCC's link-time optimisation renames a file-static it makes private: `arenas` becomes
 * `arenas.lto_priv.0` (Debian's python3.11, its -dbg .symtab). Those sort right after the name;
 * one such local is taken for the name, two or more (statics of one name in several files) are
 * ambiguous and taken for none. */
static bool lto_private(const struct elf_file *f, size_t at, const char *name, struct elf_sym *out)
{
	static const char suffix[] = ".lto_priv.";
	size_t n = strlen(name), found = 0, which = 0;

	for (size_t i = at; i < f->nsyms && strncmp(f->syms[i].s.name, name, n) == 0; i++)
		if (strncmp(f->syms[i].s.name + n, suffix, sizeof suffix - 1) == 0 && f->syms[i].s.local) {
			which = i;
			found++;
		}
	if (found != 1)
		return false;
	if (out)
		*out = f->syms[which].s;
	return true;
}

bool elf_symbol(const struct elf_file *f, const char *name, struct elf_sym *out)
{
	size_t lo = 0, hi = f->nsyms;

	while (lo < hi) { /* lower bound: the preferred entry is the first of its name */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(f->syms[mid].s.name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < f->nsyms && strcmp(f->syms[lo].s.name, name) == 0) {
		if (out)
			*out = f->syms[lo].s;
		return true;
	}
	return lto_private(f, lo, name, out);
}

void elf_symbols_each(const struct elf_file *f, bool (*fn)(const struct elf_sym *s, void *arg),
		      void *arg)
{
	for (size_t i = 0; i < f->nsyms; i++)
		if (!fn(&f->syms[i].s, arg))
			return;
}

bool elf_section(const struct elf_file *f, const char *name, struct elf_section *out)
{
	for (size_t i = 0; i < f->nsecs; i++) {
		if (strcmp(f->secs[i].name, name) == 0) {
			if (out)
				*out = f->secs[i];
			return true;
		}
	}
	return false;
}

size_t elf_loads(const struct elf_file *f, const struct elf_load **out)
{
	*out = f->loads;
	return f->nloads;
}

/* Written as differences so that hostile vaddr/filesz values cannot overflow. */
static const struct elf_load *load_holding(const struct elf_file *f, uint64_t vaddr, size_t len)
{
	for (size_t i = 0; i < f->nloads; i++) {
		const struct elf_load *l = &f->loads[i];

		if (vaddr >= l->vaddr && vaddr - l->vaddr <= l->filesz &&
		    len <= l->filesz - (vaddr - l->vaddr))
			return l;
	}
	return NULL;
}

/* pread rather than the mapped image: a file truncated under us gives a short read, not
 * SIGBUS. */
static int read_file_at(const struct elf_file *f, uint64_t off, void *buf, size_t len,
			struct pc_err *e)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = off <= INT64_MAX ? pread(f->fd, p, len, (off_t)off) : -1;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return pc_fail(e, PC_ETARGETMEM, "cannot read %zu bytes at offset %#" PRIx64
				       " of %s: %s", len, off, f->path,
				       n < 0 ? strerror(errno) : "file is truncated");
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int elf_read_vaddr(const struct elf_file *f, uint64_t vaddr, void *buf, size_t len,
		   struct pc_err *e)
{
	const struct elf_load *l = load_holding(f, vaddr, len);

	if (!l)
		return pc_fail(e, PC_ETARGETMEM, "%#" PRIx64 "+%zu is not file-backed in %s", vaddr,
			       len, f->path);
	return read_file_at(f, l->offset + (vaddr - l->vaddr), buf, len, e);
}

/* Detached debug files. A distribution strips its binaries and ships their .symtab and DWARF in
 * a -dbg package, found by build-id (DIR/.build-id/NN/REST.debug) or by the .gnu_debuglink name.
 * Symbol values there are the same link-time addresses, so the stripped file's bias applies. */

/* CRC-32 as .gnu_debuglink uses it (zlib's: reflected polynomial 0xedb88320) over the whole file;
 * only needed for a file without a build-id. */
static int file_crc32(const struct elf_file *d, uint32_t *out, struct pc_err *e)
{
	uint32_t table[256], crc = 0xffffffffu;
	size_t bufsize = 1 << 16;
	unsigned char *buf = xmalloc(bufsize);
	uint64_t off = 0;

	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	for (;;) {
		ssize_t n = pread(d->fd, buf, bufsize, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return pc_fail(e, PC_ENOTPYTHON, "cannot read %s: %s", d->path, strerror(errno));
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
		off += (uint64_t)n;
	}
	free(buf);
	*out = ~crc;
	return 0;
}

/* Opens path as f's debug file and merges its .symtab into f's symbols. The file must be f's:
 * the same build-id (or, for a file without one, the CRC its .gnu_debuglink records) and .text
 * at the same address (a prelinked file would be off). */
static int attach(struct elf_file *f, const char *path, bool by_crc, struct pc_err *e)
{
	struct elf_file *d = open_elf(path, true, e);
	struct elf_section ft, dt;
	uint32_t crc = 0;

	if (!d)
		return -1;
	if (f->build_id[0] && strcmp(d->build_id, f->build_id) != 0) {
		pc_fail(e, PC_ENOTPYTHON, "%s is not the debug file of %s: build-id %s, not %s", path,
			f->path, d->build_id[0] ? d->build_id : "(none)", f->build_id);
		goto refuse;
	}
	if (!f->build_id[0] && !by_crc) {
		pc_fail(e, PC_ENOTPYTHON, "%s has no build-id to match %s against", f->path, path);
		goto refuse;
	}
	if (!f->build_id[0] && (file_crc32(d, &crc, e) < 0 || crc != f->debuglink_crc)) {
		pc_fail(e, PC_ENOTPYTHON, "%s is not the debug file of %s: its CRC differs from the .gnu_debuglink one",
			path, f->path);
		goto refuse;
	}
	if (!d->own_symtab) {
		pc_fail(e, PC_ENOTPYTHON, "debug file %s has no .symtab", path);
		goto refuse;
	}
	if (elf_section(f, ".text", &ft) && elf_section(d, ".text", &dt) && ft.addr != dt.addr) {
		pc_fail(e, PC_ENOTPYTHON, "debug file %s has .text at %#" PRIx64 ", %s at %#" PRIx64,
			path, dt.addr, f->path, ft.addr);
		goto refuse;
	}
	xgrow((void **)&f->syms, &f->symcap, f->nsyms + d->nsyms, sizeof *f->syms);
	for (size_t i = 0; i < d->nsyms; i++) {
		f->syms[f->nsyms] = d->syms[i];
		f->syms[f->nsyms].order = f->nsyms;
		f->nsyms++;
	}
	qsort(f->syms, f->nsyms, sizeof *f->syms, sym_cmp);
	f->debug = d;
	return 0;
refuse:
	elf_close(d);
	return -1;
}

int elf_attach_debug(struct elf_file *f, const char *path, struct pc_err *e)
{
	if (f->debug_only || f->debug)
		return pc_fail(e, PC_EINTERNAL, "%s already has its debug symbols", f->path);
	return attach(f, path, false, e);
}

/* One candidate: a missing file is skipped quietly (1), a refused one is recorded in e (1). */
int elf_try_debug(struct elf_file *f, const char *path, bool by_crc, struct pc_err *e)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return 1;
	return attach(f, path, by_crc, e) == 0 ? 0 : 1;
}

bool elf_is_debug_file(const struct elf_file *f) { return f->debug_only; }
uint64_t elf_inode(const struct elf_file *f) { return f->ino; }
