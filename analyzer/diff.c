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
#include "when.h"

struct side {
	const char *log;
	struct log_reader *r;
	struct resolver *res;
	struct snapshot snap;
};

/* The snapshot of one side, into the old or the new values of stats. */
static int take(struct side *s, const struct an_opts *o, const struct an_when *at, int old,
		struct grouping *g, struct stats *stats, struct an_status *st)
{
	struct snapshot_opts so = {.kind = o->kind, .pid = o->pid};
	size_t i = 0;
	uint64_t stack;
	struct snapshot_entry *e;
	int ret;

	ret = snapshot_take(&s->snap, s->r, s->log, at, &so, st);
	if (ret < 0)
		return ret;
	if (!s->res && (ret = resolver_open(&s->res, s->r)) < 0)
		goto nomem;
	while (snap_stacks_next(&s->snap.stacks, &i, &stack, &e)) {
		struct stat_values sv = {0};

		if (old) {
			sv.old_size = e->size;
			sv.old_count = e->count;
		} else {
			sv.size = e->size;
			sv.count = e->count;
		}
		ret = group_stack(g, s->res, stats, stack, &sv);
		if (ret < 0)
			goto nomem;
	}
	return 0;
nomem:
	status_add(st, "%s: %s", s->log, strerror(-ret));
	return ret;
}

int an_diff(const struct an_opts *o, FILE *out, struct an_status *st)
{
	struct an_filter filter = {o->include, o->ninclude, o->exclude, o->nexclude};
	struct grouping g = {.filter = &filter, .cumulative = o->cumulative};
	struct side a = {.log = o->log}, b = {.log = o->log2 ? o->log2 : o->log};
	struct side *newer = o->log2 ? &b : &a;
	struct sources *src = NULL;
	struct stats stats;
	uint64_t blocks = 0;
	int ret, warned = 0;

	stats_init(&stats, o->by);
	if (o->cumulative && o->by == AN_BY_TRACEBACK) {
		status_add(st, "--cumulative cannot be used with --by traceback");
		return -EINVAL;
	}
	ret = input_open(&a.r, a.log, st);
	if (ret == 0 && o->log2)
		ret = input_open(&b.r, b.log, st);
	if (ret < 0)
		goto out;
	ret = take(&a, o, &o->from, 1, &g, &stats, st);
	blocks += a.snap.blocks;
	snapshot_free(&a.snap);
	if (ret == 0)
		ret = take(newer, o, &o->to, 0, &g, &stats, st);
	blocks += newer->snap.blocks;
	if (ret < 0)
		goto out;
	warned = input_check_truncated(a.r, a.log, st);
	if (o->log2)
		warned |= input_check_truncated(b.r, b.log, st);
	ret = sources_open(&src);
	if (ret < 0) {
		status_add(st, "out of memory");
		goto out;
	}
	stats_sort_diff(&stats);
	ret = report_print(out, &stats, o->limit, src, 1);
	if (ret < 0) {
		status_add(st, "writing the report failed");
		goto out;
	}
	if (!stats.n) {
		char from[64], to[64], what[64];

		if (!blocks) {
			status_add(st, "%s: %s is live %s or %s: the report is empty", o->log,
				   report_kind_words(o->kind),
				   when_describe(&o->from, from, sizeof(from)),
				   when_describe(&o->to, to, sizeof(to)));
		} else {
			snprintf(what, sizeof(what), "%" PRIu64 " live block%s", g.left_out,
				 g.left_out == 1 ? "" : "s");
			report_explain_filtered(o->log, what, newer->res, st);
		}
		warned = 1;
	}
	ret = warned;
out:
	grouping_free(&g);
	stats_free(&stats);
	sources_close(src);
	snapshot_free(&newer->snap);
	resolver_close(a.res);
	resolver_close(b.res);
	if (a.r)
		log_reader_close(a.r);
	if (b.r)
		log_reader_close(b.r);
	return ret;
}
