/* tree.c: the report of a process tree's censuses. */
#include "common/compat.h"
#include "report/tree.h"

#include <inttypes.h>
#include <string.h>
#include "report/csv.h"
#include "report/escape.h"
#include "report/output.h"
#include "report/text.h"

/* The role column is as wide as the longest role (multiprocessing resource tracker). */
#define ROLE_WIDTH 32

static void put_member(FILE *out, const struct tree_member *m)
{
	const char *role = m->role[0] ? m->role : "-";
	size_t rl = strlen(role) < ROLE_WIDTH ? strlen(role) : ROLE_WIDTH;

	fprintf(out, "%7d %7d ", (int)m->pid, (int)m->ppid);
	if (m->code == 0)
		fprintf(out, "%10" PRIu64 " %12" PRIu64 " %7.3f  ", m->c.nobjects, m->c.total_size, m->c.pause_s);
	else
		fprintf(out, "%10s %12s %7s  ", "skipped", "-", "-");
	report_put_text(out, role, ROLE_WIDTH);
	fprintf(out, "%*s  %*s", (int)(ROLE_WIDTH - rl), "", (int)(2 * (m->depth < 8 ? m->depth : 8)), "");
	report_put_text(out, m->cmdline, 100);
	fputc('\n', out);
}

static void put_reasons(FILE *out, const struct tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct tree_member *m = &t->v[i];
		if (m->code != 0) {
			fprintf(out, "skipped %d: ", (int)m->pid);
			report_put_text(out, m->why, SIZE_MAX);
			fputc('\n', out);
		}
		for (size_t w = 0; m->code == 0 && w < m->c.nwarnings; w++) {
			fprintf(out, "warning (%d): ", (int)m->pid);
			report_put_text(out, m->c.warnings[w], SIZE_MAX);
			fputc('\n', out);
		}
	}
}

int report_tree_text(FILE *out, const struct tree *t, partition_fn part, size_t limit, struct pc_err *e)
{
	struct partition p;
	int rc;

	fprintf(out, "pycensus: process tree of %d: %zu process%s, %zu censused, %zu skipped%s\n", (int)t->root, t->n,
		t->n == 1 ? "" : "es", t->censused, t->n - t->censused,
		t->truncated ? " (more processes than listed: the tree was cut)" : "");
	fprintf(out, "    PID    PPID    objects        bytes   pause  %-*s  command\n", ROLE_WIDTH, "role");
	for (size_t i = 0; i < t->n; i++)
		put_member(out, &t->v[i]);
	put_reasons(out, t);
	fprintf(out, "\nSummed over the %zu process%s censused:\n", t->censused, t->censused == 1 ? "" : "es");
	part(&t->total, &p);
	rc = report_text(out, NULL, &p, limit, false, e);
	partition_release(&p);
	return rc;
}

static double percent(uint64_t part, uint64_t total)
{
	return total ? (double)part * 100.0 / (double)total : 0.0;
}

/* One census's partition rows with the process prefix, then its comment lines (report/csv.h)
 * prefixed "process PID " (or "all "). */
static void put_csv_rows(FILE *out, const char *process, const char *role, const struct census *c, partition_fn part)
{
	struct partition p;
	char prefix[32];

	part(c, &p);
	for (size_t i = 0; i < p.nrows; i++) {
		const struct partition_row *r = &p.rows[i];
		fprintf(out, "%s,", process);
		report_put_csv_field(out, role);
		fprintf(out, ",%zu,%" PRIu64 ",%.2f,%" PRIu64 ",%.2f,%" PRIu64 ",%.2f,", i, r->count,
			percent(r->count, p.count), r->size, percent(r->size, p.size), r->cumulative,
			percent(r->cumulative, p.size));
		report_put_csv_field(out, r->kind);
		fputc('\n', out);
	}
	snprintf(prefix, sizeof prefix, strcmp(process, "all") == 0 ? "%s " : "process %s ", process);
	report_csv_notes(out, prefix, c, p.nrows, p.count, p.size);
	partition_release(&p);
}

int report_tree_csv(FILE *out, const struct tree *t, partition_fn part, struct pc_err *e)
{
	fputs("process,role,index,count,count_pct,size,size_pct,cumulative_size,cumulative_pct,kind\n", out);
	for (size_t i = 0; i < t->n; i++) {
		const struct tree_member *m = &t->v[i];
		char pid[16];

		snprintf(pid, sizeof pid, "%d", (int)m->pid);
		if (m->code == 0) {
			put_csv_rows(out, pid, m->role, &m->c, part);
			continue;
		}
		fprintf(out, "# skipped,%d,", (int)m->pid);
		report_put_csv_field(out, m->why);
		fputc('\n', out);
	}
	put_csv_rows(out, "all", "", &t->total, part);
	return output_check(out, "csv report", e);
}
