/*
 * series.h - the memory of a run over time, fed to the exporters that draw
 * or list it (formats/export.h: EX_INPUT_SERIES): the timeline's CSV and
 * chart, massif's snapshots.
 *
 * Which moments (EX_SAMPLEs), for the timeline:
 *   - every RSS sample and every mark hit (a mark with the RSS sample the
 *     tracer takes right after it, as one moment);
 *   - the peak: the first event at which heap + mappings was highest;
 *   - the run cut in slices of equal time (a power of two nanoseconds wide,
 *     the narrowest that makes at most 1000 of them, so between 500 and
 *     1000): in each slice in which heap or mappings changed, the moment the
 *     total was lowest, the moment it was highest, and the slice's last
 *     change, in time order (a short run thus lists every change; a long one
 *     keeps its envelope); a moment of the two kinds above splits its slice;
 *   - the last event.
 * For massif (EX_INPUT_DETAIL, the heap only): the snapshots valgrind's
 * massif keeps, at the moments it takes them, on its clock (massif.h), the
 * detailed ones and the peak with their stacks.
 *
 * The timeline from one pass over the log: rows are kept until it ends (the
 * run's length and the peak are known only then), a handful per
 * slice plus the RSS samples and marks, then handed to the exporters.
 *
 * Memory charted is that of processes still running: a child's memory
 * leaves the chart when it exits; the first process's stays to the end.
 */
#ifndef MEMTRACK_ANALYZER_SERIES_H
#define MEMTRACK_ANALYZER_SERIES_H

#include <stddef.h>

#include "../formats/export.h"
#include "analyzer.h"
#include "filter.h"
#include "resolve.h"

/* One exporter and where it writes. */
struct series_out {
	const struct exporter *exp;
	struct ex_writer w;
};

/*
 * Replays the log at r (opened, not read yet) once, then feeds every
 * exporter of outs[0..n), from its begin() to its end().  o gives the log,
 * kind and pid; the pass completes *info (end_ns, has_rss, multi_process),
 * which every writer is given.  Returns 0 or < 0 with the reason in st.
 */
int series_run(struct log_reader *r, const struct an_opts *o, struct ex_info *info,
	       struct series_out *outs, size_t n, struct an_status *st);

/* A stack from its allocation site outward as export frames, into
 * *frames (grown as needed, freed by the caller); the site is chosen by f.
 * Returns the number of frames, 0 when no frame passes, < 0 on -ENOMEM. */
long series_frames(struct resolver *res, const struct an_filter *f, uint64_t stack,
		   struct ex_frame **frames, size_t *cap);

#endif
