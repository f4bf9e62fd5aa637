/*
 * leaks.c - `memtrack leaks`: the heap blocks still live at the end of the
 * log, grouped by traceback, biggest first, each printed as tracemalloc's
 * Statistic followed by its traceback (what `top --by traceback` prints).
 * A process's blocks stay live after it exits: they are its leaks.
 *
 * With --at WHEN: the blocks allocated by that moment that were never freed
 * (what leaked of the memory live at WHEN).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../formats/tracemalloc.h"
#include "input.h"
#include "report.h"
#include "runner.h"
#include "when.h"

/* --at peak: the peak's event, found by a pass of its own; *none when
 * nothing was ever live. */
static int peak_event(struct log_reader *r, const struct an_opts *o, struct an_when *event,
		      int *none, struct an_status *st)
{
	struct snapshot_opts so = {.kind = AN_KIND_HEAP, .pid = o->pid};
	struct snapshot_point pt;
	struct replay rp;
	int ret = snapshot_replay(&rp, r, o->log, &o->at, &so, &pt, st);

	replay_free(&rp);
	*event = (struct an_when){AN_WHEN_EVENT, pt.event};
	*none = !pt.applied;
	return ret;
}

/* The blocks live at the end, of those allocated by --at (in the same pass,
 * but for the peak). */
static int collect(struct report *rp, struct an_status *st)
{
	const struct an_opts *o = rp->o;
	struct snapshot_opts so = {.kind = AN_KIND_HEAP, .pid = o->pid};
	struct an_when end = {AN_WHEN_END, 0}, born;
	int *none = rp->priv, ret;

	if (o->at.kind == AN_WHEN_PEAK) {
		ret = peak_event(rp->r, o, &born, none, st);
		if (ret < 0)
			return ret;
		so.born_by = &born;
	} else if (o->at.kind != AN_WHEN_END) {
		so.born_by = &o->at;
	}
	ret = report_snapshot(rp, rp->r, o->log, &rp->res, &end, &so, st);
	if (ret < 0 || *none)
		return ret;
	ret = group_snapshot(&rp->g, rp->res, &rp->stats, &rp->snap);
	if (ret < 0)
		status_add(st, "%s: %s", o->log, strerror(-ret));
	return ret;
}

/* No leak printed: none, or none passed the filters. */
static int explain(struct report *rp, struct an_status *st)
{
	const struct an_opts *o = rp->o;
	char what[128], size[TM_SIZE_LEN], when[64];

	if (!rp->snap.blocks || *(const int *)rp->priv) {
		/* good news is not a warning */
		if (o->at.kind == AN_WHEN_END)
			status_add(st,
				   "%s: no leaks: every heap block was freed by the end of the "
				   "log",
				   o->log);
		else
			status_add(st,
				   "%s: no leaks: every heap block live %s was freed by the end "
				   "of the log",
				   o->log, when_describe(&o->at, when, sizeof(when)));
		return rp->warned;
	}
	snprintf(what, sizeof(what), "%" PRIu64 " leaked block%s (%s)", rp->g.left_out,
		 rp->g.left_out == 1 ? "" : "s", tm_format_size(size, (double)rp->snap.bytes, 0));
	report_explain_filtered(o->log, what, rp->res, st);
	return 1;
}

static const struct report_ops leaks = {
	.by_traceback = 1,
	.collect = collect,
	.sort = stats_sort,
	.explain = explain,
};

int an_leaks(const struct an_opts *o, FILE *out, struct an_status *st)
{
	int none = 0;

	return report_run(&leaks, o, &none, out, st);
}
