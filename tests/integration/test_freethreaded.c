/* test_freethreaded.c: free-threaded CPython (PEP 703, tools/build-freethreaded's 3.13t). Its
 * objects live in per-thread mimalloc heaps under a 32-byte header: the walk of those heaps
 * against what the target says of itself, and the census against the closure of its
 * gc.get_objects(), on 1, 4 and 16 threads (exited threads leave abandoned pages); its GC generations
 * against gc.get_threshold(), get_stats() and get_count(); stats -f html
 * read by Chromium against stats -f csv of the same dump (mimalloc's charts in place of
 * pymalloc's). Run by `make check-ft`; skipped, with the reason, when no free-threaded build is
 * at hand. */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "attach/mem.h"
#include "pymalloc/miheap.h"
#include "python/mimalloc.h"
#include "tests/integration/checks.h"
#include "tests/integration/harness.h"
#include "tests/integration/htmlpage.h"

/* The ftthreads.py workload of `threads` threads (half of them exited) on py, up and quiet; its
ready line into line (with "truth", what it says of itself). */
static bool start_workload(struct proc *p, const struct python *py, const char *threads, const char *mode,
			   char *line, size_t len)
{
	char script[512];
	const char *dir = getenv("PYCENSUS_WORKLOADS");

	snprintf(script, sizeof script, "%s/ftthreads.py", dir ? dir : "tests/integration/workloads");
	char *argv[] = { (char *)py->path, script, (char *)threads, (char *)mode, NULL };
	if (!h_spawn(p, argv))
		return false;
	if (!h_wait_line(p, "ready ", line, len, 120) || !h_wait_sleeping(p->pid, 30)) {
		h_kill(p);
		return false;
	}
	/* the build really runs without the GIL (PYTHON_GIL unset, no module re-enabled it) */
	cr_expect(strstr(line, " gil=0") != NULL, "%s: %s", py->label, line);
	return true;
}

/* Threads of the workload: the odd ones exit, leaving their pages abandoned. */
static const char *const threads[] = { "1", "4", "16" };

#define OUTMAX (1 << 20)

/* pycensus with the arguments `cmd` (up to 4, NULL-terminated) and the target's pid; its output
 * into out (OUTMAX bytes), its exit code. */
static int on_pid(pid_t pid, char *out, char *err, size_t errlen, const char *const *cmd)
{
	char pidtxt[16];
	const char *args[6] = { NULL };
	size_t n = 0;

	snprintf(pidtxt, sizeof pidtxt, "%d", (int)pid);
	while (n < 4 && cmd[n])
		args[n] = cmd[n], n++;
	args[n] = pidtxt;
	return h_pycensus(out, OUTMAX, err, errlen, args);
}

/* snap, stats and stacks read a free-threaded 3.13t (4 threads, 2 exited) and leave it running:
 * snap says where its objects came from and that the target ran once its pages were copied (over
 * --max-memory: that it stayed stopped), refuses --size=alloc and --nonblocking (exit 6, with the
 * reason), stats shows mimalloc's size classes per heap in place
 * of pymalloc's, stacks shows the waiting workers' frames. */
Test(freethreaded, commands_read_it, .timeout = 300)
{
	struct python ft[4];
	size_t n = h_pythons_ft_or_skip(ft, PC_ARRAY_LEN(ft));
	char *out = malloc(OUTMAX), err[4096];

	for (size_t i = 0; i < n; i++) {
		struct proc p;
		char line[256], st;
		int rc;

		cr_assert(start_workload(&p, &ft[i], "4", NULL, line, sizeof line), "%s: ftthreads.py 4 did not start",
			  ft[i].label);
		rc = on_pid(p.pid, out, err, sizeof err, (const char *[]){ "snap", "-n", "3", NULL });
		cr_expect_eq(rc, 0, "%s: snap: exit %d: %s", ft[i].label, rc, err);
		cr_expect(strstr(out, "Partition of a set of") && strstr(out, "layout 3.13.15-ft") &&
			  strstr(out, "(for the copy; the rest read as it ran)") && !strstr(out, "target stopped") &&
			  strstr(out, "free-threaded build: objects read from the mimalloc heaps of 3 thread states"),
			  "%s: snap printed:\n%s", ft[i].label, out);
		/* pages over the budget (7.4 MiB here): read in place, the target stopped throughout, and said */
		rc = on_pid(p.pid, out, err, sizeof err, (const char *[]){ "snap", "-n", "3", "--max-memory=4M", NULL });
		cr_expect_eq(rc, 0, "%s: snap --max-memory=4M: exit %d: %s", ft[i].label, rc, err);
		cr_expect(strstr(out, "(whole census)") && strstr(out, "free-threaded build: the mimalloc pages in use (") &&
			  strstr(out, "are over --max-memory (4.0 MiB): the census ran with the target stopped"),
			  "%s: snap --max-memory=4M printed:\n%s", ft[i].label, out);
		rc = on_pid(p.pid, out, err, sizeof err, (const char *[]){ "snap", "--size=alloc", NULL });
		cr_expect(rc == 6 && strstr(err, "--size=alloc on a free-threaded build of CPython 3.13"),
			  "%s: snap --size=alloc: exit %d: %s", ft[i].label, rc, err);
		rc = on_pid(p.pid, out, err, sizeof err, (const char *[]){ "snap", "--nonblocking", NULL });
		cr_expect(rc == 6 && strstr(err, "--nonblocking on a free-threaded build of CPython 3.13"),
			  "%s: snap --nonblocking: exit %d: %s", ft[i].label, rc, err);
		rc = on_pid(p.pid, out, err, sizeof err, (const char *[]){ "stats", NULL });
		cr_expect_eq(rc, 0, "%s: stats: exit %d: %s", ft[i].label, rc, err);
		cr_expect(strstr(out, "sample: arenas via mimalloc;") && strstr(out, "\nmimalloc (free-threaded: ") &&
			  strstr(out, "\ngc               64 ") && !strstr(out, "PYTHONMALLOC=malloc") &&
			  !strstr(out, "\npymalloc ("), "%s: stats printed:\n%s", ft[i].label, out);
		rc = on_pid(p.pid, out, err, sizeof err, (const char *[]){ "stacks", NULL });
		cr_expect_eq(rc, 0, "%s: stacks: exit %d: %s", ft[i].label, rc, err);
		cr_expect(strstr(out, "GIL free") && strstr(out, "    work (") && strstr(out, "ftthreads.py:"),
			  "%s: stacks printed:\n%s", ft[i].label, out);
		st = h_state(p.pid);
		cr_expect(st != 't' && st != 'T' && st != '?', "%s: the target was left in state %c", ft[i].label, st);
		h_kill(&p);
	}
	free(out);
}

/* The count of the final partition's list row ("  18   5074  24   331992 ...  list"), 0 if none. */
static long final_lists(const char *out)
{
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		long rank, count;

		if (len > 5 && strncmp(l + len - 5, " list", 5) == 0 && sscanf(l, "%ld %ld", &rank, &count) == 2)
			return count;
	}
	return 0;
}

/* `run` launches the program and censuses it like any other. Every 0.25 s whatever the pauses:
 * the first sample comes as the interpreter is initialised, before the lists; under the default
 * --max-overhead a loaded machine's first pause put the next past the program's end, and where
 * hardware breakpoints never fire there is no census at exit (a CI run printed no list). */
Test(freethreaded, run_reads_it, .timeout = 120)
{
	struct python ft[4];
	size_t n = h_pythons_ft_or_skip(ft, PC_ARRAY_LEN(ft));
	char *out = malloc(OUTMAX), err[4096];

	for (size_t i = 0; i < n; i++) {
		const char *args[] = { "run", "-i", "0.25", "--max-overhead", "off", "--", ft[i].path, "-c",
				       "import time; x = [[] for _ in range(5000)]; time.sleep(2)", NULL };
		int rc = h_pycensus(out, OUTMAX, err, sizeof err, args);

		cr_expect_eq(rc, 0, "%s: run: exit %d: %s", ft[i].label, rc, err);
		cr_expect(final_lists(out) >= 5000, "%s: the last sample has not the program's 5000 lists; run printed:\n%s",
			  ft[i].label, out);
	}
	free(out);
}

/* The acceptance of the free-threaded census: on 1, 4 and 16 threads (the odd ones exited, their
 * pages abandoned), the workload's classes and their dicts exact, and every kind with 1000 objects
 * or more within 1 % of the closure of the target's gc.get_objects() (truthlib, as
 * test_census.c); --pause copy and --pause census give the same table (both run stopped). */
Test(freethreaded, census_matches_the_closure, .timeout = 600)
{
	struct python ft[4];
	size_t n = h_pythons_ft_or_skip(ft, PC_ARRAY_LEN(ft));
	char *out = malloc(OUTMAX), err[4096];

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < PC_ARRAY_LEN(threads); k++) {
			struct proc p;
			struct table copy = { 0 }, whole = { 0 }, truth = { 0 };
			char line[256];
			long long want = atoll(threads[k]);
			int rc;

			cr_assert(start_workload(&p, &ft[i], threads[k], "census", line, sizeof line),
				  "%s: ftthreads.py %s census did not start", ft[i].label, threads[k]);
			rc = on_pid(p.pid, out, err, sizeof err, (const char *[]){ "snap", "-f", "csv", NULL });
			cr_assert_eq(rc, 0, "%s: snap: exit %d: %s", ft[i].label, rc, err);
			cr_assert(h_parse_csv(out, &copy), "%s: unparsable CSV", ft[i].label);
			rc = on_pid(p.pid, out, err, sizeof err, (const char *[]){ "snap", "--pause=census", "--format=csv", NULL });
			cr_assert_eq(rc, 0, "%s: snap --pause census: exit %d: %s", ft[i].label, rc, err);
			cr_assert(h_parse_csv(out, &whole), "%s: unparsable CSV", ft[i].label);
			kill(p.pid, SIGUSR1);
			cr_assert(h_read_truth(&p, &truth), "%s: the workload did not answer after the census", ft[i].label);
			fprintf(stderr, "freethreaded: %s, %s threads: Item %lld, Rec %lld, dict of Rec %lld, list %lld "
					"(closure: %lld, %lld, -, %lld)\n",
				ft[i].label, threads[k], h_count(&copy, "__main__.Item"), h_count(&copy, "__main__.Rec"),
				h_count(&copy, "dict of __main__.Rec"), h_count(&copy, "list"),
				h_count(&truth, "__main__.Item"), h_count(&truth, "__main__.Rec"), h_count(&truth, "list"));
			cr_expect_eq(h_count(&copy, "__main__.Item"), 1000 * want, "%s %s threads: Item", ft[i].label, threads[k]);
			cr_expect_eq(h_count(&copy, "__main__.Item"), h_count(&truth, "__main__.Item"), "%s", ft[i].label);
			cr_expect_eq(h_count(&copy, "__main__.Rec"), 100 * want, "%s %s threads: Rec", ft[i].label, threads[k]);
			cr_expect_eq(h_count(&copy, "__main__.Rec"), h_count(&truth, "__main__.Rec"), "%s", ft[i].label);
			cr_expect_eq(h_count(&copy, "dict of __main__.Rec"), 100 * want, "%s %s threads: dict of Rec",
				     ft[i].label, threads[k]);
			h_check_whole_heap(&copy, &truth, &ft[i]);
			h_assert_same_table(&copy, &whole, "--pause copy and --pause census", &ft[i]);
			h_table_free(&copy);
			h_table_free(&whole);
			h_table_free(&truth);
			h_kill(&p);
		}
	free(out);
}

/* The ordinary suites never see a free-threaded build. */
Test(freethreaded, kept_out_of_the_ordinary_suites)
{
	struct python all[H_MAX_PYTHONS], ft[4];
	size_t n = h_find_pythons(all, PC_ARRAY_LEN(all)), nft = h_find_pythons_ft(ft, PC_ARRAY_LEN(ft), NULL);

	for (size_t i = 0; i < n; i++) {
		cr_expect_not(all[i].free_threaded, "%s", all[i].label);
		for (size_t k = 0; k < nft; k++)
			cr_expect_str_neq(all[i].path, ft[k].path);
	}
	for (size_t k = 0; k < nft; k++) {
		cr_expect(ft[k].free_threaded);
		cr_expect(strlen(ft[k].label) > 3 && strcmp(ft[k].label + strlen(ft[k].label) - 3, "-ft") == 0,
			  "%s", ft[k].label);
	}
}

/* ---- the mimalloc walk (pymalloc/miheap.h) against what the target says of itself ---- */

struct tally {
	uint64_t item_type, list_type, items, lists, dead;
};

/* The object in a live block: after the pre-header in the GC_PRE heap, at the block's start
 * elsewhere; dead ones (freelist entries) left out. */
static void count_block(void *arg, const struct mipage *pg, uint64_t block, const uint8_t *data, size_t len)
{
	struct tally *t = arg;
	size_t at = pg->tag == PYMI_HEAP_GC_PRE ? PYFT_PREHEADER : 0;
	struct pyft_object o;

	(void)block;
	if (pg->tag == PYMI_HEAP_MEM || len < at + PYFT_HEADER)
		return;
	pyft_object_read(data + at, &o);
	if (pyft_dead(&o)) {
		t->dead++;
		return;
	}
	t->items += o.type == t->item_type;
	t->lists += o.type == t->list_type;
}

static uint64_t field(const char *line, const char *name)
{
	const char *p = strstr(line, name);
	return p ? strtoull(p + strlen(name), NULL, 0) : 0;
}

/* The thread states of "ts=ADDR,ADDR,..." into ts; how many. */
static size_t parse_ts(const char *line, uint64_t *ts, size_t max)
{
	const char *s = strstr(line, " ts=");
	size_t n = 0;

	for (s = s ? s + 4 : NULL; s && n < max; s++) {
		char *end;
		ts[n] = strtoull(s, &end, 0);
		if (end == s)
			break;
		n++;
		if (*end != ',')
			break;
		s = end;
	}
	return n;
}

/* 1, 4 and 16 threads, the odd ones exited (their pages abandoned): every Item instance and every
 * list the target's gc.get_objects() sees is a live block of the walk, none more (a freed list on
 * the thread's freelist is a dead object in a used block); all live blocks
 * together are sys.getallocatedblocks() (the target counts them with mimalloc's own visit, after
 * collecting the thread-free lists), up to the few blocks the truth's own strings account for. */
Test(freethreaded, mimalloc_walk_finds_every_object, .timeout = 300)
{
	struct python ft[4];
	size_t n = h_pythons_ft_or_skip(ft, PC_ARRAY_LEN(ft));

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < PC_ARRAY_LEN(threads); k++) {
			struct proc p;
			char line[4096];
			uint64_t ts[64];
			size_t nts = 0;
			struct tally tl = { 0 };
			struct miheap_totals tot;
			struct pc_err e = { 0 };
			struct mem mem;
			uint64_t live = 0;

			cr_assert(start_workload(&p, &ft[i], threads[k], "truth", line, sizeof line),
				  "%s: ftthreads.py %s truth did not start", ft[i].label, threads[k]);
			nts = parse_ts(line, ts, PC_ARRAY_LEN(ts));
			tl.item_type = field(line, "item_type=");
			tl.list_type = field(line, "list_type=");
			cr_assert(nts > 0 && tl.item_type && tl.list_type, "%s: %s", ft[i].label, line);
			mem_init_pid(&mem, p.pid);
			cr_assert_eq(miheap_walk(&mem, py_mimalloc(3, 13), field(line, "interp="), ts, nts, count_block, &tl,
						 &tot, &e), 0, "%s: %s", ft[i].label, e.detail);
			mem_release(&mem);
			for (unsigned h = 0; h < PYMI_NHEAPS; h++)
				live += tot.live[h];
			fprintf(stderr, "freethreaded: %s, %s threads: %llu segments (%llu abandoned, %llu of their pages), "
					"live blocks %llu/%llu/%llu/%llu (mem/object/gc/gc_pre) = %llu, target's "
					"sys.getallocatedblocks() %llu; Item %llu (target %llu), list %llu (target %llu); "
					"%llu dead (freelists); %llu delayed; skipped %llu pages, %llu segments%s%s\n",
				ft[i].label, threads[k], (unsigned long long)tot.segments,
				(unsigned long long)tot.abandoned_segments, (unsigned long long)tot.abandoned_pages,
				(unsigned long long)tot.live[0], (unsigned long long)tot.live[1],
				(unsigned long long)tot.live[2], (unsigned long long)tot.live[3], (unsigned long long)live,
				(unsigned long long)field(line, "blocks="), (unsigned long long)tl.items,
				(unsigned long long)field(line, "items="), (unsigned long long)tl.lists,
				(unsigned long long)field(line, "lists="), (unsigned long long)tl.dead, (unsigned long long)tot.delayed,
				(unsigned long long)tot.skipped_pages, (unsigned long long)tot.skipped_segments,
				tot.first_skip[0] ? ": " : "", tot.first_skip);
			cr_expect_eq(tot.skipped_pages + tot.skipped_segments, 0, "%s: %s", ft[i].label, tot.first_skip);
			cr_expect_eq(tl.items, (uint64_t)atoi(threads[k]) * 1000, "%s %s threads: Item", ft[i].label, threads[k]);
			cr_expect_eq(tl.items, field(line, "items="), "%s %s threads: Item", ft[i].label, threads[k]);
			cr_expect_eq(tl.lists, field(line, "lists="), "%s %s threads: list", ft[i].label, threads[k]);
			if (atoi(threads[k]) > 1)
				cr_expect_gt(tot.abandoned_segments, 0, "%s %s threads: no abandoned segment", ft[i].label,
					     threads[k]);
			/* the truth's own strings freed after it counted, the ready line's made after: a few */
			cr_expect(live + 64 >= field(line, "blocks=") && live <= field(line, "blocks=") + 64,
				  "%s %s threads: %llu live blocks, the target counts %llu", ft[i].label, threads[k],
				  (unsigned long long)live, (unsigned long long)field(line, "blocks="));
			h_kill(&p);
		}
}

/* The CSV value of one stats metric; -1 when absent. */
static long long metric(const char *csv, const char *name)
{
	char key[128];
	const char *p;

	snprintf(key, sizeof key, "\n%s,", name);
	p = strstr(csv, key);
	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* A figure of every mimalloc class (mimalloc.classes.N.FIELD) summed over the classes. */
static long long class_sum(const char *csv, const char *field)
{
	char key[128];
	long long sum = 0;

	for (unsigned c = 0; snprintf(key, sizeof key, "mimalloc.classes.%u.%s", c, field), metric(csv, key) >= 0; c++)
		sum += metric(csv, key);
	return sum;
}

/* stats on 1, 4 and 16 threads (the odd ones exited): the blocks in use over every heap's size
 * classes are what the target's sys.getallocatedblocks() counted (mimalloc's own visit of the same
 * heaps), up to the truth line's own strings; the classes add up to the total; exited threads'
 * pages show as abandoned. */
Test(freethreaded, stats_counts_the_allocated_blocks, .timeout = 300)
{
	struct python ft[4];
	size_t n = h_pythons_ft_or_skip(ft, PC_ARRAY_LEN(ft));
	char *out = malloc(OUTMAX), err[4096];

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < PC_ARRAY_LEN(threads); k++) {
			struct proc p;
			char line[4096];
			long long inuse, target, sum, abandoned;
			int rc;

			cr_assert(start_workload(&p, &ft[i], threads[k], "truth", line, sizeof line),
				  "%s: ftthreads.py %s truth did not start", ft[i].label, threads[k]);
			rc = on_pid(p.pid, out, err, sizeof err, (const char *[]){ "stats", "-f", "csv", NULL });
			cr_assert_eq(rc, 0, "%s: stats -f csv: exit %d: %s", ft[i].label, rc, err);
			sum = class_sum(out, "blocks");
			abandoned = class_sum(out, "abandoned_pages");
			inuse = metric(out, "mimalloc.blocks_in_use");
			target = (long long)field(line, "blocks=");
			fprintf(stderr, "freethreaded: %s, %s threads: stats counts %lld blocks in use (%lld pages abandoned by "
					"exited threads), the target's sys.getallocatedblocks() %lld\n", ft[i].label, threads[k], inuse,
				abandoned, target);
			cr_expect_eq(sum, inuse, "%s %s threads: classes sum to %lld, total %lld", ft[i].label, threads[k], sum,
				     inuse);
			cr_expect_eq(metric(out, "mimalloc.skipped_pages"), 0, "%s %s threads", ft[i].label, threads[k]);
			/* the truth's own strings freed after it counted, the ready line's made after: a few */
			cr_expect(inuse + 64 >= target && inuse <= target + 64, "%s %s threads: stats counts %lld blocks in use, "
				  "the target %lld", ft[i].label, threads[k], inuse, target);
			if (atoi(threads[k]) > 1)
				cr_expect_gt(metric(out, "mimalloc.abandoned_segments"), 0, "%s %s threads: no abandoned segment",
					     ft[i].label, threads[k]);
			h_kill(&p);
		}
	free(out);
}

/* stats -f html on 4 threads (2 exited), read by Chromium from a dump that stats -f csv reads too:
 * the page loads without a console message, every figure of the CSV but pymalloc's zeros is in a
 * cell named by it, each mimalloc class's bytes, blocks and pages (held and abandoned) are
 * columns of their charts with the CSV's values, pymalloc's charts are absent and a line says why
 * (htmlcheck.py). The first interpreter's page is kept as build/html/stats-ft.{html,png}. */
static void check_stats_html(const struct python *py, bool keep, char *out)
{
	struct hp_dumped d;
	char line[256], page[160], csv[160], err[4096], *check;
	long long abandoned;
	int rc;

	cr_assert(start_workload(&d.p, py, "4", NULL, line, sizeof line), "%s: ftthreads.py 4 did not start", py->label);
	hp_dump(&d, py->label);
	hp_page_of(&d, (const char *[]){ "stats", NULL }, "csv", "stats.csv", csv, sizeof csv);
	hp_page_of(&d, (const char *[]){ "stats", NULL }, "html", "stats.html", page, sizeof page);
	check = hp_check(&d, "stats", page, csv);
	cr_expect(strstr(check, " mimalloc size classes in 4 heaps; no pymalloc"), "%s: %s", py->label, check);
	/* the abandoned pages' chart has some to show: the exited threads' */
	rc = h_pycensus(out, OUTMAX, err, sizeof err, (const char *[]){ "stats", "-f", "csv", d.dump, NULL });
	cr_assert_eq(rc, 0, "%s: stats -f csv: exit %d: %s", py->label, rc, err);
	abandoned = class_sum(out, "abandoned_pages");
	cr_expect_gt(abandoned, 0, "%s: no abandoned page", py->label);
	if (keep)
		hp_keep(page, "stats-ft", py->label);
	fprintf(stderr, "freethreaded: %s: %lld abandoned pages; %s", py->label, abandoned, check);
	free(check);
	hp_dumped_release(&d);
}

Test(freethreaded, stats_html_shows_mimalloc, .timeout = 300)
{
	struct python ft[4];
	size_t n = h_pythons_ft_or_skip(ft, PC_ARRAY_LEN(ft));
	char *out = malloc(OUTMAX);

	for (size_t i = 0; i < n; i++)
		check_stats_html(&ft[i], i == 0, out);
	free(out);
}

/* The target sets its GC thresholds, collects, and prints gc.get_threshold(), gc.get_stats() and
 * gc.get_count() (each thread's count added to generation 0 first: Modules/gcmodule.c 3.13). */
static const char gc_script[] =
	"import gc, sys, time\n"
	"gc.set_threshold(1234, 11, 12)\n"
	"junk = [[] for _ in range(1000)]\n"
	"for _ in range(3):\n"
	"    a = []; a.append(a); del a\n"
	"    gc.collect(0)\n"
	"gc.collect()\n"
	"t, s, c = gc.get_threshold(), gc.get_stats(), gc.get_count()\n"
	"print('gc', *t, *(g[k] for g in s for k in ('collections', 'collected', 'uncollectable')), *c, flush=True)\n"
	"time.sleep(300)\n";

/* stats reads the three generations of a free-threaded build as gc.get_threshold(),
 * gc.get_stats() and gc.get_count() give them: thresholds and stats exactly, counts 1 and 2
 * exactly, and count 0 from what gc.get_count() said up to what the target allocated since, at
 * most LOCAL_ALLOC_COUNT_THRESHOLD (512) per flush (python/rules.h py_gc_lists_link_objects). */
Test(freethreaded, stats_reads_the_gc_generations, .timeout = 120)
{
	struct python ft[4];
	size_t n = h_pythons_ft_or_skip(ft, PC_ARRAY_LEN(ft));
	char *out = malloc(OUTMAX), err[4096], line[512], key[64];
	static const char *const f[] = { "collections", "collected", "uncollectable" };

	for (size_t i = 0; i < n; i++) {
		char *argv[] = { (char *)ft[i].path, "-c", (char *)gc_script, NULL };
		long long v[15];
		struct proc p;
		int rc;

		cr_assert(h_spawn(&p, argv), "cannot start %s", ft[i].path);
		cr_assert(h_wait_line(&p, "gc ", line, sizeof line, 60) && h_wait_sleeping(p.pid, 30),
			  "%s: the gc script did not start", ft[i].label);
		cr_assert_eq(sscanf(line, "gc %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld",
				    &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
				    &v[11], &v[12], &v[13], &v[14]), 15, "%s: %s", ft[i].label, line);
		rc = on_pid(p.pid, out, err, sizeof err, (const char *[]){ "stats", "-f", "csv", NULL });
		cr_assert_eq(rc, 0, "%s: stats: exit %d: %s", ft[i].label, rc, err);
		for (unsigned g = 0; g < 3; g++) {
			snprintf(key, sizeof key, "gc.generations.%u.threshold", g);
			cr_expect_eq(metric(out, key), v[g], "%s: %s %lld, gc.get_threshold() %lld", ft[i].label, key,
				     metric(out, key), v[g]);
			for (unsigned k = 0; k < 3; k++) {
				snprintf(key, sizeof key, "gc.generations.%u.%s", g, f[k]);
				cr_expect_eq(metric(out, key), v[3 + 3 * g + k], "%s: %s %lld, gc.get_stats() %lld",
					     ft[i].label, key, metric(out, key), v[3 + 3 * g + k]);
			}
			snprintf(key, sizeof key, "gc.generations.%u.count", g);
			if (g)
				cr_expect_eq(metric(out, key), v[12 + g], "%s: %s %lld, gc.get_count() %lld", ft[i].label, key,
					     metric(out, key), v[12 + g]);
			else
				cr_expect(metric(out, key) >= v[12] && metric(out, key) <= v[12] + 512,
					  "%s: %s %lld, gc.get_count() %lld", ft[i].label, key, metric(out, key), v[12]);
		}
		cr_expect(v[3] >= 4 && v[9] >= 1, "%s: the collections did not run: %s", ft[i].label, line);
		fprintf(stderr, "freethreaded: %s: stats' GC generations = the target's own (%s)\n", ft[i].label, line + 3);
		h_kill(&p);
	}
	free(out);
}
