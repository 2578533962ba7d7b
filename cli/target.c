/* target.c: a PID or a file, opened as a source (cli/target.h). */
#include "common/compat.h"
#include "cli/target.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli/commands.h"
#include "source/corezip.h"

static struct core_opts core_opts;

void target_option(int opt, const char *arg)
{
	if (opt == TARGET_OPT_EXE)
		core_opts.exe = arg;
	else if (opt == TARGET_OPT_SYSROOT)
		core_opts.sysroot = arg;
}

bool target_is_file(const char *arg)
{
	const char *s = arg;

	while (*s && isdigit((unsigned char)*s))
		s++;
	return *arg && *s; /* anything but digits is a path */
}

/* A `pycensus capture` image: read whole, analysed like a dump without its who and where. */
static bool is_image(const char *path)
{
	char magic[8];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool is = fd >= 0 && read(fd, magic, 8) == 8 && memcmp(magic, image_magic, 8) == 0;

	if (fd >= 0)
		close(fd);
	return is;
}

static int open_file(struct target *t, const char *path, struct pc_err *e)
{
	if (access(path, R_OK) < 0)
		return pc_fail(e, PC_EUSAGE, "'%s' is neither a PID nor a readable dump file", path);
	if (!core_sniff(path) && (core_opts.exe || core_opts.sysroot))
		return pc_fail(e, PC_EUSAGE, "--exe and --sysroot say where a core file's files are; %s is not an ELF core file",
			       path);
	if (core_sniff(path)) {
		if (core_load(path, &core_opts, &t->core, e) < 0)
			return -1;
		core_origin(&t->core, path, t->origin, sizeof t->origin);
		t->file = true;
		source_open_core(&t->src, &t->core);
		return 0;
	}
	if (dump_sniff(path)) {
		if (dump_load(path, &t->d, e) < 0)
			return -1;
		dump_origin(&t->d.meta, t->origin, sizeof t->origin);
	} else if (is_image(path)) {
		if (image_load(path, &t->d.img, e) < 0)
			return -1;
		snprintf(t->origin, sizeof t->origin, "from captured image %.100s, PID %u", path, t->d.img.pid);
	} else if (corezip_kind(path)) { /* a compressed core is a core (core_sniff): this holds something else */
		return pc_fail(e, PC_EBADDUMP, "%s is %s-compressed and holds neither an ELF core file nor a pycensus "
			       "dump", path, corezip_kind(path));
	} else {
		return pc_fail(e, PC_EBADDUMP, "%s is neither a pycensus dump (no PCHEAP magic at its start) "
			       "nor an ELF core file; a PID is a number", path);
	}
	t->file = true;
	source_open_image(&t->src, &t->d.img);
	return 0;
}

int target_open(struct target *t, const char *arg, unsigned flags, struct pc_err *e)
{
	int pid;

	memset(t, 0, sizeof *t);
	if (target_is_file(arg)) {
		if (open_file(t, arg, e) < 0) {
			dump_release(&t->d);
			return -1;
		}
	} else if (core_opts.exe || core_opts.sysroot) {
		return pc_fail(e, PC_EUSAGE, "--exe and --sysroot say where a core file's files are; '%s' is a PID", arg);
	} else if (cli_parse_pid(arg, &pid, e) < 0 || source_open_pid(&t->src, pid, flags, e) < 0) {
		return -1;
	}
	t->open = true;
	return 0;
}

void target_note(const struct target *t, struct census *c)
{
	if (!t->file)
		return;
	snprintf(c->origin, sizeof c->origin, "%s", t->origin);
	if (t->d.meta.rss)
		c->rss = t->d.meta.rss;
}

void target_close(struct target *t)
{
	if (t->open)
		source_close(&t->src);
	dump_release(&t->d);
	core_release(&t->core);
	memset(t, 0, sizeof *t);
}
