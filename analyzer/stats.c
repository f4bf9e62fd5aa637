/*
 * stats.c - grouping into statistics and tracemalloc's sort order (see
 * stats.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#define LABEL_MAX 4096

void stats_init(struct stats *s, enum an_group by)
{
	memset(s, 0, sizeof(*s));
	s->by = by;
	u64_map_init(&s->index);
}

void stats_free(struct stats *s)
{
	int by_count = s->by_count;

	free(s->v);
	u64_map_free(&s->index);
	arena_free(&s->arena);
	stats_init(s, s->by);
	s->by_count = by_count;
}

/* The function key as printed: "function (path)", "function", or the
 * display form when the function is unknown. */
static const char *label(const struct an_frame *f, char *buf, size_t len)
{
	if (!f->function)
		return f->display;
	if (!f->file)
		return f->function;
	snprintf(buf, len, "%s (%s)", f->function, f->display);
	return buf;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s, strlen(s) + 1);
}

static uint64_t key_hash(enum an_group by, const struct an_frame *const *frames, size_t n,
			 const char *lbl)
{
	uint64_t h = 0xcbf29ce484222325ull;

	switch (by) {
	case AN_BY_FUNCTION:
		return fnv_str(h, lbl);
	case AN_BY_FILENAME:
		return fnv_str(h, frames[0]->display);
	case AN_BY_LINENO:
	case AN_BY_TRACEBACK:
		for (size_t i = 0; i < n; i++) {
			h = fnv_str(h, frames[i]->display);
			h = fnv(h, &frames[i]->line, sizeof(frames[i]->line));
		}
		return h;
	}
	return h;
}

/* (display, line) as a tuple, ascending. */
static int frame_cmp(const struct an_frame *a, const struct an_frame *b)
{
	int c = strcmp(a->display, b->display);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	/* stacks cut at different depths are different tracebacks */
	return a->cut < b->cut ? -1 : a->cut > b->cut;
}

/* Ascending key order; 0 for equal keys. */
static int key_cmp(enum an_group by, const struct stat *a, const struct stat *b)
{
	size_t k;

	switch (by) {
	case AN_BY_FUNCTION:
		return strcmp(a->label, b->label);
	case AN_BY_FILENAME:
		return strcmp(a->frames[0]->display, b->frames[0]->display);
	case AN_BY_LINENO:
		return frame_cmp(a->frames[0], b->frames[0]);
	case AN_BY_TRACEBACK:
		/* Traceback tuples run oldest first; a prefix sorts first. */
		for (k = 0; k < a->nframes && k < b->nframes; k++) {
			int c = frame_cmp(a->frames[a->nframes - 1 - k],
					  b->frames[b->nframes - 1 - k]);

			if (c)
				return c;
		}
		return a->nframes < b->nframes ? -1 : a->nframes > b->nframes;
	}
	return 0;
}

static void add_values(struct stat_values *to, const struct stat_values *v)
{
	to->size += v->size;
	to->count += v->count;
	to->old_size += v->old_size;
	to->old_count += v->old_count;
	to->alloc_size += v->alloc_size;
	to->alloc_count += v->alloc_count;
	to->temp_size += v->temp_size;
	to->temp_count += v->temp_count;
	to->cut_stacks += v->cut_stacks;
}

int stats_add(struct stats *s, const struct an_frame *const *frames, size_t n, uint64_t size,
	      uint64_t count)
{
	struct stat_values v = {.size = size, .count = count};

	return stats_add_values(s, frames, n, &v, 0);
}

static int add_key(struct stats *s, const struct an_frame *const *frames, size_t n,
		   const struct stat_values *v)
{
	char buf[LABEL_MAX];
	struct stat key = {0};
	uint64_t *first;
	int created;
	size_t i;

	key.frames = frames;
	key.nframes = s->by == AN_BY_TRACEBACK ? n : 1;
	key.label = s->by == AN_BY_FUNCTION ? label(frames[0], buf, sizeof(buf)) : NULL;
	key.hash = key_hash(s->by, frames, key.nframes, key.label);
	first = u64_map_put(&s->index, key.hash, &created);
	if (!first)
		return -ENOMEM;
	for (i = *first; i; i = s->v[i - 1].next) {
		struct stat *st = &s->v[i - 1];

		if (key_cmp(s->by, st, &key) == 0) {
			add_values(&st->v, v);
			st->size = st->v.size;
			st->count = st->v.count;
			return 0;
		}
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct stat *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	/* The key outlives the caller's arrays. */
	key.frames = arena_alloc(&s->arena, key.nframes * sizeof(*key.frames));
	if (!key.frames)
		return -ENOMEM;
	memcpy((void *)key.frames, frames, key.nframes * sizeof(*key.frames));
	if (key.label && !(key.label = arena_strndup(&s->arena, key.label, strlen(key.label))))
		return -ENOMEM;
	key.v = *v;
	key.size = v->size;
	key.count = v->count;
	key.next = *first;
	s->v[s->n++] = key;
	*first = s->n;
	return 0;
}

int stats_add_each(struct stats *s, const struct an_frame *const *frames, size_t n, uint64_t size,
		   uint64_t count)
{
	struct stat_values v = {.size = size, .count = count};

	return stats_add_values(s, frames, n, &v, 1);
}

int stats_add_values(struct stats *s, const struct an_frame *const *frames, size_t n,
		     const struct stat_values *v, int each)
{
	if (!each)
		return add_key(s, frames, n, v);
	/* tracemalloc's _group_by(cumulative=True): every frame of the trace
	 * adds the trace's size, so a line that recurs in one stack counts
	 * as often as it recurs. */
	for (size_t i = 0; i < n; i++) {
		int ret = add_key(s, &frames[i], 1, v);

		if (ret < 0)
			return ret;
	}
	return 0;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* Statistic._sort_key, reverse=True: the biggest first (the most, by
 * count). */
static int stat_order(const void *pa, const void *pb, void *arg)
{
	const struct stats *s = arg;
	const struct stat *a = pa, *b = pb;
	int c;

	if (s->by_count && (c = cmp_u64(a->count, b->count)))
		return -c;
	if ((c = cmp_u64(a->size, b->size)) || (c = cmp_u64(a->count, b->count)))
		return -c;
	return -key_cmp(s->by, a, b);
}

static uint64_t diff_abs(uint64_t now, uint64_t old)
{
	return now > old ? now - old : old - now;
}

/* StatisticDiff._sort_key, reverse=True (counts first, by count). */
static int diff_order(const void *pa, const void *pb, void *arg)
{
	const struct stats *s = arg;
	const struct stat *a = pa, *b = pb;
	int c;

	if (s->by_count && ((c = cmp_u64(diff_abs(a->v.count, a->v.old_count),
					  diff_abs(b->v.count, b->v.old_count))) ||
			    (c = cmp_u64(a->v.count, b->v.count))))
		return -c;
	if ((c = cmp_u64(diff_abs(a->v.size, a->v.old_size), diff_abs(b->v.size, b->v.old_size))) ||
	    (c = cmp_u64(a->v.size, b->v.size)) ||
	    (c = cmp_u64(diff_abs(a->v.count, a->v.old_count),
			 diff_abs(b->v.count, b->v.old_count))) ||
	    (c = cmp_u64(a->v.count, b->v.count)))
		return -c;
	return -key_cmp(s->by, a, b);
}

static int site_order(const void *pa, const void *pb, void *arg)
{
	const struct stats *s = arg;
	const struct stat *a = pa, *b = pb;
	int c;

	if ((c = cmp_u64(a->v.size, b->v.size)) || (c = cmp_u64(a->v.count, b->v.count)) ||
	    (c = cmp_u64(a->v.alloc_size, b->v.alloc_size)) ||
	    (c = cmp_u64(a->v.alloc_count, b->v.alloc_count)) ||
	    (c = cmp_u64(a->v.temp_size, b->v.temp_size)))
		return -c;
	return -key_cmp(s->by, a, b);
}

static void sort_by(struct stats *s, int (*order)(const void *, const void *, void *))
{
	if (s->n)
		qsort_r(s->v, s->n, sizeof(*s->v), order, s);
	/* the hash chains index positions that moved */
	u64_map_free(&s->index);
}

void stats_sort(struct stats *s)
{
	sort_by(s, stat_order);
}

void stats_sort_diff(struct stats *s)
{
	sort_by(s, diff_order);
}

void stats_sort_sites(struct stats *s)
{
	sort_by(s, site_order);
}

const char *stats_trace(const struct stats *s, const struct stat *st, char *buf, size_t len)
{
	switch (s->by) {
	case AN_BY_FUNCTION:
		return st->label;
	case AN_BY_FILENAME:
		snprintf(buf, len, "%s:0", st->frames[0]->display);
		return buf;
	default:
		snprintf(buf, len, "%s:%u", st->frames[0]->display, st->frames[0]->line);
		return buf;
	}
}
