/*
 * export_json.c - a snapshot's statistics as one JSON object, for scripts:
 *
 *   {"command": "build/samples/O0/arrays", "log": "arrays.log", "at": "end",
 *    "kind": "heap", "by": "lineno",
 *    "statistics": [
 *     {"trace": "samples/arrays.c:21", "size": 36000360, "count": 10,
 *      "allocated": 36000360, "allocations": 10, "temporary_bytes": 0,
 *      "temporaries": 0, "truncated": false, "function": "random_array",
 *      "file": "samples/arrays.c", "line": 21,
 *      "traceback": [{"function": "main", "file": "samples/arrays.c", "line": 42}, ...]}],
 *    "size": 36000360, "count": 10}
 *
 * Statistics come in tracemalloc's order; `trace` is the text its line
 * starts with; size and count are live at the moment (their sums are the
 * object's size and count, unless --cumulative counts a block at several
 * frames); the rest counts up to it.  `truncated` is true when a stack of
 * the statistic was cut at --depth: its oldest frames are not in the log.
 * `traceback`, with --by traceback only, lists the frames oldest first as
 * Traceback does; a frame without a file has "file": null and a "name".
 */
#include <string.h>

#include "export.h"

struct json_state {
	unsigned long long size, count, n;
	int open;
};

static int json_begin(struct ex_writer *w)
{
	const struct ex_info *i = w->info;

	fputs("{\"command\": ", w->out);
	ex_json_string(w->out, i->command ? i->command : "");
	fputs(", \"log\": ", w->out);
	ex_json_string(w->out, i->log ? i->log : "");
	fputs(", \"at\": ", w->out);
	ex_json_string(w->out, i->when ? i->when : "end");
	fputs(", \"kind\": ", w->out);
	ex_json_string(w->out, i->kind ? i->kind : "heap");
	fputs(", \"by\": ", w->out);
	ex_json_string(w->out, i->by ? i->by : "lineno");
	fputs(",\n \"statistics\": [", w->out);
	return ex_status(w->out);
}

/* A frame's members: "function": ..., "file": ... and its "line", or
 * "file": null and the "name" it is shown by. */
static void frame_members(FILE *out, const struct ex_frame *f)
{
	fputs("\"function\": ", out);
	if (f->function)
		ex_json_string(out, f->function);
	else
		fputs("null", out);
	fputs(", \"file\": ", out);
	if (f->file) {
		ex_json_string(out, f->file);
		fprintf(out, ", \"line\": %u", f->line);
	} else {
		fputs("null, \"name\": ", out);
		ex_json_string(out, f->display);
	}
}

static void frame(FILE *out, const struct ex_frame *f, const char *sep)
{
	fputs(sep, out);
	fputc('{', out);
	frame_members(out, f);
	fputc('}', out);
}

static int json_event(struct ex_writer *w, const struct ex_record *rec)
{
	struct json_state *js = w->state;
	const struct ex_site *s = &rec->u.site;
	FILE *out = w->out;

	if (rec->type != EX_SITE)
		return 0;
	fputs(js->n++ ? ",\n  {\"trace\": " : "\n  {\"trace\": ", out);
	ex_json_string(out, s->key);
	fprintf(out,
		", \"size\": %llu, \"count\": %llu, \"allocated\": %llu, \"allocations\": %llu, "
		"\"temporary_bytes\": %llu, \"temporaries\": %llu, \"truncated\": %s",
		(unsigned long long)s->size, (unsigned long long)s->count,
		(unsigned long long)s->allocated, (unsigned long long)s->allocs,
		(unsigned long long)s->temp_bytes, (unsigned long long)s->temps,
		s->truncated ? "true" : "false");
	js->size += s->size;
	js->count += s->count;
	if (s->nframes) {
		/* the site's own frame, flat */
		fputs(", ", out);
		frame_members(out, &s->frames[0]);
	}
	if (w->info->by && !strcmp(w->info->by, "traceback")) {
		fputs(", \"traceback\": [", out);
		for (size_t k = s->nframes; k-- > 0;)
			frame(out, &s->frames[k], k + 1 == s->nframes ? "" : ", ");
		fputc(']', out);
	}
	fputc('}', out);
	return ex_status(out);
}

static int json_end(struct ex_writer *w)
{
	struct json_state *js = w->state;

	fprintf(w->out, "%s],\n \"size\": %llu, \"count\": %llu}\n", js->n ? "\n " : "", js->size,
		js->count);
	return ex_status(w->out);
}

const struct exporter ex_json = {
	.name = "json",
	.input = EX_INPUT_SITES,
	.export_format = 1,
	.state_size = sizeof(struct json_state),
	.begin = json_begin,
	.event = json_event,
	.end = json_end,
};
