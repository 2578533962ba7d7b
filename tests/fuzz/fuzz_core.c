/* fuzz_core.c: libFuzzer harness for the core-file reader (source/core.c) and for compressed
 * cores (source/corezip.c): every input must be refused with a reason (bad core: exit 18; a file
 * it needs missing: 19) or read, never crash, leak or read out of bounds. The mapped files are
 * looked for under a root that does not exist, so a run never opens the host's files; an input
 * that names none is opened as a source and its interpreter looked for, as `pycensus snap CORE`
 * would. An input that starts with zstd's, lz4's or xz's magic is written to a file and
 * decompressed as systemd-coredump's cores are (at most CORE_FUZZ_MAX bytes, into a temporary
 * directory of its own), then read as a core. Seeds: tests/fuzz/corpus-core (a minimal core built
 * by tests/fuzz/mkcore.py: notes, an NT_FILE note, two segments; and that core compressed with
 * each tool: min.core.zst, .lz4, .xz). */
#include "common/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "source/core.h"
#include "source/corezip.h"
#include "source/source.h"

#define CORE_FUZZ_MAX (4u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse(const uint8_t *data, size_t size)
{
	static const struct core_opts opts = { .sysroot = "/nonexistent-pycensus-fuzz" };
	uint8_t *copy = malloc(size ? size : 1); /* unaligned reads show up under UBSan */
	struct pc_err e = { 0 };
	struct core c;

	memcpy(copy, data, size);
	if (core_parse(copy, size, &opts, &c, &e) == 0) {
		struct source s;
		source_open_core(&s, &c);
		source_locate(&s, &e);
		source_close(&s);
		core_release(&c);
	} else if (e.code != PC_EBADDUMP && e.code != PC_ECOREFILE) {
		abort(); /* a refusal names a bad core or a missing file, nothing else */
	}
	free(copy);
}

static char dir[] = "/tmp/pycensus-fuzzcore-XXXXXX", path[64];

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

/* A compressed input: decompressed through a file as a core on disk would be, then parsed. */
static void decompress(const uint8_t *data, size_t size)
{
	struct pc_err e = { 0 };
	const char *kind;
	struct stat st;
	FILE *f;
	int fd;

	if (!path[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof path, "%s/core.z", dir);
		setenv("TMPDIR", dir, 1);
		atexit(cleanup);
	}
	if (!(f = fopen(path, "wb")) || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	if (!(kind = corezip_kind(path)))
		return;
	if (corezip_open_max(path, kind, CORE_FUZZ_MAX, &fd, &e) < 0) {
		if (e.code != PC_EBADDUMP && e.code != PC_EOUTPUT)
			abort(); /* a damaged stream is a bad core (OUTPUT: this machine's /tmp is full) */
		return;
	}
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			parse(m, (size_t)st.st_size);
			munmap(m, (size_t)st.st_size);
		}
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t magics[][4] = { { 0x28, 0xb5, 0x2f, 0xfd }, { 0x04, 0x22, 0x4d, 0x18 }, { 0xfd, '7', 'z', 'X' } };

	for (size_t i = 0; i < PC_ARRAY_LEN(magics); i++)
		if (size >= 4 && memcmp(data, magics[i], 4) == 0) {
			decompress(data, size);
			return 0;
		}
	parse(data, size);
	return 0;
}
