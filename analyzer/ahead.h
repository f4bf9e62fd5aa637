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

/* The events of the batch being used and their block ids: the first
 * member of struct ahead, so that taking the next event is inline. */
struct ahead_cursor {
	const struct mt_event *next, *end;
	const struct log_block_ids *ids;   /* next's */
	const struct mt_event *follow_end; /* ids are followed before it */
	const struct mt_event *switch_at;  /* the event ahead_switch() is at */
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
		c->ids++;
		return 1;
	}
	return ahead_refill(a, ev);
}

/*
 * The block ids (log_reader.h) of the event ahead_next() returned last,
 * while the pass follows them: a replay then keeps its blocks by serial
 * (bornlots.h).  From the first event on which it must find them by
 * address, NULL: an event of a second process, or a second PROC_START (a
 * fork or an exec: another address space), a free the replay does not
 * count as one (a preexisting block's, a realloc that failed or freed to
 * NULL).
 */
static inline const struct log_block_ids *ahead_ids(const struct ahead *a)
{
	const struct ahead_cursor *c = (const struct ahead_cursor *)(const void *)a;

	return c->next <= c->follow_end ? c->ids - 1 : NULL;
}

/* At that first event, the blocks the model held live just before it (n
 * in *n, in no order: the replay's, by address from then on); NULL at
 * every other event.  Valid until the next ahead_next(). */
const struct log_live_block *ahead_switch_blocks(const struct ahead *a, size_t *n);

static inline const struct log_live_block *ahead_switch(const struct ahead *a, size_t *n)
{
	const struct ahead_cursor *c = (const struct ahead_cursor *)(const void *)a;

	return c->next - 1 == c->switch_at ? ahead_switch_blocks(a, n) : NULL;
}

/* Ends the pass wherever it is (the thread is stopped and joined); the
 * reader is the caller's again.  NULL is fine. */
void ahead_end(struct ahead *a);

#endif
