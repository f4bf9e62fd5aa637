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
#include "cull.h"
#include "massif.h"
#include "replay.h"
#include "table.h"

#define MAX_SNAPSHOTS MASSIF_MAX_SNAPSHOTS
_Static_assert(MAX_SNAPSHOTS == CULL_HELD, "massif culls its snapshots when it holds them all");
#define DETAILED_FREQ 10	 /* --detailed-freq */
#define PEAK_PERCENT  1		 /* --peak-inaccuracy */
#define HEAP_ADMIN    8		 /* --heap-admin */
#define ALIGNMENT     16	 /* --alignment: what valgrind's allocator rounds to */
#define SUPERBLOCK    (4u << 20) /* its client arena's superblocks */
#define BIG_OVERHEAD  64	 /* a block with a superblock of its own: headers */
#define PAGE	      4096

enum { NORMAL = 1, PEAK };

/*
 * The model follows the replay's blocks (replay.heap_out: the size of the
 * block an event freed or replaced), so it keeps no table of blocks: only
 * the slop of the few blocks whose slop is not what valgrind's allocator
 * gives their size (shrunk in place, or grown within their slop), keyed by
 * (space, address).
 */
HASH_DEFINE(slop_table, struct table_key, uint64_t, table_hash_pair, table_eq_pair)

/* What each space holds of the heap: gone with it when its last process
 * exits or execs (as in the trees, snapshot.h). */
struct space_heap {
	uint64_t heap, extra;
};

HASH_DEFINE(space_heaps, uint64_t, struct space_heap, table_hash_u64, table_eq_u64)

/* In front of the odd slops: how many of them hash to each bucket (255:
 * that many or more, never counted down), so that most frees of a block
 * with the usual slop need no look-up. */
#define ODD_FILTER 65536

struct massif_model {
	struct slop_table odd;
	uint8_t odd_filter[ODD_FILTER];
	uint64_t heap, extra, time, peak_total;
	uint64_t peak_limit; /* what the memory must exceed to be a peak */
	/* the snapshots held, [0, next), in the order taken; their times and
	 * which is the peak also apart, as the cull wants them */
	struct massif_snapshot snaps[MAX_SNAPSHOTS];
	uint64_t times[MAX_SNAPSHOTS];
	uint8_t peaks[MAX_SNAPSHOTS];
	size_t next;
	uint64_t min_interval, earliest;
	uint64_t serial; /* snapshots taken */
	uint64_t copies; /* replay.copied.count followed */
	size_t spaces_gone; /* of replay.gone_list, followed */
	uint64_t gone[MAX_SNAPSHOTS / 2]; /* the detailed ones the last cull deleted */
	size_t ngone;
	struct space_heaps spaces;
	struct space_heap *here; /* of space `space`, or NULL */
	uint32_t space;
	int since_detailed;
	int took; /* MASSIF_* of the event so far */
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

/* Deletes half the snapshots (cull.h); returns the new minimum interval. */
static uint64_t cull(struct massif_model *m)
{
	uint8_t gone[MAX_SNAPSHOTS] = {0};
	uint64_t min = cull_snapshots(m->times, m->peaks, gone);
	size_t i, j;

	/* one pass: the detailed ones going noted, the rest moved down */
	m->ngone = 0;
	for (i = 0, j = 0; j < MAX_SNAPSHOTS; j++) {
		if (gone[j]) {
			if (m->snaps[j].detailed)
				m->gone[m->ngone++] = m->snaps[j].serial;
		} else if (i++ != j) {
			m->snaps[i - 1] = m->snaps[j];
			m->times[i - 1] = m->times[j];
			m->peaks[i - 1] = m->peaks[j];
		}
	}
	m->next = i;
	return min;
}

static void maybe_snapshot(struct massif_model *m, int kind, uint64_t event, int before)
{
	int detailed;

	if (kind == NORMAL) {
		if (m->time < m->earliest)
			return;
		detailed = m->since_detailed == DETAILED_FREQ - 1;
	} else {
		uint64_t total = m->heap + m->extra;

		if (total <= m->peak_limit)
			return;
		detailed = 1;
	}
	if (kind == PEAK) {
		/* the last one is a peak no longer */
		m->peak_total = m->heap + m->extra;
		m->peak_limit = m->peak_total + m->peak_total * PEAK_PERCENT / 100;
		memset(m->peaks, 0, m->next);
	}
	m->snaps[m->next] = (struct massif_snapshot){.event = event,
						     .before = before,
						     .detailed = detailed,
						     .serial = ++m->serial,
						     .time = m->time,
						     .heap = m->heap,
						     .extra = m->extra};
	m->times[m->next] = m->time;
	m->peaks[m->next] = kind == PEAK;
	m->since_detailed = detailed ? 0 : m->since_detailed + 1;
	m->took |= detailed ? MASSIF_DETAILED : MASSIF_TOOK;
	if (++m->next == MAX_SNAPSHOTS) {
		m->min_interval = cull(m);
		m->took |= MASSIF_CULLED;
	}
	m->earliest = m->time + m->min_interval;
}

/* space_heap() for another space than the last one's. */
static __attribute__((noinline)) struct space_heap *space_heap_put(struct massif_model *m,
								   uint32_t space)
{
	int created;

	/* a put may move the entries: only the one returned is kept */
	m->here = space_heaps_put(&m->spaces, space, &created);
	m->space = space;
	return m->here;
}

/* The heap of a space (most often the last one asked for). */
static inline struct space_heap *space_heap(struct massif_model *m, uint32_t space)
{
	return m->here && m->space == space ? m->here : space_heap_put(m, space);
}

/* Blocks of space grew or shrank; moved: massif's clock goes on. */
static int account_in(struct massif_model *m, uint32_t space, int64_t dheap, int64_t dextra,
		      int moved)
{
	struct space_heap *sh = space_heap(m, space);
	int64_t d = dheap + dextra;

	if (!sh)
		return -ENOMEM;
	sh->heap += (uint64_t)dheap;
	sh->extra += (uint64_t)dextra;
	m->heap += (uint64_t)dheap;
	m->extra += (uint64_t)dextra;
	if (moved)
		m->time += (uint64_t)(d < 0 ? -d : d);
	return 0;
}

static uint8_t *odd_bucket(struct massif_model *m, uint32_t space, uint64_t addr)
{
	return &m->odd_filter[((addr >> 4) ^ space * 0x9e3779b9u) & (ODD_FILTER - 1)];
}

/* The slop of the block of req bytes at addr that is going (forgotten). */
static uint64_t slop_taken(struct massif_model *m, uint32_t space, uint64_t addr, uint64_t req)
{
	uint8_t *bucket = odd_bucket(m, space, addr);
	uint64_t *odd;
	uint64_t slop;

	if (!*bucket || !(odd = slop_table_get(&m->odd, TABLE_KEY(space, addr))))
		return slop_of(req);
	slop = *odd;
	slop_table_del(&m->odd, TABLE_KEY(space, addr));
	if (*bucket != 255)
		--*bucket;
	return slop;
}

/* A block of req bytes with this slop is now at addr. */
static int slop_given(struct massif_model *m, uint32_t space, uint64_t addr, uint64_t req,
		      uint64_t slop)
{
	uint64_t *odd;
	int created;

	if (slop == slop_of(req))
		return 0;
	if (!(odd = slop_table_put(&m->odd, TABLE_KEY(space, addr), &created)))
		return -ENOMEM;
	*odd = slop;
	if (created && *odd_bucket(m, space, addr) != 255)
		++*odd_bucket(m, space, addr);
	return 0;
}

int massif_model_new(struct massif_model **out)
{
	struct massif_model *m = calloc(1, sizeof(*m));

	*out = m;
	if (!m)
		return -ENOMEM;
	slop_table_init(&m->odd);
	space_heaps_init(&m->spaces);
	/* the start */
	maybe_snapshot(m, NORMAL, 0, 1);
	m->snaps[0].at_start = 1;
	m->took = 0;
	return 0;
}

void massif_model_free(struct massif_model *m)
{
	if (!m)
		return;
	slop_table_free(&m->odd);
	space_heaps_free(&m->spaces);
	free(m);
}

/* Does the event free (or shrink) a block massif sees, when its memory is
 * a peak?  Only asked when it would be one. */
int massif_before(struct massif_model *m, struct replay *rp, const struct mt_event *ev,
		  uint64_t index)
{
	uint64_t addr, size;
	int ret;

	m->took = 0;
	/* most events: an allocation, or no peak near */
	if ((ev->type != MT_EV_FREE && ev->type != MT_EV_REALLOC) ||
	    m->heap + m->extra <= m->peak_limit)
		return 0;
	if (ev->type == MT_EV_FREE)
		addr = ev->addr;
	else if (ev->type == MT_EV_REALLOC && ev->old_addr && (ev->addr || !ev->size))
		addr = ev->old_addr;
	else
		return 0;
	if ((ev->flags & MT_EVF_PREEXIST) || (ret = replay_heap_block(rp, ev->pid, addr, &size)) == 0)
		return 0; /* massif ignores a free it never saw allocated */
	if (ret < 0)
		return ret;
	/* a free, realloc(p, 0), or a realloc that shrinks */
	if (ev->type == MT_EV_FREE || !ev->addr || ev->size < size)
		maybe_snapshot(m, PEAK, index, 1);
	return m->took;
}

static int freed(struct massif_model *m, const struct replay_heap_out *h, uint64_t addr,
		 uint64_t index)
{
	if (!h->freed)
		return 0; /* massif ignores a free it never saw allocated */
	if (account_in(m, h->space, -(int64_t)h->freed_size,
		       -(int64_t)(slop_taken(m, h->space, addr, h->freed_size) + HEAP_ADMIN), 1) < 0)
		return -ENOMEM;
	maybe_snapshot(m, NORMAL, index, 0);
	return 0;
}

/* A block of req bytes at addr, allocated, or resized from old_addr. */
static int allocated(struct massif_model *m, const struct replay_heap_out *h, uint64_t old_addr,
		     uint64_t addr, uint64_t req, uint64_t index)
{
	uint64_t slop;

	if (h->replaced) /* handed out again: its free was missed */
		if (account_in(m, h->space, -(int64_t)h->replaced_size,
			       -(int64_t)(slop_taken(m, h->space, addr, h->replaced_size) + HEAP_ADMIN),
			       1) < 0)
			return -ENOMEM;
	if (old_addr && h->freed) {
		/* resized: in place when it fits its slop (which grows by what
		 * it shrank), else moved, with the slop of its new size */
		uint64_t old = h->freed_size, old_slop = slop_taken(m, h->space, old_addr, old);

		slop = req <= old + old_slop ? old_slop + old - req : slop_of(req);
		if (account_in(m, h->space, (int64_t)req - (int64_t)old,
			       (int64_t)slop - (int64_t)old_slop, 1) < 0)
			return -ENOMEM;
	} else {
		slop = slop_of(req);
		if (account_in(m, h->space, (int64_t)req, (int64_t)(slop + HEAP_ADMIN), 1) < 0)
			return -ENOMEM;
	}
	if (slop_given(m, h->space, addr, req, slop) < 0)
		return -ENOMEM;
	maybe_snapshot(m, NORMAL, index, 0);
	return 0;
}

/* The event as the replay applied it. */
int massif_after(struct massif_model *m, const struct replay *rp, const struct mt_event *ev,
		 uint64_t index)
{
	const struct replay_heap_out *h = &rp->heap_out;
	int ret = 0;

	m->took = 0;
	if (rp->copied.count != m->copies) {
		/* a fork: the child holds a copy of its parent's blocks (no
		 * time passes) */
		m->copies = rp->copied.count;
		for (uint32_t n = rp->copied.first; n < rp->copied.end; n++) {
			const struct lot *l = &rp->lots[n - 1];

			if (!replay_space_selected(rp, l->space))
				break;
			if (account_in(m, l->space, (int64_t)(l->now.live * l->size),
				       (int64_t)(l->now.live * (slop_of(l->size) + HEAP_ADMIN)),
				       0) < 0)
				return -ENOMEM;
		}
	}
	for (; m->spaces_gone < rp->ngone; m->spaces_gone++) {
		/* a space went: what it held is no longer in use */
		uint32_t space = rp->gone_list[m->spaces_gone];
		const struct space_heap *sh = space_heap(m, space);

		if (!sh || account_in(m, space, -(int64_t)sh->heap, -(int64_t)sh->extra, 0) < 0)
			return -ENOMEM;
	}
	if (!h->counts)
		return m->took;
	switch (ev->type) {
	case MT_EV_ALLOC:
		if (ev->addr)
			ret = allocated(m, h, 0, ev->addr, ev->size, index);
		break;
	case MT_EV_FREE:
		ret = freed(m, h, ev->addr, index);
		break;
	case MT_EV_REALLOC:
		if (!ev->old_addr) {
			if (ev->addr)
				ret = allocated(m, h, 0, ev->addr, ev->size, index);
		} else if (ev->addr) {
			ret = allocated(m, h, ev->old_addr, ev->addr, ev->size, index);
		} else if (!ev->size) { /* realloc(p, 0) frees p */
			ret = freed(m, h, ev->old_addr, index);
		} /* else failed: the block stays */
		break;
	default:
		break;
	}
	return ret < 0 ? ret : m->took;
}

size_t massif_culled(const struct massif_model *m, const uint64_t **serials)
{
	*serials = m->gone;
	return m->ngone;
}

uint64_t massif_last(const struct massif_model *m)
{
	return m->snaps[m->next - 1].serial;
}

size_t massif_held(const struct massif_model *m, struct massif_snapshot *out)
{
	for (size_t i = 0; i < m->next; i++) {
		out[i] = m->snaps[i];
		out[i].peak = m->peaks[i];
	}
	return m->next;
}
