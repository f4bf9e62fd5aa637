/*
 * report.c - grouping stacks into statistics and printing them the way
 * tracemalloc does (see report.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/tracemalloc.h"
#include "input.h"
#include "report.h"

#define TRACE_MAX 4096

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
		if (!frames[i]->cut && filter_frame(g->filter, frames[i]))
			g->pass[(*npass)++] = frames[i];
	return 0;
}

int group_stack(struct grouping *g, struct resolver *res, struct stats *stats, uint64_t stack,
		const struct stat_values *v)
{
	const struct an_frame *const *frames;
	struct stat_values cut;
	size_t n, npass;
	long site;
	int ret;

	frames = resolver_stack(res, stack, &n);
	if (!frames)
		return -ENOMEM;
	if (frames[n - 1]->cut) {
		cut = *v;
		cut.cut_stacks = 1;
		v = &cut;
	}
	site = filter_site(g->filter, frames, n);
	if (site < 0) {
		g->left_out += v->count + v->old_count;
		return 0;
	}
	frames += site;
	n -= (size_t)site;
	if (!g->cumulative)
		return stats_add_values(stats, frames, n, v, 0);
	ret = passing(g, frames, n, &npass);
	return ret ? ret : stats_add_values(stats, g->pass, npass, v, 1);
}

int group_snapshot(struct grouping *g, struct resolver *res, struct stats *stats,
		   const struct snapshot *snap)
{
	size_t i = 0;
	uint64_t stack;
	struct snapshot_entry *e;

	while (snap_stacks_next(&snap->stacks, &i, &stack, &e)) {
		struct stat_values sv = {.size = e->size, .count = e->count};
		int ret = group_stack(g, res, stats, stack, &sv);

		if (ret < 0)
			return ret;
	}
	return 0;
}

void grouping_free(struct grouping *g)
{
	free(g->pass);
	g->pass = NULL;
	g->cap = 0;
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

int report_print(FILE *out, const struct stats *stats, long limit, struct sources *src, int diff)
{
	size_t n = limit > 0 && (size_t)limit < stats->n ? (size_t)limit : stats->n;

	for (size_t i = 0; i < n; i++) {
		const struct stat *s = &stats->v[i];
		const char *trace;
		char buf[TRACE_MAX];

		trace = stats_trace(stats, s, buf, sizeof(buf));
		if (diff)
			tm_print_statistic_diff(out, trace, s->v.size,
						(int64_t)(s->v.size - s->v.old_size), s->v.count,
						(int64_t)(s->v.count - s->v.old_count));
		else
			tm_print_statistic(out, trace, s->size, s->count);
		if (stats->by != AN_BY_TRACEBACK)
			continue;
		/* Traceback.format(): oldest frame first */
		for (size_t k = s->nframes; k-- > 0;) {
			const struct an_frame *f = s->frames[k];
			const char *line = NULL;
			char path[TRACE_MAX];

			if (f->cut) {
				/* where the older frames would be */
				fprintf(out, "  ... (stack cut at --depth %u)\n", f->cut);
				continue;
			}
			if (f->file)
				line = sources_line(src, source_path(f, path, sizeof(path)),
						    f->line);
			tm_print_frame(out, f->display, f->line, line);
		}
	}
	return ferror(out) ? -EIO : 0;
}

const char *report_kind_words(unsigned kind)
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

void report_explain_filtered(const char *log, const char *what, struct resolver *res,
			     struct an_status *st)
{
	size_t total, without;
	const char *example;

	status_add(st,
		   "%s: no allocation site passes --include/--exclude: %s left out, the report "
		   "is empty",
		   log, what);
	without = resolver_modules_without_lines(res, &total, &example);
	if (without && example)
		status_add(st,
			   "%zu of %zu modules %s no line information (e.g. %s): install their "
			   "-dbgsym packages",
			   without, total, without == 1 ? "has" : "have", example);
}

const char *report_command(const struct log_reader *r, char *buf, size_t len)
{
	const struct mt_log_header *h = log_reader_header(r);
	size_t n = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < h->argc && n < len; i++) {
		int w = snprintf(buf + n, len - n, "%s%s", i ? " " : "", h->argv[i]);

		if (w < 0)
			break;
		n += (size_t)w;
	}
	return buf;
}
