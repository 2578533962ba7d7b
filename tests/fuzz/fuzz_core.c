/* fuzz_core.c: libFuzzer harness for the core-file reader (source/core.c): every input must be
 * refused with a reason (bad core: exit 18; a file it needs missing: 19) or read, never crash,
 * leak or read out of bounds. The mapped files are looked for under a root that does not exist,
 * so a run never opens the host's files; an input that names none is opened as a source and its
 * interpreter looked for, as `pycensus snap CORE` would. Seeds: tests/fuzz/corpus-core (a
 * minimal core built by tests/fuzz/mkcore.py: notes, an NT_FILE note, two segments). */
#include "common/compat.h"

#include <stdlib.h>
#include <string.h>
#include "source/core.h"
#include "source/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
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
	return 0;
}
