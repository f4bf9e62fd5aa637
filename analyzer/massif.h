/*
 * massif.h - valgrind massif's own account of a run (`valgrind
 * --tool=massif --time-unit=B`), replayed from a log: its clock, its heap
 * sizes and which snapshots it keeps.  The massif exporter writes these.
 */
#ifndef MEMTRACK_ANALYZER_MASSIF_H
#define MEMTRACK_ANALYZER_MASSIF_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"

struct log_reader;

/* One snapshot massif keeps, in time order. */
struct massif_snapshot {
	uint64_t event; /* taken at this event (log index)... */
	int before;	/* ...before it is replayed (a peak, taken before a
			   free), else after; the first one: at the start */
	int at_start;
	int peak;
	int detailed;
	uint64_t time;	/* bytes allocated and freed so far, extra included */
	uint64_t heap;	/* requested bytes live */
	uint64_t extra; /* valgrind's slop and admin bytes of them */
};

/* What else the pass learns of the run. */
struct massif_run {
	uint64_t end_ns;	/* the last event's time */
	int has_rss;		/* RSS was sampled */
	int multi_process;	/* events of more than one process (pid 0) */
	int pid_seen;		/* an event of the process asked for */
};

/*
 * Replays the heap events of the log at r (opened, nothing read yet; it is
 * rewound after) of process pid (0: every process) as massif counts them,
 * and returns the snapshots massif would keep in *out (the caller frees
 * it), *n of them, and what *run says.  0, or < 0 with the reason in st.
 */
int massif_schedule(struct log_reader *r, const char *log, uint32_t pid,
		    struct massif_snapshot **out, size_t *n, struct massif_run *run,
		    struct an_status *st);

#endif
