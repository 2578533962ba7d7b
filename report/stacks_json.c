/* stacks_json.c: thread stacks as JSON. */
#include "common/compat.h"
#include "report/stacks.h"

#include "report/json_docs.h"
#include "report/output.h"

static void frame_json(struct json *j, const struct stack_frame *f)
{
	json_begin_object(j, NULL);
	switch (f->kind) {
	case FRAME_PYTHON:
		json_str(j, "kind", "python");
		json_str(j, "function", f->func);
		json_str(j, "file", f->file);
		if (f->line >= 0)
			json_i64(j, "line", f->line);
		else
			json_str(j, "line", NULL);
		break;
	case FRAME_NATIVE:
		json_str(j, "kind", "native");
		json_str(j, "symbol", f->func);
		json_str(j, "object", f->file);
		json_u64(j, "offset", f->offset);
		json_u64(j, "ip", f->addr);
		break;
	case FRAME_BAD:
		json_str(j, "kind", "unreadable");
		json_u64(j, "address", f->addr);
		break;
	}
	json_end_object(j);
}

static void thread_json(struct json *j, const struct thread_stack *t)
{
	json_begin_object(j, NULL);
	json_u64(j, "native_id", (uint64_t)t->native_id);
	if (t->ns_id)
		json_u64(j, "ns_native_id", (uint64_t)t->ns_id);
	if (t->tstate)
		json_u64(j, "thread_id", t->thread_id);
	else
		json_str(j, "thread_id", NULL);
	json_str(j, "name", t->name);
	json_bool(j, "python", t->tstate != 0);
	json_bool(j, "holds_gil", t->holds_gil);
	json_bool(j, "native_truncated", t->native_truncated);
	json_begin_array(j, "frames");
	for (size_t i = 0; i < t->frames.n; i++)
		frame_json(j, &t->frames.v[i]);
	json_end_array(j);
	json_end_object(j);
}

static void lines_json(struct json *j, const char *key, char *const *v, size_t n)
{
	json_begin_array(j, key);
	for (size_t i = 0; i < n; i++)
		json_str(j, NULL, v[i]);
	json_end_array(j);
}

int report_stacks_json(FILE *out, const struct stacks *s, struct pc_err *e)
{
	struct json j;

	json_doc_begin(&j, out, "stacks");
	json_i64(&j, "pid", s->pid);
	json_str(&j, "python", s->version);
	json_str(&j, "version", s->version); /* the first JSON's name for "python", kept */
	json_str(&j, "build", s->build);
	json_bool(&j, "native", s->native);
	if (s->gil_known)
		json_bool(&j, "gil_locked", s->gil_locked);
	else
		json_str(&j, "gil_locked", NULL);
	json_double(&j, "pause_s", s->pause_s);
	lines_json(&j, "notes", s->notes, s->nnotes);
	lines_json(&j, "warnings", s->warnings, s->nwarnings);
	json_begin_array(&j, "threads");
	for (size_t i = 0; i < s->n; i++)
		thread_json(&j, &s->threads[i]);
	json_end_array(&j);
	return json_doc_end(&j, e);
}
