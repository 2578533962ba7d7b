/* harness.h: integration-test plumbing: finding interpreters, running workloads step by step,
 * running pycensus and reading its CSV. */
#ifndef PC_HARNESS_H
#define PC_HARNESS_H

#include "common/compat.h"
#include <stdio.h>
#include <sys/types.h>
#include "python/layout.h"

#define H_MAX_PYTHONS 32

struct python {
	char path[256];
	char label[64];   /* "3.12.1" (pyenv), "system-3.11", "3.14.10-debian" (provisioned), or the path */
	int minor;
	bool has_symbols; /* the arena table symbol exists: --arenas=symbols works */
	bool has_symtab;  /* pycensus finds a symbol table: the file's own or its debug file's */
	bool free_threaded; /* a Py_GIL_DISABLED build: only in h_find_pythons_ft() */
};

/* The interpreters the integration tests run on, oldest first. Found on every call (cached per
 * process; no hard-coded paths):
 *   pyenv        $PYENV_ROOT, else `pyenv root`, else ~/.pyenv: versions/3.X.Y/bin/python3.X for
 *                3.8-3.15 (free-threaded 't' builds left out), labelled "3.12.1"
 *   system       /usr/bin/python3.X for 3.8-3.15, labelled "system-3.11"
 *   provisioned  tools/provision-pythons' Debian builds, $PYCENSUS_PROVISION (default
 *                ~/.cache/pycensus/pythons)/3.X/usr/bin/python3.X, only those with a .done marker,
 *                labelled by the version the marker holds: "3.14.10-debian"
 *   extra        $PYCENSUS_PYTHONS: colon-separated paths named python3.X, labelled by path
 * Filter: PYCENSUS_TEST_PYTHONS=ITEM[,ITEM...] tests only the interpreters an item picks: the
 * whole label, a '-'-separated part of it ("system", "debian", "3.14.10"), a prefix of one up to a
 * '.' ("3.12" picks 3.12.1 and system-3.12, "3.1" picks neither), or the minor version "3.X"
 * (also for extra paths). E.g. PYCENSUS_TEST_PYTHONS=3.14,3.12.1 or =system,debian. Unset: all.
 * Fills at most max entries of out and returns how many. */
size_t h_find_pythons(struct python *out, size_t max);
/* The same, for the slowest suites (kinds, modes): one interpreter per layout family and each
 * Debian build, unless PYCENSUS_TEST_FULL=1 asks for all. */
size_t h_find_pythons_core(struct python *out, size_t max);
/* The oldest and the newest of the core set (all with PYCENSUS_TEST_FULL=1): for suites whose
 * subject does not change with the interpreter once its census is right (the pages a dump's
 * census renders), which the core set's other suites check. */
size_t h_find_pythons_ends(struct python *out, size_t max);
/* The free-threaded interpreters (PEP 703), kept out of h_find_pythons() (pycensus refuses them,
 * exit 6): tools/build-freethreaded's PREFIX/3.13t/bin/python3.13t when its .done marker holds
 * the version, labelled "3.13.15-ft"; PYCENSUS_TEST_PYTHONS filters them as the others. When none
 * is found, *why (may be NULL) says why, for the skip message. */
size_t h_find_pythons_ft(struct python *out, size_t max, const char **why);
/* The same for a test that needs one: when none is found the test is skipped, with the reason. */
size_t h_pythons_ft_or_skip(struct python *out, size_t max);
/* The rules of py's version (python/rules.h answers questions about it by name, so the tests
 * compare no version numbers either). */
struct pylayout h_layout(const struct python *py);
/* Instances of a plain class keep their attributes without a dict object (3.11+ managed dicts):
 * no "dict of <class>" rows unless something asks for __dict__. */
bool h_instances_without_dict(const struct python *py);

/* Prints what discovery found, each expected interpreter it did not find and why (pyenv 3.8-3.13,
 * system 3.11, provisioned 3.13-3.15), and the filter. Called once per run from a Criterion
 * PRE_ALL report hook (harness.c). */
void h_report_pythons(FILE *f);
/* An interpreter of an unsupported version (pyenv's 3.7, 3.6 or 2.7) into path, or false. */
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
/* Whether this machine raises hardware breakpoints: `run` takes its census at finalisation through
 * them, and some virtual machines accept them but never raise them. Probed here on the test's own
 * thread, independently of pycensus; when false, the tests that need that census say they skip
 * it (h_skip_finalisation). */
bool h_hwbreak_fires(void);
void h_skip_finalisation(const char *label);

/* The text of a file (at most len - 1 bytes, terminated): false when it cannot be opened or is
 * empty. */
bool h_file_text(const char *path, char *buf, size_t len);

/* Runs a shell command: its stdout (at most max - 1 bytes, malloc'd, terminated), its wait status
 * into *status. */
char *h_command_output(const char *cmd, size_t max, int *status);

/* Runs pycensus with args (NULL-terminated, without the program name); captures stdout and stderr
 * (each up to len bytes; may be NULL) and returns the exit status, or -1. */
int h_pycensus(char *out, size_t outlen, char *err, size_t errlen, const char *const *args);
/* A census's exit status agrees with its report: 0 for a whole census, 15 (partial) exactly when
 * the report (text or CSV) says "the census is partial". */
bool h_census_status_ok(int rc, const char *out);
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
