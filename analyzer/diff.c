/*
 * diff.c - `memtrack diff`: what tracemalloc's Snapshot.compare_to()
 * prints, between two moments of one log (--from, --to) or between the
 * ends of two logs (OLD_LOG NEW_LOG; --from and --to then pick the moment
 * in each).  Both snapshots are grouped under the same keys (file:line,
 * file, function or traceback, compared by their text), so two runs of one
 * program compare line by line even though their addresses differ.
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

/* A snapshot of one side into the old or the new values of rp->stats;
 * *blocks counts its live blocks. */
static int group(struct report *rp, const struct snapshot *snap, int newer, int old,
		 struct an_status *st)
{
	const char *log = newer ? rp->o->log2 : rp->o->log;
	struct snapshot_entry *e;
	uint64_t stack;
	size_t i = 0;
	int ret;

	*(uint64_t *)rp->priv += snap->blocks;
	while (snap_stacks_next(&snap->stacks, &i, &stack, &e)) {
		struct stat_values sv = {0};

		if (old) {
			sv.old_size = e->size;
			sv.old_count = e->count;
		} else {
			sv.size = e->size;
			sv.count = e->count;
		}
		ret = group_stack(&rp->g, newer ? rp->res2 : rp->res, &rp->stats, stack, &sv);
		if (ret < 0) {
			status_add(st, "%s: %s", log, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* The snapshot of one side, through report_snapshot(). */
static int take(struct report *rp, int newer, const struct an_when *at, int old,
		struct an_status *st)
{
	const struct an_opts *o = rp->o;
	struct snapshot_opts so = {.kind = o->kind, .pid = o->pid};
	int ret = report_snapshot(rp, newer ? rp->r2 : rp->r, newer ? o->log2 : o->log,
				  newer ? &rp->res2 : &rp->res, at, &so, st);

	return ret < 0 ? ret : group(rp, &rp->snap, newer, old, st);
}

/* --from in the old log, --to in the new one; with one log, both moments
 * from one pass over it. */
static int collect(struct report *rp, struct an_status *st)
{
	const struct an_opts *o = rp->o;
	struct snapshot_opts so = {.kind = o->kind, .pid = o->pid};
	struct an_when ats[2] = {o->from, o->to};
	struct snapshot snaps[2];
	int ret;

	if (o->log2) {
		ret = take(rp, 0, &o->from, 1, st);
		return ret < 0 ? ret : take(rp, 1, &o->to, 0, st);
	}
	ret = snapshot_take_many(snaps, ats, 2, rp->r, o->log, &so, st);
	if (ret == 0 && (ret = resolver_open(&rp->res, rp->r)) < 0)
		status_add(st, "%s: %s", o->log, strerror(-ret));
	if (ret == 0)
		ret = group(rp, &snaps[0], 0, 1, st);
	if (ret == 0)
		ret = group(rp, &snaps[1], 0, 0, st);
	snapshot_free(&snaps[0]);
	snapshot_free(&snaps[1]);
	return ret;
}

static int explain(struct report *rp, struct an_status *st)
{
	const struct an_opts *o = rp->o;
	char from[64], to[64], what[64];

	if (!*(const uint64_t *)rp->priv) {
		status_add(st, "%s: %s is live %s or %s: the report is empty", o->log,
			   report_kind_words(o->kind), when_describe(&o->from, from, sizeof(from)),
			   when_describe(&o->to, to, sizeof(to)));
	} else {
		snprintf(what, sizeof(what), "%" PRIu64 " live block%s", rp->g.left_out,
			 rp->g.left_out == 1 ? "" : "s");
		report_explain_filtered(o->log, what, o->log2 ? rp->res2 : rp->res, st);
	}
	return 1;
}

static const struct report_ops diff = {
	.two_logs = 1,
	.check = report_check_cumulative,
	.collect = collect,
	.sort = stats_sort_diff,
	.diff = 1,
	.explain = explain,
};

int an_diff(const struct an_opts *o, FILE *out, struct an_status *st)
{
	uint64_t blocks = 0;

	return report_run(&diff, o, &blocks, out, st);
}
