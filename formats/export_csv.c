/*
 * export_csv.c - one row per allocation site (per statistic of --by) at one
 * moment, for spreadsheets and scripts:
 *
 *   site,function,file,line,live_bytes,live_count,allocated_bytes,allocations,temporary_bytes,temporaries,truncated
 *   samples/arrays.c:21,random_array,samples/arrays.c,21,36000360,10,36000360,10,0,0,0
 *
 * `site` is what tracemalloc's statistic line starts with; function, file
 * and line are the site's own frame (empty when unknown).  live_* is what
 * is live at the moment, the rest counts from the start of the log up to
 * it.  truncated is 1 when a stack of the site was cut at --depth (its
 * oldest frames are not in the log), else 0.  Rows come biggest first: live
 * bytes, then live blocks, then bytes allocated.
 */
#include "export.h"

static int csv_begin(struct ex_writer *w)
{
	fputs("site,function,file,line,live_bytes,live_count,allocated_bytes,allocations,"
	      "temporary_bytes,temporaries,truncated\n",
	      w->out);
	return ex_status(w->out);
}

static int csv_event(struct ex_writer *w, const struct ex_record *rec)
{
	const struct ex_site *s = &rec->u.site;
	const struct ex_frame *f = s->nframes ? &s->frames[0] : NULL;

	if (rec->type != EX_SITE)
		return 0;
	ex_csv_field(w->out, s->key);
	fputc(',', w->out);
	ex_csv_field(w->out, f && f->function ? f->function : "");
	fputc(',', w->out);
	ex_csv_field(w->out, f && f->file ? f->file : "");
	fputc(',', w->out);
	if (f && f->file)
		fprintf(w->out, "%u", f->line);
	fprintf(w->out, ",%llu,%llu,%llu,%llu,%llu,%llu,%d\n", (unsigned long long)s->size,
		(unsigned long long)s->count, (unsigned long long)s->allocated,
		(unsigned long long)s->allocs, (unsigned long long)s->temp_bytes,
		(unsigned long long)s->temps, s->truncated ? 1 : 0);
	return ex_status(w->out);
}

static int csv_end(struct ex_writer *w)
{
	return ex_status(w->out);
}

const struct exporter ex_csv = {
	.name = "csv",
	.input = EX_INPUT_SITES,
	.export_format = 1,
	.begin = csv_begin,
	.event = csv_event,
	.end = csv_end,
};
