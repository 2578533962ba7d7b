/* pprof.h: a census as a pprof profile (google/pprof's proto/profile.proto, gzipped), the format
 * `go tool pprof`, Pyroscope and Parca read, so Python memory shows as their flame graphs.
 *
 * Sample types inuse_objects/count and inuse_space/bytes (the default); one sample per kind of
 * the partition by kind, its values that row's count and size (what the CSV of the census says),
 * its stack two frames: the module that defines the type (root) above the kind (leaf), e.g.
 * "__main__" -> "dict of Request". A process tree adds its process ("PID command") as the root.
 * No mappings to symbolize: every location's function is the frame's name (one mapping says
 * so). Comments carry the pycensus and Python versions, the PID, what bytes mean (getsizeof or
 * allocator footprint), the census's warnings and its dropped counts, so a partial census shows
 * as one. Strings from the target are written as they are (bytes >= 0x80 too, as the JSON does). */
#ifndef PC_PPROF_H
#define PC_PPROF_H

#include "common/compat.h"
#include <stdio.h>
#include "common/error.h"
#include "common/strindex.h"
#include "model/census.h"
#include "model/tree.h"
#include "report/protobuf.h"

/* A profile being built: interned strings, frames (one function and one location each), the
 * samples encoded so far and the comments. */
struct pprof {
	struct pb samples;          /* Profile.sample fields, encoded */
	char **strings;             /* owned; string_table, [0] = "" as the format requires */
	size_t nstrings, capstrings;
	struct strindex string_index;
	char **frames;              /* owned keys: depth from the leaf as a digit, then the name */
	size_t nframes, capframes;
	struct strindex frame_index;
	uint64_t *comments;         /* string indexes */
	size_t ncomments, capcomments;
};

void pprof_init(struct pprof *p);
void pprof_release(struct pprof *p);
/* The index of s in the string table, adding it when new. */
uint64_t pprof_string(struct pprof *p, const char *s);
/* One sample: frames[0] the root ... frames[n-1] the leaf (n <= 8), values [objects, bytes]. A
 * frame is one location per (name, depth from the leaf), so a module named like a kind stays
 * apart from it. */
void pprof_sample(struct pprof *p, const char *const *frames, size_t n, uint64_t objects, uint64_t bytes);
void pprof_comment(struct pprof *p, const char *fmt, ...) PC_PRINTF(2, 3);
/* The encoded Profile (uncompressed), with time_nanos (ns since the epoch: when the census was
 * taken) into out (emptied first). */
void pprof_encode(const struct pprof *p, int64_t time_nanos, struct pb *out);
/* Encodes, gzips (zlib) and writes the profile; output_check() at the end: 0, or -1 with
 * PC_EOUTPUT (PC_EINTERNAL when zlib fails). */
int pprof_write(FILE *out, const struct pprof *p, int64_t time_nanos, struct pc_err *e);

/* `snap -f pprof`: census c by kind; `version` is pycensus's own (--version). */
int report_pprof(FILE *out, const struct census *c, const char *version, int64_t time_nanos, struct pc_err *e);
/* `snap --subprocesses -f pprof`: every censused process's kinds under "PID command"; values sum
 * to the CSV's "all" rows. Skipped processes and each process's notes are comments. */
int report_tree_pprof(FILE *out, const struct tree *t, const char *version, int64_t time_nanos, struct pc_err *e);

#endif
