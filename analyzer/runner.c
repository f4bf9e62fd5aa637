/*
 * runner.c - the reports' one skeleton (see runner.h).
 */
#include <errno.h>
#include <string.h>

#include "input.h"
#include "runner.h"

int report_snapshot(struct report *rp, struct log_reader *r, const char *log,
		    struct resolver **res, const struct an_when *at, const struct snapshot_opts *so,
		    struct an_status *st)
{
	int ret;

	snapshot_free(&rp->snap);
	ret = snapshot_take(&rp->snap, r, log, at, so, st);
	if (ret < 0)
		return ret;
	if (!*res && (ret = resolver_open(res, r)) < 0)
		status_add(st, "%s: %s", log, strerror(-ret));
	return ret;
}

int report_check_cumulative(struct report *rp, struct an_status *st)
{
	if (rp->o->cumulative && rp->o->by == AN_BY_TRACEBACK) {
		status_add(st, "--cumulative cannot be used with --by traceback");
		return -EINVAL;
	}
	return 0;
}

/* The statistics, sorted and printed; when there are none, why. */
static int print_stats(struct report *rp, const struct report_ops *ops, FILE *out,
		       struct an_status *st)
{
	int ret = sources_open(&rp->src);

	if (ret < 0) {
		status_add(st, "%s: %s", rp->o->log, strerror(-ret));
		return ret;
	}
	ops->sort(&rp->stats);
	ret = report_print(out, &rp->stats, rp->o->limit, rp->src, ops->diff);
	if (ret < 0) {
		status_add(st, "writing the report failed");
		return ret;
	}
	return rp->stats.n ? rp->warned : ops->explain(rp, st);
}

int report_run(const struct report_ops *ops, const struct an_opts *o, void *priv, FILE *out,
	       struct an_status *st)
{
	struct report rp = {.o = o, .priv = priv};
	int ret;

	rp.filter = (struct an_filter){.include = o->include,
				       .ninclude = o->ninclude,
				       .exclude = o->exclude,
				       .nexclude = o->nexclude,
				       .alloc_fn = o->alloc_fn,
				       .nalloc_fn = o->nalloc_fn};
	rp.g = (struct grouping){.filter = &rp.filter, .cumulative = o->cumulative};
	stats_init(&rp.stats, ops->by_traceback ? AN_BY_TRACEBACK : o->by);
	rp.stats.by_count = o->sort == AN_SORT_COUNT;
	ret = ops->check ? ops->check(&rp, st) : 0;
	if (ret == 0 && (ret = input_open(&rp.r, o->log, st)) == 0)
		input_watch(rp.r, o->log, o);
	if (ret == 0 && ops->two_logs && o->log2 && (ret = input_open(&rp.r2, o->log2, st)) == 0)
		input_watch(rp.r2, o->log2, o);
	if (ret == 0)
		ret = ops->collect(&rp, st);
	if (ret == 0) {
		/* the whole log was read: was it whole? */
		rp.warned |= input_check_truncated(rp.r, o->log, st);
		if (rp.r2)
			rp.warned |= input_check_truncated(rp.r2, o->log2, st);
		ret = ops->print ? ops->print(&rp, out, st) : print_stats(&rp, ops, out, st);
		/* frames left unnamed for want of their file: said once */
		if (ret >= 0 &&
		    (resolver_note_unnamed(rp.res, o->log, st) |
		     resolver_note_unnamed(rp.res2, o->log2, st)) &&
		    !ret)
			ret = 1;
	}
	if (ops->finish)
		ret = ops->finish(&rp, ret, st);
	grouping_free(&rp.g);
	stats_free(&rp.stats);
	sources_close(rp.src);
	resolver_close(rp.res);
	resolver_close(rp.res2);
	snapshot_free(&rp.snap);
	if (rp.r) {
		input_unwatch(rp.r);
		log_reader_close(rp.r);
	}
	if (rp.r2) {
		input_unwatch(rp.r2);
		log_reader_close(rp.r2);
	}
	return ret;
}
