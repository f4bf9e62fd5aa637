/*
 * server.c - a long-running program to attach to: worker threads that
 * keep a ring of blocks and replace one every millisecond, and a main
 * thread that sleeps.  It checks every block it frees (a pattern written
 * at allocation), so a tracer that corrupted its memory, lost a return
 * address or left a trap behind makes it fail loudly; on SIGTERM or after
 * SECONDS it prints how many allocations it made and exits 0.
 *
 *   server [SECONDS [THREADS [spawn|storm|vfork|posix_spawn|signals|pending]]]
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
 * time, each for a moment (it ends at SECONDS only, or killed: no SIGTERM
 * handler).
 * With "signals" the main thread allocates without pause under two timers
 * at 1 kHz (SIGALRM from setitimer, SIGRTMIN from a POSIX timer carrying
 * a value), whose handlers check each siginfo: a signal that arrives as
 * the tracer is in the middle of a call must come as it was sent.
 * With "pending" the main thread allocates without pause, and logs every
 * SIGUSR1, SIGUSR2, SIGIO (its stdin, a pipe, is O_ASYNC: the kernel's
 * siginfo) and SIGRTMIN+1 it gets, siginfo and all; on SIGTERM it prints
 * them in the order its handlers ran, one a line: signals sent while it is
 * stopped are still pending when a tracer attaches, and must come once
 * each, as they were sent, and in the order they would have come.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
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

static volatile sig_atomic_t bad_info, alarms, ticks;

static void on_timer(int sig, siginfo_t *si, void *ctx)
{
	if (sig == SIGALRM && si->si_code == SI_KERNEL)
		alarms++;
	else if (sig == SIGRTMIN && si->si_code == SI_TIMER && si->si_value.sival_int == 0x5eed)
		ticks++;
	else
		bad_info++;
}

/* Allocates under two timer storms until SECONDS or SIGTERM; 0, or 1 if a
 * handler saw a siginfo not as sent. */
static int storms(int seconds)
{
	struct sigaction sa = {.sa_sigaction = on_timer, .sa_flags = SA_SIGINFO | SA_RESTART};
	struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN,
			       .sigev_value.sival_int = 0x5eed};
	struct itimerval every = {{0, 1000}, {0, 1000}};
	struct itimerspec rt = {{0, 1000000}, {0, 1000000}};
	double end = now() + seconds;
	timer_t timer;

	if (sigaction(SIGALRM, &sa, NULL) || sigaction(SIGRTMIN, &sa, NULL) ||
	    timer_create(CLOCK_MONOTONIC, &sev, &timer) || timer_settime(timer, 0, &rt, NULL) ||
	    setitimer(ITIMER_REAL, &every, NULL))
		abort();
	while (!done && now() < end) {
		unsigned char *volatile p = malloc(64);

		if (!p)
			abort();
		memset(p, 0x5a, 64);
		for (int j = 0; j < 64; j++)
			if (p[j] != 0x5a)
				abort();
		free(p);
	}
	setitimer(ITIMER_REAL, &(struct itimerval){0}, NULL);
	timer_delete(timer);
	if (bad_info || !alarms || !ticks) {
		say("signals: %d siginfo not as sent (%d SIGALRM, %d SIGRTMIN fine)\n",
		    (int)bad_info, (int)alarms, (int)ticks);
		return 1;
	}
	return 0;
}

static volatile sig_atomic_t nlogged;
static struct {
	int sig, code, pid, value;
} logged[32];

static void on_logged(int sig, siginfo_t *si, void *ctx)
{
	int n = nlogged;

	if (n < 32) {
		logged[n].sig = sig;
		logged[n].code = si->si_code;
		logged[n].pid = si->si_pid;
		logged[n].value = si->si_value.sival_int;
		nlogged = n + 1;
	}
}

/* The signals "pending" logs, from before it says it is ready. */
static void log_signals(void)
{
	struct sigaction sa = {.sa_sigaction = on_logged, .sa_flags = SA_SIGINFO | SA_RESTART};
	int sigs[] = {SIGUSR1, SIGUSR2, SIGIO, SIGRTMIN + 1};

	for (int i = 0; i < 4; i++)
		if (sigaction(sigs[i], &sa, NULL))
			abort();
	/* a byte written to stdin brings SIGIO, sent by the kernel */
	if (fcntl(0, F_SETOWN, getpid()) || fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_ASYNC))
		abort();
}

/* Allocates until SECONDS or SIGTERM; prints the signals it got. */
static void pendings(int seconds)
{
	double end = now() + seconds;

	while (!done && now() < end) {
		void *volatile p = malloc(64);

		free(p);
	}
	for (int i = 0; i < nlogged; i++)
		say("signal %d code %d from %d value %d\n", logged[i].sig, logged[i].code,
		    logged[i].pid, logged[i].value);
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
	int timing = argc > 3 && !strcmp(argv[3], "signals");
	int pending = argc > 3 && !strcmp(argv[3], "pending");
	/* a mode keeps the main thread busy; without one it sleeps */
	int busy = storming || vforking || spawning || timing || pending;
	pthread_t t[64];
	long total = 0;

	if (n < !busy || n > 64)
		return 64;
	/* posix_spawn's child resets the handlers it inherits: with none, it
	 * lives for a moment only, and ends at SECONDS */
	if (!spawning)
		signal(SIGTERM, on_term);
	for (long i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i) != 0)
			return 1;
	if (pending)
		log_signals();
	say("ready %d\n", (int)getpid());
	if (storming)
		storm(seconds);
	if (vforking)
		vforks(seconds);
	if (spawning)
		spawns(seconds);
	if (timing && storms(seconds))
		return 1;
	if (pending)
		pendings(seconds);
	for (int s = 0; !busy && s < seconds * 10 && !done; s++) {
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
