/*
 * top.c - `memtrack top`: what was live at one moment, grouped and sorted
 * like tracemalloc's Snapshot.statistics() and printed line for line as
 * tracemalloc prints it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/tracemalloc.h"
#include "filter.h"
#include "input.h"
#include "resolve.h"
#include "snapshot.h"
#include "source.h"
#include "stats.h"
#include "when.h"

#define TRACE_MAX 4096

struct grouping {
	const struct an_filter *filter;
	int cumulative;
	uint64_t left_out;	      /* live blocks no frame of which passed */
	const struct an_frame **pass; /* --cumulative: the passing frames of a stack */
	size_t cap;
};

/* Frames from the site outward that pass the filter. */
static int passing(struct grouping *g, const struct an_frame *const *frames, size_t n,
		   size_t *npass)
{
	if (n > g->cap) {
		const struct an_frame **v = realloc(g->pass, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		g->pass = v;
		g->cap = n;
	}
	*npass = 0;
	for (size_t i = 0; i < n; i++)
		if (filter_frame(g->filter, frames[i]))
			g->pass[(*npass)++] = frames[i];
	return 0;
}

/* Each distinct stack of the snapshot, resolved once, into the statistics. */
static int group(struct grouping *g, const struct snapshot *snap, struct resolver *res,
		 struct stats *stats)
{
	size_t i = 0;
	uint64_t stack;
	void *v;

	while (table_next(&snap->stacks, &i, &stack, NULL, &v)) {
		const struct snapshot_entry *e = v;
		const struct an_frame *const *frames;
		size_t n, npass;
		long site;
		int ret;

		frames = resolver_stack(res, stack, &n);
		if (!frames)
			return -ENOMEM;
		site = filter_site(g->filter, frames, n);
		if (site < 0) {
			g->left_out += e->count;
			continue;
		}
		frames += site;
		n -= (size_t)site;
		if (g->cumulative) {
			ret = passing(g, frames, n, &npass);
			if (ret == 0)
				ret = stats_add_each(stats, g->pass, npass, e->size, e->count);
		} else {
			ret = stats_add(stats, frames, n, e->size, e->count);
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Where a frame's source is: its file, or the file under its compilation
 * directory when the file name is relative. */
static const char *source_path(const struct an_frame *f, char *buf, size_t len)
{
	if (f->file[0] == '/' || !f->comp_dir)
		return f->file;
	snprintf(buf, len, "%s/%s", f->comp_dir, f->file);
	return buf;
}

static int print_stats(FILE *out, const struct stats *stats, long limit, struct sources *src)
{
	size_t n = limit > 0 && (size_t)limit < stats->n ? (size_t)limit : stats->n;

	for (size_t i = 0; i < n; i++) {
		const struct stat *s = &stats->v[i];
		char trace[TRACE_MAX];
		int ret;

		ret = tm_print_statistic(out, stats_trace(stats, s, trace, sizeof(trace)), s->size,
					 s->count);
		if (ret < 0 || stats->by != AN_BY_TRACEBACK)
			continue;
		/* Traceback.format(): oldest frame first */
		for (size_t k = s->nframes; k-- > 0;) {
			const struct an_frame *f = s->frames[k];
			const char *line = NULL;
			char path[TRACE_MAX];

			if (f->file)
				line = sources_line(src, source_path(f, path, sizeof(path)),
						    f->line);
			tm_print_frame(out, f->display, f->line, line);
		}
	}
	return ferror(out) ? -EIO : 0;
}

static const char *kind_words(unsigned kind)
{
	switch (kind) {
	case AN_KIND_HEAP:
		return "no heap memory";
	case AN_KIND_MMAP:
		return "no mapped memory";
	default:
		return "no heap or mapped memory";
	}
}

/* Never a silent empty report: say why it is empty. */
static void explain_empty(const struct an_opts *o, const struct snapshot *snap,
			  const struct grouping *g, struct resolver *res, struct an_status *st)
{
	char when[64], size[TM_SIZE_LEN];
	size_t total, without;
	const char *example;

	if (!snap->blocks) {
		status_add(st, "%s: %s is live %s: the report is empty", o->log,
			   kind_words(o->kind), when_describe(&o->at, when, sizeof(when)));
		return;
	}
	status_add(st,
		   "%s: no allocation site passes --include/--exclude: %" PRIu64
		   " live block%s (%s) left out, the report is empty",
		   o->log, g->left_out, g->left_out == 1 ? "" : "s",
		   tm_format_size(size, (double)snap->bytes, 0));
	without = resolver_modules_without_lines(res, &total, &example);
	if (without && example)
		status_add(st,
			   "%zu of %zu modules have no line information (e.g. %s): install their "
			   "-dbgsym packages",
			   without, total, example);
}

int an_top(const struct an_opts *o, FILE *out, struct an_status *st)
{
	struct an_filter filter = {o->include, o->ninclude, o->exclude, o->nexclude};
	struct grouping g = {.filter = &filter, .cumulative = o->cumulative};
	struct log_reader *r = NULL;
	struct resolver *res = NULL;
	struct sources *src = NULL;
	struct snapshot snap = {0};
	struct stats stats;
	int ret, warned = 0;

	stats_init(&stats, o->by);
	if (o->cumulative && o->by == AN_BY_TRACEBACK) {
		status_add(st, "--cumulative cannot be used with --by traceback");
		return -EINVAL;
	}
	ret = input_open(&r, o->log, st);
	if (ret < 0)
		goto out;
	ret = snapshot_take(&snap, r, o->log, &o->at, o->kind, st);
	if (ret < 0)
		goto out;
	warned = input_check_truncated(r, o->log, st);
	ret = resolver_open(&res, r);
	if (ret == 0)
		ret = sources_open(&src);
	if (ret == 0)
		ret = group(&g, &snap, res, &stats);
	if (ret < 0) {
		status_add(st, "%s: %s", o->log, strerror(-ret));
		goto out;
	}
	stats_sort(&stats);
	ret = print_stats(out, &stats, o->limit, src);
	if (ret < 0) {
		status_add(st, "writing the report failed");
		goto out;
	}
	if (!stats.n) {
		explain_empty(o, &snap, &g, res, st);
		warned = 1;
	}
	ret = warned;
out:
	free(g.pass);
	stats_free(&stats);
	sources_close(src);
	resolver_close(res);
	snapshot_free(&snap);
	if (r)
		log_reader_close(r);
	return ret;
}
