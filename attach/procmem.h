/* procmem.h: a process's memory as the kernel accounts it: /proc/PID/status (VmRSS, VmHWM, RssAnon,
 * RssFile, RssShmem, VmSwap), /proc/PID/smaps_rollup (Pss, Private_Clean/Dirty, Swap) and, through
 * /proc/PID/pagemap, how many pages of given address ranges are resident. Knows nothing of Python.
 *
 * Every figure is in bytes. A figure the kernel does not provide (old kernels have no
 * smaps_rollup; kernel threads have no Vm lines) stays unset: its `have_*` flag is false. */
#ifndef PC_PROCMEM_H
#define PC_PROCMEM_H

#include "common/compat.h"
#include <sys/types.h>
#include "common/error.h"

struct procmem {
	bool have_status;     /* the Vm and Rss lines of /proc/PID/status */
	uint64_t vm_rss, vm_hwm, rss_anon, rss_file, rss_shmem, vm_swap;
	bool have_rollup;     /* /proc/PID/smaps_rollup (Linux 4.14+) */
	uint64_t pss, private_clean, private_dirty, swap;
};

/* USS: the memory only this process maps (what exiting it would free). */
static inline uint64_t procmem_uss(const struct procmem *m)
{
	return m->private_clean + m->private_dirty;
}

/* Parse the text of /proc/PID/status and /proc/PID/smaps_rollup into m (the fields each file
 * carries; the others are left as they were). Unknown lines are ignored. Pure: unit-tested. */
void procmem_parse_status(const char *text, struct procmem *m);
void procmem_parse_rollup(const char *text, struct procmem *m);

/* Reads both files of PID. Fails (NOPROC, PERM, TARGETMEM) only when status cannot be read; a
 * missing or unreadable smaps_rollup leaves have_rollup false. */
int procmem_read(pid_t pid, struct procmem *m, struct pc_err *e);

/* The process's resident anonymous memory, from /proc/PID/statm (resident less shared pages): one
 * small read, cheap enough before every census. 0 when unreadable. */
uint64_t procmem_anon(pid_t pid);

/* A page-aligned address range [start, end). */
struct procmem_range {
	uint64_t start, end;
};

/* Bytes of the ranges that are resident in RAM and that are swapped out, from /proc/PID/pagemap
 * (bits 63 and 62 of each entry; readable without privileges, which only hide the frame numbers).
 * One pread per range. Fails with PERM or TARGETMEM when pagemap cannot be read. */
int procmem_resident(pid_t pid, const struct procmem_range *r, size_t n, uint64_t *resident,
		     uint64_t *swapped, struct pc_err *e);

#endif
