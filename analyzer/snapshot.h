/*
 * snapshot.h - what was live at one moment of a log (a WHEN), summed per
 * stack: the step between replaying events and grouping them into
 * statistics.  Each distinct stack is resolved once afterwards, however many
 * blocks it holds.
 */
#ifndef MEMTRACK_ANALYZER_SNAPSHOT_H
#define MEMTRACK_ANALYZER_SNAPSHOT_H

#include <stdint.h>

#include "../formats/log_reader.h"
#include "analyzer.h"
#include "table.h"

/* Value of snapshot.stacks, keyed by (stack id, 0). */
struct snapshot_entry {
	uint64_t size;
	uint64_t count;
};

struct snapshot {
	struct table stacks;	/* stack id -> struct snapshot_entry */
	uint64_t blocks;	/* live blocks, all stacks */
	uint64_t bytes;
	uint64_t events;	/* events in the log */
};

/*
 * Replays the log at r (freshly opened) up to `at`, keeping the memory of
 * `kind` (AN_KIND_*), then reads the rest of the log so its symbol table is
 * in.  Returns 0, or < 0 with the reason in st (a corrupt log, an event or
 * mark the log does not have).  snapshot_free() it either way.
 */
int snapshot_take(struct snapshot *snap, struct log_reader *r, const char *path,
		  const struct an_when *at, unsigned kind, struct an_status *st);

void snapshot_free(struct snapshot *snap);

#endif
