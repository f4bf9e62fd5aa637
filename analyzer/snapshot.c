/*
 * snapshot.c - replays a log up to a WHEN and sums what is live there per
 * stack (see snapshot.h).  `peak` takes two passes: the first finds the
 * first event at which the live bytes were highest, the second stops there.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "input.h"
#include "replay.h"
#include "snapshot.h"

static int add(struct snapshot *snap, uint64_t stack, uint64_t size)
{
	struct snapshot_entry *e = table_put(&snap->stacks, stack, 0, NULL);

	if (!e)
		return -ENOMEM;
	e->size += size;
	e->count++;
	snap->blocks++;
	snap->bytes += size;
	return 0;
}

static int collect(struct snapshot *snap, const struct replay *rp, unsigned kind)
{
	size_t i = 0;
	void *v;

	if (kind & AN_KIND_HEAP)
		while (table_next(&rp->heap, &i, NULL, NULL, &v)) {
			const struct heap_block *b = v;

			if (add(snap, b->stack, b->size) < 0)
				return -ENOMEM;
		}
	i = 0;
	if (kind & AN_KIND_MMAP)
		while (table_next(&rp->maps.blocks, &i, NULL, NULL, &v)) {
			const struct region_block *b = v;

			if (add(snap, b->stack, b->live) < 0)
				return -ENOMEM;
		}
	return 0;
}

/* Does the replay stop before (1) or after (2) this event, or go on (0)? */
static int stop_at(const struct an_when *at, const struct mt_event *ev, uint64_t index)
{
	switch (at->kind) {
	case AN_WHEN_TIME:
		return ev->time_ns > at->value ? 1 : 0;
	case AN_WHEN_EVENT:
		return index == at->value ? 2 : 0;
	case AN_WHEN_MARK:
		return ev->type == MT_EV_MARK && ev->arg == at->value ? 2 : 0;
	default:
		return 0;
	}
}

static int nomem(struct an_status *st)
{
	status_add(st, "out of memory");
	return -ENOMEM;
}

/* The peak's event: a first pass over the whole log.  *seen = 0 when
 * nothing was ever live. */
static int find_peak(struct log_reader *r, const char *path, unsigned kind, uint64_t *event,
		     int *seen, uint64_t *events, struct an_status *st)
{
	struct replay rp;
	struct mt_event ev;
	int ret;

	replay_init(&rp, kind);
	while ((ret = input_next(r, path, &ev, st)) > 0)
		if (replay_event(&rp, &ev, log_reader_event_index(r)) < 0) {
			ret = nomem(st);
			break;
		}
	*event = rp.peak_event;
	*seen = rp.peak_seen;
	*events = rp.c.events;
	replay_free(&rp);
	return ret;
}

int snapshot_take(struct snapshot *snap, struct log_reader *r, const char *path,
		  const struct an_when *at, unsigned kind, struct an_status *st)
{
	struct an_when target = *at;
	struct replay rp;
	struct mt_event ev;
	int ret, reached = 0, skipped = 0;

	memset(snap, 0, sizeof(*snap));
	table_init(&snap->stacks, sizeof(struct snapshot_entry));
	replay_init(&rp, kind);
	if (at->kind == AN_WHEN_PEAK) {
		int seen;

		ret = find_peak(r, path, kind, &target.value, &seen, &snap->events, st);
		if (ret < 0)
			goto out;
		if (!seen)
			goto collect; /* nothing ever live: the empty start */
		target.kind = AN_WHEN_EVENT;
		ret = log_reader_rewind(r);
		if (ret < 0) {
			status_add(st, "%s: cannot read the log again: %s", path, strerror(-ret));
			goto out;
		}
	}
	while ((ret = input_next(r, path, &ev, st)) > 0) {
		uint64_t index = log_reader_event_index(r);
		int stop = stop_at(&target, &ev, index);

		if (stop == 1) {
			reached = skipped = 1;
			break;
		}
		if (replay_event(&rp, &ev, index) < 0) {
			ret = nomem(st);
			goto out;
		}
		if (stop == 2) {
			reached = 1;
			break;
		}
	}
	if (ret < 0)
		goto out;
	if (at->kind != AN_WHEN_PEAK) {
		uint64_t marks = rp.c.marks;

		snap->events = rp.c.events + skipped;
		if (reached) {
			/* the rest of the log: its length, and the symbols at its end */
			while ((ret = input_next(r, path, &ev, st)) > 0)
				snap->events++;
			if (ret < 0)
				goto out;
		}
		if (at->kind == AN_WHEN_EVENT && !reached) {
			status_add(st, "%s: no event #%" PRIu64 ": the log has %" PRIu64 " events",
				   path, at->value, snap->events);
			ret = -ENOENT;
			goto out;
		}
		if (at->kind == AN_WHEN_MARK && !reached) {
			status_add(st, "%s: no mark:%" PRIu64 ": the log has %" PRIu64 " mark%s",
				   path, at->value, marks, marks == 1 ? "" : "s");
			ret = -ENOENT;
			goto out;
		}
	}
collect:
	ret = collect(snap, &rp, kind) < 0 ? nomem(st) : 0;
out:
	replay_free(&rp);
	return ret;
}

void snapshot_free(struct snapshot *snap)
{
	table_free(&snap->stacks);
}
