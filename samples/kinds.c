/*
 * kinds.c - every allocator entry point, once, at a line of its own, with
 * the result kept live; plus the calls that must leave nothing behind
 * (a freed temporary, realloc(p, 0), free(NULL), a failed malloc).
 *
 *   kinds [pvalloc]    (pvalloc is opt-in: valgrind aborts on it)
 * Prints what stays live at each line, for the tests:
 *   expect heap FILE:LINE BYTES COUNT
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "say.h"

struct site {
	int line;
	size_t bytes;
	int count;
};

static struct site sites[32];
static int nsites;
static void *volatile keep[64];
static int nkeep;
static volatile size_t huge = SIZE_MAX / 2;
/* through a volatile, or the compiler turns realloc(NULL, n) into malloc(n) */
static void *volatile null;

static void kept(void *p, int line, size_t bytes)
{
	keep[nkeep++] = p;
	for (int i = 0; i < nsites; i++)
		if (sites[i].line == line) {
			sites[i].bytes += bytes;
			sites[i].count++;
			return;
		}
	sites[nsites++] = (struct site){line, bytes, 1};
}

int main(int argc, char **argv)
{
	void *p, *q;
	int line;

	p = malloc(100); line = __LINE__; kept(p, line, 100);
	p = calloc(10, 30); line = __LINE__; kept(p, line, 300);
	p = realloc(null, 200); line = __LINE__; kept(p, line, 200);
	q = malloc(50);
	keep[nkeep] = q;
	p = realloc(q, 5000); line = __LINE__; kept(p, line, 5000);
	p = reallocarray(null, 7, 11); line = __LINE__; kept(p, line, 77);
	if (posix_memalign(&p, 64, 640) == 0) { line = __LINE__; kept(p, line, 640); }
	p = aligned_alloc(128, 1280); line = __LINE__; kept(p, line, 1280);
	p = memalign(32, 320); line = __LINE__; kept(p, line, 320);
	p = valloc(4000); line = __LINE__; kept(p, line, 4000);
	p = malloc(0); line = __LINE__; kept(p, line, 0);
	for (int i = 0; i < 5; i++) {
		p = malloc(16); line = __LINE__; kept(p, line, 16);
	}
	if (argc > 1 && !strcmp(argv[1], "pvalloc")) {
		p = pvalloc(10); line = __LINE__; kept(p, line, 10);
	}

	/* nothing of these stays */
	q = malloc(123);
	keep[nkeep] = q;
	free(q);
	q = malloc(60);
	keep[nkeep] = q;
	q = realloc(q, 0);
	free(q);
	p = malloc(huge);
	if (p)
		return 1;
	q = malloc(40);
	keep[nkeep] = q;
	p = realloc(q, huge);	/* fails: the block stays, and is freed */
	if (p)
		return 1;
	free(keep[nkeep]);
	free(NULL);

	for (int i = 0; i < nsites; i++)
		say("expect heap samples/kinds.c:%d %zu %d\n", sites[i].line, sites[i].bytes,
		       sites[i].count);
	/* Every allocation the calls above made, as valgrind's memcheck counts
	 * them (realloc: an allocation of its new size; realloc(p, 0) and a
	 * failed malloc: none; a failed realloc of a size that is positive as
	 * a signed number: one), for summary --histogram:
	 *   expect alloc BYTES */
	if (argc == 1) {
		static const size_t allocs[] = {100, 300, 200, 50, 5000, 77, 640, 1280, 320, 4000,
						0,   16,  16,  16, 16,	 16, 123, 60,	40};

		for (size_t i = 0; i < sizeof(allocs) / sizeof(allocs[0]); i++)
			say("expect alloc %zu\n", allocs[i]);
		say("expect alloc %zu\n", (size_t)huge);
	}
	return 0;
}
