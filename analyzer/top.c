/*
 * top.c - `memtrack top`: what was live at one moment, grouped and sorted
 * like tracemalloc's Snapshot.statistics() and printed line for line as
 * tracemalloc prints it.  With --temporary: the temporary allocations made
 * up to that moment (replay.h), counted and summed per site the same way.
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

/* --temporary: each stack's temporaries as its size and count. */
static int group_temporaries(struct grouping *g, struct resolver *res, struct stats *stats,
			     const struct snapshot *snap, uint64_t *temps)
{
	size_t i = 0;
	struct site_totals *t;
	struct table_key k;

	while (site_table_next(&snap->sites, &i, &k, &t)) {
		struct stat_values sv = {.size = t->temp_bytes, .count = t->temps};
		int ret;

		if (k.b != AN_KIND_HEAP || !t->temps)
			continue;
		*temps += t->temps;
		ret = group_stack(g, res, stats, k.a, &sv);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* What is live at --at, or with --temporary the temporaries made by then. */
static int collect(struct report *rp, struct an_status *st)
{
	const struct an_opts *o = rp->o;
	struct snapshot_opts so = {.kind = o->kind, .pid = o->pid, .sites = o->temporary};
	int ret = report_snapshot(rp, rp->r, o->log, &rp->res, &o->at, &so, st);

	if (ret < 0)
		return ret;
	ret = o->temporary ? group_temporaries(&rp->g, rp->res, &rp->stats, &rp->snap, rp->priv)
			   : group_snapshot(&rp->g, rp->res, &rp->stats, &rp->snap);
	if (ret < 0)
		status_add(st, "%s: %s", o->log, strerror(-ret));
	return ret;
}

/* Never a silent empty report: say why it is empty. */
static int explain_empty(struct report *rp, struct an_status *st)
{
	const struct an_opts *o = rp->o;
	uint64_t temps = *(const uint64_t *)rp->priv, left_out = rp->g.left_out;
	char when[64], what[128], size[TM_SIZE_LEN];

	when_describe(&o->at, when, sizeof(when));
	if (o->temporary && !temps) {
		status_add(st,
			   "%s: no temporary allocation was made up to the moment %s: the "
			   "report is empty",
			   o->log, when);
		return 1;
	}
	if (!o->temporary && !rp->snap.blocks) {
		status_add(st, "%s: %s is live %s: the report is empty", o->log,
			   report_kind_words(o->kind), when);
		return 1;
	}
	if (o->temporary)
		snprintf(what, sizeof(what), "%" PRIu64 " temporar%s", left_out,
			 left_out == 1 ? "y" : "ies");
	else
		snprintf(what, sizeof(what), "%" PRIu64 " live block%s (%s)", left_out,
			 left_out == 1 ? "" : "s",
			 tm_format_size(size, (double)rp->snap.bytes, 0));
	report_explain_filtered(o->log, what, rp->res, st);
	return 1;
}

static int check(struct report *rp, struct an_status *st)
{
	if (report_check_cumulative(rp, st) < 0)
		return -EINVAL;
	if (rp->o->temporary && !(rp->o->kind & AN_KIND_HEAP)) {
		status_add(st,
			   "--temporary counts heap blocks: it cannot be used with --kind mmap");
		return -EINVAL;
	}
	return 0;
}

static const struct report_ops top = {
	.check = check,
	.collect = collect,
	.sort = stats_sort,
	.explain = explain_empty,
};

int an_top(const struct an_opts *o, FILE *out, struct an_status *st)
{
	uint64_t temps = 0;

	return report_run(&top, o, &temps, out, st);
}
