/*
 * cut.c - a program to kill memtrack under: it allocates two blocks at
 * lines it names, says so, then waits to be killed (or SECONDS, default
 * 60), holding them.
 *
 *   cut [SECONDS]
 *
 * prints "expect heap FILE:LINE SIZE 1" for each block, then "ready PID".
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "say.h"

static void *volatile keep[2];

static __attribute__((noinline)) void *small(void)
{
	void *p = malloc(100000); /* the first block */

	say("expect heap %s:%d 100000 1\n", __FILE__, __LINE__ - 2);
	return p;
}

static __attribute__((noinline)) void *large(void)
{
	void *p = malloc(300000); /* the second block */

	say("expect heap %s:%d 300000 1\n", __FILE__, __LINE__ - 2);
	return p;
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 60;
	struct timespec nap = {0, 10000000};

	keep[0] = small();
	keep[1] = large();
	memset(keep[0], 1, 100000);
	memset(keep[1], 1, 300000);
	say("ready %d\n", (int)getpid());
	for (int i = 0; i < seconds * 100; i++)
		nanosleep(&nap, NULL);
	return 0;
}
