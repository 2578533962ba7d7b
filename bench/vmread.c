/* vmread.c: the floor for bench/run -- the least work any out-of-process census must do: copy the
 * target's heap into local memory with process_vm_readv, and nothing else (no ptrace stop, no
 * symbols, no walk).
 *
 * What it copies: every private anonymous read-write mapping of /proc/PID/maps ("rw-p", inode 0,
 * no path) of at least 256 KiB. On CPython 3.8-3.13 that covers every pymalloc arena (256 KiB
 * arenas up to 3.9, 1 MiB from 3.10, each mmap'ed; neighbours may merge into one mapping), plus
 * large malloc'ed blocks (e.g. a big list's item array) and the malloc arenas of other threads,
 * so it copies at least what pycensus copies, usually a bit more: bench/run prints both byte
 * counts and scales the floor to pycensus's bytes.
 *
 * Each repetition copies into a freshly allocated buffer (like pycensus, so first-touch page
 * faults on the local side count), in batches of at most IOV_MAX iovecs and 1 GiB (the kernel
 * reads at most MAX_RW_COUNT, just under 2 GiB, per call), one iovec per mapping or GiB of one.
 *
 * With --all it copies every private read-write mapping without a file, whatever its size,
 * [heap] included: the malloc'ed objects too (bench/kinds: a class object is 936 bytes from
 * malloc, and 60,000 of them lie in [heap]).
 *
 * usage: vmread PID [REPEAT] [--all]
 * prints, per repetition: floor: regions=N bytes=B syscalls=S seconds=T
 * The seconds cover the allocation and the copies, not the reading of /proc/PID/maps. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

#define CHUNK (1ULL << 30)
#define MIN_REGION (256u << 10)

struct region {
	uint64_t addr, len;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t read_maps(int pid, int all, struct region **out)
{
	char path[64], line[4096];
	struct region *v = NULL;
	size_t n = 0, cap = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "vmread: %s: %s\n", path, strerror(errno));
		exit(3);
	}
	while (fgets(line, sizeof line, f)) {
		unsigned long long lo, hi, off, inode;
		char perms[8], dev[32];
		int used = 0;
		if (sscanf(line, "%llx-%llx %7s %llx %31s %llu %n", &lo, &hi, perms, &off, dev, &inode, &used) < 6)
			continue;
		if (strcmp(perms, "rw-p") != 0 || inode != 0)
			continue;
		if (line[used] != '\0' && line[used] != '\n' && !(all && strncmp(line + used, "[heap]", 6) == 0))
			continue; /* [stack], ..., and [heap] unless --all */
		if (hi - lo < MIN_REGION && !all)
			continue;
		/* one call reads at most MAX_RW_COUNT (just under 2 GiB): larger mappings in pieces */
		for (unsigned long long a = lo; a < hi; a += CHUNK) {
			if (n == cap) {
				cap = cap ? 2 * cap : 256;
				v = realloc(v, cap * sizeof *v);
				if (!v) {
					perror("vmread: realloc");
					exit(1);
				}
			}
			v[n++] = (struct region){ a, hi - a < CHUNK ? hi - a : CHUNK };
		}
	}
	fclose(f);
	*out = v;
	return n;
}

int main(int argc, char **argv)
{
	struct region *r;
	size_t n, i;
	uint64_t total = 0;
	int pid, repeat, all = argc > 1 && strcmp(argv[argc - 1], "--all") == 0;

	if (argc - all < 2 || argc - all > 3) {
		fprintf(stderr, "usage: vmread PID [REPEAT] [--all]\n");
		return 2;
	}
	pid = atoi(argv[1]);
	repeat = argc - all > 2 ? atoi(argv[2]) : 1;
	n = read_maps(pid, all, &r);
	for (i = 0; i < n; i++)
		total += r[i].len;
	for (int rep = 0; rep < repeat; rep++) {
		static struct iovec l[IOV_MAX], rv[IOV_MAX];
		uint64_t got = 0, syscalls = 0, off = 0;
		double t0 = now(), t;
		uint8_t *buf = malloc(total ? total : 1);

		if (!buf) {
			perror("vmread: malloc");
			return 1;
		}
		for (i = 0; i < n;) {
			size_t k = 0;
			ssize_t res;
			uint64_t batch = 0;
			/* a batch stays under the kernel's per-call cap, or the call returns short */
			for (; i < n && k < IOV_MAX && batch + r[i].len <= CHUNK; i++, k++) {
				batch += r[i].len;
				l[k] = (struct iovec){ buf + off, r[i].len };
				rv[k] = (struct iovec){ (void *)(uintptr_t)r[i].addr, r[i].len };
				off += r[i].len;
			}
			syscalls++;
			res = process_vm_readv(pid, l, k, rv, k, 0);
			if (res < 0) {
				fprintf(stderr, "vmread: process_vm_readv: %s\n", strerror(errno));
				return errno == ESRCH ? 3 : 10;
			}
			/* a mapping that went away mid-way cuts the batch short: count what was read */
			got += (uint64_t)res;
		}
		t = now() - t0;
		printf("floor: regions=%zu bytes=%llu syscalls=%llu seconds=%.6f\n", n, (unsigned long long)got,
		       (unsigned long long)syscalls, t);
		fflush(stdout);
		free(buf);
	}
	free(r);
	return 0;
}
