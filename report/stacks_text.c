/* stacks_text.c: thread stacks as text. */
#include "common/compat.h"
#include "report/stacks.h"

#include <inttypes.h>
#include "report/output.h"

/* s comes from the target: control characters as \xNN so it cannot forge lines. */
static void put(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 0x20 || ch == 0x7f)
			fprintf(out, "\\x%02x", ch);
		else
			fputc(ch, out);
	}
}

static void put_header(FILE *out, const struct stacks *s)
{
	const struct thread_stack *holder = NULL;
	size_t npy = 0;

	for (size_t i = 0; i < s->n; i++) {
		npy += s->threads[i].tstate != 0;
		if (s->threads[i].holds_gil)
			holder = &s->threads[i];
	}
	fprintf(out, "pycensus: pid %ld, Python ", (long)s->pid);
	put(out, s->version);
	fputs(", ", out);
	put(out, s->build);
	if (s->origin[0]) {
		fputc('\n', out);
		put(out, s->origin);
	}
	fprintf(out, "\nthreads: %zu Python", npy);
	if (s->n > npy)
		fprintf(out, " + %zu without a Python thread state", s->n - npy);
	if (!s->gil_known)
		fputs("; GIL state unknown", out);
	else if (holder)
		fprintf(out, "; GIL held by thread %ld", (long)holder->native_id);
	else
		fputs(s->gil_locked ? "; GIL held by an unlisted thread" : "; GIL free", out);
	fprintf(out, "; pause %.3f s%s\n", s->pause_s, s->native ? "; native frames merged" : "");
	for (size_t i = 0; i < s->nnotes; i++) {
		fputs("note: ", out);
		put(out, s->notes[i]);
		fputc('\n', out);
	}
	for (size_t i = 0; i < s->nwarnings; i++) {
		fputs("warning: ", out);
		put(out, s->warnings[i]);
		fputc('\n', out);
	}
}

static void put_frame(FILE *out, const struct stack_frame *f)
{
	fputs("    ", out);
	switch (f->kind) {
	case FRAME_PYTHON:
		put(out, f->func);
		fputs(" (", out);
		put(out, f->file);
		if (f->line >= 0)
			fprintf(out, ":%d)\n", f->line);
		else
			fputs(":?)\n", out);
		break;
	case FRAME_NATIVE:
		fputc('[', out);
		put(out, f->file);
		fputs("] ", out);
		put(out, f->func);
		fprintf(out, "+0x%" PRIx64 "\n", f->offset);
		break;
	case FRAME_BAD:
		fprintf(out, "<unreadable frame> (at %#" PRIx64 ")\n", f->addr);
		break;
	}
}

static void put_thread(FILE *out, const struct thread_stack *t)
{
	fputs("\nThread ", out);
	if (t->native_id)
		fprintf(out, "%ld", (long)t->native_id);
	else
		fputc('?', out);
	if (t->ns_id)
		fprintf(out, " (%ld in its PID namespace)", (long)t->ns_id);
	if (t->name) {
		fputs(" \"", out);
		put(out, t->name);
		fputc('"', out);
	}
	if (t->tstate)
		fprintf(out, " (python id %#" PRIx64 ")", t->thread_id);
	else
		fputs(" (no Python thread state)", out);
	fputs(t->holds_gil ? ", holds the GIL\n" : "\n", out);
	for (size_t i = 0; i < t->frames.n; i++)
		put_frame(out, &t->frames.v[i]);
	if (!t->frames.n)
		fputs("    (no frames)\n", out);
	if (t->native_truncated)
		fputs("    ... (the native unwind stopped here)\n", out);
}

int report_stacks_text(FILE *out, const struct stacks *s, struct pc_err *e)
{
	put_header(out, s);
	for (size_t i = 0; i < s->n; i++)
		put_thread(out, &s->threads[i]);
	return output_check(out, "stacks report", e);
}
