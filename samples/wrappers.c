/*
 * wrappers.c - allocation through wrapper functions, as GCC's xmalloc and
 * xcalloc: without --alloc-fn every block is charged to the wrapper's own
 * line; with --alloc-fn 'x*alloc' to the line that called the wrapper.
 *
 * Prints, for the tests, what stays live at each caller's line, and at
 * each wrapper's line:
 *   expect heap FILE:LINE BYTES COUNT       (callers: with --alloc-fn)
 *   expect wrapped FILE:LINE BYTES COUNT    (wrappers: without it)
 */
#include <stdlib.h>
#include <string.h>

#include "say.h"

static int xmalloc_line, xcalloc_line;
static void *volatile keep[16];

/* noinline, and not tail calls: each wrapper is a frame of its own */
static __attribute__((noinline)) void *xmalloc(size_t n)
{
	void *p = malloc(n); xmalloc_line = __LINE__;

	if (!p)
		abort();
	return p;
}

static __attribute__((noinline)) void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size); xcalloc_line = __LINE__;

	if (!p)
		abort();
	return p;
}

int main(void)
{
	int table_line, names_line, zeros_line;

	keep[0] = xmalloc(1000); table_line = __LINE__;
	for (int i = 0; i < 3; i++) {
		keep[1 + i] = xmalloc(200); names_line = __LINE__;
	}
	keep[4] = xcalloc(50, 8); zeros_line = __LINE__;
	say("expect heap samples/wrappers.c:%d 1000 1\n", table_line);
	say("expect heap samples/wrappers.c:%d 600 3\n", names_line);
	say("expect heap samples/wrappers.c:%d 400 1\n", zeros_line);
	say("expect wrapped samples/wrappers.c:%d 1600 4\n", xmalloc_line);
	say("expect wrapped samples/wrappers.c:%d 400 1\n", xcalloc_line);
	return 0;
}
