/*
 * top.c - `memtrack top`: what was live at one moment, grouped and sorted
 * like tracemalloc's Snapshot.statistics() and printed line for line as
 * tracemalloc prints it.  With --temporary: the temporary allocations made
 * up to that moment (replay.h), counted and summed per site the same way.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/tracemalloc.h"
#include "input.h"
#include "report.h"
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

/* Never a silent empty report: say why it is empty. */
static void explain_empty(const struct an_opts *o, const struct snapshot *snap, uint64_t temps,
			  const struct grouping *g, struct resolver *res, struct an_status *st)
{
	char when[64], what[128], size[TM_SIZE_LEN];

	when_describe(&o->at, when, sizeof(when));
	if (o->temporary && !temps) {
		status_add(st,
			   "%s: no temporary allocation was made up to the moment %s: the "
			   "report is empty",
			   o->log, when);
		return;
	}
	if (!o->temporary && !snap->blocks) {
		status_add(st, "%s: %s is live %s: the report is empty", o->log,
			   report_kind_words(o->kind), when);
		return;
	}
	if (o->temporary)
		snprintf(what, sizeof(what), "%" PRIu64 " temporar%s", g->left_out,
			 g->left_out == 1 ? "y" : "ies");
	else
		snprintf(what, sizeof(what), "%" PRIu64 " live block%s (%s)", g->left_out,
			 g->left_out == 1 ? "" : "s", tm_format_size(size, (double)snap->bytes, 0));
	report_explain_filtered(o->log, what, res, st);
}

int an_top(const struct an_opts *o, FILE *out, struct an_status *st)
{
	struct an_filter filter = {o->include, o->ninclude, o->exclude, o->nexclude};
	struct grouping g = {.filter = &filter, .cumulative = o->cumulative};
	struct snapshot_opts so = {.kind = o->kind, .pid = o->pid, .sites = o->temporary};
	struct log_reader *r = NULL;
	struct resolver *res = NULL;
	struct sources *src = NULL;
	struct snapshot snap = {0};
	struct stats stats;
	uint64_t temps = 0;
	int ret, warned = 0;

	stats_init(&stats, o->by);
	if (o->cumulative && o->by == AN_BY_TRACEBACK) {
		status_add(st, "--cumulative cannot be used with --by traceback");
		return -EINVAL;
	}
	if (o->temporary && !(o->kind & AN_KIND_HEAP)) {
		status_add(st,
			   "--temporary counts heap blocks: it cannot be used with --kind mmap");
		return -EINVAL;
	}
	ret = input_open(&r, o->log, st);
	if (ret < 0)
		goto out;
	ret = snapshot_take(&snap, r, o->log, &o->at, &so, st);
	if (ret < 0)
		goto out;
	warned = input_check_truncated(r, o->log, st);
	ret = resolver_open(&res, r);
	if (ret == 0)
		ret = sources_open(&src);
	if (ret == 0)
		ret = o->temporary ? group_temporaries(&g, res, &stats, &snap, &temps)
				   : group_snapshot(&g, res, &stats, &snap);
	if (ret < 0) {
		status_add(st, "%s: %s", o->log, strerror(-ret));
		goto out;
	}
	stats_sort(&stats);
	ret = report_print(out, &stats, o->limit, src, 0);
	if (ret < 0) {
		status_add(st, "writing the report failed");
		goto out;
	}
	if (!stats.n) {
		explain_empty(o, &snap, temps, &g, res, st);
		warned = 1;
	}
	ret = warned;
out:
	grouping_free(&g);
	stats_free(&stats);
	sources_close(src);
	resolver_close(res);
	snapshot_free(&snap);
	if (r)
		log_reader_close(r);
	return ret;
}
