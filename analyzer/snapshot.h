/*
 * snapshot.h - what was live at one moment of a log (a WHEN), summed per
 * stack: the step between replaying events and grouping them into
 * statistics.  Each distinct stack is resolved once afterwards, however many
 * blocks it holds.
 *
 * One pass over the log takes every snapshot a report needs: the end and
 * the peak are known when the pass ends (the peak from the lots' counts of
 * the last peak, replay.h), any other moment is caught when the replay
 * reaches it.  Once every moment is caught the rest of the log is read
 * without being replayed (its symbols are needed).
 */
#ifndef MEMTRACK_ANALYZER_SNAPSHOT_H
#define MEMTRACK_ANALYZER_SNAPSHOT_H

#include <stdint.h>

#include "../formats/log_reader.h"
#include "analyzer.h"
#include "replay.h"
#include "table.h"

/* What a replay follows (see replay.h). */
struct snapshot_opts {
	unsigned kind;		/* AN_KIND_*: what is live, and whose peak */
	uint32_t pid;		/* --pid; 0: every process */
	int sites;		/* also sum allocations and temporaries per stack */
	int freed_too;		/* also the stacks whose blocks are all freed, at 0
				   bytes (massif's tree keeps them) */
	/* leaks --at: only blocks allocated by that moment (snapshot_take; not
	 * peak: the caller finds the peak's event first) */
	const struct an_when *born_by;
	/* Called after each event replayed (not for those after the moment). */
	int (*observe)(void *arg, const struct replay *rp, const struct mt_event *ev,
		       uint64_t index);
	void *arg;
};

/* Where a replay stopped. */
struct snapshot_point {
	int applied;		/* 0: it stopped before the first event */
	uint64_t event;		/* index of the last event applied */
	uint64_t time_ns;	/* its time */
	uint64_t events;	/* events in the whole log */
	uint64_t end_ns;	/* time of the log's last event */
	int at_end;		/* it applied the log's last event */
};

/*
 * Replays the log at r from its first event up to `at` into rp (initialized
 * here: snapshot_replay's caller calls replay_free(rp) whatever it returns),
 * then reads the rest of the log so its symbol table is in: the whole state
 * at that moment, for the reports that need more than a snapshot (summary).
 * `peak` takes two passes: the first finds the first event at which the
 * live memory of o->kind was highest, the second stops there.
 * Returns 0, or < 0 with the reason in st (a corrupt log, an event, a mark or
 * a process the log does not have).
 */
int snapshot_replay(struct replay *rp, struct log_reader *r, const char *path,
		    const struct an_when *at, const struct snapshot_opts *o,
		    struct snapshot_point *pt, struct an_status *st);

/* Value of snapshot.stacks, keyed by (stack id, 0). */
struct snapshot_entry {
	uint64_t size;
	uint64_t count;
};

HASH_DEFINE(snap_stacks, uint64_t, struct snapshot_entry, table_hash_u64, table_eq_u64)

struct snapshot {
	struct snap_stacks stacks; /* stack id -> struct snapshot_entry */
	struct site_table sites;   /* with o->sites: (stack, kind) -> struct site_totals */
	uint64_t blocks;	/* live blocks, all stacks */
	uint64_t bytes;
	struct snapshot_point at;
};

/* What is live at `at`, summed per stack, from one pass over the log (the
 * symbol table read too).  Returns 0, or < 0 with the reason in st (a
 * corrupt log, an event, a mark, a time or a process the log does not
 * have); snapshot_free() it either way. */
int snapshot_take(struct snapshot *snap, struct log_reader *r, const char *path,
		  const struct an_when *at, const struct snapshot_opts *o, struct an_status *st);

/* The same for n moments (at most SNAPSHOT_MAX) in that one pass, into
 * snaps[0..n). */
#define SNAPSHOT_MAX 2
int snapshot_take_many(struct snapshot *snaps, const struct an_when *ats, size_t n,
		       struct log_reader *r, const char *path, const struct snapshot_opts *o,
		       struct an_status *st);

void snapshot_free(struct snapshot *snap);

/* Adds what is live in rp now (the chosen processes', of o->kind) to snap's
 * stacks, blocks and bytes (and sites, with o->sites).  What a process
 * other than the first left when it exited is in only with exited_too: it
 * is no longer in use, and counts as that process's leaks at the end of the
 * log.  With peak: what was live at the last peak instead.  0 or -ENOMEM. */
int snapshot_collect(struct snapshot *snap, const struct replay *rp,
		     const struct snapshot_opts *o, int exited_too, int peak);

/* An empty snapshot, as snapshot_take() starts it. */
void snapshot_init(struct snapshot *snap);

/* Adds count blocks of size bytes in all to stack's entry: 0 or -ENOMEM. */
int snapshot_add(struct snapshot *snap, uint64_t stack, uint64_t size, uint64_t count);

#endif
