/*
 * export_folded.c - folded stacks, the input of flamegraph.pl, inferno and
 * speedscope: one line per distinct stack, its frames outermost first,
 * separated by ';', then a space and its value:
 *
 *   _start;__libc_start_call_main;main;load 8000008
 *
 * A frame is named by its function (inlined functions are frames of their
 * own), or, without one, as reports show it.  A stack cut at --depth starts
 * with the frame "[truncated]", where its older frames would be.  The value is the metric the
 * export asks for (bytes live, bytes allocated, allocations).  Stacks that
 * fold into the same line are summed; lines are sorted, so the output of a
 * log is always the same.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"

struct folded_line {
	char *stack;
	uint64_t value;
};

struct folded {
	struct folded_line *v;
	size_t n, cap;
};

static int folded_begin(struct ex_writer *w)
{
	return 0;
}

/* A frame's name with what would break the format replaced: ';' separates
 * frames, a line end ends the line.  Spaces stay: the readers take the
 * value after the last one ("operator new(unsigned long)" is one frame). */
static void put_name(FILE *m, const char *name)
{
	for (; *name; name++) {
		char c = *name;

		fputc(c == ';' ? ':' : c == '\n' || c == '\r' ? ' ' : c, m);
	}
}

static int folded_event(struct ex_writer *w, const struct ex_record *rec)
{
	struct folded *f = w->state;
	const struct ex_site *s = &rec->u.site;
	const char *metric = w->info->metric ? w->info->metric : "live";
	uint64_t value = !strcmp(metric, "allocated") ? s->allocated
			 : !strcmp(metric, "count")   ? s->allocs
						      : s->size;
	char *text = NULL;
	size_t len = 0;
	FILE *m;

	if (rec->type != EX_SITE || !value || !s->nframes)
		return 0;
	m = open_memstream(&text, &len);
	if (!m)
		return -ENOMEM;
	for (size_t i = s->nframes; i-- > 0;) {
		put_name(m, ex_frame_name(&s->frames[i]));
		if (i)
			fputc(';', m);
	}
	if (fclose(m) != 0) {
		free(text);
		return -ENOMEM;
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		struct folded_line *v = realloc(f->v, cap * sizeof(*v));

		if (!v) {
			free(text);
			return -ENOMEM;
		}
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n].stack = text;
	f->v[f->n++].value = value;
	return 0;
}

static int by_stack(const void *a, const void *b)
{
	return strcmp(((const struct folded_line *)a)->stack,
		      ((const struct folded_line *)b)->stack);
}

static int folded_end(struct ex_writer *w)
{
	struct folded *f = w->state;

	if (f->n)
		qsort(f->v, f->n, sizeof(*f->v), by_stack);
	for (size_t i = 0; i < f->n;) {
		uint64_t sum = 0;
		size_t j = i;

		for (; j < f->n && !strcmp(f->v[j].stack, f->v[i].stack); j++)
			sum += f->v[j].value;
		fprintf(w->out, "%s %llu\n", f->v[i].stack, (unsigned long long)sum);
		i = j;
	}
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].stack);
	free(f->v);
	memset(f, 0, sizeof(*f));
	return ex_status(w->out);
}

const struct exporter ex_folded = {
	.name = "folded",
	.input = EX_INPUT_STACKS,
	.export_format = 1,
	.state_size = sizeof(struct folded),
	.begin = folded_begin,
	.event = folded_event,
	.end = folded_end,
};
