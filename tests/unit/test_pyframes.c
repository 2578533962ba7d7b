/* test_pyframes.c: the Python frame walker on fake 3.12 target memory: a good frame, a frame
 * whose code pointer is garbage, a chain that loops, and one longer than the depth limit. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "frames/pyframes.h"

#define BASE 0x100000ull
#define SIZE (512u * 1024)

struct fake {
	struct pyproc p;
	uint8_t *mem;
	struct map map;
};

static void put64(struct fake *f, uint64_t addr, uint64_t v) { memcpy(f->mem + (addr - BASE), &v, 8); }
static void put32(struct fake *f, uint64_t addr, uint32_t v) { memcpy(f->mem + (addr - BASE), &v, 4); }

static void fake_init(struct fake *f)
{
	struct pc_err e = { 0 };

	memset(f, 0, sizeof *f);
	cr_assert_eq(layout_lookup(3, 12, &f->p.L, &e), 0);
	f->mem = calloc(1, SIZE);
	mem_init_buffer(&f->p.mem);
	mem_add_region(&f->p.mem, BASE, f->mem, SIZE);
	f->p.mem.sealed_missing = true;
	f->map = (struct map){ .start = BASE, .end = BASE + SIZE, .r = true, .path = "" };
	f->p.maps.v = &f->map;
	f->p.maps.n = 1;
}

static void fake_release(struct fake *f)
{
	mem_release(&f->p.mem);
	free(f->mem);
}

static void put_str(struct fake *f, uint64_t at, const char *s)
{
	const struct pyoffsets *o = &f->p.L.off;
	put64(f, at + (uint64_t)o->str_length, strlen(s));
	put32(f, at + (uint64_t)o->str_state, 1u << 2 | 1u << 5 | 1u << 6); /* kind 1, compact, ascii */
	memcpy(f->mem + (at + (uint64_t)o->ascii_size - BASE), s, strlen(s) + 1);
}

/* A code object named f in x.py, first line 10; its location table has one entry of 8 code
 * units on line 12 (NO_COLUMNS, line delta +2). */
static uint64_t put_code(struct fake *f, uint64_t at)
{
	const struct pyoffsets *o = &f->p.L.off;
	uint64_t name = at + 0x400, file = at + 0x480, tab = at + 0x500;
	static const uint8_t table[] = { 0x80 | 13 << 3 | 7, 2 << 1 };

	put_str(f, name, "f");
	put_str(f, file, "x.py");
	put64(f, tab + (uint64_t)o->ob_size, sizeof table);
	memcpy(f->mem + (tab + (uint64_t)o->bytes_sval - BASE), table, sizeof table);
	put64(f, at + (uint64_t)o->co_name, name);
	put64(f, at + (uint64_t)o->co_filename, file);
	put64(f, at + (uint64_t)o->co_linetable, tab);
	put32(f, at + (uint64_t)o->co_firstlineno, 10);
	put32(f, at + (uint64_t)o->co_firsttraceable, 0);
	return at;
}

static void put_frame(struct fake *f, uint64_t at, uint64_t code, uint64_t prev)
{
	const struct pyoffsets *o = &f->p.L.off;
	put64(f, at + (uint64_t)o->if_code, code);
	put64(f, at + (uint64_t)o->if_previous, prev);
	put64(f, at + (uint64_t)o->if_instr, code + (uint64_t)o->co_code_adaptive + 8);
}

/* tstate at BASE, its _PyCFrame at BASE+0x400 pointing at frame `first`. */
static void put_thread(struct fake *f, uint64_t first)
{
	const struct pyoffsets *o = &f->p.L.off;
	put64(f, BASE + (uint64_t)o->ts_frame, BASE + 0x400);
	put64(f, BASE + 0x400 + (uint64_t)o->cf_current_frame, first);
}

static void walk(struct fake *f, struct stacks *s, struct thread_stack **t)
{
	struct pyframes *w = pyframes_new(&f->p);
	stacks_init(s);
	*t = stacks_add_thread(s);
	(*t)->tstate = BASE;
	pyframes_read(w, *t, s);
	pyframes_free(w);
}

Test(pyframes, garbage_code_and_a_loop_become_marked_frames)
{
	struct fake f;
	struct stacks s;
	struct thread_stack *t;
	uint64_t code, f1 = BASE + 0x1000, f2 = BASE + 0x1100;

	fake_init(&f);
	code = put_code(&f, BASE + 0x2000);
	put_thread(&f, f1);
	put_frame(&f, f1, code, f2);
	put_frame(&f, f2, 0xdead0000, f1); /* unmapped code; and back to f1 */
	walk(&f, &s, &t);
	cr_assert_eq(t->frames.n, 3);
	cr_expect_eq(t->frames.v[0].kind, FRAME_PYTHON);
	cr_expect_str_eq(t->frames.v[0].func, "f");
	cr_expect_str_eq(t->frames.v[0].file, "x.py");
	cr_expect_eq(t->frames.v[0].line, 12);
	cr_expect_eq(t->frames.v[1].kind, FRAME_BAD);
	cr_expect_eq(t->frames.v[2].kind, FRAME_BAD);
	cr_expect_geq(s.nwarnings, 2);
	stacks_release(&s);
	fake_release(&f);
}

Test(pyframes, depth_is_bounded)
{
	struct fake f;
	struct stacks s;
	struct thread_stack *t;
	uint64_t code, first = BASE + 0x4000, n = 2000, step = 128;

	fake_init(&f);
	code = put_code(&f, BASE + 0x2000);
	put_thread(&f, first);
	for (uint64_t i = 0; i < n; i++)
		put_frame(&f, first + i * step, code, i + 1 < n ? first + (i + 1) * step : 0);
	walk(&f, &s, &t);
	cr_expect_eq(t->frames.n, STACKS_MAX_FRAMES);
	cr_expect_eq(s.nwarnings, 1);
	cr_expect(strstr(s.warnings[0], "more than 1024 frames"), "%s", s.warnings[0]);
	stacks_release(&s);
	fake_release(&f);
}

Test(pyframes, unreadable_first_frame)
{
	struct fake f;
	struct stacks s;
	struct thread_stack *t;

	fake_init(&f);
	put_thread(&f, 0x7777000);
	walk(&f, &s, &t);
	cr_assert_eq(t->frames.n, 1);
	cr_expect_eq(t->frames.v[0].kind, FRAME_BAD);
	stacks_release(&s);
	fake_release(&f);
}
