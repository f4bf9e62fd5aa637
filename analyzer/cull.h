/*
 * cull.h - which of massif's snapshots go when it holds as many as it
 * keeps (--max-snapshots, 100): half of them, one at a time, each the one
 * whose neighbours are closest in time (the lowest index of equals), never
 * the first, the last or a peak; and the minimum interval massif then
 * keeps between snapshots: the smallest gap left that is not between two
 * snapshots that never go.  massif.c culls its snapshots with this.
 */
#ifndef MEMTRACK_ANALYZER_CULL_H
#define MEMTRACK_ANALYZER_CULL_H

#include <stdint.h>

#define CULL_HELD 100 /* snapshots held when massif culls */

/* t[CULL_HELD]: the held snapshots' times, in the order taken; peak[i]:
 * snapshot i is the peak.  Sets gone[i] (zeroed by the caller) for each
 * one that goes, and returns the new minimum interval (0 when no gap
 * counts). */
uint64_t cull_snapshots(const uint64_t *t, const uint8_t *peak, uint8_t *gone);

/*
 * A run culls every 50 snapshots while its minimum interval stays 0, and
 * nearly always deletes the newest half: the first 49 left stay as they
 * were.  The memo holds those (their times, which was the peak) and what
 * the next cull needs of them, so that it need not look at them again
 * while they are unchanged.  Zeroed before the first cull.
 */
#define CULL_OLD (CULL_HELD / 2 - 1)

struct cull_memo {
	uint64_t t[CULL_OLD];
	uint8_t peak[CULL_OLD];
	int valid;
	uint64_t span; /* the least span of a candidate among them */
	uint64_t gap;  /* the least gap between two of them that counts */
	uint64_t hits; /* culls done from the memo */
};

/* cull_snapshots(), the same result, from the memo when the first
 * CULL_OLD snapshots are those the last cull through it left. */
uint64_t cull_snapshots_memo(struct cull_memo *memo, const uint64_t *t, const uint8_t *peak,
			     uint8_t *gone);

#endif
