/* memroom.c: the memory pycensus may still take (attach/memroom.h). */
#include "common/compat.h"
#include "attach/memroom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attach/procfs.h"
#include "common/xalloc.h"

uint64_t memroom_parse_meminfo(const char *text)
{
	const char *at = strstr(text, "MemAvailable:");
	unsigned long long kib;

	if (!at || sscanf(at, "MemAvailable: %llu kB", &kib) != 1)
		return UINT64_MAX;
	return (uint64_t)kib * 1024;
}

bool memroom_parse_cgroup(const char *text, char *path, size_t len, bool *v2)
{
	bool found = false;

	for (const char *s = text; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL) {
		size_t n = strcspn(s, "\n");
		const char *p;
		if (strncmp(s, "0::", 3) == 0 && !found) { /* v2, unless v1's memory line comes too */
			snprintf(path, len, "%.*s", (int)(n - 3), s + 3);
			*v2 = found = true;
		} else if ((p = strstr(s, ":memory:")) && p < s + n) {
			snprintf(path, len, "%.*s", (int)(n - (size_t)(p + 8 - s)), p + 8);
			*v2 = false;
			return true; /* a hybrid system accounts memory in v1 */
		}
	}
	return found;
}

/* A file of one number (or "max") under root; UINT64_MAX when absent, "max" or unreadable. */
static uint64_t read_number(const char *root, const char *dir, const char *file)
{
	char path[768], buf[64];
	unsigned long long v;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s/%s", root, dir, file);
	if (!(f = fopen(path, "r")))
		return UINT64_MAX;
	if (!fgets(buf, sizeof buf, f) || sscanf(buf, "%llu", &v) != 1)
		v = UINT64_MAX;
	fclose(f);
	return (uint64_t)v;
}

#define TEXT_MAX 65536 /* /proc/meminfo and /proc/self/cgroup are a few KiB */

static char *slurp(const char *path)
{
	char *buf = xmalloc(TEXT_MAX);

	if (proc_read_text(path, buf, TEXT_MAX) < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The room under the cgroup's limit: its own, else the first ancestor's that has one. */
static void cgroup_room(const char *root, struct memroom *m)
{
	char path[500], dir[700], *text, *slash;
	bool v2 = false;

	snprintf(dir, sizeof dir, "%s/proc/self/cgroup", root);
	if (!(text = slurp(dir)))
		return;
	if (memroom_parse_cgroup(text, path, sizeof path, &v2)) {
		for (;;) {
			uint64_t limit, usage;
			snprintf(dir, sizeof dir, "sys/fs/cgroup%s%s", v2 ? "" : "/memory", path);
			limit = read_number(root, dir, v2 ? "memory.max" : "memory.limit_in_bytes");
			usage = read_number(root, dir, v2 ? "memory.current" : "memory.usage_in_bytes");
			/* v1 says "no limit" with a huge page-rounded number */
			if (limit < (1ULL << 60) && usage != UINT64_MAX) {
				m->cgroup_room = limit > usage ? limit - usage : 0;
				snprintf(m->cgroup, sizeof m->cgroup, "%s", path[0] ? path : "/");
				break;
			}
			if (!(slash = strrchr(path, '/')))
				break;
			*slash = '\0';
		}
	}
	free(text);
}

void memroom_read(const char *root, struct memroom *m)
{
	char path[512], *text;

	m->available = m->cgroup_room = UINT64_MAX;
	m->cgroup[0] = '\0';
	snprintf(path, sizeof path, "%s/proc/meminfo", root);
	if ((text = slurp(path))) {
		m->available = memroom_parse_meminfo(text);
		free(text);
	}
	cgroup_room(root, m);
	m->bytes = m->available < m->cgroup_room ? m->available : m->cgroup_room;
}
