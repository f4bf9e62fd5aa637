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

#include "../formats/log_reader.h"
#include "input.h"
#include "massif.h"
#include "table.h"

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

HASH_DEFINE(block_table, uint64_t, struct block, table_hash_u64, table_eq_u64)

enum { UNUSED = 0, NORMAL, PEAK };

struct slot {
	int kind;
	struct massif_snapshot s;
};

struct model {
	struct block_table blocks;
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

/* Deletes half the snapshots; returns the new minimum interval. */
static uint64_t cull(struct model *m)
{
	uint64_t min = UINT64_MAX;
	size_t i, j;

	for (int k = 0; k < MAX_SNAPSHOTS / 2; k++) {
		size_t jp = 0, jc, jn, min_j = 0;
		uint64_t span_min = UINT64_MAX;

		for (jc = 1; jc < MAX_SNAPSHOTS && m->snaps[jc].kind == UNUSED; jc++)
			;
		for (jn = jc + 1; jn < MAX_SNAPSHOTS && m->snaps[jn].kind == UNUSED; jn++)
			;
		while (jn < MAX_SNAPSHOTS) {
			uint64_t span = m->snaps[jn].s.time - m->snaps[jp].s.time;

			if (m->snaps[jc].kind != PEAK && span < span_min) {
				span_min = span;
				min_j = jc;
			}
			jp = jc;
			jc = jn;
			for (jn++; jn < MAX_SNAPSHOTS && m->snaps[jn].kind == UNUSED; jn++)
				;
		}
		if (min_j)
			m->snaps[min_j].kind = UNUSED;
	}
	for (i = 0, j = 0; j < MAX_SNAPSHOTS; j++)
		if (m->snaps[j].kind != UNUSED)
			m->snaps[i++] = m->snaps[j];
	for (j = i; j < MAX_SNAPSHOTS; j++)
		m->snaps[j].kind = UNUSED;
	m->next = i;
	for (i = 1; i < m->next; i++) {
		uint64_t span = m->snaps[i].s.time - m->snaps[i - 1].s.time;

		if (!(uncullable(m, i) && uncullable(m, i - 1)) && span < min)
			min = span;
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

static int allocated(struct model *m, uint64_t key, uint64_t req, uint64_t event)
{
	struct block *b;
	int created;

	if (!(b = block_table_put(&m->blocks, key, &created)))
		return -ENOMEM;
	if (!created) /* handed out again: its free was missed */
		account(m, -(int64_t)b->req, -(int64_t)(b->slop + HEAP_ADMIN));
	*b = (struct block){req, slop_of(req)};
	account(m, (int64_t)req, (int64_t)(b->slop + HEAP_ADMIN));
	maybe_snapshot(m, NORMAL, event, 0);
	return 0;
}

static void freed(struct model *m, uint64_t key, uint64_t event)
{
	struct block *b = block_table_get(&m->blocks, key);

	if (!b)
		return; /* massif ignores a free it never saw allocated */
	maybe_snapshot(m, PEAK, event, 1);
	account(m, -(int64_t)b->req, -(int64_t)(b->slop + HEAP_ADMIN));
	block_table_del(&m->blocks, key);
	maybe_snapshot(m, NORMAL, event, 0);
}

static int resized(struct model *m, uint64_t old_key, uint64_t key, uint64_t req, uint64_t event)
{
	struct block *b = block_table_get(&m->blocks, old_key), nb;
	int created;

	if (!b)
		return allocated(m, key, req, event);
	nb = *b;
	if (req < nb.req)
		maybe_snapshot(m, PEAK, event, 1);
	if (req <= nb.req + nb.slop)
		nb.slop += nb.req - req; /* in place */
	else
		nb.slop = slop_of(req);
	account(m, (int64_t)req - (int64_t)b->req, (int64_t)nb.slop - (int64_t)b->slop);
	nb.req = req;
	block_table_del(&m->blocks, old_key);
	if (!(b = block_table_put(&m->blocks, key, &created)))
		return -ENOMEM;
	*b = nb;
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
		    struct massif_snapshot **out, size_t *n, struct an_status *st)
{
	struct model *m = calloc(1, sizeof(*m));
	struct mt_event ev;
	int ret;

	*out = NULL;
	*n = 0;
	if (!m) {
		status_add(st, "out of memory");
		return -ENOMEM;
	}
	/* the start */
	maybe_snapshot(m, NORMAL, 0, 1);
	m->snaps[0].s.at_start = 1;
	while ((ret = input_next(r, log, &ev, st)) > 0) {
		if (pid && ev.pid != pid)
			continue;
		if ((ret = heap_event(m, &ev, log_reader_event_index(r))) < 0) {
			status_add(st, "out of memory");
			break;
		}
	}
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
	block_table_free(&m->blocks);
	free(m);
	return ret;
}
