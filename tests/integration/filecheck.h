/* filecheck.h: what the tests of file targets share (test_dump: heap dumps, test_core: core
 * files): running pycensus and keeping its output, starting workloads/dump.py (a known heap that
 * holds still), and damaged copies of a file refused with one line. */
#ifndef PC_FILECHECK_H
#define PC_FILECHECK_H

#include "common/compat.h"
#include "tests/integration/harness.h"

#define FC_OUTMAX (4 << 20)

/* pycensus args must exit 0: its stdout (malloc'd). what and label name it in a failure. */
char *fc_run_ok(const char *const *args, const char *what, const char *label);
/* The same, its CSV parsed into t. */
void fc_table_of(const char *const *args, struct table *t, const char *what, const char *label);
/* The text after the first `lines` lines (a header that names the target differs by design). */
const char *fc_after_line(const char *s, int lines);
/* Spawns workloads/dump.py under py and reads its "up N SIZES RETAINED PID" line. */
void fc_start_dump_workload(struct python *py, struct proc *p, long long *n, long long *sizes, long long *retained);
/* What the live workload (fc_start_dump_workload) shows: snap --pause census, retained and why of
 * its DumpItems; and what it said of itself. */
struct fc_live {
	const char *label;
	char pid[16];
	long long n, sizes, retained; /* DumpItems, their getsizeof sum, what they retain */
	struct table rows;
	char *retained_csv, *why, *inspect_csv;
};
/* Starts the workload (l's pid, label and self-description); then fc_take_live takes the live
 * analyses. */
void fc_start_live(struct python *py, struct proc *p, struct fc_live *l);
void fc_take_live(struct fc_live *l);
/* The analyses of file (a dump or core of the workload, now gone) give l's figures: every row,
 * the same retained table and inspect CSV (the 50 equal blobs outside pymalloc among its
 * duplicates: their contents must be in the file), why's text below its header (which must hold
 * origin and the PID, as inspect's must), and the workload's own DumpItem count, bytes and retained
 * bytes. Returns the heap's size (the rows' total). */
long long fc_expect_file_matches(const struct fc_live *l, const char *file, const char *origin);
void fc_live_release(struct fc_live *l);

/* The whole file at path (malloc'd), its size in *len. */
unsigned char *fc_read_file(const char *path, size_t *len);
/* Writes len bytes of buf to dst. */
void fc_write_variant(const char *dst, const unsigned char *buf, size_t len);
/* args fail with exit code rc, and one line on stderr holding reason. */
void fc_expect_refused(const char *const *args, int rc, const char *reason);

#endif
