/* pyready.c: waiting for a launched interpreter to finish initialising. */
#include "common/compat.h"
#include "source/pyready.h"

#include <string.h>
#include "python/layout.h"

void pyready_init(struct pyready *r)
{
	memset(r, 0, sizeof *r);
}

void pyready_release(struct pyready *r)
{
	if (r->have_elf) {
		pyelf_close(&r->elf);
		mem_release(&r->mem);
		maps_release(&r->maps);
	}
	pyready_init(r);
}

static int find_interpreter(struct pyready *r, pid_t pid, struct pc_err *e)
{
	static const char *const names[PYREADY_NFINAL] = { "Py_FinalizeEx", "Py_Exit", "Py_Finalize" };
	struct pc_err quiet = { 0 };
	struct pylayout L;
	const struct pylayout_gen *cand[8];
	uint8_t raw[1024];
	size_t rawlen;
	bool newer;

	mem_init_pid(&r->mem, pid);
	if (maps_read(pid, &r->maps, &quiet) < 0 || pyelf_open(&r->elf, pid, &r->maps, &r->mem, &quiet) < 0) {
		mem_release(&r->mem);
		maps_release(&r->maps);
		/* not (yet) an interpreter: the loader may still be mapping libpython */
		if (quiet.code != PC_EUNSUPPORTED)
			return 0;
		*e = quiet;
		return -1;
	}
	r->have_elf = true;
	rawlen = layout_debug_offsets_len(r->elf.version_hex);
	if (rawlen > sizeof raw || (rawlen && mem_read(&r->mem, r->elf.runtime, raw, rawlen, &quiet) < 0))
		rawlen = 0;
	if (layout_ranked(r->elf.major, r->elf.minor, r->elf.version_hex, rawlen ? raw : NULL, rawlen,
			  cand, PC_ARRAY_LEN(cand), &newer, e) == 0)
		return -1;
	layout_from_table(cand[0], &L);
	/* a newer version's runtime may have moved the flag: the census's own validation decides */
	r->off_initialized = newer ? -1 : L.off.rt_initialized;
	for (int i = 0; i < PYREADY_NFINAL; i++)
		r->finalize[i] = pyelf_symbol(&r->elf, names[i]);
	return 1;
}

int pyready_probe(struct pyready *r, pid_t pid, struct pc_err *e)
{
	uint32_t initialized = 0;

	if (!r->have_elf) {
		int rc = find_interpreter(r, pid, e);
		if (rc <= 0)
			return rc;
	}
	if (r->off_initialized < 0)
		return 1; /* no such field in this layout: the census's own validation decides */
	if (mem_read_u32(&r->mem, r->elf.runtime + (uint64_t)r->off_initialized, &initialized, NULL) < 0)
		return 0;
	return initialized == 1;
}
