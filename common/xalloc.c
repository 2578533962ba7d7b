/* xalloc.c: allocation that dies loudly instead of returning NULL. */
#include "common/compat.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *check(void *p, size_t n)
{
	if (!p && n) {
		fprintf(stderr, "pycensus: out of memory allocating %zu bytes\n", n);
		exit(1);
	}
	return p;
}

void *xmalloc(size_t n) { return check(malloc(n ? n : 1), n); }
void *xcalloc(size_t n, size_t size) { return check(calloc(n ? n : 1, size ? size : 1), n * size); }
void *xrealloc(void *p, size_t n) { return check(realloc(p, n ? n : 1), n); }
char *xstrdup(const char *s) { return check(strdup(s), strlen(s) + 1); }

void xgrow_to(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;

	while (c < need)
		c *= 2;
	*p = xrealloc(*p, c * size);
	*cap = c;
}
