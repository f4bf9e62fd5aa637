/*
 * page.c - `memtrack report`: the whole log as one HTML page
 * (formats/html.h) that a browser opens from disk.  This file gathers what
 * the page shows, as one JSON object:
 *
 *   summary    what `summary --json` prints (marks and processes included)
 *   timeline   the moments `timeline` lists (series.h): t, heap, anon,
 *              file, rss (null before the first sample), the marks, the
 *              peak, the end
 *   peak       the first event at which heap + mappings was highest: its
 *              index, time and bytes (what `top --at peak --kind all` uses)
 *   frames     every frame the stacks below use: [name, display, file,
 *              module, line, cut], name as folded stacks name it, display
 *              and line as top prints a site, file and module what
 *              --include matches, cut the --depth of a stack cut there
 *              (on the pseudo-frame that ends it; 0 on every other)
 *   stacks     one per (stack, kind): [kind (1 heap, 2 mmap), frames from
 *              the allocation site outward, live bytes and count at the
 *              end, live bytes and count at the peak, bytes allocated and
 *              allocations, temporary bytes and temporaries up to the end]
 *
 * The page groups, filters (a glob, with --include's attribution: the
 * innermost frame that matches) and sorts these itself.  The data comes
 * through the reports' public steps (summary, series, snapshots), each its
 * own replay of the log: simple, not the fastest.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/export.h"
#include "../formats/html.h"
#include "input.h"
#include "report.h"
#include "series.h"
#include "snapshot.h"

#define COMMAND_MAX 4096

/* --- the timeline, collected by an exporter of our own ---------------------- */

struct moment {
	uint64_t t; /* ns */
	uint64_t heap, anon, file, rss;
	int has_rss, peak;
};

struct mark_at {
	uint64_t t;
	char *label;
};

struct moments {
	struct moment *v;
	size_t n, cap;
	struct mark_at *marks;
	size_t nmarks, capmarks;
};

static int moments_begin(struct ex_writer *w)
{
	return 0;
}

static int moments_event(struct ex_writer *w, const struct ex_record *rec)
{
	struct moments *m = w->state;
	const struct ex_sample *s = &rec->u.sample;

	if (rec->type != EX_SAMPLE)
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 1024;
		struct moment *v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] =
		(struct moment){s->time_ns, s->heap, s->anon, s->file, s->rss, s->has_rss, s->peak};
	if (!s->mark)
		return 0;
	if (m->nmarks == m->capmarks) {
		size_t cap = m->capmarks ? 2 * m->capmarks : 16;
		struct mark_at *v = realloc(m->marks, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		m->marks = v;
		m->capmarks = cap;
	}
	m->marks[m->nmarks].t = s->time_ns;
	m->marks[m->nmarks].label = strdup(s->mark);
	return m->marks[m->nmarks++].label ? 0 : -ENOMEM;
}

static int moments_end(struct ex_writer *w)
{
	return 0;
}

static void moments_free(struct moments *m)
{
	for (size_t i = 0; i < m->nmarks; i++)
		free(m->marks[i].label);
	free(m->marks);
	free(m->v);
}

static const struct exporter moments_exporter = {
	.name = "report-timeline",
	.input = EX_INPUT_SERIES,
	.state_size = sizeof(struct moments),
	.begin = moments_begin,
	.event = moments_event,
	.end = moments_end,
};

/* --- the stacks: live at the end and at the peak, allocated, temporary ------ */

struct stack_values {
	uint64_t end_size, end_count, peak_size, peak_count;
	uint64_t alloc_size, allocs, temp_size, temps;
};

HASH_DEFINE(page_stacks, struct table_key, struct stack_values, table_hash_pair, table_eq_pair)

struct page {
	const struct an_opts *o;
	struct log_reader *r;
	struct resolver *res;
	struct page_stacks stacks; /* (stack, AN_KIND_*) -> values */
	uint64_t peak_event, peak_bytes, peak_ns;
	int peak_seen;
	struct u64_map frame_ids; /* frame pointer -> its index + 1 */
	const struct an_frame **frames;
	size_t nframes, capframes;
	struct moments tl;
	uint64_t end_ns;
	char command[COMMAND_MAX];
};

/* What is live at `at` of one kind, into the end's or the peak's values;
 * at the end, what each stack allocated too. */
static int add_snapshot(struct page *pg, const struct an_when *at, unsigned kind, int at_peak,
			struct an_status *st)
{
	struct snapshot_opts so = {.kind = kind, .pid = pg->o->pid, .sites = !at_peak};
	struct snapshot snap;
	struct snapshot_entry *e;
	struct site_totals *t;
	struct table_key k;
	uint64_t stack;
	size_t i = 0;
	int ret = snapshot_take(&snap, pg->r, pg->o->log, at, &so, st);

	if (at_peak)
		pg->peak_ns = snap.at.time_ns;
	while (ret == 0 && snap_stacks_next(&snap.stacks, &i, &stack, &e)) {
		struct stack_values *v = page_stacks_put(&pg->stacks, TABLE_KEY(stack, kind), NULL);

		if (!v) {
			ret = -ENOMEM;
			break;
		}
		if (at_peak) {
			v->peak_size += e->size;
			v->peak_count += e->count;
		} else {
			v->end_size += e->size;
			v->end_count += e->count;
		}
	}
	i = 0;
	while (ret == 0 && !at_peak && site_table_next(&snap.sites, &i, &k, &t)) {
		struct stack_values *v;

		if (k.b != kind)
			continue;
		v = page_stacks_put(&pg->stacks, k, NULL);
		if (!v) {
			ret = -ENOMEM;
			break;
		}
		v->alloc_size += t->bytes;
		v->allocs += t->count;
		v->temp_size += t->temp_bytes;
		v->temps += t->temps;
	}
	snapshot_free(&snap);
	if (ret == -ENOMEM)
		status_add(st, "out of memory");
	return ret;
}

/* The peak: the first event at which heap and mappings together were
 * highest (what top --at peak --kind all takes); then each kind live at
 * the end and at that peak, and what each stack allocated. */
static int collect_stacks(struct page *pg, struct an_status *st)
{
	static const unsigned kinds[2] = {AN_KIND_HEAP, AN_KIND_MMAP};
	struct snapshot_opts so = {.kind = AN_KIND_ALL, .pid = pg->o->pid};
	struct an_when end = {AN_WHEN_END, 0}, peak = {AN_WHEN_EVENT, 0};
	struct snapshot_point pt;
	struct replay rp;
	int ret = snapshot_replay(&rp, pg->r, pg->o->log, &end, &so, &pt, st);

	pg->peak_event = peak.value = rp.peak_event;
	pg->peak_bytes = rp.peak;
	pg->peak_seen = rp.peak_seen;
	replay_free(&rp);
	for (int k = 0; k < 2 && ret == 0; k++)
		ret = add_snapshot(pg, &end, kinds[k], 0, st);
	for (int k = 0; k < 2 && ret == 0 && pg->peak_seen; k++)
		ret = add_snapshot(pg, &peak, kinds[k], 1, st);
	return ret;
}

/* --- the JSON ---------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
	if (s)
		ex_json_string(f, s);
	else
		fputs("null", f);
}

/* Nanoseconds as seconds, to the last digit, as timeline's CSV writes them. */
static void json_seconds(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
}

static long frame_index(struct page *pg, const struct an_frame *fr)
{
	uint64_t *id = u64_map_get(&pg->frame_ids, (uint64_t)(uintptr_t)fr);

	if (id)
		return (long)*id - 1;
	if (pg->nframes == pg->capframes) {
		size_t cap = pg->capframes ? 2 * pg->capframes : 1024;
		const struct an_frame **v = realloc(pg->frames, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		pg->frames = v;
		pg->capframes = cap;
	}
	id = u64_map_put(&pg->frame_ids, (uint64_t)(uintptr_t)fr, NULL);
	if (!id)
		return -ENOMEM;
	pg->frames[pg->nframes] = fr;
	*id = ++pg->nframes;
	return (long)*id - 1;
}

static int write_stacks(struct page *pg, FILE *f)
{
	static const struct an_filter none;
	struct stack_values *v;
	struct table_key k;
	size_t i = 0;
	int first = 1;

	fputs(",\n\"stacks\": [", f);
	while (page_stacks_next(&pg->stacks, &i, &k, &v)) {
		const struct an_frame *const *fr;
		size_t n;
		long site;

		fr = resolver_stack(pg->res, k.a, &n);
		if (!fr)
			return -ENOMEM;
		site = filter_site(&none, fr, n);
		if (site < 0)
			continue;
		fprintf(f, "%s\n[%u,[", first ? "" : ",", (unsigned)k.b);
		first = 0;
		for (size_t j = (size_t)site; j < n; j++) {
			long idx = frame_index(pg, fr[j]);

			if (idx < 0)
				return (int)idx;
			fprintf(f, "%s%ld", j > (size_t)site ? "," : "", idx);
		}
		fprintf(f,
			"],%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%" PRIu64 ",%" PRIu64 "]",
			v->end_size, v->end_count, v->peak_size, v->peak_count, v->alloc_size,
			v->allocs, v->temp_size, v->temps);
	}
	fputs("]", f);
	fputs(",\n\"frames\": [", f);
	for (size_t j = 0; j < pg->nframes; j++) {
		const struct an_frame *fr = pg->frames[j];

		fputs(j ? ",\n[" : "\n[", f);
		json_str(f, fr->function ? fr->function : fr->display);
		fputc(',', f);
		json_str(f, fr->display);
		fputc(',', f);
		json_str(f, fr->file);
		fputc(',', f);
		json_str(f, fr->module);
		fprintf(f, ",%" PRIu32 ",%" PRIu32 "]", fr->line, fr->cut);
	}
	fputs("]", f);
	return 0;
}

static void write_timeline(const struct page *pg, FILE *f)
{
	static const char *const names[] = {"heap", "anon", "file", "rss"};
	const struct moments *m = &pg->tl;

	fputs(",\n\"timeline\": {\"t\": [", f);
	for (size_t i = 0; i < m->n; i++) {
		fputs(i ? "," : "", f);
		json_seconds(f, m->v[i].t);
	}
	fputc(']', f);
	for (int k = 0; k < 4; k++) {
		fprintf(f, ",\n\"%s\": [", names[k]);
		for (size_t i = 0; i < m->n; i++) {
			const struct moment *s = &m->v[i];
			uint64_t x = k == 0   ? s->heap
				     : k == 1 ? s->anon
				     : k == 2 ? s->file
					      : s->rss;

			if (k == 3 && !s->has_rss)
				fprintf(f, "%snull", i ? "," : "");
			else
				fprintf(f, "%s%" PRIu64, i ? "," : "", x);
		}
		fputc(']', f);
	}
	fputs(",\n\"marks\": [", f);
	for (size_t i = 0; i < m->nmarks; i++) {
		fprintf(f, "%s[", i ? "," : "");
		json_seconds(f, m->marks[i].t);
		fputc(',', f);
		json_str(f, m->marks[i].label);
		fputc(']', f);
	}
	fputs("],\n\"peak\": ", f);
	for (size_t i = 0; i <= m->n; i++) {
		if (i == m->n) {
			fputs("null", f);
		} else if (m->v[i].peak) {
			fprintf(f, "%zu", i);
			break;
		}
	}
	fputs(", \"end\": ", f);
	json_seconds(f, pg->end_ns);
	fputc('}', f);
}

/* --- the command -------------------------------------------------------------- */

/* Where the page goes without -o: the log's path, its ".log" replaced by
 * ".html" (or ".html" added). */
static char *default_output(const char *log)
{
	size_t len = strlen(log);
	char *path = malloc(len + 6);

	if (!path)
		return NULL;
	memcpy(path, log, len + 1);
	if (len > 4 && !strcmp(path + len - 4, ".log"))
		path[len - 4] = '\0';
	strcat(path, ".html");
	return path;
}

int an_report(const struct an_opts *o, FILE *out, struct an_status *st)
{
	struct page pg = {.o = o};
	struct an_opts sum = *o, series = *o;
	struct series_out so = {.exp = &moments_exporter};
	struct ex_info info = {0};
	char *json = NULL, *summary = NULL, *path = NULL, title[COMMAND_MAX + 32];
	size_t json_len = 0, summary_len = 0;
	FILE *f = NULL, *page = NULL;
	int ret, warned;

	page_stacks_init(&pg.stacks);
	u64_map_init(&pg.frame_ids);
	/* the summary, as `summary --json` prints it */
	f = open_memstream(&summary, &summary_len);
	if (!f) {
		status_add(st, "out of memory");
		return -ENOMEM;
	}
	sum.json = 1;
	sum.at.kind = AN_WHEN_END;
	ret = an_summary(&sum, f, st);
	if (fclose(f) != 0 && ret >= 0)
		ret = -ENOMEM;
	f = NULL;
	if (ret < 0)
		goto out;
	warned = ret;
	st->message[0] = '\0'; /* its warnings are the log's: said once, below */

	ret = input_open(&pg.r, o->log, st);
	if (ret < 0)
		goto out;
	/* the memory over time */
	series.kind = AN_KIND_ALL;
	so.w.state = &pg.tl;
	info.command = report_command(pg.r, pg.command, sizeof(pg.command));
	info.log = o->log;
	info.kind = "all";
	ret = series_run(pg.r, &series, &info, &so, 1, st);
	if (ret < 0)
		goto out;
	pg.end_ns = info.end_ns;
	ret = collect_stacks(&pg, st);
	if (ret < 0)
		goto out;
	warned |= input_check_truncated(pg.r, o->log, st);
	ret = resolver_open(&pg.res, pg.r);
	if (ret < 0) {
		status_add(st, "out of memory");
		goto out;
	}

	f = open_memstream(&json, &json_len);
	if (!f) {
		ret = -ENOMEM;
		status_add(st, "out of memory");
		goto out;
	}
	fputs("{\"version\": 1,\n\"log\": ", f);
	json_str(f, o->log);
	fputs(",\n\"command\": ", f);
	json_str(f, pg.command);
	fputs(",\n\"summary\": ", f);
	fwrite(summary, 1, summary_len, f);
	write_timeline(&pg, f);
	fprintf(f, ",\n\"peak\": {\"event\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"time_s\": ",
		pg.peak_seen ? pg.peak_event : 0, pg.peak_bytes);
	json_seconds(f, pg.peak_ns);
	fputs(pg.peak_seen ? ", \"seen\": true}" : ", \"seen\": false}", f);
	ret = write_stacks(&pg, f);
	fputs("}\n", f);
	if (fclose(f) != 0 && ret == 0)
		ret = -ENOMEM;
	f = NULL;
	if (ret < 0) {
		status_add(st, "out of memory");
		goto out;
	}

	if (!o->output && !(path = default_output(o->log))) {
		ret = -ENOMEM;
		status_add(st, "out of memory");
		goto out;
	}
	page = output_open(o->output ? o->output : path, out, st);
	if (!page) {
		ret = -EIO;
		goto out;
	}
	snprintf(title, sizeof(title), "memtrack report: %s", pg.command);
	ret = html_write(page, title, json, json_len);
	if (ret < 0)
		status_add(st, "writing the report failed");
	ret = output_close(page, out, o->output ? o->output : path, ret, st);
	/* a note only when nothing else is said: with warnings, every line
	 * reads as one */
	if (ret == 0 && page != out && !warned)
		status_add(st, "report written to %s", o->output ? o->output : path);
	if (ret == 0)
		ret = warned;
out:
	if (f)
		fclose(f);
	free(json);
	free(summary);
	free(path);
	free(pg.frames);
	u64_map_free(&pg.frame_ids);
	page_stacks_free(&pg.stacks);
	moments_free(&pg.tl);
	resolver_close(pg.res);
	if (pg.r)
		log_reader_close(pg.r);
	return ret;
}
