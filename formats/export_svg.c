/*
 * export_svg.c - the timeline as a chart (svg.h): the heap, the anonymous
 * and the file mappings the program made, stacked, so the top edge is all
 * the memory it asked for; RSS as a line over them when the log has RSS
 * samples (what of it the kernel actually keeps resident); marks as
 * labelled vertical lines; the peak of the stack as a red dot.  The time
 * axis runs from the start of the log to its last event: the run.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"
#include "export.h"

#define TITLE_MAX 56 /* characters of the command that fit the title's line */

struct svg_state {
	double *x, *heap, *anon, *file, *rss;
	size_t n, cap;
	struct chart_vline *marks;
	size_t nmarks, capmarks;
	int has_rss, has_peak;
	double peak_x, peak_y;
};

static int svg_begin(struct ex_writer *w)
{
	return 0;
}

static int grow(struct svg_state *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	double **arrays[] = {&s->x, &s->heap, &s->anon, &s->file, &s->rss};

	for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
		double *v = realloc(*arrays[i], cap * sizeof(**arrays[i]));

		if (!v)
			return -ENOMEM;
		*arrays[i] = v;
	}
	s->cap = cap;
	return 0;
}

static int add(struct svg_state *s, double t, double heap, double anon, double file, double rss)
{
	if (s->n == s->cap && grow(s) < 0)
		return -ENOMEM;
	s->x[s->n] = t;
	s->heap[s->n] = heap;
	s->anon[s->n] = anon;
	s->file[s->n] = file;
	s->rss[s->n++] = rss;
	return 0;
}

static int add_mark(struct svg_state *s, double t, const char *label)
{
	char *copy;

	if (s->nmarks == s->capmarks) {
		size_t cap = s->capmarks ? s->capmarks * 2 : 16;
		struct chart_vline *v = realloc(s->marks, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->marks = v;
		s->capmarks = cap;
	}
	copy = strdup(label);
	if (!copy)
		return -ENOMEM;
	s->marks[s->nmarks].x = t;
	s->marks[s->nmarks++].label = copy;
	return 0;
}

static int svg_event(struct ex_writer *w, const struct ex_record *rec)
{
	struct svg_state *s = w->state;
	const struct ex_sample *e = &rec->u.sample;
	double t = (double)e->time_ns / 1e9;

	if (rec->type != EX_SAMPLE)
		return 0;
	/* the chart starts from nothing at 0 */
	if (!s->n && e->time_ns && add(s, 0, 0, 0, 0, NAN) < 0)
		return -ENOMEM;
	if (add(s, t, (double)e->heap, (double)e->anon, (double)e->file,
		e->has_rss ? (double)e->rss : NAN) < 0)
		return -ENOMEM;
	s->has_rss |= e->has_rss;
	if (e->peak) {
		s->has_peak = 1;
		s->peak_x = t;
		s->peak_y = (double)(e->heap + e->anon + e->file);
	}
	if (e->mark)
		return add_mark(s, t, e->mark);
	return 0;
}

static void release(struct svg_state *s)
{
	free(s->x);
	free(s->heap);
	free(s->anon);
	free(s->file);
	free(s->rss);
	for (size_t i = 0; i < s->nmarks; i++)
		free((char *)s->marks[i].label);
	free(s->marks);
	memset(s, 0, sizeof(*s));
}

/*
 * A long run sampled every 10 ms has more points than a chart has pixels:
 * keep, in each of CHART_COLUMNS slices of time, the points where heap +
 * mappings and RSS were lowest and highest, and the peak, so the picture
 * keeps its envelope.
 */
#define CHART_COLUMNS 1000

static double stack_total(const struct svg_state *s, size_t i)
{
	return s->heap[i] + s->anon[i] + s->file[i];
}

static void thin(struct svg_state *s)
{
	double end = s->x[s->n - 1];
	size_t out = 0, i = 0;

	if (s->n <= 4 * CHART_COLUMNS || !(end > 0))
		return;
	while (i < s->n) {
		size_t col = (size_t)(s->x[i] / end * (CHART_COLUMNS - 1)), j = i;
		size_t keep[5] = {i, i, i, i, i};

		for (; j < s->n && (size_t)(s->x[j] / end * (CHART_COLUMNS - 1)) == col; j++) {
			if (stack_total(s, j) < stack_total(s, keep[0]))
				keep[0] = j;
			if (stack_total(s, j) > stack_total(s, keep[1]))
				keep[1] = j;
			if (!isnan(s->rss[j]) &&
			    (isnan(s->rss[keep[2]]) || s->rss[j] < s->rss[keep[2]]))
				keep[2] = j;
			if (!isnan(s->rss[j]) &&
			    (isnan(s->rss[keep[3]]) || s->rss[j] > s->rss[keep[3]]))
				keep[3] = j;
			if (s->has_peak && s->x[j] == s->peak_x && stack_total(s, j) == s->peak_y)
				keep[4] = j;
		}
		/* in time order, each once; the slice's last point too */
		for (size_t k = i; k < j; k++) {
			int wanted = k == j - 1;

			for (size_t m = 0; m < 5; m++)
				wanted |= keep[m] == k;
			if (!wanted)
				continue;
			s->x[out] = s->x[k];
			s->heap[out] = s->heap[k];
			s->anon[out] = s->anon[k];
			s->file[out] = s->file[k];
			s->rss[out++] = s->rss[k];
		}
		i = j;
	}
	s->n = out;
}

static int svg_end(struct ex_writer *w)
{
	struct svg_state *s = w->state;
	const struct ex_info *info = w->info;
	struct chart_series series[] = {
		{"heap (malloc family)", "#1f77b4", CHART_AREA, s->heap},
		{"anonymous mmap", "#ff7f0e", CHART_AREA, s->anon},
		{"file mmap", "#2ca02c", CHART_AREA, s->file},
		{"RSS", "#7b3fa0", CHART_LINE, s->rss},
	};
	char title[TITLE_MAX + 32], subtitle[512], peak[128], size[32], when[32];
	const char *cmd = info->command ? info->command : "";
	struct chart c = {
		.title = title,
		.subtitle = subtitle,
		.x_label = "time since the start of the trace",
		.y_label = "memory",
		.x_unit = CHART_SECONDS,
		.y_unit = CHART_BYTES,
		.steps = 1,
		.x = s->x,
		.npoints = s->n,
		.series = series,
		.nseries = s->has_rss ? 4 : 3,
		.vlines = s->marks,
		.nvlines = s->nmarks,
		.vline_name = "mark",
		.has_peak = s->has_peak,
		.peak_x = s->peak_x,
		.peak_y = s->peak_y,
		.peak_label = peak,
	};
	int ret;

	/* the program's name without its directory: the title has one line */
	{
		const char *space = strchr(cmd, ' ');
		const char *slash = cmd;

		for (const char *p = cmd; *p && (!space || p < space); p++)
			if (*p == '/')
				slash = p + 1;
		cmd = slash;
	}
	if (s->n) {
		double end = (double)info->end_ns / 1e9;

		thin(s);
		/* the last state holds to the end of the run, where the axis ends */
		if (end > s->x[s->n - 1] && add(s, end, s->heap[s->n - 1], s->anon[s->n - 1],
						s->file[s->n - 1], s->rss[s->n - 1]) < 0) {
			release(s);
			return -ENOMEM;
		}
		c.x = s->x;
		c.npoints = s->n;
		c.x_end = s->x[s->n - 1];
		series[0].y = s->heap;
		series[1].y = s->anon;
		series[2].y = s->file;
		series[3].y = s->rss;
	}
	snprintf(title, sizeof(title), "memtrack timeline: %.*s%s", TITLE_MAX, cmd,
		 strlen(cmd) > TITLE_MAX ? "..." : "");
	snprintf(subtitle, sizeof(subtitle), "heap and the program's own mappings, stacked%s; %s",
		 info->multi_process ? " (all processes)" : "",
		 s->has_rss ? "RSS as sampled from /proc" : "no RSS samples in this log");
	snprintf(peak, sizeof(peak), "peak %s at %s",
		 svg_format(size, sizeof(size), s->peak_y, CHART_BYTES),
		 svg_format(when, sizeof(when), s->peak_x, CHART_SECONDS));
	if (!s->n) {
		/* nothing happened: an empty chart still says so */
		if (add(s, 0, 0, 0, 0, NAN) < 0) {
			release(s);
			return -ENOMEM;
		}
		c.x = s->x;
		c.npoints = s->n;
		series[0].y = s->heap;
		series[1].y = s->anon;
		series[2].y = s->file;
		series[3].y = s->rss;
	}
	ret = svg_chart(w->out, &c);
	release(s);
	return ret;
}

const struct exporter ex_svg = {
	.name = "svg",
	.input = EX_INPUT_SERIES,
	.state_size = sizeof(struct svg_state),
	.begin = svg_begin,
	.event = svg_event,
	.end = svg_end,
};
