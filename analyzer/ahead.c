/*
 * ahead.c - a log's events decoded ahead by a thread of its own (see
 * ahead.h): batches of events in a ring of a few slots, the reader thread
 * filling them while the caller replays the ones before.  Without the
 * thread, one batch is filled in the caller's thread as it is used up.
 *
 * Handing a batch over is a counter each side bumps (atomics), not a lock.
 * A side finding nothing to do sleeps on a condition variable until the
 * other has done half the ring (or is done), and the other signals it only
 * then, and only when told it sleeps: a report's threads sleep and wake a
 * few hundred times, not once per batch (the futex calls and switches of
 * that took a tenth of a report's time).  They do not spin either: on a
 * machine whose other CPU is busy, a spinning thread only takes the time
 * of the one it waits for.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ahead.h"
#include "input.h"

#define BATCH	1024 /* events: 128 KiB a slot */
#define SLOTS	8
#define WAKE_AT (SLOTS / 2) /* batches that wake a sleeping side */

/* Events first, and slots on cache lines: a heap event's fields are then
 * one line of its own (log.h), the one line the other thread reads. */
struct batch {
	struct mt_event ev[BATCH];
	size_t n;
	int ret; /* after its events: 1 more come, 0 the end, < 0 corrupt */
} __attribute__((aligned(64)));

struct ahead {
	struct ahead_cursor c; /* in cur */
	struct log_reader *r;
	const char *path;
	struct an_status *st;  /* the caller's */
	struct an_status err;  /* the reader's, until the caller gets there */
	int threaded;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t filled, emptied;
	/* batches; slot = count % SLOTS.  Each counter is written by one side. */
	_Atomic uint64_t produced, consumed;
	/* a side sleeps (or is about to) on its condition variable */
	_Atomic int reader_sleeps, caller_sleeps;
	_Atomic int finished; /* the reader filled its last batch */
	_Atomic int quit;
	struct batch *slots;   /* SLOTS of them, or 1 without the thread */
	struct batch *cur;     /* the caller's batch */
};

/* Can this process run on two CPUs at once? */
static int two_cpus(void)
{
	cpu_set_t set;

	return sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) >= 2;
}

/* Waits until go(a, 1) holds when it does now, else sleeps on cond with
 * *sleeps set until go(a, 0) does.  *sleeps and the other side's counter
 * are sequentially consistent: either the other side sees *sleeps, or
 * this one sees its count. */
static void wait_for(struct ahead *a, int (*go)(struct ahead *, int now), pthread_cond_t *cond,
		     _Atomic int *sleeps)
{
	if (go(a, 1))
		return;
	pthread_mutex_lock(&a->lock);
	atomic_store(sleeps, 1);
	while (!go(a, 0))
		pthread_cond_wait(cond, &a->lock);
	atomic_store(sleeps, 0);
	pthread_mutex_unlock(&a->lock);
}

/* The other side sleeps on cond, and go(a, 0) holds for it: wakes it. */
static void wake(struct ahead *a, int (*go)(struct ahead *, int now), pthread_cond_t *cond,
		 _Atomic int *sleeps)
{
	if (atomic_load(sleeps) && go(a, 0)) {
		pthread_mutex_lock(&a->lock);
		pthread_cond_signal(cond);
		pthread_mutex_unlock(&a->lock);
	}
}

/* The reader may fill a batch: one is free (now), half the ring is (after
 * sleeping). */
static int reader_go(struct ahead *a, int now)
{
	uint64_t filled = atomic_load(&a->produced) - atomic_load(&a->consumed);

	return filled <= (now ? SLOTS - 1 : SLOTS - WAKE_AT) || atomic_load(&a->quit);
}

/* The caller may take a batch: one is filled (now), half the ring is or
 * the reader is done (after sleeping). */
static int caller_go(struct ahead *a, int now)
{
	uint64_t filled = atomic_load(&a->produced) - atomic_load(&a->consumed);

	return filled >= (now ? 1 : WAKE_AT) || (filled && atomic_load(&a->finished));
}

static void *reader(void *arg)
{
	struct ahead *a = arg;
	int ret = 1;

	while (ret > 0) {
		uint64_t n = atomic_load_explicit(&a->produced, memory_order_relaxed);
		struct batch *b;

		wait_for(a, reader_go, &a->emptied, &a->reader_sleeps);
		if (atomic_load(&a->quit))
			break;
		b = &a->slots[n % SLOTS];
		ret = input_next_many(a->r, a->path, b->ev, BATCH, &b->n, &a->err);
		b->ret = ret > 0 ? 1 : ret;
		if (ret <= 0)
			atomic_store(&a->finished, 1);
		atomic_store(&a->produced, n + 1);
		wake(a, caller_go, &a->filled, &a->caller_sleeps);
	}
	return NULL;
}

int ahead_begin(struct ahead **out, struct log_reader *r, const char *path, struct an_status *st)
{
	struct ahead *a = calloc(1, sizeof(*a));
	int two = two_cpus();

	*out = NULL;
	if (a)
		a->slots = aligned_alloc(_Alignof(struct batch), (two ? SLOTS : 1) * sizeof(*a->slots));
	if (!a || !a->slots) {
		free(a);
		status_add(st, "out of memory");
		return -ENOMEM;
	}
	a->r = r;
	a->path = path;
	a->st = st;
	if (two) {
		pthread_mutex_init(&a->lock, NULL);
		pthread_cond_init(&a->filled, NULL);
		pthread_cond_init(&a->emptied, NULL);
		a->threaded = pthread_create(&a->thread, NULL, reader, a) == 0;
		if (!a->threaded) {
			pthread_mutex_destroy(&a->lock);
			pthread_cond_destroy(&a->filled);
			pthread_cond_destroy(&a->emptied);
		}
	}
	*out = a;
	return 0;
}

/* The caller's next batch: the reader thread's, or one read here. */
static struct batch *next_batch(struct ahead *a)
{
	uint64_t n = atomic_load_explicit(&a->consumed, memory_order_relaxed);

	if (!a->threaded) {
		struct batch *b = a->slots;

		b->ret = input_next_many(a->r, a->path, b->ev, BATCH, &b->n, &a->err);
		if (b->ret > 0)
			b->ret = 1;
		return b;
	}
	if (a->cur) {
		atomic_store(&a->consumed, ++n);
		wake(a, reader_go, &a->emptied, &a->reader_sleeps);
	}
	wait_for(a, caller_go, &a->filled, &a->caller_sleeps);
	return &a->slots[n % SLOTS];
}

int ahead_refill(struct ahead *a, const struct mt_event **ev)
{
	for (;;) {
		if (a->c.next != a->c.end) {
			*ev = a->c.next++;
			return 1;
		}
		if (a->cur && a->cur->ret <= 0) {
			/* the end, for good: said once, then returned again */
			if (a->cur->ret < 0 && a->err.message[0]) {
				status_add(a->st, "%s", a->err.message);
				a->err.message[0] = '\0';
			}
			return a->cur->ret;
		}
		a->cur = next_batch(a);
		a->c.next = a->cur->ev;
		a->c.end = a->cur->ev + a->cur->n;
	}
}

void ahead_end(struct ahead *a)
{
	if (!a)
		return;
	if (a->threaded) {
		atomic_store(&a->quit, 1);
		pthread_mutex_lock(&a->lock);
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
