/* procmem.c: /proc/PID/status, smaps_rollup and pagemap memory figures. */
#include "common/compat.h"
#include "attach/procmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "attach/procfs.h"
#include "common/xalloc.h"

/* /proc files are small text: status is ~1.5 KiB, smaps_rollup ~1 KiB. */
#define PROC_TEXT_MAX 16384

struct kb_field {
	const char *name; /* with its colon */
	size_t off;       /* offsetof(struct procmem, ...) */
};

static const struct kb_field status_fields[] = {
	{ "VmRSS:", offsetof(struct procmem, vm_rss) },     { "VmHWM:", offsetof(struct procmem, vm_hwm) },
	{ "RssAnon:", offsetof(struct procmem, rss_anon) }, { "RssFile:", offsetof(struct procmem, rss_file) },
	{ "RssShmem:", offsetof(struct procmem, rss_shmem) }, { "VmSwap:", offsetof(struct procmem, vm_swap) },
};

static const struct kb_field rollup_fields[] = {
	{ "Pss:", offsetof(struct procmem, pss) },
	{ "Private_Clean:", offsetof(struct procmem, private_clean) },
	{ "Private_Dirty:", offsetof(struct procmem, private_dirty) },
	{ "Swap:", offsetof(struct procmem, swap) },
};

/* Lines look like "VmRSS:\t   2020 kB". Returns how many of the fields were found. */
static size_t parse_kb_lines(const char *text, const struct kb_field *f, size_t nf, struct procmem *m)
{
	size_t found = 0;

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		for (size_t i = 0; i < nf; i++) {
			size_t len = strlen(f[i].name);
			unsigned long long kb;
			char unit[4] = "";
			if (strncmp(line, f[i].name, len) != 0 || sscanf(line + len, "%llu %3s", &kb, unit) < 1)
				continue;
			if (unit[0] && strcmp(unit, "kB") != 0)
				continue;
			*(uint64_t *)((char *)m + f[i].off) = (uint64_t)kb * 1024;
			found++;
		}
	}
	return found;
}

void procmem_parse_status(const char *text, struct procmem *m)
{
	m->have_status = parse_kb_lines(text, status_fields, PC_ARRAY_LEN(status_fields), m) > 0;
}

void procmem_parse_rollup(const char *text, struct procmem *m)
{
	m->have_rollup = parse_kb_lines(text, rollup_fields, PC_ARRAY_LEN(rollup_fields), m) > 0;
}

/* Reads a whole /proc text file; returns NULL with errno set. */
static char *slurp(pid_t pid, const char *what)
{
	char path[64], *buf = xmalloc(PROC_TEXT_MAX);

	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, what);
	if (proc_read_text(path, buf, PROC_TEXT_MAX) < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

int procmem_read(pid_t pid, struct procmem *m, struct pc_err *e)
{
	char *text;

	memset(m, 0, sizeof *m);
	text = slurp(pid, "status");
	if (!text) {
		if (errno == ENOENT || errno == ESRCH)
			return pc_fail(e, PC_ENOPROC, "process %d does not exist", (int)pid);
		return pc_fail(e, errno == EACCES || errno == EPERM ? PC_EPERM : PC_ETARGETMEM,
			       "cannot read /proc/%d/status: %s", (int)pid, strerror(errno));
	}
	procmem_parse_status(text, m);
	free(text);
	text = slurp(pid, "smaps_rollup");
	if (text)
		procmem_parse_rollup(text, m);
	free(text);
	return 0;
}

uint64_t procmem_anon(pid_t pid)
{
	char path[64];
	unsigned long long size, resident, shared;
	FILE *f;
	int n;

	snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fscanf(f, "%llu %llu %llu", &size, &resident, &shared);
	fclose(f);
	if (n != 3 || resident < shared)
		return 0;
	return (uint64_t)(resident - shared) * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* pagemap entries are read in chunks of this many pages (8 bytes each). */
#define PAGEMAP_CHUNK 4096

static int range_resident(int fd, const struct procmem_range *r, uint64_t page, uint64_t *buf,
			  uint64_t *resident, uint64_t *swapped)
{
	for (uint64_t a = r->start & ~(page - 1); a < r->end;) {
		uint64_t npages = (r->end - a + page - 1) / page;
		ssize_t got;
		if (npages > PAGEMAP_CHUNK)
			npages = PAGEMAP_CHUNK;
		got = pread(fd, buf, npages * 8, (off_t)(a / page * 8));
		if (got <= 0)
			return -1;
		for (ssize_t i = 0; i < got / 8; i++) {
			*resident += (buf[i] >> 63) & 1 ? page : 0;
			*swapped += (buf[i] >> 62) & 1 ? page : 0;
		}
		a += (uint64_t)(got / 8) * page;
	}
	return 0;
}

int procmem_resident(pid_t pid, const struct procmem_range *r, size_t n, uint64_t *resident,
		     uint64_t *swapped, struct pc_err *e)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), *buf;
	char path[64];
	int fd, rc = 0;

	*resident = *swapped = 0;
	snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pc_fail(e, errno == EACCES || errno == EPERM ? PC_EPERM : PC_ETARGETMEM,
			       "cannot open %s: %s", path, strerror(errno));
	buf = xmalloc(PAGEMAP_CHUNK * 8);
	for (size_t i = 0; i < n && rc == 0; i++)
		if (range_resident(fd, &r[i], page, buf, resident, swapped) < 0)
			rc = pc_fail(e, PC_ETARGETMEM, "cannot read %s at %#llx", path, (unsigned long long)r[i].start);
	free(buf);
	close(fd);
	return rc;
}
