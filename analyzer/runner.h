/*
 * runner.h - the one skeleton of the reports over snapshots (top, leaks,
 * diff, export): check the options, open the log (and diff's second one),
 * let the report collect what it counts, warn when a log was cut short,
 * print, say why a report is empty, and close everything on one path.
 * A report is a struct report_ops: only what is particular to it.
 */
#ifndef MEMTRACK_ANALYZER_RUNNER_H
#define MEMTRACK_ANALYZER_RUNNER_H

#include <stdio.h>

#include "../formats/log_reader.h"
#include "analyzer.h"
#include "filter.h"
#include "report.h"
#include "resolve.h"
#include "snapshot.h"
#include "source.h"
#include "stats.h"

/* One run of a report.  Everything in it is the runner's, closed after the
 * report's finish hook; priv is the report's own. */
struct report {
	const struct an_opts *o;
	struct log_reader *r;		/* o->log */
	struct log_reader *r2;		/* diff OLD_LOG NEW_LOG: NEW_LOG, else NULL */
	struct resolver *res;		/* r's, once opened (report_snapshot()) */
	struct resolver *res2;		/* r2's */
	struct an_filter filter;	/* o's --include and --exclude */
	struct grouping g;		/* through filter, with o->cumulative */
	struct snapshot snap;		/* the last one taken */
	struct stats stats;		/* grouped by o->by (by_traceback: traceback) */
	struct sources *src;		/* for the lines under tracebacks */
	int warned;			/* warnings were given: the result is at least 1 */
	void *priv;
};

struct report_ops {
	int by_traceback;	/* statistics by traceback whatever o->by says */
	int two_logs;		/* OLD_LOG NEW_LOG (o->log2) */
	/* Options that cannot be used together: -EINVAL, the reason in st.
	 * NULL: any. */
	int (*check)(struct report *rp, struct an_status *st);
	/* Replays what the report counts, into rp->stats (or priv).  0, or < 0
	 * with the reason in st. */
	int (*collect)(struct report *rp, struct an_status *st);
	/* Writes the report; returns its result (analyzer.h).  NULL: rp->stats
	 * sorted by sort and printed as Statistic lines (StatisticDiff with
	 * diff), then, when there are none, explain's result. */
	int (*print)(struct report *rp, FILE *out, struct an_status *st);
	void (*sort)(struct stats *s);
	int diff;
	/* Nothing to print: notes or warnings in st saying why; the result. */
	int (*explain)(struct report *rp, struct an_status *st);
	/* Last, whatever happened: what priv holds is released; returns the
	 * result (ret, or an error of its own).  NULL: ret. */
	int (*finish)(struct report *rp, int ret, struct an_status *st);
};

/* Runs a report over o; priv becomes rp->priv.  Returns the report's
 * result (analyzer.h). */
int report_run(const struct report_ops *ops, const struct an_opts *o, void *priv, FILE *out,
	       struct an_status *st);

/* For collect: the snapshot of log r (rp->r or rp->r2) at `at` into
 * rp->snap (the previous one freed), and the resolver *res of that log
 * opened if it was not.  0, or < 0 with the reason in st. */
int report_snapshot(struct report *rp, struct log_reader *r, const char *log,
		    struct resolver **res, const struct an_when *at, const struct snapshot_opts *so,
		    struct an_status *st);

/* "--cumulative cannot be used with --by traceback": -EINVAL, else 0. */
int report_check_cumulative(struct report *rp, struct an_status *st);

#endif
