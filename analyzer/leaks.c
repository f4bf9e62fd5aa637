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
#include "when.h"

/* The index of the last event up to WHEN; *none when WHEN is before any. */
static int moment(struct log_reader *r, const struct an_opts *o, uint64_t *event, int *none,
		  struct an_status *st)
{
	struct snapshot_opts so = {.kind = AN_KIND_HEAP, .pid = o->pid};
	struct snapshot_point pt;
	struct replay rp;
	int ret = snapshot_replay(&rp, r, o->log, &o->at, &so, &pt, st);

	replay_free(&rp);
	*event = pt.event;
	*none = !pt.applied;
	return ret;
}

int an_leaks(const struct an_opts *o, FILE *out, struct an_status *st)
{
	struct an_filter filter = {o->include, o->ninclude, o->exclude, o->nexclude};
	struct grouping g = {.filter = &filter};
	struct snapshot_opts so = {.kind = AN_KIND_HEAP, .pid = o->pid};
	struct an_when end = {AN_WHEN_END, 0};
	struct log_reader *r = NULL;
	struct resolver *res = NULL;
	struct sources *src = NULL;
	struct snapshot snap = {0};
	struct stats stats;
	char what[128], size[TM_SIZE_LEN], when[64];
	int ret, warned = 0, none = 0;

	stats_init(&stats, AN_BY_TRACEBACK);
	ret = input_open(&r, o->log, st);
	if (ret < 0)
		goto out;
	if (o->at.kind != AN_WHEN_END) {
		so.born_limit = 1;
		ret = moment(r, o, &so.born_by, &none, st);
		if (ret < 0)
			goto out;
	}
	ret = snapshot_take(&snap, r, o->log, &end, &so, st);
	if (ret < 0)
		goto out;
	warned = input_check_truncated(r, o->log, st);
	ret = resolver_open(&res, r);
	if (ret == 0)
		ret = sources_open(&src);
	if (ret == 0 && !none)
		ret = group_snapshot(&g, res, &stats, &snap);
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
	if (stats.n) {
		ret = warned;
		goto out;
	}
	if (!snap.blocks || none) {
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
		ret = warned;
		goto out;
	}
	snprintf(what, sizeof(what), "%" PRIu64 " leaked block%s (%s)", g.left_out,
		 g.left_out == 1 ? "" : "s", tm_format_size(size, (double)snap.bytes, 0));
	report_explain_filtered(o->log, what, res, st);
	ret = 1;
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
