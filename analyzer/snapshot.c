/*
 * snapshot.c - replays a log up to a WHEN and sums what is live there per
 * stack (see snapshot.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "input.h"
#include "snapshot.h"
#include "when.h"

static int nomem(struct an_status *st)
{
	status_add(st, "out of memory");
	return -ENOMEM;
}

static void setup(struct replay *rp, const struct log_reader *r, const struct snapshot_opts *o)
{
	replay_init(rp, o->kind);
	rp->pid = o->pid;
	rp->root = log_reader_header(r)->pid;
	rp->track_sites = o->sites;
}

/* Does the replay stop before (1) or after (2) this event, or go on (0)? */
static int stop_before(const struct an_when *at, const struct mt_event *ev)
{
	return at->kind == AN_WHEN_TIME && ev->time_ns > at->value;
}

static int stop_after(const struct an_when *at, const struct replay *rp, const struct mt_event *ev,
		      uint64_t index)
{
	switch (at->kind) {
	case AN_WHEN_EVENT:
		return index == at->value;
	case AN_WHEN_MARK:
		return ev->type == MT_EV_MARK && rp->last_selected && rp->c.marks == at->value;
	default:
		return 0;
	}
}

/* The peak's event: a first pass over the whole log.  *seen = 0 when
 * nothing was ever live. */
static int find_peak(struct log_reader *r, const char *path, const struct snapshot_opts *o,
		     uint64_t *event, int *seen, struct an_status *st)
{
	struct replay rp;
	struct mt_event ev;
	int ret;

	setup(&rp, r, o);
	rp.track_sites = 0;
	while ((ret = input_next(r, path, &ev, st)) > 0)
		if (replay_event(&rp, &ev, log_reader_event_index(r)) < 0) {
			ret = nomem(st);
			break;
		}
	*event = rp.peak_event;
	*seen = rp.peak_seen;
	replay_free(&rp);
	if (ret == 0 && (ret = log_reader_rewind(r)) < 0)
		status_add(st, "%s: cannot read the log again: %s", path, strerror(-ret));
	return ret;
}

static void no_such(const struct an_when *at, const char *path, const struct replay *rp,
		    const struct snapshot_point *pt, struct an_status *st)
{
	if (at->kind == AN_WHEN_EVENT)
		status_add(st, "%s: no event #%" PRIu64 ": the log has %" PRIu64 " events", path,
			   at->value, pt->events);
	else if (rp->pid)
		status_add(st,
			   "%s: no mark:%" PRIu64 ": process %" PRIu32 " has %" PRIu64 " mark%s",
			   path, at->value, rp->pid, rp->c.marks, rp->c.marks == 1 ? "" : "s");
	else
		status_add(st, "%s: no mark:%" PRIu64 ": the log has %" PRIu64 " mark%s", path,
			   at->value, rp->c.marks, rp->c.marks == 1 ? "" : "s");
}

/* When the run ended: the trailer says, or else (a log cut short) its last
 * event. */
static uint64_t run_end(struct log_reader *r, const struct snapshot_point *pt)
{
	const struct mt_log_trailer *t = log_reader_trailer(r);

	return t && t->duration_ns > pt->end_ns ? t->duration_ns : pt->end_ns;
}

int snapshot_replay(struct replay *rp, struct log_reader *r, const char *path,
		    const struct an_when *at, const struct snapshot_opts *o,
		    struct snapshot_point *pt, struct an_status *st)
{
	struct an_when target = *at;
	struct mt_event ev;
	int ret, stopped = 0, empty_start = 0, pid_seen = 0;
	uint64_t last = 0;

	memset(pt, 0, sizeof(*pt));
	setup(rp, r, o);
	ret = log_reader_rewind(r);
	if (ret < 0) {
		status_add(st, "%s: cannot read the log again: %s", path, strerror(-ret));
		return ret;
	}
	if (at->kind == AN_WHEN_PEAK) {
		int seen;

		ret = find_peak(r, path, o, &target.value, &seen, st);
		if (ret < 0)
			return ret;
		target.kind = AN_WHEN_EVENT;
		empty_start = !seen; /* nothing ever live: the empty start */
	}
	while ((ret = input_next(r, path, &ev, st)) > 0) {
		uint64_t index = log_reader_event_index(r);

		pt->events++;
		pt->end_ns = ev.time_ns;
		last = index;
		pid_seen |= ev.pid == o->pid;
		if (stopped)
			continue;
		if (empty_start || stop_before(&target, &ev)) {
			stopped = 1;
			continue;
		}
		if (replay_event(rp, &ev, index) < 0)
			return nomem(st);
		if (o->observe && o->observe(o->arg, rp, &ev, index) < 0)
			return nomem(st);
		pt->applied = 1;
		pt->event = index;
		pt->time_ns = ev.time_ns;
		if (stop_after(&target, rp, &ev, index))
			stopped = 2;
	}
	if (ret < 0)
		return ret;
	pt->at_end = pt->applied && pt->event == last;
	if ((target.kind == AN_WHEN_EVENT || target.kind == AN_WHEN_MARK) && stopped != 2 &&
	    !empty_start) {
		no_such(&target, path, rp, pt, st);
		return -ENOENT;
	}
	if (target.kind == AN_WHEN_TIME && target.value > run_end(r, pt)) {
		/* the end is not what was asked for: say so, as for #N and mark:N */
		char want[48], end[48];
		struct an_when e = {AN_WHEN_TIME, run_end(r, pt)};

		status_add(st, "%s: no moment %s: the log ends at %s", path,
			   when_format(&target, want, sizeof(want)),
			   when_format(&e, end, sizeof(end)));
		return -ENOENT;
	}
	if (o->pid && !pid_seen) {
		status_add(st, "%s: no process %" PRIu32 " in the log", path, o->pid);
		return -ENOENT;
	}
	return 0;
}

static int add(struct snapshot *snap, uint64_t stack, uint64_t size)
{
	struct snapshot_entry *e = snap_stacks_put(&snap->stacks, stack, NULL);

	if (!e)
		return -ENOMEM;
	e->size += size;
	e->count++;
	snap->blocks++;
	snap->bytes += size;
	return 0;
}

/* Are the blocks of this space in the snapshot? */
static int counted(const struct replay *rp, uint32_t space, int exited_too)
{
	return replay_space_selected(rp, space) && (exited_too || !replay_space_exited(rp, space));
}

int snapshot_collect(struct snapshot *snap, const struct replay *rp, const struct snapshot_opts *o,
		     int exited_too)
{
	struct region_block *rb;
	struct heap_block *b;
	struct table_key k;
	size_t i = 0;

	if (o->kind & AN_KIND_HEAP)
		while (heap_blocks_next(&rp->heap, &i, &k, &b)) {
			if ((o->born_limit && b->event > o->born_by) ||
			    !counted(rp, (uint32_t)k.a, exited_too))
				continue;
			if (add(snap, b->stack, b->size) < 0)
				return -ENOMEM;
		}
	i = 0;
	if (o->kind & AN_KIND_MMAP)
		while (region_blocks_next(&rp->maps.blocks, &i, NULL, &rb)) {
			if (!counted(rp, rb->space, exited_too))
				continue;
			if (add(snap, rb->stack, rb->live) < 0)
				return -ENOMEM;
		}
	return 0;
}

int snapshot_take(struct snapshot *snap, struct log_reader *r, const char *path,
		  const struct an_when *at, const struct snapshot_opts *o, struct an_status *st)
{
	struct replay rp;
	int ret;

	memset(snap, 0, sizeof(*snap));
	snap_stacks_init(&snap->stacks);
	site_table_init(&snap->sites);
	ret = snapshot_replay(&rp, r, path, at, o, &snap->at, st);
	if (ret == 0) {
		snap->c = rp.c;
		ret = snapshot_collect(snap, &rp, o, snap->at.at_end) < 0 ? nomem(st) : 0;
		/* the per-stack totals change hands */
		site_table_free(&snap->sites);
		snap->sites = rp.sites;
		site_table_init(&rp.sites);
	}
	replay_free(&rp);
	return ret;
}

void snapshot_free(struct snapshot *snap)
{
	snap_stacks_free(&snap->stacks);
	site_table_free(&snap->sites);
}
