/* target.h: what the target argument of snap, why, retained, stacks and stats names, opened the
 * same way for all of them: a number is a live process's PID; a file that starts with the dump
 * magic is a heap dump (`pycensus dump`), one that starts with the image magic an image from
 * `pycensus capture`. Either file is analysed as the process was when it was taken, and the
 * reports say so in their header (census.origin). */
#ifndef PC_TARGET_H
#define PC_TARGET_H

#include "common/compat.h"
#include "common/error.h"
#include "model/census.h"
#include "source/dump.h"
#include "source/source.h"

struct target {
	struct source src;    /* open from target_open to target_close */
	bool open;
	bool file;            /* a dump or an image, not a live process */
	struct dump d;        /* the file's contents (an image: d.img only) */
	char origin[200];     /* "from dump taken at ..., PID N, host H"; "" for a live process */
};

/* Opens arg as a source; flags (SOURCE_*) apply to a live process. Errors: those of
 * source_open_pid; USAGE for an argument that is neither a PID nor a readable file; BADDUMP for
 * a damaged dump (USAGE for a damaged image). */
int target_open(struct target *t, const char *arg, unsigned flags, struct pc_err *e);
/* True when arg names a file rather than a PID (for commands that refuse files). */
bool target_is_file(const char *arg);
/* What c's header says of where the census came from; the RSS the dump recorded. */
void target_note(const struct target *t, struct census *c);
void target_close(struct target *t);

#endif
