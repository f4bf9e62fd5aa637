/*
 * ahead.h - one pass over a log's events, decoded ahead of the replay by a
 * thread of its own when the process may run on a second CPU.
 *
 * Reading a log (a chunk decompressed, then every record's varints) costs
 * about as much as replaying it; the two overlap on two CPUs.  The reader
 * thread owns the log_reader from ahead_begin() to ahead_end(): meanwhile
 * the caller asks the reader nothing (its tables grow as records pass),
 * counts events itself, and after ahead_end() has it back, read as far as
 * the pass went.  With one CPU the pass reads in the caller's thread, the
 * same way, one event at a time.
 */
#ifndef MEMTRACK_ANALYZER_AHEAD_H
#define MEMTRACK_ANALYZER_AHEAD_H

#include "../formats/log_reader.h"
#include "analyzer.h"

struct ahead;

/* The events of the batch being used: the first member of struct ahead,
 * so that taking the next event is inline. */
struct ahead_cursor {
	const struct mt_event *next, *end;
};

/* Starts a pass over r from where it is (rewound, usually).  Returns 0,
 * or -ENOMEM with st saying so. */
int ahead_begin(struct ahead **out, struct log_reader *r, const char *path,
		struct an_status *st);

/* ahead_next() at the end of a batch. */
int ahead_refill(struct ahead *a, const struct mt_event **ev);

/* The next event, in *ev (valid until the next call): 1, 0 at the end of
 * the log, or < 0 when it is corrupt
 * (the reason in the st given to ahead_begin(), which the reader thread
 * only writes when the caller reaches the error). */
static inline int ahead_next(struct ahead *a, const struct mt_event **ev)
{
	struct ahead_cursor *c = (struct ahead_cursor *)(void *)a;

	if (c->next != c->end) {
		*ev = c->next++;
		return 1;
	}
	return ahead_refill(a, ev);
}

/* Ends the pass wherever it is (the thread is stopped and joined); the
 * reader is the caller's again.  NULL is fine. */
void ahead_end(struct ahead *a);

#endif
