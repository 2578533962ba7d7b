/* target.h: what the target argument of snap, why, retained, stacks and stats names, opened the
 * same way for all of them: a number is a live process's PID; a file that starts with the dump
 * magic is a heap dump (`pycensus dump`), one that starts with the image magic an image from
 * `pycensus capture`, an ELF core file (ET_CORE) a core (source/core.h), whose files are found
 * through --exe and --sysroot. Every file is analysed as the process was when it was taken, and
 * the reports say so in their header (census.origin). */
#ifndef PC_TARGET_H
#define PC_TARGET_H

#include "common/compat.h"
#include "common/error.h"
#include "model/census.h"
#include <getopt.h>
#include "source/core.h"
#include "source/dump.h"
#include "source/source.h"

/* --exe PATH, --sysroot DIR: where a core file's executable and libraries are. Every command that
 * opens a target puts TARGET_LONGOPTS in its options, passes TARGET_OPT_* to target_option and
 * TARGET_HELP in its help. */
#define TARGET_OPT_EXE 0x1001
#define TARGET_OPT_SYSROOT 0x1002
#define TARGET_LONGOPTS \
	{ "exe", required_argument, NULL, TARGET_OPT_EXE }, { "sysroot", required_argument, NULL, TARGET_OPT_SYSROOT }
#define TARGET_HELP \
	"  --exe PATH              a core file's executable, when it is not where the core names it\n" \
	"  --sysroot DIR           find a core file's executable and libraries under DIR\n"
void target_option(int opt, const char *arg);

struct target {
	struct source src;    /* open from target_open to target_close */
	bool open;
	bool file;            /* a dump or an image, not a live process */
	struct dump d;        /* the file's contents (an image: d.img only) */
	struct core core;     /* a core file's */
	char origin[200];     /* "from dump taken at ..., PID N, host H"; "" for a live process */
};

/* Opens arg as a source; flags (SOURCE_*) apply to a live process. Errors: those of
 * source_open_pid; USAGE for an argument that is neither a PID nor a readable file; BADDUMP for
 * a damaged dump or core (USAGE for a damaged image); COREFILE for a core whose files are missing. */
int target_open(struct target *t, const char *arg, unsigned flags, struct pc_err *e);
/* True when arg names a file rather than a PID (for commands that refuse files). */
bool target_is_file(const char *arg);
/* What c's header says of where the census came from; the RSS the dump recorded. */
void target_note(const struct target *t, struct census *c);
void target_close(struct target *t);

#endif
