/*
 * arrays.c - the seed experiment in C: arrays of doubles of length 1,
 * 100001, ..., 900001, as comp_tracem.py builds with np.random.randn(length).
 * Every array is kept, so a snapshot at the end holds all ten at one line:
 * 8 bytes per element.
 *
 * Prints what it allocated, for the tests:
 *   expect heap FILE:LINE BYTES COUNT
 */
#include <stdio.h>
#include <stdlib.h>

#include "say.h"

#define NARRAYS 10

static int alloc_line;

static double *random_array(size_t length, unsigned *seed)
{
	double *a = malloc(length * sizeof(*a)); alloc_line = __LINE__;

	if (!a)
		exit(1);
	for (size_t i = 0; i < length; i++) {
		*seed = *seed * 1103515245u + 12345u;
		a[i] = (double)(*seed >> 8) / (double)(1u << 24) - 0.5;
	}
	return a;
}

int main(void)
{
	double *arrays[NARRAYS];
	unsigned seed = 1;
	size_t total = 0;
	double sum = 0;

	for (int i = 0; i < NARRAYS; i++) {
		size_t length = 1 + (size_t)i * 100000;

		arrays[i] = random_array(length, &seed);
		total += length * sizeof(double);
		sum += arrays[i][length - 1];
	}
	say("checksum %.6f\n", sum);
	say("expect heap samples/arrays.c:%d %zu %d\n", alloc_line, total, NARRAYS);
	/* the arrays stay live to the end, as in the article's snapshot */
	return 0;
}
