/* dumpsave.h: the end of a census that `pycensus dump` takes: its own copy of the arenas (free
 * blocks zeroed: only the used pools' contents remain) and every other read it recorded, written
 * as a heap dump (source/dump.h) with who, where and when. The arena copy is never recorded a
 * second time (mem_recorder.skip_copies): the dump streams from the census's copy. */
#ifndef PC_DUMPSAVE_H
#define PC_DUMPSAVE_H

#include "common/compat.h"
#include "common/error.h"
#include "source/dump.h"
#include "source/source.h"

struct walk;

/* What the caller of a dumping census asks for and gets back. */
struct census_dump {
	const char *path;
	int level;                  /* zstd level */
	const char *writer;         /* "pycensus 0.9.1" */
	dump_progress_fn *progress; /* may be NULL */
	void *progress_arg;
	struct dump_meta meta;      /* out: what the dump says of itself */
	struct dump_out out;        /* out: what was written */
};

/* Writes the dump of the census w just took (the target resumed, the census complete). The
 * arena copy's free blocks are zeroed in place: w must not be walked again. Errors: OUTPUT. */
int census_save_dump(struct source *src, struct walk *w, struct census_dump *d, struct pc_err *e);

#endif
