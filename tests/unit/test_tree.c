/* test_tree.c: the process tree (attach/proctree.c), roles (cli/tree.c) and the sum of a tree's
 * censuses (model/tree.c). */
#include "common/compat.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "attach/proctree.h"
#include "cli/tree.h"
#include "model/tree.h"

Test(tree, lists_children_and_grandchildren)
{
	int ready[2];
	pid_t child, grandchild = 0;
	struct proctree t;
	struct pc_err e = { 0 };
	const struct proc_node *c, *g;

	cr_assert_eq(pipe(ready), 0);
	child = fork();
	if (child == 0) {
		pid_t gc = fork();
		if (gc == 0) {
			pause();
			_exit(0);
		}
		(void)!write(ready[1], &gc, sizeof gc);
		pause();
		_exit(0);
	}
	cr_assert_eq(read(ready[0], &grandchild, sizeof grandchild), (ssize_t)sizeof grandchild);
	cr_assert_eq(proctree_read(getpid(), &t, &e), 0, "%s", e.detail);
	c = proctree_find(&t, child);
	g = proctree_find(&t, grandchild);
	cr_expect_eq(t.v[0].pid, getpid());
	cr_expect(c && c->depth == 1 && c->ppid == getpid(), "the child %d is not listed at depth 1", (int)child);
	cr_expect(g && g->depth == 2 && g->ppid == child, "the grandchild %d is not listed at depth 2", (int)grandchild);
	cr_expect(c && c->cmdline[0], "no command line for the child");
	proctree_release(&t);
	kill(grandchild, SIGKILL);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

Test(tree, gone_root_is_an_error)
{
	struct proctree t;
	struct pc_err e = { 0 };

	cr_expect_eq(proctree_read(4000000, &t, &e), -1);
	cr_expect_eq(e.code, PC_ENOPROC);
}

Test(tree, roles)
{
	static const char *const spawn = "python3 -B -c from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=6)";

	cr_expect_str_eq(tree_role(spawn, "python3 app.py", false), "multiprocessing child (spawn)");
	cr_expect_str_eq(tree_role("python3 -c from multiprocessing.resource_tracker import main;main(5)", "x", false),
			 "multiprocessing resource tracker");
	static const char *const fs = "python3 -B -c from multiprocessing.forkserver import main; main(8, 9, ['__main__'])";
	cr_expect_str_eq(tree_role(fs, "python3 app.py", false), "multiprocessing forkserver");
	cr_expect_str_eq(tree_role(fs, fs, false), "multiprocessing forkserver child");
	cr_expect_str_eq(tree_role("gunicorn: worker [app]", "gunicorn: master [app]", false), "gunicorn worker");
	cr_expect_str_eq(tree_role("/venv/bin/gunicorn app:app -w 2", "bash", true), "gunicorn master");
	cr_expect_str_eq(tree_role("/venv/bin/gunicorn app:app -w 2", "/venv/bin/gunicorn app:app -w 2", false),
			 "gunicorn worker");
	cr_expect_str_eq(tree_role("celery -A proj worker", "celery -A proj worker", false), "celery pool process");
	cr_expect_str_eq(tree_role("python3 app.py", "python3 app.py", false), "forked child");
	cr_expect_str_eq(tree_role("python3 app.py", "python3 app.py", true), "");
	cr_expect_str_eq(tree_role("python3 other.py", "python3 app.py", false), "");
}

Test(tree, merge_sums_rows_and_size_classes)
{
	struct tree t;
	struct tree_member *a, *b;

	tree_init(&t, 1);
	a = tree_add(&t);
	census_add(&a->c, "str", 10, 500);
	census_add(&a->c, "int", 3, 84);
	a->c.nclasses = 1;
	a->c.classes[0] = (struct census_sizeclass){ .block_size = 32, .blocks = 7 };
	tree_merge(&t, &a->c);
	b = tree_add(&t);
	census_add(&b->c, "str", 5, 250);
	b->c.nclasses = 2;
	b->c.classes[0] = (struct census_sizeclass){ .block_size = 16, .blocks = 2 };
	b->c.classes[1] = (struct census_sizeclass){ .block_size = 32, .blocks = 1 };
	tree_merge(&t, &t.v[1].c);
	cr_expect_eq(t.censused, 2);
	cr_expect_eq(t.total.nobjects, 18);
	cr_expect_eq(t.total.total_size, 834);
	cr_expect_eq(t.total.nrows, 2);
	cr_expect_eq(t.total.nclasses, 2);
	for (unsigned i = 0; i < t.total.nclasses; i++)
		cr_expect_eq(t.total.classes[i].blocks, t.total.classes[i].block_size == 32 ? 8u : 2u);
	tree_release(&t);
}
