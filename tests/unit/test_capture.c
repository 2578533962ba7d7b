/* test_capture.c: the image format: a written image parses back to the same content, and every
 * kind of damage (magic, version, truncation at every 7th byte, trailer, trailing bytes) is refused. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/xalloc.h"
#include "source/image.h"

static uint8_t data1[64], data2[16];

static void sample(struct pyimage *img)
{
	static struct map maps[2] = { { 0x1000, 0x3000, 0, 0, true, true, false, true, (char *)"" },
				      { 0x400000, 0x500000, 0, 42, true, false, true, true, (char *)"/usr/bin/python3.11" } };
	static struct pyelf_sym syms[1] = { { "PyType_Type", 0x401000 } };
	static struct mem_region regs[2];

	memset(img, 0, sizeof *img);
	img->pid = 1234;
	img->major = 3;
	img->minor = 11;
	img->micro = 2;
	snprintf(img->version, sizeof img->version, "3.11.2");
	snprintf(img->build, sizeof img->build, "python3.11 (static, stripped)");
	img->runtime = 0x401200;
	img->maps = (struct maps){ maps, 2, 2 };
	img->syms = (struct pyelf_symcache){ syms, 1, 1 };
	memset(data1, 0xab, sizeof data1);
	memset(data2, 0xcd, sizeof data2);
	regs[0] = (struct mem_region){ 0x1000, sizeof data1, data1 };
	regs[1] = (struct mem_region){ 0x2000, sizeof data2, data2 };
	img->regions = regs;
	img->nregions = 2;
}

/* Writes the sample and returns its bytes (malloc'd) and length. */
static uint8_t *written(size_t *len)
{
	char path[] = "/tmp/pycensus-unit-img-XXXXXX";
	struct pyimage img;
	struct pc_err e = { 0 };
	uint8_t *buf = xmalloc(1 << 16);
	FILE *f;
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	close(fd);
	sample(&img);
	cr_assert_eq(image_write(path, &img, &e), 0, "%s", e.detail);
	f = fopen(path, "rb");
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	unlink(path);
	return buf;
}

Test(capture, roundtrip)
{
	size_t len;
	uint8_t *buf = written(&len);
	struct pyimage img;
	struct pc_err e = { 0 };

	cr_assert_eq(image_parse(buf, len, &img, &e), 0, "%s", e.detail);
	cr_expect_eq(img.pid, 1234);
	cr_expect_eq(img.minor, 11);
	cr_expect_str_eq(img.version, "3.11.2");
	cr_expect_eq(img.maps.n, 2);
	cr_expect_str_eq(img.maps.v[1].path, "/usr/bin/python3.11");
	cr_expect(img.maps.v[1].x && !img.maps.v[1].w && img.maps.v[1].inode == 42);
	cr_expect_eq(img.syms.n, 1);
	cr_expect_eq(img.syms.v[0].value, 0x401000);
	cr_assert_eq(img.nregions, 2);
	cr_expect_eq(img.regions[1].addr, 0x2000);
	cr_expect_eq(memcmp(img.regions[0].data, data1, sizeof data1), 0);
	image_release(&img);
	free(buf);
}

static void refused(uint8_t *buf, size_t len, const char *why)
{
	struct pyimage img;
	struct pc_err e = { 0 };

	cr_expect_eq(image_parse(buf, len, &img, &e), -1, "accepted an image with %s", why);
	cr_expect_eq(e.code, PC_EUSAGE);
	cr_expect(strstr(e.detail, why) != NULL, "'%s' not in: %s", why, e.detail);
}

Test(capture, damage_refused)
{
	size_t len;
	uint8_t *buf = written(&len), *copy = xmalloc(len + 8);

	for (size_t cut = 0; cut < len; cut += 7) /* every truncation */
		refused(buf, cut, cut < 8 ? "truncated" : "");
	memcpy(copy, buf, len);
	copy[0] = 'X';
	refused(copy, len, "bad magic");
	memcpy(copy, buf, len);
	copy[8] = 2;
	refused(copy, len, "unknown image format version");
	memcpy(copy, buf, len);
	copy[len] = 0;
	refused(copy, len + 1, "trailing bytes");
	memcpy(copy, buf, len);
	copy[len - 1] = 'x';
	refused(copy, len, "bad trailer");
	free(copy);
	free(buf);
}
