/*
 * churn.c - the benchmark workload: N malloc+free pairs, a few frames deep,
 * the way real code allocates.
 *
 *   churn N [plain|traps [THREADS]]
 *     plain            N pairs of malloc(size) / free (the default)
 *     traps            the same loop with three int3 per pair instead of
 *                      the calls: what a bare ptrace tracer that does
 *                      nothing but stop three times per pair costs (the
 *                      floor, driven by bench/floor)
 *     THREADS          the N pairs shared among that many threads
 *
 * With CHURN_CPU set in the environment it ends by printing its own CPU
 * time on stderr ("cpu SECONDS"): what tracing cost the program itself,
 * apart from a tracer working on another CPU.
 */
#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile unsigned long sink;

static __attribute__((noinline)) void *make(size_t size)
{
	char *p = malloc(size);

	if (p)
		p[0] = 1;
	return p;
}

static __attribute__((noinline)) void pair(size_t size)
{
	void *p = make(size);

	sink += (unsigned long)p;
	free(p);
}

static __attribute__((noinline)) void trap_pair(void)
{
	/* entry stop, return stop, free stop */
	__asm__ volatile("int3; int3; int3" ::: "memory");
	sink++;
}

static __attribute__((noinline)) void run(long n, int traps)
{
	for (long i = 0; i < n; i++) {
		if (traps)
			trap_pair();
		else
			pair(16 + (size_t)(i & 255));
	}
}

struct share {
	long n;
	int traps;
};

static void *thread_main(void *arg)
{
	struct share *s = arg;

	run(s->n, s->traps);
	return NULL;
}

static void say_cpu(void)
{
	struct rusage ru;

	if (!getenv("CHURN_CPU") || getrusage(RUSAGE_SELF, &ru) < 0)
		return;
	fprintf(stderr, "cpu %.6f\n",
		(double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
			(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	int traps = argc > 2 && !strcmp(argv[2], "traps");
	int nthreads = argc > 3 ? atoi(argv[3]) : 1;
	pthread_t t[64];
	struct share s = {n / (nthreads > 0 ? nthreads : 1), traps};

	if (nthreads <= 1) {
		run(n, traps);
		say_cpu();
		return 0;
	}
	if (nthreads > 64)
		return 64;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, thread_main, &s) != 0)
			return 1;
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	say_cpu();
	return 0;
}
