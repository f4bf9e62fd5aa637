/*
 * report.h - what the statistic reports (top, diff, leaks, export) share:
 * stacks grouped into statistics through the filters, and statistics
 * printed as tracemalloc prints them, tracebacks included.
 */
#ifndef MEMTRACK_ANALYZER_REPORT_H
#define MEMTRACK_ANALYZER_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "filter.h"
#include "resolve.h"
#include "snapshot.h"
#include "source.h"
#include "stats.h"

struct grouping {
	const struct an_filter *filter;
	int cumulative;
	uint64_t left_out;		/* blocks no frame of which passed */
	const struct an_frame **pass;	/* --cumulative: the passing frames of a stack */
	size_t cap;
};

/* Adds v to the statistics under the key of a stack: its allocation site
 * and outer frames, or with --cumulative each passing frame.  A stack no
 * frame of which passes adds v->count + v->old_count to g->left_out. */
int group_stack(struct grouping *g, struct resolver *res, struct stats *stats, uint64_t stack,
		const struct stat_values *v);

/* Every stack of a snapshot, its live size and count. */
int group_snapshot(struct grouping *g, struct resolver *res, struct stats *stats,
		   const struct snapshot *snap);

void grouping_free(struct grouping *g);

/* The first `limit` statistics (all when limit <= 0), as Statistic (or,
 * with diff, StatisticDiff) lines, each followed by its traceback when
 * grouped by traceback.  0 or -EIO. */
int report_print(FILE *out, const struct stats *stats, long limit, struct sources *src, int diff);

/* "no heap memory", "no mapped memory", "no heap or mapped memory". */
const char *report_kind_words(unsigned kind);

/* Never a silent empty report: says in st why nothing passed the filters
 * ("...: WHAT left out, the report is empty"), and which modules lack line
 * information. */
void report_explain_filtered(const char *log, const char *what, struct resolver *res,
			     struct an_status *st);

/* The log's command line, arguments separated by spaces, into buf. */
const char *report_command(const struct log_reader *r, char *buf, size_t len);

#endif
