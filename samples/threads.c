/*
 * threads.c - several threads allocating at once: each does a fixed,
 * seeded sequence of malloc/calloc/realloc/free (so totals do not depend on
 * how the threads interleave), frees everything it churned, and keeps ten
 * blocks at one line to the end.
 *
 *   threads [NTHREADS [OPS]]     default 8 threads, 20000 calls each
 * Prints what stays live at the end, for the tests:
 *   expect heap FILE:LINE BYTES COUNT
 *   note heap FILE:LINE      (glibc keeps each thread's TLS block there)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "say.h"

#define SLOTS 64
#define KEEP 10
#define KEEP_SIZE 100

static long ops = 20000;
static int keep_line;
static void *volatile sink;

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u + 1;
	void *slot[SLOTS] = {0};
	void **kept = malloc(KEEP * sizeof(*kept));

	for (long i = 0; i < ops; i++) {
		seed = seed * 1103515245u + 12345u;
		unsigned r = seed >> 8;
		int k = (int)(r % SLOTS);
		size_t size = 1 + (r >> 6) % 2000;

		switch ((r >> 20) % 4) {
		case 0:
			free(slot[k]);
			slot[k] = malloc(size);
			break;
		case 1:
			free(slot[k]);
			slot[k] = calloc(1 + size % 16, 16);
			break;
		case 2:
			slot[k] = realloc(slot[k], size);
			break;
		default:
			free(slot[k]);
			slot[k] = NULL;
			break;
		}
		if (slot[k])
			memset(slot[k], 1, 1);
	}
	for (int k = 0; k < SLOTS; k++)
		free(slot[k]);
	for (int k = 0; k < KEEP; k++) {
		kept[k] = malloc(KEEP_SIZE); keep_line = __LINE__;
	}
	return kept;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8;
	pthread_t t[64];
	void **kept[64];

	if (argc > 2)
		ops = atol(argv[2]);
	if (n < 1 || n > 64)
		return 64;
	int create_line = 0;

	for (int i = 0; i < n; i++) {
		int err = pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i); create_line = __LINE__;

		if (err != 0)
			return 1;
	}
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], (void **)&kept[i]);
		free(kept[i]);	/* the array; the blocks it held stay */
	}
	sink = kept[0];
	say("expect heap samples/threads.c:%d %d %d\n", keep_line, n * KEEP * KEEP_SIZE,
	    n * KEEP);
	say("note heap samples/threads.c:%d\n", create_line);
	return 0;
}
