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

#endif
