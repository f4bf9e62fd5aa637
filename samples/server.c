/*
 * server.c - a long-running program to attach to: worker threads that
 * keep a ring of blocks and replace one every millisecond, and a main
 * thread that sleeps.  It checks every block it frees (a pattern written
 * at allocation), so a tracer that corrupted its memory, lost a return
 * address or left a trap behind makes it fail loudly; on SIGTERM or after
 * SECONDS it prints how many allocations it made and exits 0.
 *
 *   server [SECONDS [THREADS [spawn|storm|vfork|posix_spawn]]]
 *                                  default 30 seconds, 2 threads
 *
 * With "spawn" the main thread, instead of sleeping, starts a short-lived
 * thread that allocates every few milliseconds: threads are being created
 * and ending while a tracer attaches and detaches.  With "storm" it starts
 * them without pause, four at a time: some thread is always being born,
 * inside clone, when the tracer stops them all.  With "vfork" it vforks
 * children that sleep 300 ms before they exit: the main thread is mostly
 * blocked in vfork while the workers allocate.  With "posix_spawn" it runs
 * /bin/true over and over: children sharing its memory are born all the
 * time, each for a moment (it ends at SECONDS only: no SIGTERM handler).
 */
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "say.h"

#define RING 64

extern char **environ;
static volatile sig_atomic_t done;
static long made[64];

static void *brief(void *arg)
{
	for (int i = 0; i < (arg ? 10 : 1); i++) {
		void *volatile p = malloc(64);

		free(p);
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* vfork children, one after the other, until SECONDS or SIGTERM. */
static void vforks(int seconds)
{
	double end = now() + seconds;

	while (!done && now() < end) {
		pid_t pid = vfork();

		if (pid == 0) {
			struct timespec nap = {0, 300000000};

			syscall(SYS_nanosleep, &nap, NULL);	/* no libc state touched */
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			abort();
	}
}

/* /bin/true, spawned and waited for, until SECONDS or SIGTERM. */
static void spawns(int seconds)
{
	char *args[] = {"true", NULL};
	double end = now() + seconds;

	while (!done && now() < end) {
		void *volatile held = malloc(100);	/* a call between spawns */
		int status;
		pid_t pid;

		if (posix_spawn(&pid, "/bin/true", NULL, NULL, args, environ) != 0 ||
		    waitpid(pid, &status, 0) != pid || status != 0)
			abort();
		free(held);
	}
}

/* Threads four at a time, without pause, until SECONDS or SIGTERM. */
static void storm(int seconds)
{
	double end = now() + seconds;

	while (!done && now() < end) {
		pthread_t b[4];

		for (int k = 0; k < 4; k++)
			if (pthread_create(&b[k], NULL, brief, (void *)1) != 0)
				abort();
		for (int k = 0; k < 4; k++)
			if (pthread_join(b[k], NULL) != 0)
				abort();
	}
}

static void on_term(int sig)
{
	done = 1;
}

static void *worker(void *arg)
{
	long id = (long)(intptr_t)arg;
	unsigned char *ring[RING] = {0};
	size_t sizes[RING] = {0};
	unsigned seed = (unsigned)id + 7;

	for (long i = 0; !done; i++) {
		int k = (int)(i % RING);
		struct timespec ms = {0, 1000000};

		if (ring[k]) {
			for (size_t j = 0; j < sizes[k]; j++)
				if (ring[k][j] != (unsigned char)(k + j)) {
					say("corrupt block in thread %ld\n", id);
					abort();
				}
			free(ring[k]);
		}
		seed = seed * 1103515245u + 12345u;
		sizes[k] = 16 + (seed >> 8) % 4096;
		ring[k] = malloc(sizes[k]);
		if (!ring[k])
			abort();
		for (size_t j = 0; j < sizes[k]; j++)
			ring[k][j] = (unsigned char)(k + j);
		made[id]++;
		nanosleep(&ms, NULL);
	}
	for (int k = 0; k < RING; k++)
		free(ring[k]);
	return NULL;
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 30;
	int n = argc > 2 ? atoi(argv[2]) : 2;
	int spawn = argc > 3 && !strcmp(argv[3], "spawn");
	int storming = argc > 3 && !strcmp(argv[3], "storm");
	int vforking = argc > 3 && !strcmp(argv[3], "vfork");
	int spawning = argc > 3 && !strcmp(argv[3], "posix_spawn");
	pthread_t t[64];
	long total = 0;

	if (n < !(storming || vforking || spawning) || n > 64)
		return 64;
	/* posix_spawn's child resets the handlers it inherits: with none, it
	 * lives for a moment only, and ends at SECONDS */
	if (!spawning)
		signal(SIGTERM, on_term);
	for (long i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i) != 0)
			return 1;
	say("ready %d\n", (int)getpid());
	if (storming)
		storm(seconds);
	if (vforking)
		vforks(seconds);
	if (spawning)
		spawns(seconds);
	for (int s = 0; !storming && !vforking && !spawning && s < seconds * 10 && !done; s++) {
		struct timespec tick = {0, 100000000}, brief_tick = {0, 3000000};

		if (!spawn) {
			nanosleep(&tick, NULL);
			continue;
		}
		for (int k = 0; k < 30 && !done; k++) {
			pthread_t b;

			if (pthread_create(&b, NULL, brief, NULL) != 0 || pthread_join(b, NULL) != 0)
				abort();
			nanosleep(&brief_tick, NULL);
		}
	}
	done = 1;
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		total += made[i];
	}
	say("done %ld allocations\n", total);
	return 0;
}
