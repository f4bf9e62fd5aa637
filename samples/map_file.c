/*
 * map_file.c - maps a numpy_array_length_N.txt file instead of reading it,
 * as the article's mmap_tracem.py does, and sums its values through the
 * mapping.  The heap stays flat; the mapping (the whole file, in whole
 * pages as the kernel maps it) is what memtrack's --kind mmap shows at the
 * mmap line.
 *
 *   map_file FILE
 * Prints what it holds at the end, for the tests:
 *   expect mmap FILE:LINE BYTES COUNT
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "say.h"

int main(int argc, char **argv)
{
	struct stat st;
	const char *p;
	double sum = 0;
	size_t n = 0, line_start = 0;
	int fd, map_line;

	if (argc != 2) {
		fprintf(stderr, "usage: map_file FILE\n");
		return 64;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size == 0) {
		perror(argv[1]);
		return 1;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0); map_line = __LINE__;
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	close(fd);
	/* parse line by line: the mapping has no terminating NUL */
	for (size_t i = 0; i < (size_t)st.st_size; i++) {
		if (p[i] != '\n')
			continue;
		char buf[64];
		size_t len = i - line_start < sizeof(buf) - 1 ? i - line_start : sizeof(buf) - 1;

		for (size_t j = 0; j < len; j++)
			buf[j] = p[line_start + j];
		buf[len] = 0;
		sum += strtod(buf, NULL);
		n++;
		line_start = i + 1;
	}
	say("mapped %zu values, sum %.6f\n", n, sum);
	long pg = sysconf(_SC_PAGESIZE);

	say("expect mmap samples/map_file.c:%d %lld 1\n", map_line,
	    ((long long)st.st_size + pg - 1) / pg * pg);
	return 0;	/* still mapped at exit: the end snapshot holds it */
}
