/* test_stackmerge.c: merging native frames with Python frames, as each CPython version nests them. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "common/xalloc.h"
#include "frames/stackmerge.h"

/* Builds a list from a spec: "n:name" native, "E" an evaluation frame, "p:name" a Python frame,
 * "P:name" a Python frame that is the entry of its evaluation call. */
static void build(struct frame_list *l, const char *const *spec)
{
	memset(l, 0, sizeof *l);
	for (; *spec; spec++) {
		struct stack_frame f = { .line = -1 };
		const char *s = *spec;
		f.kind = (s[0] == 'p' || s[0] == 'P') ? FRAME_PYTHON : FRAME_NATIVE;
		f.entry = s[0] == 'P';
		f.eval = s[0] == 'E';
		f.func = xstrdup(s[0] == 'E' ? "_PyEval_EvalFrameDefault" : s + 2);
		f.file = xstrdup(f.kind == FRAME_PYTHON ? "x.py" : "libpython");
		frame_list_push(l, &f);
	}
}

static void expect(const struct frame_list *l, const char *const *names, size_t n)
{
	cr_assert_eq(l->n, n, "%zu frames, expected %zu", l->n, n);
	for (size_t i = 0; i < n; i++)
		cr_expect_str_eq(l->v[i].func, names[i], "frame %zu", i);
}

/* 3.8-3.10: every Python frame is its own evaluation call. */
Test(stackmerge, one_python_frame_per_eval_frame)
{
	struct frame_list nat, py, out = { 0 };
	build(&nat, (const char *const[]){ "n:select", "n:time_sleep", "E", "n:call", "E", "n:main", NULL });
	build(&py, (const char *const[]){ "P:nap", "P:worker", NULL });
	cr_expect_eq(stackmerge(&nat, &py, &out), 0);
	expect(&out, (const char *const[]){ "select", "time_sleep", "nap", "call", "worker", "main" }, 6);
	cr_expect_eq(nat.n + py.n, 0);
	frame_list_release(&out);
}

/* 3.11+: one C call runs Python frames up to its entry frame. */
Test(stackmerge, one_eval_frame_runs_several_python_frames)
{
	struct frame_list nat, py, out = { 0 };
	build(&nat, (const char *const[]){ "n:clock_nanosleep", "E", "n:vectorcall", "E", "n:thread_run", NULL });
	build(&py, (const char *const[]){ "p:nap", "P:worker", "p:run", "p:_bootstrap_inner", "P:_bootstrap", NULL });
	cr_expect_eq(stackmerge(&nat, &py, &out), 0);
	expect(&out, (const char *const[]){ "clock_nanosleep", "nap", "worker", "vectorcall", "run",
					    "_bootstrap_inner", "_bootstrap", "thread_run" }, 8);
	frame_list_release(&out);
}

/* More evaluation frames than Python frames: the extra ones stay (nothing to put there); Python
 * frames no evaluation frame claims are counted and appended outermost. */
Test(stackmerge, mismatches_are_kept_and_counted)
{
	struct frame_list nat, py, out = { 0 };
	build(&nat, (const char *const[]){ "E", "E", NULL });
	build(&py, (const char *const[]){ "P:a", NULL });
	cr_expect_eq(stackmerge(&nat, &py, &out), 0);
	expect(&out, (const char *const[]){ "a", "_PyEval_EvalFrameDefault" }, 2);
	frame_list_release(&out);

	build(&nat, (const char *const[]){ "n:x", NULL });
	build(&py, (const char *const[]){ "P:a", "P:b", NULL });
	cr_expect_eq(stackmerge(&nat, &py, &out), 2);
	expect(&out, (const char *const[]){ "x", "a", "b" }, 3);
	frame_list_release(&out);
}

/* A final group without an entry mark (a cut-off walk) still ends with the list. */
Test(stackmerge, unterminated_group)
{
	struct frame_list nat, py, out = { 0 };
	build(&nat, (const char *const[]){ "E", "n:outer", NULL });
	build(&py, (const char *const[]){ "p:a", "p:b", NULL });
	cr_expect_eq(stackmerge(&nat, &py, &out), 0);
	expect(&out, (const char *const[]){ "a", "b", "outer" }, 3);
	frame_list_release(&out);
}
