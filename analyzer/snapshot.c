/*
 * snapshot.c - replays a log up to a WHEN and sums what is live there per
 * stack (see snapshot.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <string.h>

#include "ahead.h"
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
	const struct mt_event *ev;
	struct ahead *ah;
	struct replay rp;
	uint64_t index = 0;
	int ret;

	setup(&rp, r, o);
	ret = ahead_begin(&ah, r, path, st);
	while (ah && (ret = ahead_next(ah, &ev)) > 0)
		if (replay_event(&rp, ev, index++) < 0) {
			ret = nomem(st);
			break;
		}
	ahead_end(ah);
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
	const struct mt_event *ev;
	struct ahead *ah;
	int ret, stopped = 0, empty_start = 0, pid_seen = 0;
	uint64_t last = 0, index = 0;

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
	if ((ret = ahead_begin(&ah, r, path, st)) < 0)
		return ret;
	for (; (ret = ahead_next(ah, &ev)) > 0; index++) {
		pt->events++;
		pt->end_ns = ev->time_ns;
		last = index;
		pid_seen |= ev->pid == o->pid;
		if (stopped)
			continue;
		if (empty_start || stop_before(&target, ev)) {
			stopped = 1;
			continue;
		}
		if (replay_event(rp, ev, index) < 0 ||
		    (o->observe && o->observe(o->arg, rp, ev, index) < 0)) {
			ret = nomem(st);
			break;
		}
		pt->applied = 1;
		pt->event = index;
		pt->time_ns = ev->time_ns;
		if (stop_after(&target, rp, ev, index))
			stopped = 2;
	}
	ahead_end(ah);
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

static int add(struct snapshot *snap, uint64_t stack, uint64_t size, uint64_t count)
{
	struct snapshot_entry *e = snap_stacks_put(&snap->stacks, stack, NULL);

	if (!e)
		return -ENOMEM;
	e->size += size;
	e->count += count;
	snap->blocks += count;
	snap->bytes += size;
	return 0;
}

int snapshot_add(struct snapshot *snap, uint64_t stack, uint64_t size, uint64_t count)
{
	return add(snap, stack, size, count);
}

static int add_site(struct snapshot *snap, const struct lot *l, const struct lot_counts *c)
{
	struct site_totals *t;

	if (!c->allocs && !c->temps)
		return 0;
	t = site_table_put(&snap->sites, TABLE_KEY(l->stack, l->kind), NULL);
	if (!t)
		return -ENOMEM;
	t->bytes += c->alloc_bytes;
	t->count += c->allocs;
	t->temp_bytes += c->temp_bytes;
	t->temps += c->temps;
	return 0;
}

/*
 * The counts of every lot at one moment, and which spaces were gone then:
 * enough to build the snapshot of that moment once the pass ends (whether
 * it was the log's last event, and so whether exited processes' blocks
 * count, is known only then).  Lots made later had nothing then.
 */
struct capture {
	struct an_when at;
	int born; /* leaks --at: from then on allocations are late, nothing kept */
	int done;
	struct snapshot_point pt;
	struct lot_counts *counts; /* lots[0..nlots) as they were */
	uint32_t nlots;
	uint32_t *gone; /* the spaces gone then */
	size_t ngone;
};

static int capture(struct capture *c, struct replay *rp, const struct snapshot_point *pt)
{
	size_t i = 0, n = 0;
	uint64_t space;
	struct space_state *ss;

	c->done = 1;
	c->pt = *pt;
	if (c->born) {
		rp->late = 1;
		return 0;
	}
	c->nlots = rp->nlots;
	c->counts = malloc((rp->nlots ? rp->nlots : 1) * sizeof(*c->counts));
	c->gone = malloc((rp->spaces.len ? rp->spaces.len : 1) * sizeof(*c->gone));
	if (!c->counts || !c->gone)
		return -ENOMEM;
	for (uint32_t k = 0; k < rp->nlots; k++)
		c->counts[k] = rp->lots[k].now;
	while (space_table_next(&rp->spaces, &i, &space, &ss))
		if (ss->gone)
			c->gone[n++] = (uint32_t)space;
	c->ngone = n;
	return 0;
}

static void capture_free(struct capture *c)
{
	free(c->counts);
	free(c->gone);
}

/* The moment's state of the lots: a capture's, the last peak's, or now. */
struct view {
	const struct replay *rp;
	const struct capture *c; /* NULL: the peak, or now */
	int peak;
	int exited_too;
};

static const struct lot_counts *view_counts(const struct view *v, uint32_t i)
{
	static const struct lot_counts none;
	const struct lot *l = &v->rp->lots[i];

	if (v->c)
		return i < v->c->nlots ? &v->c->counts[i] : &none;
	return v->peak ? replay_lot_at_peak(v->rp, l) : &l->now;
}

static int view_gone(const struct view *v, uint32_t space)
{
	if (v->c) {
		for (size_t i = 0; i < v->c->ngone; i++)
			if (v->c->gone[i] == space)
				return 1;
		return 0;
	}
	return v->peak ? replay_space_gone_at_peak(v->rp, space)
		       : replay_space_exited(v->rp, space);
}

/* What is live in a view (the chosen processes', of o->kind, not late),
 * summed per stack; and with o->sites every stack's totals. */
static int collect(struct snapshot *snap, const struct view *v, const struct snapshot_opts *o)
{
	const struct replay *rp = v->rp;
	uint32_t space = 0;
	int counted = 0, known = 0;

	for (uint32_t i = 0; i < rp->nlots; i++) {
		const struct lot *l = &rp->lots[i];
		const struct lot_counts *c = view_counts(v, i);

		if (!(l->kind & o->kind))
			continue;
		if (o->sites && add_site(snap, l, c) < 0)
			return -ENOMEM;
		if ((!c->live && !(o->freed_too && c->allocs)) || (o->born_by && l->late))
			continue;
		/* lots come in runs of one space: ask once per run */
		if (!known || l->space != space) {
			space = l->space;
			known = 1;
			counted = replay_space_selected(rp, space) &&
				  (v->exited_too || !view_gone(v, space));
		}
		if (counted && add(snap, l->stack, c->live_bytes, c->live) < 0)
			return -ENOMEM;
	}
	return 0;
}

void snapshot_init(struct snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	snap_stacks_init(&snap->stacks);
	site_table_init(&snap->sites);
}

int snapshot_collect(struct snapshot *snap, const struct replay *rp, const struct snapshot_opts *o,
		     int exited_too, int peak)
{
	struct view v = {.rp = rp, .peak = peak, .exited_too = exited_too};

	return collect(snap, &v, o);
}

/* One pass, every moment caught (or found missing: -ENOENT with st). */
static int take_pass(struct replay *rp, struct capture *cs, size_t n, struct log_reader *r,
		     const char *path, const struct snapshot_opts *o, struct an_status *st)
{
	struct snapshot_point end = {0};
	const struct mt_event *ev;
	struct ahead *ah;
	int ret, pid_seen = 0, whole = 0, simple = !o->observe;
	uint64_t last = 0;

	for (size_t i = 0; i < n; i++) {
		whole |= cs[i].at.kind == AN_WHEN_END || cs[i].at.kind == AN_WHEN_PEAK;
		simple &= cs[i].at.kind == AN_WHEN_END || cs[i].at.kind == AN_WHEN_PEAK;
	}
	if ((ret = ahead_begin(&ah, r, path, st)) < 0)
		return ret;
	/* the end or the peak, and nothing to tell: every event replayed,
	 * nothing else to look at (the usual report, in a loop of its own) */
	while (simple && (ret = ahead_next(ah, &ev)) > 0) {
		pid_seen |= ev->pid == o->pid;
		if (replay_event(rp, ev, end.events++) < 0)
			goto nomem;
		end.end_ns = ev->time_ns;
	}
	if (simple && end.events) {
		last = end.events - 1;
		end.applied = 1;
		end.event = last;
		end.time_ns = end.end_ns;
	}
	while (!simple && (ret = ahead_next(ah, &ev)) > 0) {
		/* log_reader_event_index(), counted here: from the rewind on */
		uint64_t index = end.events;
		int pending = whole;

		end.events++;
		end.end_ns = ev->time_ns;
		last = index;
		pid_seen |= ev->pid == o->pid;
		for (size_t i = 0; i < n; i++) {
			if (!cs[i].done && stop_before(&cs[i].at, ev) &&
			    capture(&cs[i], rp, &end) < 0)
				goto nomem;
			pending |= !cs[i].done;
		}
		if (!pending)
			continue; /* only the symbols are still wanted */
		if (replay_event(rp, ev, index) < 0 ||
		    (o->observe && o->observe(o->arg, rp, ev, index) < 0))
			goto nomem;
		end.applied = 1;
		end.event = index;
		end.time_ns = ev->time_ns;
		for (size_t i = 0; i < n; i++)
			if (!cs[i].done && stop_after(&cs[i].at, rp, ev, index) &&
			    capture(&cs[i], rp, &end) < 0)
				goto nomem;
	}
	ahead_end(ah);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		struct capture *c = &cs[i];
		struct snapshot_point *pt = &c->pt;

		switch (c->at.kind) {
		case AN_WHEN_EVENT:
		case AN_WHEN_MARK:
			if (!c->done) {
				no_such(&c->at, path, rp, &end, st);
				return -ENOENT;
			}
			break;
		case AN_WHEN_TIME:
			if (c->at.value > run_end(r, &end)) {
				/* the end is not what was asked for: say so, as for #N
				 * and mark:N */
				char want[48], at_end[48];
				struct an_when e = {AN_WHEN_TIME, run_end(r, &end)};

				status_add(st, "%s: no moment %s: the log ends at %s", path,
					   when_format(&c->at, want, sizeof(want)),
					   when_format(&e, at_end, sizeof(at_end)));
				return -ENOENT;
			}
			if (!c->done)
				*pt = end; /* the whole log is before that time */
			break;
		case AN_WHEN_PEAK:
			/* nothing ever live: the empty start */
			memset(pt, 0, sizeof(*pt));
			pt->applied = rp->peak_seen;
			pt->event = rp->peak_event;
			pt->time_ns = rp->peak_ns;
			break;
		case AN_WHEN_END:
			*pt = end;
			break;
		}
		pt->events = end.events;
		pt->end_ns = end.end_ns;
		pt->at_end = pt->applied && pt->event == last;
	}
	if (o->pid && !pid_seen) {
		status_add(st, "%s: no process %" PRIu32 " in the log", path, o->pid);
		return -ENOENT;
	}
	return 0;
nomem:
	ahead_end(ah);
	return nomem(st);
}

int snapshot_take_many(struct snapshot *snaps, const struct an_when *ats, size_t n,
		       struct log_reader *r, const char *path, const struct snapshot_opts *o,
		       struct an_status *st)
{
	struct capture cs[SNAPSHOT_MAX + 1];
	size_t ncs = n;
	struct replay rp;
	int ret;

	memset(cs, 0, sizeof(cs));
	for (size_t i = 0; i < n; i++)
		snapshot_init(&snaps[i]);
	if (n > SNAPSHOT_MAX)
		return -EINVAL;
	setup(&rp, r, o);
	ret = log_reader_rewind(r);
	if (ret < 0) {
		status_add(st, "%s: cannot read the log again: %s", path, strerror(-ret));
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		cs[i].at = ats[i];
	if (o->born_by) {
		cs[ncs].at = *o->born_by;
		cs[ncs++].born = 1;
	}
	ret = take_pass(&rp, cs, ncs, r, path, o, st);
	for (size_t i = 0; ret == 0 && i < n; i++) {
		struct view v = {.rp = &rp, .exited_too = cs[i].pt.at_end};

		if (cs[i].at.kind == AN_WHEN_PEAK)
			v.peak = 1;
		else if (cs[i].done)
			v.c = &cs[i];
		snaps[i].at = cs[i].pt;
		if (collect(&snaps[i], &v, o) < 0)
			ret = nomem(st);
	}
out:
	for (size_t i = 0; i < ncs; i++)
		capture_free(&cs[i]);
	replay_free(&rp);
	/* The replay's live blocks are freed, but their pages stay resident
	 * until malloc reuses them; resolving the stacks next maps debug
	 * information, which would add to them.  Given back, the report's
	 * peak is the replay's. */
	malloc_trim(0);
	return ret;
}

int snapshot_take(struct snapshot *snap, struct log_reader *r, const char *path,
		  const struct an_when *at, const struct snapshot_opts *o, struct an_status *st)
{
	return snapshot_take_many(snap, at, 1, r, path, o, st);
}

void snapshot_free(struct snapshot *snap)
{
	snap_stacks_free(&snap->stacks);
	site_table_free(&snap->sites);
}
