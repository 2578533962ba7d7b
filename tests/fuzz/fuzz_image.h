/* fuzz_image.h: captured images as fuzzing ground: loading the seed images and finding, in each,
 * the structures worth mutating (pool headers, pointer words, object type slots, GC links, dicts,
 * strings), so a mutation aims at what the census walks. Shared by the libFuzzer harness and the
 * image shrinker. */
#ifndef PC_FUZZ_IMAGE_H
#define PC_FUZZ_IMAGE_H

#include "common/compat.h"
#include "source/image.h"

struct addr_list {
	uint64_t *v;
	size_t n, cap;
};

struct fuzz_image {
	struct pyimage img;        /* regions point into work */
	uint8_t *pristine, *work;  /* the file's bytes, untouched and mutated */
	size_t len;
	struct pylayout L;
	struct addr_list pools, ptrs, objs, dicts, strs, types;
	struct addr_list gc_ends; /* first and last node of every GC generation list */
};

/* Loads path and indexes it. False (with a message on stderr) when it does not replay. */
bool fuzz_image_load(struct fuzz_image *f, const char *path);
void fuzz_image_release(struct fuzz_image *f);

/* Local pointer to the mutable bytes of target address a (len bytes), or NULL. */
uint8_t *fuzz_image_at(struct fuzz_image *f, uint64_t a, size_t len);

#endif
