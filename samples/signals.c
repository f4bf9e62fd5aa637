/*
 * signals.c - allocating under a storm of timer signals (every 50 us, a
 * handler that counts them), then a fixed series of allocations; with the
 * argument "crash", the program then dies of SIGSEGV with its blocks live.
 *
 *   signals [ROUNDS [crash|nested]]     default 20000 malloc/free pairs
 *
 * With "nested" the handler itself allocates, under SA_NODEFER, every
 * 250 us: handlers interrupt the main loop's calls and each other's.  A
 * malloc in a handler is safe only where it cannot need a lock the
 * interrupted malloc holds: every size is freed once before the storm, so
 * that glibc serves them all from the thread's cache, the handler's size
 * (24) from a bin the main loop never uses.
 * Prints what stays live at the end, for the tests:
 *   expect heap FILE:LINE BYTES COUNT
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "say.h"

static volatile sig_atomic_t ticks;
static void *volatile sink;
static int *volatile nowhere;

static void on_tick(int sig)
{
	ticks++;
}

static void on_tick_allocating(int sig)
{
	void *volatile p = malloc(24);

	for (volatile int spin = 0; spin < 20000; spin++)
		;	/* long enough for the next tick to come inside */
	free(p);
	ticks++;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 20000;
	struct itimerval storm = {{0, 50}, {0, 50}}, calm = {{0, 0}, {0, 0}};
	struct sigaction sa = {.sa_handler = on_tick, .sa_flags = SA_RESTART};
	void *keep[16];
	int line = 0;

	if (argc > 2 && !strcmp(argv[2], "nested")) {
		void *warm[7];

		sa = (struct sigaction){.sa_handler = on_tick_allocating,
					.sa_flags = SA_RESTART | SA_NODEFER};
		storm.it_interval.tv_usec = storm.it_value.tv_usec = 250;
		for (size_t n = 32; n < 32 + 512; n++)
			free(malloc(n));
		for (int k = 0; k < 7; k++)
			warm[k] = malloc(24);
		for (int k = 0; k < 7; k++)
			free(warm[k]);
	}
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &storm, NULL);
	for (long i = 0; i < rounds; i++) {
		void *p = malloc(32 + (size_t)(i % 512));

		sink = p;
		free(p);
	}
	setitimer(ITIMER_REAL, &calm, NULL);
	for (int k = 0; k < 16; k++) {
		keep[k] = malloc(48); line = __LINE__;
	}
	sink = keep[0];
	say("expect heap samples/signals.c:%d %d 16\n", line, 16 * 48);
	if (argc > 2 && !strcmp(argv[2], "crash"))
		*nowhere = 1;
	return ticks > 0 ? 0 : 3;
}
