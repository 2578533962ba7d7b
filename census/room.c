/* room.c: the census's own memory against the room it had (census/walk.h, w->room). Checked by
 * pycensus's resident set, which the kernel charges to its cgroup: a read of /proc/self/statm
 * every ROOM_EVERY objects (about 150 on 1e7 objects). */
#include "common/compat.h"
#include "census/walk.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "attach/memroom.h"

/* Left to the kernel's page cache, pycensus's stack and the output: the room's eighth, at least
 * 8 MiB. */
#define ROOM_SPARE_MIN (8ULL << 20)

static uint64_t own_rss(void)
{
	unsigned long long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");
	int got = f ? fscanf(f, "%llu %llu", &size, &resident) : 0;

	if (f)
		fclose(f);
	return got == 2 ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

void walk_room_init(struct walk *w)
{
	struct memroom m;
	uint64_t rss = own_rss(), spare;

	memroom_read("", &m);
	if (m.bytes == UINT64_MAX || !rss)
		return;
	spare = m.bytes / 8 > ROOM_SPARE_MIN ? m.bytes / 8 : ROOM_SPARE_MIN;
	w->room.limit = rss + (m.bytes > spare ? m.bytes - spare : 0);
	if (m.cgroup_room < m.available)
		snprintf(w->room.where, sizeof w->room.where, "the memory cgroup %.120s", m.cgroup);
	else
		snprintf(w->room.where, sizeof w->room.where, "this machine's available memory (MemAvailable)");
}

void walk_room_check(struct walk *w)
{
	uint64_t rss;

	if (!w->room.limit || w->room.out || (rss = own_rss()) <= w->room.limit)
		return;
	w->room.out = true;
	w->room.rss = rss;
}
