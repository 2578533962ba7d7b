/* memroom.h: how much memory pycensus itself may still take before the kernel's OOM killer acts:
 * MemAvailable from /proc/meminfo, and the room left under the memory limit of the cgroup
 * pycensus runs in (v2 memory.max - memory.current, v1 memory.limit_in_bytes -
 * memory.usage_in_bytes), whichever is smaller. A census copies the target's arenas; checking
 * that they fit before the target is stopped turns an OOM kill (exit 137, no message, and maybe
 * the target killed instead) into one line that says so. Knows nothing of Python. */
#ifndef PC_MEMROOM_H
#define PC_MEMROOM_H

#include "common/compat.h"

struct memroom {
	uint64_t bytes;        /* the room: the smaller of the two (UINT64_MAX when neither is known) */
	uint64_t available;    /* MemAvailable (UINT64_MAX: unknown) */
	uint64_t cgroup_room;  /* the cgroup's limit less its usage (UINT64_MAX: no limit or unknown) */
	char cgroup[512];      /* the cgroup whose limit binds ("" when none) */
};

/* MemAvailable from the text of /proc/meminfo; UINT64_MAX when absent. Pure: unit-tested. */
uint64_t memroom_parse_meminfo(const char *text);
/* The memory cgroup path from the text of /proc/self/cgroup: the v2 line ("0::/path") or the v1
 * memory controller's ("N:memory:/path"), into path; *v2 says which. False when neither. */
bool memroom_parse_cgroup(const char *text, char *path, size_t len, bool *v2);
/* Reads it all for this process; root is "/" (tests pass a directory that mimics /proc and /sys). */
void memroom_read(const char *root, struct memroom *m);

#endif
