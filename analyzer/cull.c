/*
 * cull.c - massif's cull of its snapshots (cull.h), fast enough for a run
 * that culls every 50 events.
 *
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
 * Even cull_newest looks at all 100; cull_snapshots_memo() remembers the
 * first 49 a cull leaves, which the next nearly always finds unchanged,
 * and then looks only at the 51 after them.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cull.h"

#define CULL	   (CULL_HELD / 2)
#define INDEX_BITS 7 /* an index below CULL_HELD */
#define NONE	   UINT64_MAX
_Static_assert(CULL_HELD - 1 - CULL_OLD == CULL, "the memo's cull: the newest half after the old");

/* The rule as written: times in any order (spans wrap). */
static void cull_plain(const uint64_t *t, const uint8_t *cand, uint8_t *gone)
{
	uint8_t prev[CULL_HELD], next[CULL_HELD];

	for (int i = 0; i < CULL_HELD; i++) {
		prev[i] = (uint8_t)(i - 1);
		next[i] = (uint8_t)(i + 1);
	}
	for (int k = 0; k < CULL; k++) {
		uint64_t least = 0;
		int c = -1;

		for (int i = next[0]; i != CULL_HELD - 1; i = next[i]) {
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
 * for the others.  Index CULL_HELD is the neighbour of the first and
 * the last, of key NONE.  Local minima are never neighbours: at most 49.
 */
struct local {
	uint64_t key[CULL_HELD + 1];
	uint8_t prev[CULL_HELD + 1], next[CULL_HELD + 1];
	uint8_t held[CULL_HELD + 1]; /* in min[] */
	uint64_t min[CULL];	     /* the local minima's keys, greatest first */
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
	for (unsigned i = 0; i <= CULL_HELD; i++) {
		l.prev[i] = (uint8_t)(i ? i - 1 : CULL_HELD);
		l.next[i] = (uint8_t)(i < CULL_HELD - 1 ? i + 1 : CULL_HELD);
		l.key[i] = i > 0 && i < CULL_HELD - 1 && cand[i]
				   ? (t[i + 1] - t[i - 1]) << INDEX_BITS | i
				   : NONE;
		l.held[i] = 0;
	}
	for (unsigned i = 1; i < CULL_HELD - 1; i++)
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
	size_t a = CULL_HELD - 1, n = 0, i;
	uint64_t bound;
	int larger = 1;

	while (n < CULL && a > 1)
		n += cand[--a];
	bound = t[CULL_HELD - 1] - t[a - 1];
	for (i = 1; i < a; i++)
		larger &= !cand[i] || t[i + 1] - t[i - 1] > bound;
	if (!larger)
		return 0;
	for (i = a; i < CULL_HELD - 1; i++)
		gone[i] = cand[i];
	return 1;
}

uint64_t cull_snapshots(const uint64_t *t, const uint8_t *peak, uint8_t *gone)
{
	uint8_t cand[CULL_HELD];
	uint64_t min = UINT64_MAX;
	int in_order = 1;
	size_t i, last = 0;

	for (i = 0; i < CULL_HELD; i++) {
		cand[i] = !peak[i];
		in_order &= !i || t[i - 1] <= t[i];
	}
	cand[0] = cand[CULL_HELD - 1] = 0;
	if (!in_order)
		cull_plain(t, cand, gone);
	else if (cull_newest(t, cand, gone))
		;
	else if ((t[CULL_HELD - 1] - t[0]) >> (64 - INDEX_BITS) == 0)
		cull_local(t, cand, gone);
	else
		cull_plain(t, cand, gone);
	/* the gaps between those left: one that never goes (the first, the
	 * last, the peak) to another does not count */
	for (i = 1; i < CULL_HELD; i++) {
		if (gone[i])
			continue;
		if ((cand[i] || cand[last]) && t[i] - t[last] < min)
			min = t[i] - t[last];
		last = i;
	}
	return min == UINT64_MAX ? 0 : min;
}

/*
 * The memo's cull: the first CULL_OLD snapshots are what the last cull
 * left, [CULL_OLD, CULL_HELD - 1) are candidates, all in time order.
 * Then cull_newest() would look at the newest CULL, from a = CULL_OLD,
 * and bound = t[last] - t[a - 1]; the older candidates' spans are the
 * memo's but for that of a - 1, whose next is a.  The gaps left: the
 * memo's, and the one from a - 1 to the last.
 */
static int from_memo(const struct cull_memo *memo, const uint64_t *t, const uint8_t *peak,
		     uint8_t *gone, uint64_t *min)
{
	const size_t a = CULL_OLD, last = CULL_HELD - 1;
	uint64_t bound = t[last] - t[a - 1];
	int in_order = 1, none = 1;
	size_t i;

	if (!memo->valid || memcmp(memo->t, t, sizeof(memo->t)) ||
	    memcmp(memo->peak, peak, sizeof(memo->peak)))
		return 0;
	for (i = a; i < last; i++) {
		none &= !peak[i];
		in_order &= t[i - 1] <= t[i];
	}
	if (!none || !in_order || t[last - 1] > t[last] || memo->span <= bound ||
	    (!peak[a - 1] && t[a] - t[a - 2] <= bound))
		return 0;
	memset(gone + a, 1, last - a);
	*min = memo->gap;
	if (!peak[a - 1] && bound < *min)
		*min = bound;
	return 1;
}

/* Remembers the first CULL_OLD snapshots a cull left, of a set in time
 * order.  What the memo holds depends on those alone: it serves any set
 * that starts with them. */
static void remember(struct cull_memo *memo, const uint64_t *t, const uint8_t *peak,
		     const uint8_t *gone)
{
	size_t i, k = 0;

	memo->valid = 0;
	for (i = 0; i < CULL_HELD; i++) {
		if (i && t[i - 1] > t[i])
			return;
		if (!gone[i] && k < CULL_OLD) {
			memo->t[k] = t[i];
			memo->peak[k++] = peak[i];
		}
	}
	if (k < CULL_OLD)
		return;
	memo->span = memo->gap = UINT64_MAX;
	/* as cull_newest() and cull_snapshots() count them: the first is no
	 * candidate */
	for (i = 1; i + 1 < CULL_OLD; i++)
		if (!memo->peak[i] && memo->t[i + 1] - memo->t[i - 1] < memo->span)
			memo->span = memo->t[i + 1] - memo->t[i - 1];
	for (i = 1; i < CULL_OLD; i++)
		if ((!memo->peak[i] || (i > 1 && !memo->peak[i - 1])) &&
		    memo->t[i] - memo->t[i - 1] < memo->gap)
			memo->gap = memo->t[i] - memo->t[i - 1];
	memo->valid = 1;
}

uint64_t cull_snapshots_memo(struct cull_memo *memo, const uint64_t *t, const uint8_t *peak,
			     uint8_t *gone)
{
	uint64_t min;

	if (from_memo(memo, t, peak, gone, &min)) {
		/* what it remembers is still so: the same first ones left */
		memo->hits++;
		return min == UINT64_MAX ? 0 : min;
	}
	min = cull_snapshots(t, peak, gone);
	remember(memo, t, peak, gone);
	return min;
}
