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
	struct log_block_ids ids[BATCH];
	size_t n;
	int ret;		     /* after its events: 1 more come, 0 the end, < 0 corrupt */
	size_t follow;		     /* the events whose ids are followed: [0, follow) */
	size_t switch_at;	     /* ahead_switch()'s event, or BATCH */
	struct log_live_block *live; /* its blocks (owned), nlive of them */
	size_t nlive;
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
	/* the reader's: are block ids followed, and what makes them stop */
	int following, seen_proc, seen_heap;
	uint32_t pid;
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

/* Must a replay find its blocks by address from ev on (ahead_ids())?
 * Records what the events so far were. */
static int stops_following(struct ahead *a, const struct mt_event *ev)
{
	switch (ev->type) {
	case MT_EV_PROC_START:
		if (a->seen_proc || a->seen_heap)
			return 1;
		a->seen_proc = 1;
		a->pid = ev->pid;
		return 0;
	case MT_EV_ALLOC:
	case MT_EV_FREE:
	case MT_EV_REALLOC:
		if ((a->seen_proc || a->seen_heap) && ev->pid != a->pid)
			return 1;
		a->seen_heap = 1;
		a->pid = ev->pid;
		return (ev->flags & MT_EVF_PREEXIST) ||
		       (ev->type == MT_EV_REALLOC && ev->old_addr && !ev->addr);
	}
	return 0;
}

/* The blocks live before the switch, as the reader's model is asked for
 * them: those made before it. */
struct live_list {
	struct log_live_block *v;
	size_t n, cap;
	uint64_t below; /* serials up to this one */
};

static int add_live(void *arg, uint64_t serial, uint64_t addr)
{
	struct live_list *l = arg;

	if (serial > l->below)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct log_live_block *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct log_live_block){serial, addr};
	return 0;
}

/*
 * The blocks live just before event k of b, whose events up to `end` the
 * reader has read: those live now that were made before k, and those made
 * before k that events from k on freed or forgot.  Into b->live.  0 or
 * -ENOMEM.
 */
static int live_before(struct ahead *a, struct batch *b, size_t k, size_t end)
{
	struct live_list l = {NULL, 0, 0, log_reader_blocks_made(a->r)};
	int ret;

	for (size_t j = k; j < end; j++)
		if ((b->ev[j].type == MT_EV_ALLOC || b->ev[j].type == MT_EV_REALLOC) &&
		    b->ev[j].addr)
			l.below--;
	ret = log_reader_live_blocks(a->r, add_live, &l);
	for (size_t j = k; ret == 0 && j < end; j++) {
		const struct mt_event *ev = &b->ev[j];

		if (b->ids[j].forgotten)
			ret = add_live(&l, b->ids[j].forgotten, ev->addr);
		if (ret == 0 && b->ids[j].freed)
			ret = add_live(&l, b->ids[j].freed,
				       ev->type == MT_EV_FREE ? ev->addr : ev->old_addr);
	}
	if (ret < 0) {
		free(l.v);
		return ret;
	}
	b->live = l.v;
	b->nlive = l.n;
	return 0;
}

/* Reads batch b: its events and their ids, and where ids stop being
 * followed, with the blocks live there.  Returns what input_next_many()
 * did (or -ENOMEM). */
static int fill(struct ahead *a, struct batch *b)
{
	int ret;

	free(b->live);
	b->live = NULL;
	b->nlive = 0;
	b->switch_at = BATCH;
	ret = input_next_many(a->r, a->path, b->ev, a->following ? b->ids : NULL, BATCH, &b->n,
			      &a->err);
	b->follow = a->following ? b->n : 0;
	if (a->following) {
		const struct mt_event *ev = b->ev, *end = b->ev + b->n;
		uint32_t pid = a->pid;
		int seen = a->seen_heap;

		for (; ev < end; ev++) {
			size_t k;

			/* most events: a heap event of the process before, or
			 * neither a heap event nor a process's start */
			if (ev->type == MT_EV_ALLOC || ev->type == MT_EV_FREE) {
				if (seen && ev->pid == pid && !(ev->flags & MT_EVF_PREEXIST))
					continue;
			} else if (ev->type != MT_EV_REALLOC && ev->type != MT_EV_PROC_START) {
				continue;
			}
			if (!stops_following(a, ev)) {
				pid = a->pid;
				seen = a->seen_heap;
				continue;
			}
			k = (size_t)(ev - b->ev);
			a->following = 0;
			b->follow = b->switch_at = k;
			if (live_before(a, b, k, b->n) < 0) {
				/* the events before it stand; then the pass fails */
				status_add(&a->err, "out of memory");
				b->n = k;
				return -ENOMEM;
			}
			break;
		}
	}
	return ret;
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
		ret = fill(a, b);
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
	for (size_t i = 0; i < (two ? SLOTS : 1); i++)
		a->slots[i].live = NULL;
	a->r = r;
	a->path = path;
	a->st = st;
	a->following = 1;
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

		b->ret = fill(a, b);
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
		if (a->c.next != a->c.end)
			return ahead_next(a, ev);
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
		a->c.ids = a->cur->ids;
		a->c.follow_end = a->cur->ev + a->cur->follow;
		a->c.switch_at = a->cur->switch_at < BATCH ? a->cur->ev + a->cur->switch_at : NULL;
	}
}

const struct log_live_block *ahead_switch_blocks(const struct ahead *a, size_t *n)
{
	*n = a->cur->nlive;
	return a->cur->live;
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
	for (size_t i = 0; i < (a->threaded ? SLOTS : 1); i++)
		free(a->slots[i].live);
	free(a->slots);
	free(a);
}
