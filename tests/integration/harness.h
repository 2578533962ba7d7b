/* harness.h: integration-test plumbing: finding interpreters, running workloads step by step,
 * running pycensus and reading its CSV. */
#ifndef PC_HARNESS_H
#define PC_HARNESS_H

#include "common/compat.h"
#include <stdio.h>
#include <sys/types.h>

#define H_MAX_PYTHONS 16

struct python {
	char path[256];
	char label[64];   /* "3.12.1" or "debian-3.11 (stripped)" */
	int minor;
	bool has_symbols; /* the arena table symbol exists: --arenas=symbols works */
};

/* Supported interpreters found on this machine: /root/.pyenv/versions/3.8-3.13, the distro's
 * /usr/bin/python3.X, and any in $PYCENSUS_PYTHONS (colon-separated). */
size_t h_find_pythons(struct python *out, size_t max);
/* An interpreter of an unsupported version (2.7, 3.6, 3.7), or false. */
bool h_find_unsupported(char *path, size_t len);

struct proc {
	pid_t pid;
	FILE *out;              /* its stdout */
	char errpath[128];      /* its stderr goes to this file */
};

/* Starts argv with stdout piped and stderr to a temp file. */
bool h_spawn(struct proc *p, char *const argv[]);
/* Reads stdout lines until one starts with prefix (copied to line); false on EOF or timeout. */
bool h_wait_line(struct proc *p, const char *prefix, char *line, size_t len, int timeout_s);
/* Waits until the process sleeps (state S) so its heap is quiet. */
bool h_wait_sleeping(pid_t pid, int timeout_s);
/* The one-letter state from /proc/PID/stat, or '?' when gone. */
char h_state(pid_t pid);
void h_kill(struct proc *p);

/* Runs pycensus with args (NULL-terminated, without the program name); captures stdout and stderr
 * (each up to len bytes; may be NULL) and returns the exit status, or -1. */
int h_pycensus(char *out, size_t outlen, char *err, size_t errlen, const char *const *args);
/* Runs pycensus as another user (uid) the same way. */
int h_pycensus_as(uid_t uid, char *err, size_t errlen, const char *const *args);

struct row {
	char kind[128];
	long long count, size;
	long long statics, big_untracked; /* truth only: objects in file-backed memory; large and untracked */
};
struct table {
	struct row *v;
	size_t n;
};
/* Parses pycensus CSV text into rows; false when the header is wrong. */
bool h_parse_csv(const char *csv, struct table *t);
/* Parses "truth <kind>\t<count>\t<size>" lines from the workload's stdout until "end". */
bool h_read_truth(struct proc *p, struct table *t);
const struct row *h_row(const struct table *t, const char *kind);
long long h_count(const struct table *t, const char *kind);
/* Sum of count over kinds starting with prefix (e.g. all "dict " rows). */
long long h_count_prefix(const struct table *t, const char *prefix);
void h_table_free(struct table *t);

/* Reads "truth" lines into t and "owned <kind>\t<count>\t<size>" lines into owned until any other
 * line, which is copied to stop. False on EOF or timeout. */
bool h_read_truth_step(struct proc *p, struct table *t, struct table *owned, char *stop, size_t len);

/* "blocks in use" per size class from sys._debugmallocstats() output in a file. */
bool h_mallocstats(const char *path, long long blocks[64], unsigned *nclasses);

#endif
