/* stackmerge.c: native + Python frames -> one stack. */
#include "common/compat.h"
#include "frames/stackmerge.h"

#include <stdlib.h>

static void take(struct frame_list *out, struct stack_frame *f)
{
	frame_list_push(out, f);
	f->func = f->file = NULL;
}

size_t stackmerge(struct frame_list *native, struct frame_list *py, struct frame_list *out)
{
	size_t next = 0, left;

	for (size_t i = 0; i < native->n; i++) {
		struct stack_frame *f = &native->v[i];
		if (!f->eval || next >= py->n) {
			take(out, f);
			continue;
		}
		do
			take(out, &py->v[next]);
		while (!py->v[next++].entry && next < py->n);
		free(f->func);
		free(f->file);
		f->func = f->file = NULL;
	}
	left = py->n - next;
	for (; next < py->n; next++)
		take(out, &py->v[next]);
	native->n = py->n = 0;
	frame_list_release(native);
	frame_list_release(py);
	return left;
}
