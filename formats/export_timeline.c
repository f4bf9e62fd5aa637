/*
 * export_timeline.c - the timeline as CSV: one row per moment worth
 * plotting (which moments: analyzer/series.c), in time order:
 *
 *   time_s,heap_bytes,anon_mmap_bytes,file_mmap_bytes,rss_bytes,note
 *   0.001234567,8000008,0,4096,1327104,
 *   0.002000001,16000016,0,4096,,peak
 *
 * time_s counts from the start of the log, in seconds with nanosecond
 * digits; heap is what the malloc family holds, the mappings are those the
 * program made itself (outside the allocator) split into anonymous ones and
 * files; rss_bytes is the last RSS sample (empty before the first one, or
 * when the log has none).  note says "peak" at the highest heap + mappings,
 * and names a mark hit at that moment ("mark:2 samples/a.c:40").
 */
#include "export.h"

static int timeline_begin(struct ex_writer *w)
{
	fputs("time_s,heap_bytes,anon_mmap_bytes,file_mmap_bytes,rss_bytes,note\n", w->out);
	return ex_status(w->out);
}

static int timeline_event(struct ex_writer *w, const struct ex_record *rec)
{
	const struct ex_sample *s = &rec->u.sample;

	if (rec->type != EX_SAMPLE)
		return 0;
	fprintf(w->out, "%llu.%09llu,%llu,%llu,%llu,",
		(unsigned long long)(s->time_ns / 1000000000u),
		(unsigned long long)(s->time_ns % 1000000000u), (unsigned long long)s->heap,
		(unsigned long long)s->anon, (unsigned long long)s->file);
	if (s->has_rss)
		fprintf(w->out, "%llu", (unsigned long long)s->rss);
	fputc(',', w->out);
	if (s->peak || s->mark) {
		char note[1024];

		snprintf(note, sizeof(note), "%s%s%s", s->peak ? "peak" : "",
			 s->peak && s->mark ? "; " : "", s->mark ? s->mark : "");
		ex_csv_field(w->out, note);
	}
	fputc('\n', w->out);
	return ex_status(w->out);
}

static int timeline_end(struct ex_writer *w)
{
	return ex_status(w->out);
}

const struct exporter ex_timeline = {
	.name = "timeline",
	.input = EX_INPUT_SERIES,
	.begin = timeline_begin,
	.event = timeline_event,
	.end = timeline_end,
};
