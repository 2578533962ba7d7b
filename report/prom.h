/* prom.h: censuses in the Prometheus text exposition format (version 0.0.4) or in OpenMetrics 1.0
 * (counters' families without _total, UNIT lines, "# EOF"), what `pycensus serve` answers on
 * /metrics. Per target process: objects and bytes of its top N kinds by bytes and of
 * PROM_OTHER_KIND (every other kind summed), the totals, pymalloc's arenas, pools and blocks, the
 * GC's counts and collections per generation, RSS and USS, what the census cost, whether it was
 * partial, and an up gauge with the last error. Labels: pid, python (the version), kind,
 * generation. Pure: a census and a few /proc figures in, text out; unit-tested.
 *
 * Cardinality: at most PROM_SERIES_FIXED + 2 * (N + 1) series per process (N = --top), plus
 * PROM_SERIES_GLOBAL for pycensus itself. */
#ifndef PC_PROM_H
#define PC_PROM_H

#include "common/compat.h"
#include <stdio.h>
#include <sys/types.h>
#include "model/census.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define PROM_OPENMETRICS_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"
/* The kind label of every kind beyond the top N, summed. Parenthesised like the census's own
 * pseudo-kinds, so no Python type name meets it. */
#define PROM_OTHER_KIND "(other)"
/* Series per process besides the 2 * (N + 1) kind series, at most: up, censuses, failures, then
 * either the error (a failed census) or timestamp, duration, pause, partial, dropped, kinds,
 * objects, bytes, threads, 5 of pymalloc, gc enabled, 4 generations of counts and collections, rss
 * and uss. */
#define PROM_SERIES_FIXED 28
#define PROM_SERIES_GLOBAL 2 /* pycensus_targets, pycensus_targets_left_out */

struct prom_kind {
	char *kind;        /* owned */
	char *module;      /* owned: the module that defines its type (the pprof endpoint's frame) */
	uint64_t count, size;
};

/* One target process: what its last census found, or why it failed. */
struct prom_target {
	pid_t pid;
	char python[32];         /* the version of the last census that succeeded ("" before one) */
	bool up;                 /* the last census succeeded */
	char error[600];         /* the last census failed: its error line ("" otherwise) */
	int error_code;          /* and the exit code pycensus would give for it */
	uint64_t censuses, failures;

	/* the last census, when up */
	double timestamp;        /* Unix time it ended */
	double duration_s, pause_s;
	struct prom_kind *kinds; /* the top kinds by bytes (then by name), owned */
	size_t nkinds;
	struct prom_kind other;  /* the rest summed; kind is NULL */
	size_t nall;             /* kinds in the census */
	uint64_t objects, bytes;
	uint64_t arenas, arena_bytes, pools, blocks, allocated_bytes;
	unsigned gc_ngen;
	int64_t gc_count[4], gc_collections[4];
	bool gc_enabled;
	unsigned threads;
	bool partial;
	uint64_t dropped_objects;
	uint64_t rss, uss;       /* bytes, /proc/PID/status and smaps_rollup */
	bool have_rss, have_uss;
};

/* On caller storage: no census yet (up 0, no error). */
void prom_target_init(struct prom_target *t, pid_t pid);
void prom_target_release(struct prom_target *t);
/* A census that succeeded, ended at Unix time `now`: keeps its top `top` kinds by bytes and sums
 * the rest into t->other (top 0 keeps none: every kind is summed). */
void prom_target_set(struct prom_target *t, const struct census *c, size_t top, double now);
/* A census that failed: up 0 with its error line and exit code; the last census's figures are
 * dropped (they would read as current). */
void prom_target_fail(struct prom_target *t, const char *line, int exit_code);

/* Writes the exposition of targets[n], every metric family once with its HELP and TYPE lines.
 * left_out: processes --match found beyond the bound. Returns 0, or -1 when the stream failed. */
int prom_write(FILE *out, const struct prom_target *t, size_t n, size_t left_out);
/* The same figures in OpenMetrics' text format. */
int prom_write_openmetrics(FILE *out, const struct prom_target *t, size_t n, size_t left_out);
/* Whether a request's Accept header (NULL: none) prefers OpenMetrics: it names
 * application/openmetrics-text with a q above 0 and not below text/plain's or a wildcard's, as
 * Prometheus asks (openmetrics-text first, text/plain at q=0.5). */
bool prom_accepts_openmetrics(const char *accept);
/* A label value as the format quotes it: \ " and newline escaped; bytes that are not UTF-8 as the
 * text \xNN (Prometheus refuses a scrape holding invalid UTF-8). */
void prom_put_label_value(FILE *out, const char *s);

#endif
