/* census.h: the result of one census, the model report/ consumes. Filled by census/; report/
 * reads it and never reaches back into the target.
 *
 * Rows are aggregated per kind (guppy3 names: `str`, `dict of module`, `__main__.Product`); the
 * size-class view aggregates allocated pymalloc blocks per block size. What the census had to drop
 * (objects that changed while read, pools that failed validation) is counted per kind: a census
 * with any is *partial* (census_partial), and every report and the exit status say so. */
#ifndef PC_CENSUS_H
#define PC_CENSUS_H

#include "common/compat.h"
#include <sys/types.h>
#include "common/strindex.h"
#include "common/strpool.h"

struct census_row {               /* the strings are the census's (its pool) */
	const char *kind;
	const char *type;    /* the kind without the dict split ("dict" for every dict row) */
	const char *module;  /* the module that defines the type ("builtins", "__main__", ...) */
	uint64_t count;  /* objects */
	uint64_t size;   /* bytes: sys.getsizeof semantics, or the footprint when size_alloc */
};

/* The row of allocated pymalloc blocks no object claimed, under --size=alloc. */
#define CENSUS_UNATTRIBUTED "(unattributed pymalloc blocks)"

/* Objects dropped whose type was not known (an object without a valid type, the allocated blocks
 * of a pool that failed validation). */
#define CENSUS_UNKNOWN_KIND "(unknown kind)"

struct census_drop {
	char *kind;      /* owned: the type's kind name as rows use it ("dict" for every dict) */
	uint64_t count;  /* objects (blocks, for CENSUS_UNKNOWN_KIND from pools) */
};

struct census_sizeclass {
	unsigned block_size;  /* 16, 32, ... 512 */
	uint64_t pools;       /* pools of this class that hold at least one block */
	uint64_t blocks;      /* allocated blocks (what sys._debugmallocstats calls "blocks in use") */
	uint64_t avail;       /* free blocks in those pools ("avail blocks") */
	uint64_t objects;     /* allocated blocks recognised as objects */
};

struct census {
	pid_t pid;
	char version[32];     /* "3.12.1" */
	char build[300];       /* "libpython3.12.so.1.0 (shared); layout 3.12.1" (source/pyproc.h) */
	char arena_source[16]; /* "symbols" or "scan" */
	double pause_s;       /* how long the target stood stopped */
	double wall_s;        /* the whole census, attach to report */
	bool size_alloc;      /* sizes are allocator footprints, not sys.getsizeof */
	struct {
		uint64_t pymalloc_allocated;   /* bytes in allocated pymalloc blocks */
		uint64_t attributed_in_arenas; /* of those, claimed by objects and their buffers */
		uint64_t outside_arenas;       /* objects and buffers outside pymalloc (malloc requests) */
	} alloc;

	uint64_t nobjects, total_size;
	struct census_row *rows;
	size_t nrows, caprows;
	struct strindex kinds;  /* rows by kind: adding to a row costs the same with 60,000 kinds */
	struct strpool strings; /* the rows' kinds, types and modules: no malloc per row */
	const char *last_type, *last_module; /* kept once per run of rows that share them */

	/* pymalloc as the census saw it */
	uint64_t narenas, npools, nempty_pools, nblocks;
	unsigned nclasses;
	struct census_sizeclass classes[64];
	uint64_t objects_in_arenas, objects_outside; /* the latter found through the GC lists */
	uint64_t objects_followed; /* found only by following references (outside pymalloc, untracked) */
	uint64_t objects_static;   /* of those, static objects of the interpreter or an extension */
	uint64_t gc_tracked;  /* objects on the GC generation lists */
	uint64_t debug_blocks; /* blocks carrying the debug allocator's header (PYTHONMALLOC=debug, -X dev) */

	/* --nonblocking: read while the target ran; the inconsistencies met were skipped */
	bool nonblocking;
	/* --pause=copy: the target resumed once the arenas were copied; what lies outside them was
	 * read as it ran (skipped_outside counts what failed validation) */
	bool resumed_after_copy;
	bool replayed;              /* from a captured image (pycensus replay), not a live process */
	unsigned stream_windows;    /* the arenas were read in this many windows (--max-memory), 0: one copy */
	char origin[200];           /* a census of a file: "from dump taken at ..., PID N, host H" */
	uint64_t skipped_pools;     /* pools whose header or free list failed validation */
	uint64_t changed_pools;     /* pool headers that differed when read again after the walk */
	uint64_t skipped_outside;   /* GC objects outside the arenas unreadable or without a valid type */

	/* interpreter and process state at the census (snap's header summary), when have_summary */
	bool have_summary;
	uint64_t rss;             /* VmRSS bytes, 0 when unknown */
	uint64_t arena_bytes;     /* pymalloc arenas * ARENA_SIZE */
	uint64_t arena_used;      /* bytes in allocated blocks of those arenas */
	unsigned nthreads;        /* Python thread states */
	unsigned gc_ngen;         /* 0 when the GC state could not be read */
	int64_t gc_count[4];      /* gc.get_count() */
	int64_t gc_collections[4]; /* gc.get_stats()[g]['collections'] */
	bool gc_enabled;

	/* cost */
	uint64_t bytes_read, syscalls;

	char **warnings;      /* owned; one line each, already deduplicated */
	size_t nwarnings, capwarnings;

	/* dropped objects per kind, largest count first (then by kind): changed between two reads
	 * (--pause copy, --nonblocking), unreadable, or in pools that failed validation */
	struct census_drop *dropped;
	size_t ndropped, capdropped;
	uint64_t dropped_objects; /* their sum */
	uint64_t dropped_pools;   /* pools not walked because they failed validation */
};

void census_init(struct census *c);
void census_release(struct census *c);
/* Adds count/size to the row of `kind`, creating it (rows are few: a linear index is kept). The
 * row's type is the kind itself and its module "builtins" unless census_add_typed says. */
void census_add(struct census *c, const char *kind, uint64_t count, uint64_t size);
void census_add_typed(struct census *c, const char *kind, const char *type, const char *module, uint64_t count,
		      uint64_t size);
/* Makes room for n more rows (the kinds of a type table, added one after another). */
void census_reserve(struct census *c, size_t n);
/* The index of kind's row, STRINDEX_NONE if none. */
size_t census_row_index(const struct census *c, const char *kind);
/* The CENSUS_UNATTRIBUTED row: blocks, not objects, so the object total is left alone. */
void census_add_unattributed(struct census *c, uint64_t blocks, uint64_t bytes);
/* Adds a warning line (printf-style); identical lines are kept once. */
void census_warn(struct census *c, const char *fmt, ...) PC_PRINTF(2, 3);
/* Counts n dropped objects of kind (NULL: CENSUS_UNKNOWN_KIND), keeping the list sorted. */
void census_drop(struct census *c, const char *kind, uint64_t n);
/* Objects were dropped or pools left unwalked: the census is not the whole heap. */
bool census_partial(const struct census *c);
/* The one-line summary of what was dropped, biggest kinds first, at most `kinds` of them named
 * ("... and N more kinds"), into buf (always terminated); "" when the census is whole. */
void census_dropped_line(const struct census *c, unsigned kinds, char *buf, size_t len);
/* Adds the summary as a warning when the census is partial (after every census_drop). */
void census_warn_dropped(struct census *c);
/* Copies from's warnings and dropped counts onto to's (census_warn, census_drop). */
void census_copy_notes(struct census *to, const struct census *from);

#endif
