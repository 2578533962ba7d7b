/* test_memroom.c: the memory pycensus may still take (attach/memroom.h): MemAvailable, the cgroup
 * line of v2, v1 and hybrid systems, and the limit found on the cgroup or the first ancestor that
 * has one, over a fake /proc and /sys tree. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "attach/memroom.h"

Test(memroom, meminfo)
{
	cr_assert_eq(memroom_parse_meminfo("MemTotal:       24000000 kB\nMemFree:  1 kB\nMemAvailable:   20000000 kB\n"),
		     20000000ULL * 1024);
	cr_assert_eq(memroom_parse_meminfo("MemTotal: 1 kB\n"), UINT64_MAX, "an old kernel without MemAvailable");
}

Test(memroom, cgroup_lines)
{
	char path[256];
	bool v2 = false;

	cr_assert(memroom_parse_cgroup("0::/user.slice/app.service\n", path, sizeof path, &v2));
	cr_assert(v2);
	cr_assert_str_eq(path, "/user.slice/app.service");
	cr_assert(memroom_parse_cgroup("9:name=systemd:/\n4:memory:/docker/abc\n0::/\n", path, sizeof path, &v2));
	cr_assert(!v2, "a hybrid system accounts memory in v1");
	cr_assert_str_eq(path, "/docker/abc");
	cr_assert(!memroom_parse_cgroup("2:cpu:/x\n", path, sizeof path, &v2));
}

static void put(const char *root, const char *rel, const char *text)
{
	char path[512], dir[600];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, rel);
	snprintf(dir, sizeof dir, "mkdir -p \"$(dirname '%s')\"", path);
	cr_assert_eq(system(dir), 0);
	cr_assert((f = fopen(path, "w")));
	fputs(text, f);
	fclose(f);
}

Test(memroom, limit_of_an_ancestor_v1)
{
	char root[] = "/tmp/pycensus-memroom-XXXXXX", cmd[600];
	struct memroom m;

	cr_assert(mkdtemp(root));
	put(root, "proc/meminfo", "MemAvailable: 8000000 kB\n");
	put(root, "proc/self/cgroup", "4:memory:/docker/abc\n");
	/* the container's own cgroup has no limit (v1's huge number); its parent does */
	put(root, "sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n");
	put(root, "sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes", "1000\n");
	put(root, "sys/fs/cgroup/memory/docker/memory.limit_in_bytes", "104857600\n");
	put(root, "sys/fs/cgroup/memory/docker/memory.usage_in_bytes", "52428800\n");
	memroom_read(root, &m);
	cr_assert_eq(m.available, 8000000ULL * 1024);
	cr_assert_eq(m.cgroup_room, 52428800ULL);
	cr_assert_eq(m.bytes, 52428800ULL);
	cr_assert_str_eq(m.cgroup, "/docker");
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

Test(memroom, v2_without_a_limit)
{
	char root[] = "/tmp/pycensus-memroom-XXXXXX", cmd[600];
	struct memroom m;

	cr_assert(mkdtemp(root));
	put(root, "proc/meminfo", "MemAvailable: 1000 kB\n");
	put(root, "proc/self/cgroup", "0::/app\n");
	put(root, "sys/fs/cgroup/app/memory.max", "max\n");
	put(root, "sys/fs/cgroup/app/memory.current", "4096\n");
	memroom_read(root, &m);
	cr_assert_eq(m.cgroup_room, UINT64_MAX, "memory.max 'max' is no limit");
	cr_assert_eq(m.bytes, 1000ULL * 1024, "MemAvailable binds");
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}
