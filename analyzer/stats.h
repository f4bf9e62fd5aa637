/*
 * stats.h - statistics grouped by a key and sorted the way tracemalloc's
 * Snapshot.statistics() sorts them: biggest size first, then biggest count,
 * then the key itself, descending (Statistic._sort_key with reverse=True);
 * or, with by_count (--sort count), count first, then size, then the key.
 *
 * Keys (frames are those of resolve.h; the frame pointers must outlive the
 * stats):
 *   lineno     (display path, line) of one frame, printed "path:line"
 *   filename   display path of one frame, printed "path:0"
 *   function   "function (path)", "function" without a file, the display
 *              form without a function
 *   traceback  frames from the site outward, compared oldest first as
 *              tracemalloc compares Traceback tuples
 */
#ifndef MEMTRACK_ANALYZER_STATS_H
#define MEMTRACK_ANALYZER_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../formats/arena.h"
#include "analyzer.h"
#include "resolve.h"
#include "table.h"

/* What a key sums.  size and count are the snapshot's (diff: the new one);
 * the rest are there for the reports that need them. */
struct stat_values {
	uint64_t size, count;
	uint64_t old_size, old_count;	/* diff: the old snapshot */
	uint64_t alloc_size, alloc_count; /* allocated up to the moment */
	uint64_t temp_size, temp_count;	/* temporary allocations */
	uint64_t cut_stacks;		/* stacks in it cut at --depth */
};

struct stat {
	uint64_t size;
	uint64_t count;
	struct stat_values v;			/* v.size == size, v.count == count */
	const struct an_frame *const *frames;	/* the key: innermost first */
	size_t nframes;
	const char *label;	/* function key only */
	uint64_t hash;
	size_t next;		/* next stat with the same hash, +1 (0: none) */
};

struct stats {
	enum an_group by;
	int by_count;		/* sort by count before size */
	struct stat *v;
	size_t n, cap;
	struct u64_map index;	/* key hash -> first stat with it, +1 */
	struct arena arena;	/* keys: frame arrays and labels */
};

void stats_init(struct stats *s, enum an_group by);
void stats_free(struct stats *s);

/* Adds size and count to the key made of frames[0..n) (n is 1 unless by
 * traceback).  0 or -ENOMEM. */
int stats_add(struct stats *s, const struct an_frame *const *frames, size_t n, uint64_t size,
	      uint64_t count);

/* --cumulative: adds to the key of every frame of frames[0..n), as
 * tracemalloc does (a frame that recurs counts each time). */
int stats_add_each(struct stats *s, const struct an_frame *const *frames, size_t n,
		   uint64_t size, uint64_t count);

/* The same with every value; each: as stats_add_each(). */
int stats_add_values(struct stats *s, const struct an_frame *const *frames, size_t n,
		     const struct stat_values *v, int each);

/* Sorts s->v[0..n) biggest first; nothing can be added afterwards. */
void stats_sort(struct stats *s);

/* Sorts as Snapshot.compare_to() sorts its StatisticDiff list:
 * (abs(size_diff), size, abs(count_diff), count, traceback), reversed; with
 * by_count (abs(count_diff), count, abs(size_diff), size, traceback). */
void stats_sort_diff(struct stats *s);

/* Sorts by (size, count, allocated bytes, allocations, temporary bytes,
 * key), biggest first: the sites of an export, the live ones first. */
void stats_sort_sites(struct stats *s);

/* str(statistic.traceback) of a stat, e.g. "samples/arrays.c:21", into
 * buf; returns buf. */
const char *stats_trace(const struct stats *s, const struct stat *st, char *buf, size_t len);

#endif
