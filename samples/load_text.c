/*
 * load_text.c - reads a numpy_array_length_N.txt file into memory the way
 * np.loadtxt does: values are parsed one by one into an array that grows
 * as it goes, then trimmed to its length.  What stays is 8 bytes per
 * element, at the line that trims it.
 *
 *   load_text FILE
 * Prints what it holds at the end, for the tests:
 *   expect heap FILE:LINE BYTES COUNT
 */
#include <stdio.h>
#include <stdlib.h>

#include "say.h"

static int grow_line, trim_line;

static double *load(const char *path, size_t *count)
{
	size_t n = 0, cap = 1024;
	double *a = malloc(cap * sizeof(*a));
	char line[128];
	FILE *f = fopen(path, "r");

	if (!f || !a) {
		perror(path);
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		if (n == cap) {
			cap *= 2;
			a = realloc(a, cap * sizeof(*a)); grow_line = __LINE__;
			if (!a)
				exit(1);
		}
		a[n++] = strtod(line, NULL);
	}
	fclose(f);
	a = realloc(a, (n ? n : 1) * sizeof(*a)); trim_line = __LINE__;
	if (!a)
		exit(1);
	*count = n;
	return a;
}

int main(int argc, char **argv)
{
	size_t n;
	double *a, sum = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: load_text FILE\n");
		return 64;
	}
	a = load(argv[1], &n);
	for (size_t i = 0; i < n; i++)
		sum += a[i];
	say("loaded %zu values, sum %.6f\n", n, sum);
	say("expect heap samples/load_text.c:%d %zu 1\n", trim_line, (n ? n : 1) * sizeof(*a));
	(void)grow_line;
	return 0;	/* the array stays live: the end snapshot holds it */
}
