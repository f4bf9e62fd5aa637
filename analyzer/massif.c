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
#include "ahead.h"
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

/* A snapshot held, but for what the cull wants apart (its time, whether
 * it is the peak) and its flags. */
struct held {
	uint64_t heap, extra, serial, event;
};

enum { BEFORE = 1, DETAILED = 2, AT_START = 4 };

struct massif_model {
	uint64_t heap, extra, time;
	uint64_t earliest, min_interval;
	uint64_t peak_limit;	 /* what the memory must exceed to be a peak */
	struct space_heap *here; /* of space `space`, or NULL */
	uint32_t space;
	int since_detailed;
	int took; /* MASSIF_* of the event so far */
	/* the snapshots held, [0, next), in the order taken */
	size_t next;
	uint64_t serial; /* snapshots taken */
	uint64_t times[MAX_SNAPSHOTS];
	uint8_t peaks[MAX_SNAPSHOTS];
	uint8_t flags[MAX_SNAPSHOTS];
	struct held held[MAX_SNAPSHOTS];
	uint64_t copies;    /* replay.copied.count followed */
	size_t spaces_gone; /* of replay.gone_list, followed */
	struct cull_memo memo;
	uint64_t gone[MAX_SNAPSHOTS / 2]; /* the detailed ones the last cull deleted */
	size_t ngone;
	struct space_heaps spaces;
	struct slop_table odd;
	uint8_t odd_filter[ODD_FILTER];
};

/* What valgrind's allocator adds to a request: rounded up to 16 bytes; a
 * block too big for its 4 MiB superblocks gets a superblock of its own, in
 * whole pages, 64 bytes of it headers.  (An aligned block's slop depends on
 * where the allocator finds room for it: it is taken as an unaligned
 * one's.) */
static inline uint64_t slop_of(uint64_t req)
{
	uint64_t usable;

	if (__builtin_expect(req + BIG_OVERHEAD > SUPERBLOCK, 0))
		usable = (req + BIG_OVERHEAD + PAGE - 1) / PAGE * PAGE - BIG_OVERHEAD;
	else
		usable = (req + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
	return usable - req;
}

/* Deletes half the snapshots (cull.h) and sets the new minimum interval. */
static __attribute__((noinline)) void cull(struct massif_model *m)
{
	uint8_t gone[MAX_SNAPSHOTS] = {0};
	const uint8_t *first;
	size_t i, j;

	m->min_interval = cull_snapshots_memo(&m->memo, m->times, m->peaks, gone);
	m->took |= MASSIF_CULLED;
	m->ngone = 0;
	/* one pass from the first that goes (most often the newest half):
	 * the detailed ones going noted, the rest moved down */
	first = memchr(gone, 1, MAX_SNAPSHOTS);
	i = j = first ? (size_t)(first - gone) : MAX_SNAPSHOTS;
	for (; j < MAX_SNAPSHOTS; j++) {
		if (gone[j]) {
			if (m->flags[j] & DETAILED)
				m->gone[m->ngone++] = m->held[j].serial;
		} else {
			m->held[i] = m->held[j];
			m->times[i] = m->times[j];
			m->peaks[i] = m->peaks[j];
			m->flags[i++] = m->flags[j];
		}
	}
	m->next = i;
}

/* A snapshot now, of the event (flags: BEFORE it, DETAILED). */
static inline void take(struct massif_model *m, uint64_t event, uint8_t flags, uint8_t peak)
{
	size_t i = m->next;

	m->held[i] = (struct held){m->heap, m->extra, ++m->serial, event};
	m->times[i] = m->time;
	m->peaks[i] = peak;
	m->flags[i] = flags;
	m->since_detailed = flags & DETAILED ? 0 : m->since_detailed + 1;
	m->took |= flags & DETAILED ? MASSIF_DETAILED : MASSIF_TOOK;
	if (++m->next == MAX_SNAPSHOTS)
		cull(m);
	m->earliest = m->time + m->min_interval;
}

/* After an allocation or a free: a snapshot once the clock has moved on
 * by the minimum interval, every 10th detailed. */
static inline void after_change(struct massif_model *m, uint64_t event)
{
	if (m->time >= m->earliest)
		take(m, event, m->since_detailed == DETAILED_FREQ - 1 ? DETAILED : 0, 0);
}

/* Before a free (or a shrink) when the memory in use exceeds the last
 * peak's by more than 1%: a detailed peak snapshot, the last one a peak
 * no longer. */
static __attribute__((noinline)) void peak_snapshot(struct massif_model *m, uint64_t event)
{
	uint64_t total = m->heap + m->extra;

	m->peak_limit = total + total * PEAK_PERCENT / 100;
	memset(m->peaks, 0, m->next);
	take(m, event, BEFORE | DETAILED, 1);
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

/* The heap of a space (most often the last one asked for); valid until
 * the next call. */
static inline struct space_heap *space_heap(struct massif_model *m, uint32_t space)
{
	return m->here && m->space == space ? m->here : space_heap_put(m, space);
}

/* Blocks of a space grew or shrank (no time passes). */
static inline void account(struct massif_model *m, struct space_heap *sh, int64_t dheap,
			   int64_t dextra)
{
	sh->heap += (uint64_t)dheap;
	sh->extra += (uint64_t)dextra;
	m->heap += (uint64_t)dheap;
	m->extra += (uint64_t)dextra;
}

/* ...and massif's clock goes on by how much. */
static inline void account_moved(struct massif_model *m, struct space_heap *sh, int64_t dheap,
				 int64_t dextra)
{
	int64_t d = dheap + dextra;

	account(m, sh, dheap, dextra);
	m->time += (uint64_t)(d < 0 ? -d : d);
}

static inline uint8_t *odd_bucket(struct massif_model *m, uint32_t space, uint64_t addr)
{
	return &m->odd_filter[((addr >> 4) ^ space * 0x9e3779b9u) & (ODD_FILTER - 1)];
}

/* slop_taken() when the filter lets an odd slop be there. */
static __attribute__((noinline)) uint64_t odd_taken(struct massif_model *m, uint8_t *bucket,
						    uint32_t space, uint64_t addr, uint64_t req)
{
	uint64_t *odd = slop_table_get(&m->odd, TABLE_KEY(space, addr));
	uint64_t slop;

	if (!odd)
		return slop_of(req);
	slop = *odd;
	slop_table_del(&m->odd, TABLE_KEY(space, addr));
	if (*bucket != 255)
		--*bucket;
	return slop;
}

/* The slop of the block of req bytes at addr that is going (forgotten). */
static inline uint64_t slop_taken(struct massif_model *m, uint32_t space, uint64_t addr,
				  uint64_t req)
{
	uint8_t *bucket;

	/* most often there is none: the filter's line not even read */
	if (!m->odd.len || !*(bucket = odd_bucket(m, space, addr)))
		return slop_of(req);
	return odd_taken(m, bucket, space, addr, req);
}

/* A block of req bytes now at addr has a slop not its size's. */
static __attribute__((noinline)) int odd_given(struct massif_model *m, uint32_t space,
					       uint64_t addr, uint64_t slop)
{
	uint64_t *odd;
	int created;

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
	take(m, 0, BEFORE | AT_START, 0);
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

/* Would a free now be at a peak (massif_before() to be asked)? */
static inline int near_peak(const struct massif_model *m)
{
	return m->heap + m->extra > m->peak_limit ? MASSIF_NEAR_PEAK : 0;
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
	if ((ev->flags & MT_EVF_PREEXIST) ||
	    (ret = replay_heap_block(rp, ev->pid, addr, &size)) == 0)
		return 0; /* massif ignores a free it never saw allocated */
	if (ret < 0)
		return ret;
	/* a free, realloc(p, 0), or a realloc that shrinks */
	if (ev->type == MT_EV_FREE || !ev->addr || ev->size < size)
		peak_snapshot(m, index);
	return m->took;
}

/* The block of h->freed_size bytes at addr, freed. */
static inline __attribute__((always_inline)) void freed(struct massif_model *m,
							struct space_heap *sh,
							const struct replay_heap_out *h,
							uint64_t addr, uint64_t index)
{
	uint64_t size = h->freed_size, extra = slop_taken(m, h->space, addr, size) + HEAP_ADMIN;

	account_moved(m, sh, -(int64_t)size, -(int64_t)extra);
	after_change(m, index);
}

/* A live block handed out again at addr: its free was missed. */
static inline void freed_missed(struct massif_model *m, struct space_heap *sh,
				const struct replay_heap_out *h, uint64_t addr)
{
	uint64_t size = h->replaced_size, extra = slop_taken(m, h->space, addr, size) + HEAP_ADMIN;

	account_moved(m, sh, -(int64_t)size, -(int64_t)extra);
}

/* A block of req bytes at addr, allocated. */
static inline void allocated(struct massif_model *m, struct space_heap *sh, uint64_t req,
			     uint64_t index)
{
	account_moved(m, sh, (int64_t)req, (int64_t)(slop_of(req) + HEAP_ADMIN));
	after_change(m, index);
}

/* A block of h->freed_size bytes at old_addr, resized to req bytes at
 * addr: in place when it fits its slop (which grows by what it shrank),
 * else moved, with the slop of its new size. */
static int resized(struct massif_model *m, struct space_heap *sh, const struct replay_heap_out *h,
		   uint64_t old_addr, uint64_t addr, uint64_t req, uint64_t index)
{
	uint64_t old = h->freed_size, old_slop = slop_taken(m, h->space, old_addr, old);
	uint64_t slop = req <= old + old_slop ? old_slop + old - req : slop_of(req);

	account_moved(m, sh, (int64_t)req - (int64_t)old, (int64_t)slop - (int64_t)old_slop);
	if (slop != slop_of(req) && odd_given(m, h->space, addr, slop) < 0)
		return -ENOMEM;
	after_change(m, index);
	return 0;
}

/* The processes changed: a fork's child holds a copy of its parent's
 * blocks (no time passes), a space that went holds nothing. */
static __attribute__((noinline)) int processes(struct massif_model *m, const struct replay *rp)
{
	struct space_heap *sh;

	if (rp->copied.count != m->copies) {
		m->copies = rp->copied.count;
		for (uint32_t n = rp->copied.first; n < rp->copied.end; n++) {
			const struct lot *l = &rp->lots[n - 1];

			if (!replay_space_selected(rp, l->space))
				break;
			if (!(sh = space_heap(m, l->space)))
				return -ENOMEM;
			account(m, sh, (int64_t)(l->now.live * l->size),
				(int64_t)(l->now.live * (slop_of(l->size) + HEAP_ADMIN)));
		}
	}
	for (; m->spaces_gone < rp->ngone; m->spaces_gone++) {
		if (!(sh = space_heap(m, rp->gone_list[m->spaces_gone])))
			return -ENOMEM;
		account(m, sh, -(int64_t)sh->heap, -(int64_t)sh->extra);
	}
	return 0;
}

/* The event as the replay applied it (massif_after()). */
static inline __attribute__((always_inline)) int
after(struct massif_model *m, const struct replay *rp, const struct mt_event *ev, uint64_t index)
{
	const struct replay_heap_out *h = &rp->heap_out;
	struct space_heap *sh;
	int ret = 0;

	m->took = 0;
	if (__builtin_expect(rp->copied.count != m->copies || m->spaces_gone < rp->ngone, 0) &&
	    processes(m, rp) < 0)
		return -ENOMEM;
	if (!h->counts ||
	    (ev->type != MT_EV_ALLOC && ev->type != MT_EV_FREE && ev->type != MT_EV_REALLOC))
		return m->took | near_peak(m);
	if (!(sh = space_heap(m, h->space)))
		return -ENOMEM;
	if (h->replaced) /* handed out again: its free was missed */
		freed_missed(m, sh, h, ev->addr);
	switch (ev->type) {
	case MT_EV_ALLOC:
		if (ev->addr)
			allocated(m, sh, ev->size, index);
		break;
	case MT_EV_FREE:
		if (h->freed) /* massif ignores a free it never saw allocated */
			freed(m, sh, h, ev->addr, index);
		break;
	default: /* MT_EV_REALLOC */
		if (!ev->addr) {
			if (!ev->size && ev->old_addr && h->freed) /* realloc(p, 0) frees p */
				freed(m, sh, h, ev->old_addr, index);
			/* else failed: the block stays */
		} else if (ev->old_addr && h->freed) {
			ret = resized(m, sh, h, ev->old_addr, ev->addr, ev->size, index);
		} else {
			allocated(m, sh, ev->size, index);
		}
		break;
	}
	return ret < 0 ? ret : m->took | near_peak(m);
}

int massif_after(struct massif_model *m, const struct replay *rp, const struct mt_event *ev,
		 uint64_t index)
{
	return after(m, rp, ev, index);
}

int massif_pass(struct massif_model *m, struct replay *rp, struct ahead *ah,
		int (*took)(void *arg, int took), void *arg, uint64_t *end_ns, int *nomem)
{
	const int trees = MASSIF_DETAILED | MASSIF_CULLED;
	const struct mt_event *ev;
	uint64_t index = 0, last_ns = *end_ns;
	int ret, t = MASSIF_NEAR_PEAK;

	*nomem = 0;
	for (; (ret = ahead_next(ah, &ev)) > 0; index++) {
		last_ns = ev->time_ns;
		/* before the event only when it could free at a peak */
		t = t & MASSIF_NEAR_PEAK ? massif_before(m, rp, ev, index) : 0;
		if (t < 0 || ((t & trees) && took(arg, t) < 0) || replay_event(rp, ev, index) < 0 ||
		    (t = after(m, rp, ev, index)) < 0 || ((t & trees) && took(arg, t) < 0)) {
			*nomem = 1;
			ret = -ENOMEM;
			break;
		}
	}
	*end_ns = last_ns;
	return ret;
}

size_t massif_culled(const struct massif_model *m, const uint64_t **serials)
{
	*serials = m->gone;
	return m->ngone;
}

uint64_t massif_last(const struct massif_model *m)
{
	return m->held[m->next - 1].serial;
}

size_t massif_held(const struct massif_model *m, struct massif_snapshot *out)
{
	for (size_t i = 0; i < m->next; i++)
		out[i] = (struct massif_snapshot){.event = m->held[i].event,
						  .before = !!(m->flags[i] & BEFORE),
						  .at_start = !!(m->flags[i] & AT_START),
						  .peak = m->peaks[i],
						  .detailed = !!(m->flags[i] & DETAILED),
						  .time = m->times[i],
						  .heap = m->held[i].heap,
						  .extra = m->held[i].extra,
						  .serial = m->held[i].serial};
	return m->next;
}
