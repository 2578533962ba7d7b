/* regs.c: reading a stopped thread's registers. */
#include "common/compat.h"
#include "attach/regs.h"

#include <sys/ptrace.h>
#include <sys/user.h>

int regs_fs_base(pid_t tid, uint64_t *fs_base)
{
	struct user_regs_struct r;

	if (ptrace(PTRACE_GETREGS, tid, NULL, &r) < 0)
		return -1;
	*fs_base = r.fs_base;
	return 0;
}
