/* filecheck.c: helpers of the file-target tests (tests/integration/filecheck.h). */
#include "common/compat.h"
#include "tests/integration/filecheck.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *fc_run_ok(const char *const *args, const char *what, const char *label)
{
	char *out = malloc(FC_OUTMAX), err[4096];
	int rc = h_pycensus(out, FC_OUTMAX, err, sizeof err, args);

	cr_assert_eq(rc, 0, "%s: %s failed (%d): %s", label, what, rc, err);
	return out;
}

void fc_table_of(const char *const *args, struct table *t, const char *what, const char *label)
{
	char *out = fc_run_ok(args, what, label);

	cr_assert(h_parse_csv(out, t), "%s: %s: unparsable CSV", label, what);
	free(out);
}

const char *fc_after_line(const char *s, int lines)
{
	while (lines-- > 0 && s && (s = strchr(s, '\n')))
		s++;
	return s ? s : "";
}

void fc_start_dump_workload(struct python *py, struct proc *p, long long *n, long long *sizes, long long *retained)
{
	static char path[1024];
	char *argv[] = { py->path, path, NULL }, line[256];

	snprintf(path, sizeof path, "%s/dump.py", getenv("PYCENSUS_WORKLOADS") ? getenv("PYCENSUS_WORKLOADS")
									       : "tests/integration/workloads");
	cr_assert(h_spawn(p, argv) && h_wait_line(p, "up", line, sizeof line, 60) && h_wait_sleeping(p->pid, 30),
		  "%s: the workload did not start", py->label);
	cr_assert_eq(sscanf(line, "up %lld %lld %lld", n, sizes, retained), 3, "%s: %s", py->label, line);
}

#define KIND "__main__.DumpItem"

void fc_start_live(struct python *py, struct proc *p, struct fc_live *l)
{
	memset(l, 0, sizeof *l);
	l->label = py->label;
	fc_start_dump_workload(py, p, &l->n, &l->sizes, &l->retained);
	snprintf(l->pid, sizeof l->pid, "%d", (int)p->pid);
}

void fc_take_live(struct fc_live *l)
{
	{
		const char *args[] = { "snap", "-q", "-f", "csv", "-n", "0", "--pause", "census", l->pid, NULL };
		fc_table_of(args, &l->rows, "snap --pause census", l->label);
	}
	{
		const char *args[] = { "retained", "-q", "-f", "csv", "-n", "0", l->pid, NULL };
		l->retained_csv = fc_run_ok(args, "retained", l->label);
	}
	{
		const char *args[] = { "why", "-q", "--kind", KIND, l->pid, NULL };
		l->why = fc_run_ok(args, "why", l->label);
	}
	{
		const char *args[] = { "inspect", "-q", "-f", "csv", l->pid, NULL };
		l->inspect_csv = fc_run_ok(args, "inspect", l->label);
		cr_assert(strstr(l->inspect_csv, ",duplicate,50,"), "%s: inspect does not find the 50 blobs: %.600s", l->label,
			  l->inspect_csv);
	}
}

/* Equal texts, or a failure that quotes the first line where they part. */
static void expect_same_text(const char *file, const char *live, const char *what, const char *label)
{
	size_t at = 0, line = 1;

	while (file[at] && file[at] == live[at]) {
		line += file[at] == '\n';
		at++;
	}
	if (!file[at] && !live[at])
		return;
	while (at > 0 && file[at - 1] != '\n')
		at--;
	cr_expect(false, "%s: %s differs from line %zu: the file's\n%.*s\nthe live one's\n%.*s", label, what, line,
		  (int)strcspn(file + at, "\n"), file + at, (int)strcspn(live + at, "\n"), live + at);
}

static long long expect_rows(const struct fc_live *l, const struct table *t, const char *file)
{
	long long heap = 0;

	cr_expect_eq(h_count(t, KIND), l->n, "%s: %lld DumpItems in %s", l->label, h_count(t, KIND), file);
	cr_expect_eq(h_row(t, KIND) ? h_row(t, KIND)->size : -1, l->sizes, "%s: DumpItem bytes", l->label);
	cr_expect_eq(l->rows.n, t->n, "%s: %zu rows live, %zu in %s", l->label, l->rows.n, t->n, file);
	for (size_t i = 0; i < l->rows.n; i++) {
		const struct row *live = &l->rows.v[i], *r = h_row(t, live->kind);
		heap += live->size;
		cr_expect(r && r->count == live->count && r->size == live->size, "%s: row %s: %lld/%lld live, %lld/%lld in %s",
			  l->label, live->kind, live->count, live->size, r ? r->count : -1, r ? r->size : -1, file);
	}
	return heap;
}

long long fc_expect_file_matches(const struct fc_live *l, const char *file, const char *origin)
{
	struct table t;
	char want[64], *out;
	long long heap;

	{
		const char *args[] = { "snap", "-f", "csv", "-n", "0", file, NULL };
		fc_table_of(args, &t, "snap of the file", l->label);
	}
	heap = expect_rows(l, &t, file);
	h_table_free(&t);
	{
		const char *args[] = { "retained", "-f", "csv", "-n", "0", file, NULL };
		out = fc_run_ok(args, "retained of the file", l->label);
		cr_expect_str_eq(out, l->retained_csv, "%s: retained differs", l->label);
		free(out);
	}
	{
		const char *args[] = { "why", "--kind", KIND, file, NULL };
		out = fc_run_ok(args, "why of the file", l->label);
		snprintf(want, sizeof want, "retaining %lld bytes", l->retained);
		cr_expect(strstr(out, want), "%s: the DumpItems retain %lld bytes; why of %s: %.300s", l->label, l->retained,
			  file, out);
		cr_expect(strstr(out, origin) && strstr(out, l->pid), "%s: no origin: %.200s", l->label, out);
		expect_same_text(fc_after_line(out, 1), fc_after_line(l->why, 1), "why", l->label);
		free(out);
	}
	{
		const char *args[] = { "inspect", "-f", "csv", file, NULL };
		out = fc_run_ok(args, "inspect of the file", l->label);
		expect_same_text(out, l->inspect_csv, "inspect", l->label);
		free(out);
	}
	{
		const char *args[] = { "inspect", "-n", "1", file, NULL };
		out = fc_run_ok(args, "inspect text of the file", l->label);
		cr_expect(strstr(out, origin) && strstr(out, l->pid) && strchr(out, '\n') > strstr(out, origin),
			  "%s: inspect's header names no origin: %.300s", l->label, out);
		free(out);
	}
	return heap;
}

void fc_live_release(struct fc_live *l)
{
	h_table_free(&l->rows);
	free(l->retained_csv);
	free(l->why);
	free(l->inspect_csv);
	memset(l, 0, sizeof *l);
}

unsigned char *fc_read_file(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	FILE *f;

	cr_assert_eq(stat(path, &st), 0, "%s", path);
	buf = malloc((size_t)st.st_size + 1);
	f = fopen(path, "rb");
	cr_assert(f && fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size, "%s", path);
	fclose(f);
	*len = (size_t)st.st_size;
	return buf;
}

void fc_write_variant(const char *dst, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(dst, "wb");

	cr_assert(f);
	cr_assert_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

void fc_expect_refused(const char *const *args, int rc_want, const char *reason)
{
	char err[4096], *nl;
	int rc = h_pycensus(NULL, 0, err, sizeof err, args);

	cr_expect_eq(rc, rc_want, "%s: exit %d: %s", reason, rc, err);
	cr_expect(strstr(err, reason) != NULL, "wanted '%s' in: %s", reason, err);
	nl = strchr(err, '\n');
	cr_expect(nl && nl[1] == '\0', "more than one line: %s", err);
}
