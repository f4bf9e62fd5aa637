/*
 * ahead.c - a log's events decoded ahead by a thread of its own (see
 * ahead.h): batches of events in a ring of a few slots, the reader thread
 * filling them while the caller replays the ones before.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "ahead.h"
#include "input.h"

#define BATCH 1024 /* events: 136 KiB a slot */
#define SLOTS 4

struct batch {
	size_t n;
	int ret; /* after its events: 1 more come, 0 the end, < 0 corrupt */
	struct mt_event ev[BATCH];
};

struct ahead {
	struct log_reader *r;
	const char *path;
	struct an_status *st;	/* the caller's */
	struct an_status err;	/* the reader thread's, until the caller gets there */
	int threaded;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t filled, emptied;
	uint64_t produced, consumed; /* batches; slot = count % SLOTS */
	int quit;
	struct batch *slots;
	struct batch *cur;	/* the caller's batch */
	size_t at;
	struct mt_event one;	/* without the thread */
};

/* Can this process run on two CPUs at once? */
static int two_cpus(void)
{
	cpu_set_t set;

	return sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) >= 2;
}

static void *reader(void *arg)
{
	struct ahead *a = arg;
	int ret = 1;

	while (ret > 0) {
		struct batch *b;

		pthread_mutex_lock(&a->lock);
		while (a->produced - a->consumed == SLOTS && !a->quit)
			pthread_cond_wait(&a->emptied, &a->lock);
		pthread_mutex_unlock(&a->lock);
		if (a->quit)
			break;
		b = &a->slots[a->produced % SLOTS];
		for (b->n = 0; b->n < BATCH; b->n++) {
			ret = input_next(a->r, a->path, &b->ev[b->n], &a->err);
			if (ret <= 0)
				break;
		}
		b->ret = ret > 0 ? 1 : ret;
		pthread_mutex_lock(&a->lock);
		a->produced++;
		pthread_cond_signal(&a->filled);
		pthread_mutex_unlock(&a->lock);
	}
	return NULL;
}

int ahead_begin(struct ahead **out, struct log_reader *r, const char *path, struct an_status *st)
{
	struct ahead *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a) {
		status_add(st, "out of memory");
		return -ENOMEM;
	}
	a->r = r;
	a->path = path;
	a->st = st;
	if (two_cpus() && (a->slots = malloc(SLOTS * sizeof(*a->slots)))) {
		pthread_mutex_init(&a->lock, NULL);
		pthread_cond_init(&a->filled, NULL);
		pthread_cond_init(&a->emptied, NULL);
		a->threaded = pthread_create(&a->thread, NULL, reader, a) == 0;
		if (!a->threaded) {
			pthread_mutex_destroy(&a->lock);
			pthread_cond_destroy(&a->filled);
			pthread_cond_destroy(&a->emptied);
			free(a->slots);
			a->slots = NULL;
		}
	}
	*out = a;
	return 0;
}

int ahead_next(struct ahead *a, const struct mt_event **ev)
{
	if (!a->threaded) {
		int ret = input_next(a->r, a->path, &a->one, a->st);

		*ev = &a->one;
		return ret;
	}
	for (;;) {
		if (a->cur) {
			if (a->at < a->cur->n) {
				*ev = &a->cur->ev[a->at++];
				return 1;
			}
			if (a->cur->ret <= 0) {
				/* the end, for good: said once, then returned again */
				if (a->cur->ret < 0 && a->err.message[0]) {
					status_add(a->st, "%s", a->err.message);
					a->err.message[0] = '\0';
				}
				return a->cur->ret;
			}
			pthread_mutex_lock(&a->lock);
			a->consumed++;
			pthread_cond_signal(&a->emptied);
			pthread_mutex_unlock(&a->lock);
			a->cur = NULL;
		}
		pthread_mutex_lock(&a->lock);
		while (a->produced == a->consumed)
			pthread_cond_wait(&a->filled, &a->lock);
		pthread_mutex_unlock(&a->lock);
		a->cur = &a->slots[a->consumed % SLOTS];
		a->at = 0;
	}
}

void ahead_end(struct ahead *a)
{
	if (!a)
		return;
	if (a->threaded) {
		pthread_mutex_lock(&a->lock);
		a->quit = 1;
		pthread_cond_signal(&a->emptied);
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->thread, NULL);
		pthread_mutex_destroy(&a->lock);
		pthread_cond_destroy(&a->filled);
		pthread_cond_destroy(&a->emptied);
	}
	free(a->slots);
	free(a);
}
