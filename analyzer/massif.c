/*
 * massif.c - valgrind massif's account of a run, replayed from a log, so
 * that `memtrack export --format massif` writes the file massif writes for
 * the same program: the same clock, the same snapshots.
 *
 * Massif's clock (--time-unit=B) counts the bytes of every block allocated
 * and freed, each with its extra bytes: valgrind's own allocator hands out
 * a request rounded up (the slop, slop_of) and keeps 8 bytes of admin.
 * A realloc counts by how much the block's bytes, extra included, grew or
 * shrank: a block shrunk, or grown within its slop, stays where it is and
 * keeps its bytes (its slop grows), so shrinking it costs no time at all;
 * a block that must grow moves, and gets the slop of its new size.
 *
 * Its snapshots: one at the start, one after each allocation and free once
 * the clock has moved on by the minimum interval since the last one (0 at
 * first), every 10th of those detailed.  Before a free, or a realloc that
 * shrinks, the memory in use (extra included) is a peak if it exceeds the
 * last peak snapshot's by more than 1%: a detailed peak snapshot is taken
 * there, and the last one becomes an ordinary one.  When 100 snapshots are
 * held, half of them go, one at a time, each the one whose neighbours are
 * closest in time (never the first, the last or the peak); the minimum
 * interval becomes the smallest gap left (gaps between two snapshots that
 * never go do not count).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/blocks.h"
#include "../formats/log_reader.h"
#include "ahead.h"
#include "input.h"
#include "massif.h"

#define MAX_SNAPSHOTS 100	 /* --max-snapshots */
#define DETAILED_FREQ 10	 /* --detailed-freq */
#define PEAK_PERCENT  1		 /* --peak-inaccuracy */
#define HEAP_ADMIN    8		 /* --heap-admin */
#define ALIGNMENT     16	 /* --alignment: what valgrind's allocator rounds to */
#define SUPERBLOCK    (4u << 20) /* its client arena's superblocks */
#define BIG_OVERHEAD  64	 /* a block with a superblock of its own: headers */
#define PAGE	      4096

struct block {
	uint64_t req, slop;
};

enum { UNUSED = 0, NORMAL, PEAK };

struct slot {
	int kind;
	struct massif_snapshot s;
};

/*
 * The live blocks, by address (their process's number in the top bits
 * where several share a log), in the compact table of formats/blocks.h:
 * a block's value is its request size when its slop is what valgrind's
 * allocator gives that size (all but a block shrunk in place, or grown
 * within its slop) and the size fits in 31 bits; else the index of its
 * {req, slop} in a side array, with BIG set.
 */
#define BIG 0x80000000u

struct model {
	struct blocks blocks;
	struct block *big;	/* the blocks of BIG values */
	uint32_t nbig, big_cap, big_free; /* big_free: a list through req, + 1 */
	uint64_t heap, extra, time, peak_total;
	struct slot snaps[MAX_SNAPSHOTS];
	size_t next;
	uint64_t min_interval, earliest;
	int since_detailed;
};

/* What valgrind's allocator adds to a request: rounded up to 16 bytes; a
 * block too big for its 4 MiB superblocks gets a superblock of its own, in
 * whole pages, 64 bytes of it headers.  (An aligned block's slop depends on
 * where the allocator finds room for it: it is taken as an unaligned
 * one's.) */
static uint64_t slop_of(uint64_t req)
{
	uint64_t usable;

	if (req + BIG_OVERHEAD > SUPERBLOCK)
		usable = (req + BIG_OVERHEAD + PAGE - 1) / PAGE * PAGE - BIG_OVERHEAD;
	else
		usable = (req + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
	return usable - req;
}

static int uncullable(const struct model *m, size_t i)
{
	return i == 0 || i == m->next - 1 || m->snaps[i].kind == PEAK;
}

/*
 * Culling: half the snapshots go, one at a time, each the candidate whose
 * neighbours are closest in time (its span: the next one's time less the
 * previous one's; the lowest index of equals), the first, the last and the
 * peak being no candidates.  While the minimum interval stays 0 that is
 * every 50 events, too often for the rule as it reads, a scan for each
 * deletion (cull_plain: kept for times no run has, out of order or 2^57
 * bytes apart).  With times in order a span only grows when a neighbour
 * goes; from that, cull_newest sees when the newest half is what goes, as
 * it nearly always is then, and cull_local does the rest: a local minimum
 * (a candidate whose span is less than both its neighbours') stays one,
 * its span unchanged, until it goes, as neither neighbour can go first;
 * the least candidate is always one; so it keeps just the local minima, in
 * order, and after a deletion looks for new ones two snapshots either side.
 */
#define CULL	   (MAX_SNAPSHOTS / 2)
#define INDEX_BITS 7 /* an index below MAX_SNAPSHOTS */
#define NONE	   UINT64_MAX

/* The rule as written: times in any order (spans wrap). */
static void cull_plain(const uint64_t *t, const uint8_t *cand, uint8_t *gone)
{
	uint8_t prev[MAX_SNAPSHOTS], next[MAX_SNAPSHOTS];

	for (int i = 0; i < MAX_SNAPSHOTS; i++) {
		prev[i] = (uint8_t)(i - 1);
		next[i] = (uint8_t)(i + 1);
	}
	for (int k = 0; k < CULL; k++) {
		uint64_t least = 0;
		int c = -1;

		for (int i = next[0]; i != MAX_SNAPSHOTS - 1; i = next[i]) {
			uint64_t span = t[next[i]] - t[prev[i]];

			if (cand[i] && (c < 0 || span < least)) {
				c = i;
				least = span;
			}
		}
		if (c < 0)
			break;
		gone[c] = 1;
		next[prev[c]] = next[c];
		prev[next[c]] = prev[c];
	}
}

/*
 * cull_local's state.  A candidate's key is its span above its index, so
 * that one comparison orders by both (exact for spans below 2^57); NONE
 * for the others.  Index MAX_SNAPSHOTS is the neighbour of the first and
 * the last, of key NONE.  Local minima are never neighbours: at most 49.
 */
struct local {
	uint64_t key[MAX_SNAPSHOTS + 1];
	uint8_t prev[MAX_SNAPSHOTS + 1], next[MAX_SNAPSHOTS + 1];
	uint8_t held[MAX_SNAPSHOTS + 1]; /* in min[] */
	uint64_t min[CULL];		 /* the local minima's keys, greatest first */
	size_t nmin;
};

static inline void local_check(struct local *l, unsigned i)
{
	uint64_t k = l->key[i];
	size_t j;

	if (l->held[i] || k >= l->key[l->prev[i]] || k >= l->key[l->next[i]])
		return;
	l->held[i] = 1;
	/* a new one is mostly among the least */
	for (j = l->nmin++; j > 0 && l->min[j - 1] < k; j--)
		l->min[j] = l->min[j - 1];
	l->min[j] = k;
}

static void cull_local(const uint64_t *t, const uint8_t *cand, uint8_t *gone)
{
	struct local l;

	l.nmin = 0;
	for (unsigned i = 0; i <= MAX_SNAPSHOTS; i++) {
		l.prev[i] = (uint8_t)(i ? i - 1 : MAX_SNAPSHOTS);
		l.next[i] = (uint8_t)(i < MAX_SNAPSHOTS - 1 ? i + 1 : MAX_SNAPSHOTS);
		l.key[i] = i > 0 && i < MAX_SNAPSHOTS - 1 && cand[i]
				   ? (t[i + 1] - t[i - 1]) << INDEX_BITS | i
				   : NONE;
		l.held[i] = 0;
	}
	for (unsigned i = 1; i < MAX_SNAPSHOTS - 1; i++)
		local_check(&l, i);
	for (int k = 0; k < CULL && l.nmin; k++) {
		unsigned c = l.min[--l.nmin] & ((1u << INDEX_BITS) - 1);
		unsigned p = l.prev[c], n = l.next[c];

		gone[c] = 1;
		l.next[p] = (uint8_t)n;
		l.prev[n] = (uint8_t)p;
		if (l.key[p] != NONE)
			l.key[p] = (t[n] - t[l.prev[p]]) << INDEX_BITS | p;
		if (l.key[n] != NONE)
			l.key[n] = (t[l.next[n]] - t[p]) << INDEX_BITS | n;
		/* p and n changed; so did a neighbour of each's other one */
		local_check(&l, l.prev[p]);
		local_check(&l, p);
		local_check(&l, n);
		local_check(&l, l.next[n]);
	}
}

/*
 * Deletes the newest CULL candidates, those from index a on, if they are
 * what the rule deletes: 1, else 0.  With times in order, while they go
 * each one's span stays within time[last] - time[a-1] (a-1 and the last
 * stay: a-1 is no candidate, or one whose span is larger); so if every
 * older candidate's span is larger already, one of them is the least as
 * long as any is left.  A run at interval 0 culls so nearly every time:
 * its newest half, a snapshot an event, against an older one spread out.
 */
static int cull_newest(const uint64_t *t, const uint8_t *cand, uint8_t *gone)
{
	size_t a = MAX_SNAPSHOTS - 1, n = 0, i;
	uint64_t bound;
	int larger = 1;

	while (n < CULL && a > 1)
		n += cand[--a];
	bound = t[MAX_SNAPSHOTS - 1] - t[a - 1];
	for (i = 1; i < a; i++)
		larger &= !cand[i] || t[i + 1] - t[i - 1] > bound;
	if (!larger)
		return 0;
	for (i = a; i < MAX_SNAPSHOTS - 1; i++)
		gone[i] = cand[i];
	return 1;
}

/* Deletes half the snapshots (see above); returns the new minimum
 * interval. */
static uint64_t cull(struct model *m)
{
	uint64_t t[MAX_SNAPSHOTS], min = UINT64_MAX;
	uint8_t cand[MAX_SNAPSHOTS], gone[MAX_SNAPSHOTS] = {0};
	int in_order = 1;
	size_t i, j;

	for (i = 0; i < MAX_SNAPSHOTS; i++) {
		t[i] = m->snaps[i].s.time;
		cand[i] = m->snaps[i].kind != PEAK;
		in_order &= !i || t[i - 1] <= t[i];
	}
	cand[0] = cand[MAX_SNAPSHOTS - 1] = 0;
	if (!in_order)
		cull_plain(t, cand, gone);
	else if (cull_newest(t, cand, gone))
		;
	else if ((t[MAX_SNAPSHOTS - 1] - t[0]) >> (64 - INDEX_BITS) == 0)
		cull_local(t, cand, gone);
	else
		cull_plain(t, cand, gone);
	for (i = 0; i < MAX_SNAPSHOTS && !gone[i]; i++)
		;
	for (j = i; j < MAX_SNAPSHOTS; j++)
		if (!gone[j])
			m->snaps[i++] = m->snaps[j];
	for (j = i; j < MAX_SNAPSHOTS; j++)
		m->snaps[j].kind = UNUSED;
	m->next = i;
	for (i = 1; i < m->next; i++) {
		uint64_t gap = m->snaps[i].s.time - m->snaps[i - 1].s.time;

		if (!(uncullable(m, i) && uncullable(m, i - 1)) && gap < min)
			min = gap;
	}
	return min == UINT64_MAX ? 0 : min;
}

static void maybe_snapshot(struct model *m, int kind, uint64_t event, int before)
{
	struct slot *sl;
	int detailed;

	if (kind == NORMAL) {
		if (m->time < m->earliest)
			return;
		detailed = m->since_detailed == DETAILED_FREQ - 1;
	} else {
		uint64_t total = m->heap + m->extra;

		if (total <= m->peak_total + m->peak_total * PEAK_PERCENT / 100)
			return;
		detailed = 1;
	}
	sl = &m->snaps[m->next];
	*sl = (struct slot){kind,
			    {.event = event,
			     .before = before,
			     .detailed = detailed,
			     .time = m->time,
			     .heap = m->heap,
			     .extra = m->extra}};
	m->since_detailed = detailed ? 0 : m->since_detailed + 1;
	if (kind == PEAK) {
		m->peak_total = m->heap + m->extra;
		for (size_t i = 0; i < m->next; i++)
			if (m->snaps[i].kind == PEAK)
				m->snaps[i].kind = NORMAL;
	}
	if (++m->next == MAX_SNAPSHOTS)
		m->min_interval = cull(m);
	m->earliest = m->time + m->min_interval;
}

static void account(struct model *m, int64_t dheap, int64_t dextra)
{
	int64_t d = dheap + dextra;

	m->heap += (uint64_t)dheap;
	m->extra += (uint64_t)dextra;
	m->time += (uint64_t)(d < 0 ? -d : d);
}

/* Forgets the side entry of a value, if it has one. */
static void value_drop(struct model *m, uint32_t v)
{
	if (!(v & BIG))
		return;
	m->big[v & ~BIG].req = m->big_free;
	m->big_free = (v & ~BIG) + 1;
}

/* The value of block b: its size, or a side entry for it. */
static int value_of(struct model *m, struct block b, uint32_t *v)
{
	uint32_t i;

	if (b.req < BIG && b.slop == slop_of(b.req)) {
		*v = (uint32_t)b.req;
		return 0;
	}
	if (m->big_free) {
		i = m->big_free - 1;
		m->big_free = (uint32_t)m->big[i].req;
	} else {
		if (m->nbig == m->big_cap) {
			uint32_t cap = m->big_cap ? m->big_cap * 2 : 64;
			struct block *v2 = cap < BIG ? realloc(m->big, cap * sizeof(*v2)) : NULL;

			if (!v2)
				return -ENOMEM;
			m->big = v2;
			m->big_cap = cap;
		}
		i = m->nbig++;
	}
	m->big[i] = b;
	*v = BIG | i;
	return 0;
}

/* Puts block b at key: 1 when a block was there (it is replaced, and
 * was *old), 0 when none was, or -ENOMEM. */
static int block_put(struct model *m, uint64_t key, struct block b, struct block *old)
{
	uint32_t v, was;
	int ret = value_of(m, b, &v);

	if (ret == 0 && (ret = blocks_put(&m->blocks, key, v, &was)) == 1) {
		*old = was & BIG ? m->big[was & ~BIG] : (struct block){was, slop_of(was)};
		value_drop(m, was);
	}
	return ret;
}

/* Takes the block at key out, into *b: 1, or 0 when there is none. */
static int block_take(struct model *m, uint64_t key, struct block *b)
{
	uint32_t v;

	if (!blocks_take(&m->blocks, key, &v))
		return 0;
	*b = v & BIG ? m->big[v & ~BIG] : (struct block){v, slop_of(v)};
	value_drop(m, v);
	return 1;
}

static int allocated(struct model *m, uint64_t key, uint64_t req, uint64_t event)
{
	struct block b = {req, slop_of(req)}, old;
	int ret = block_put(m, key, b, &old);

	if (ret < 0)
		return ret;
	if (ret == 1) /* handed out again: its free was missed */
		account(m, -(int64_t)old.req, -(int64_t)(old.slop + HEAP_ADMIN));
	account(m, (int64_t)req, (int64_t)(b.slop + HEAP_ADMIN));
	maybe_snapshot(m, NORMAL, event, 0);
	return 0;
}

static void freed(struct model *m, uint64_t key, uint64_t event)
{
	struct block b;

	if (!block_take(m, key, &b))
		return; /* massif ignores a free it never saw allocated */
	maybe_snapshot(m, PEAK, event, 1);
	account(m, -(int64_t)b.req, -(int64_t)(b.slop + HEAP_ADMIN));
	maybe_snapshot(m, NORMAL, event, 0);
}

static int resized(struct model *m, uint64_t old_key, uint64_t key, uint64_t req, uint64_t event)
{
	struct block b, nb;

	if (!block_take(m, old_key, &b))
		return allocated(m, key, req, event);
	nb = b;
	if (req < nb.req)
		maybe_snapshot(m, PEAK, event, 1);
	if (req <= nb.req + nb.slop)
		nb.slop += nb.req - req; /* in place */
	else
		nb.slop = slop_of(req);
	account(m, (int64_t)req - (int64_t)b.req, (int64_t)nb.slop - (int64_t)b.slop);
	nb.req = req;
	if (block_put(m, key, nb, &b) < 0)
		return -ENOMEM;
	maybe_snapshot(m, NORMAL, event, 0);
	return 0;
}

/* A block's key: its address, and its process where several share a log
 * (user addresses are below 2^47). */
static uint64_t key_of(uint64_t addr, uint32_t pid)
{
	return addr ^ ((uint64_t)pid << 47);
}

static int heap_event(struct model *m, const struct mt_event *ev, uint64_t event)
{
	switch (ev->type) {
	case MT_EV_ALLOC:
		return ev->addr ? allocated(m, key_of(ev->addr, ev->pid), ev->size, event) : 0;
	case MT_EV_FREE:
		freed(m, key_of(ev->addr, ev->pid), event);
		return 0;
	case MT_EV_REALLOC:
		if (!ev->old_addr)
			return ev->addr ? allocated(m, key_of(ev->addr, ev->pid), ev->size, event)
					: 0;
		if (ev->addr)
			return resized(m, key_of(ev->old_addr, ev->pid), key_of(ev->addr, ev->pid),
				       ev->size, event);
		if (!ev->size) /* realloc(p, 0) frees p */
			freed(m, key_of(ev->old_addr, ev->pid), event);
		return 0; /* else failed: the block stays */
	default:
		return 0;
	}
}

int massif_schedule(struct log_reader *r, const char *log, uint32_t pid,
		    struct massif_snapshot **out, size_t *n, struct massif_run *run,
		    struct an_status *st)
{
	struct model *m = calloc(1, sizeof(*m));
	const struct mt_event *ev;
	struct ahead *ah = NULL;
	uint64_t index = 0;
	uint32_t first_pid = 0;
	int ret;

	*out = NULL;
	*n = 0;
	memset(run, 0, sizeof(*run));
	if (!m) {
		status_add(st, "out of memory");
		return -ENOMEM;
	}
	/* the start */
	maybe_snapshot(m, NORMAL, 0, 1);
	m->snaps[0].s.at_start = 1;
	ret = ahead_begin(&ah, r, log, st);
	for (; ah && (ret = ahead_next(ah, &ev)) > 0; index++) {
		run->end_ns = ev->time_ns;
		run->has_rss |= ev->type == MT_EV_RSS;
		if (!index)
			first_pid = ev->pid;
		run->multi_process |= !pid && ev->pid != first_pid;
		if (pid && ev->pid != pid)
			continue;
		run->pid_seen = 1;
		if ((ret = heap_event(m, ev, index)) < 0) {
			status_add(st, "out of memory");
			break;
		}
	}
	ahead_end(ah);
	if (ret == 0 && (ret = log_reader_rewind(r)) < 0)
		status_add(st, "%s: cannot read the log again: %s", log, strerror(-ret));
	if (ret == 0 && !(*out = malloc(m->next * sizeof(**out)))) {
		status_add(st, "out of memory");
		ret = -ENOMEM;
	}
	if (ret == 0) {
		for (size_t i = 0; i < m->next; i++) {
			(*out)[i] = m->snaps[i].s;
			(*out)[i].peak = m->snaps[i].kind == PEAK;
		}
		*n = m->next;
	}
	blocks_free(&m->blocks);
	free(m->big);
	free(m);
	return ret;
}
