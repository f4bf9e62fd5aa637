/*
 * mappings.c - the mmap family at known lines: a mapping partly unmapped,
 * one grown and moved by mremap, one partly replaced by a MAP_FIXED
 * mapping, a file mapping, one mapped and unmapped again, and the program
 * break moved by sbrk.
 *
 * Prints what stays mapped at each line (in bytes, whole pages), for the
 * tests:
 *   expect mmap FILE:LINE BYTES COUNT
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "say.h"

#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static void expect(int line, size_t bytes)
{
	say("expect mmap samples/mappings.c:%d %zu 1\n", line, bytes);
}

static void check(void *p)
{
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
}

int main(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	char *a, *b, *c, *d, *f;
	int la, lb, lc, le, lf, lh, fd;

	/* 16 pages, 4 unmapped from the middle: 12 stay, one mapping */
	a = mmap(NULL, 16 * pg, RW, ANON, -1, 0); la = __LINE__;
	check(a);
	munmap(a + 6 * pg, 4 * pg);

	/* 4 pages grown to 8 and moved: still the mapping made at lb */
	b = mmap(NULL, 4 * pg, RW, ANON, -1, 0); lb = __LINE__;
	check(b);
	b = mremap(b, 4 * pg, 8 * pg, MREMAP_MAYMOVE);
	check(b);

	/* 8 pages, the middle 2 replaced by a new mapping at le */
	c = mmap(NULL, 8 * pg, RW, ANON, -1, 0); lc = __LINE__;
	check(c);
	d = mmap(c + 3 * pg, 2 * pg, RW, ANON | MAP_FIXED, -1, 0); le = __LINE__;
	check(d);

	/* a file: one page of it */
	fd = open("/proc/self/exe", O_RDONLY);
	f = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0); lf = __LINE__;
	check(f);
	close(fd);

	/* mapped and unmapped again: nothing stays */
	d = mmap(NULL, 3 * pg, RW, ANON, -1, 0);
	check(d);
	munmap(d, 3 * pg);

	/* the program break, moved by the program itself */
	if (sbrk((intptr_t)(2 * pg)) == (void *)-1) {
		perror("sbrk");
		return 1;
	}
	lh = __LINE__ - 4;

	a[0] = b[0] = c[0] = 1;
	expect(la, 12 * pg);
	expect(lb, 8 * pg);
	expect(lc, 6 * pg);
	expect(le, 2 * pg);
	expect(lf, pg);
	expect(lh, 2 * pg);
	return f[0] == 0x7f ? 0 : 1;
}
