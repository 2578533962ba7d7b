/* htmlpage.h: the HTML tests' browser and checker (test_html.c, test_freethreaded.c): a page
 * loaded by Debian's headless Chromium (its DOM, or a screenshot), kept under build/html for
 * people to look at, and a target's dump read by `-f html` and by `-f csv`/`-f json`, so the page
 * and the figures it is held against come from one census, compared by htmlcheck.py. */
#ifndef PC_HTMLPAGE_H
#define PC_HTMLPAGE_H

#include "common/compat.h"
#include <stddef.h>
#include "tests/integration/harness.h"

/* rel under the workloads directory (PYCENSUS_WORKLOADS) into buf. */
const char *hp_beside(char *buf, size_t len, const char *rel);

/* Chromium over file://path + fragment: the DOM after the page's script ran (malloc'd), or with
 * shot a screenshot into that file. Fails on any console message (an exception, a blocked
 * request) in Chromium's log. */
char *hp_chromium(const char *path, const char *fragment, const char *shot, const char *label);

/* The page and its screenshot as build/html/NAME.{html,png}. */
void hp_keep(const char *page, const char *name, const char *label);

/* A target (p, started by the caller) dumped to dir/heap.pcdump in a directory of its own. */
struct hp_dumped {
	char dir[64], dump[96], label[64];
	struct proc p;
};
void hp_dump(struct hp_dumped *d, const char *label);
/* The target killed, the directory removed. */
void hp_dumped_release(struct hp_dumped *d);

/* `pycensus CMD [args] -f FORMAT -o DIR/NAME DUMP`: the file's path into path. */
void hp_page_of(const struct hp_dumped *d, const char *const *cmd, const char *format, const char *name, char *path,
		size_t len);

/* Chromium's DOM of page compared with other (a CSV or JSON file) by `htmlcheck.py what`, run by
 * Debian's python3; its report (malloc'd); an expectation fails when it found a difference. */
char *hp_check(const struct hp_dumped *d, const char *what, const char *page, const char *other);

#endif
