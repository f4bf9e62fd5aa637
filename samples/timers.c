/*
 * timers.c - nested allocating handlers in threads: 8 threads, each with a
 * timer of its own at 2 kHz (timer_create with SIGEV_THREAD_ID: its signal
 * comes to that thread only), whose SA_NODEFER handler mallocs a block,
 * writes it and frees it, while the thread itself allocates and frees in a
 * loop.  Handlers interrupt the thread's calls and each other's.
 *
 *   timers [ROUNDS [HZ]]   default 20000 malloc/free pairs per thread, and
 *                          more until its handler has run 20 times; the
 *                          timers tick at HZ (default 2000)
 *
 * A malloc in a handler is safe only where it cannot need a lock the
 * interrupted malloc holds: each thread frees every size once before its
 * timer starts, so that glibc serves them all from the thread's cache, the
 * handler's size (24) from a bin the loop never uses.
 * Prints what stays live at the end, for the tests:
 *   expect heap FILE:LINE BYTES COUNT
 *   note heap FILE:LINE      (glibc keeps thread TLS blocks there)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "say.h"

#define NTHREADS 8
#define KEPT	 4		/* blocks each thread leaves live */

static long rounds = 20000, hz = 2000;
static __thread volatile long ticks;
static void *volatile sink;
static int line_kept;

static void on_tick(int sig)
{
	char *volatile p = malloc(24);

	memset(p, 0x5a, 24);
	for (volatile int spin = 0; spin < 2000; spin++)
		;	/* long enough for a tick to come inside now and then */
	free(p);
	ticks++;
}

static void *worker(void *arg)
{
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGRTMIN};
	struct itimerspec every = {{0, 1000000000 / hz}, {0, 1000000000 / hz}};
	struct itimerspec stop = {{0, 0}, {0, 0}};
	void *warm[7], **kept = arg;
	timer_t timer;

	for (size_t n = 32; n < 32 + 512; n++)
		free(malloc(n));
	for (int k = 0; k < 7; k++)
		warm[k] = malloc(24);
	for (int k = 0; k < 7; k++)
		free(warm[k]);
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);	/* sigev_notify_thread_id */
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) != 0)
		return NULL;
	timer_settime(timer, 0, &every, NULL);
	for (long i = 0; i < rounds || ticks < 20; i++) {
		char *p = malloc(32 + (size_t)(i % 512));

		p[0] = (char)i;
		sink = p;
		free(p);
	}
	timer_settime(timer, 0, &stop, NULL);
	timer_delete(timer);
	for (int k = 0; k < KEPT; k++) {
		kept[k] = malloc(64); line_kept = __LINE__;
	}
	return kept;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_tick, .sa_flags = SA_RESTART | SA_NODEFER};
	static void *kept[NTHREADS][KEPT];
	pthread_t th[NTHREADS];
	int line_create = 0;

	if (argc > 1)
		rounds = atol(argv[1]);
	if (argc > 2 && (hz = atol(argv[2])) < 1)
		hz = 1;
	sigaction(SIGRTMIN, &sa, NULL);
	for (int i = 0; i < NTHREADS; i++) {
		int err = pthread_create(&th[i], NULL, worker, kept[i]); line_create = __LINE__;

		if (err)
			return 2;
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	say("expect heap samples/timers.c:%d %d %d\n", line_kept, NTHREADS * KEPT * 64,
	    NTHREADS * KEPT);
	say("note heap samples/timers.c:%d\n", line_create);
	return 0;
}
