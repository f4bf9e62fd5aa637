/*
 * export.c - `memtrack export`: one moment of a log (or, for massif, the
 * whole run) handed to an exporter of formats/export.h.
 *
 * A snapshot's exporters get, at --at, for each stack (folded) or each
 * statistic of --by (csv, json): what is live, and what was allocated and
 * how many temporary allocations were made from the start up to then.
 * Attribution is the reports' own: the allocation site is the innermost
 * frame passing --include/--exclude, and a stack runs from it outward.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/tracemalloc.h"
#include "input.h"
#include "report.h"
#include "runner.h"
#include "series.h"
#include "when.h"

#define COMMAND_MAX 4096

static const char *const group_names[] = {"lineno", "filename", "function", "traceback"};
static const char *const metric_names[] = {"live", "allocated", "count"};

static const char *kind_name(unsigned kind)
{
	return kind == AN_KIND_HEAP ? "heap" : kind == AN_KIND_MMAP ? "mmap" : "all";
}

const char *an_export_formats(void)
{
	static char list[256];
	size_t n = 0;

	if (list[0])
		return list;
	for (size_t i = 0; ex_table[i]; i++)
		if (ex_table[i]->export_format)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? "|" : "",
					      ex_table[i]->name);
	return list;
}

HASH_DEFINE(value_table, uint64_t, struct stat_values, table_hash_u64, table_eq_u64)

/* Every stack with anything to export: live now, or allocated before. */
static int stack_values(const struct snapshot *snap, unsigned kind, struct value_table *out)
{
	struct snapshot_entry *e;
	struct site_totals *t;
	struct table_key k;
	uint64_t stack;
	size_t i = 0;

	while (snap_stacks_next(&snap->stacks, &i, &stack, &e)) {
		struct stat_values *sv = value_table_put(out, stack, NULL);

		if (!sv)
			return -ENOMEM;
		sv->size += e->size;
		sv->count += e->count;
	}
	i = 0;
	while (site_table_next(&snap->sites, &i, &k, &t)) {
		struct stat_values *sv;

		if (!(k.b & kind))
			continue;
		sv = value_table_put(out, k.a, NULL);
		if (!sv)
			return -ENOMEM;
		sv->alloc_size += t->bytes;
		sv->alloc_count += t->count;
		sv->temp_size += t->temp_bytes;
		sv->temp_count += t->temps;
	}
	return 0;
}

static struct ex_site site_of(const struct stat_values *v)
{
	struct ex_site s = {
		.size = v->size,
		.count = v->count,
		.allocated = v->alloc_size,
		.allocs = v->alloc_count,
		.temp_bytes = v->temp_size,
		.temps = v->temp_count,
		.truncated = v->cut_stacks > 0,
	};

	return s;
}

/* folded: one record per stack. */
static int export_stacks(struct series_out *so, const struct value_table *values,
			 struct resolver *res, const struct an_filter *filter, uint64_t *emitted,
			 uint64_t *left_out)
{
	struct ex_frame *frames = NULL;
	size_t cap = 0, i = 0;
	uint64_t stack;
	struct stat_values *v;
	int ret = 0;

	while (ret == 0 && value_table_next(values, &i, &stack, &v)) {
		struct ex_record rec = {.type = EX_SITE, .u.site = site_of(v)};
		long n = series_frames(res, filter, stack, &frames, &cap);

		if (n < 0) {
			ret = (int)n;
			break;
		}
		if (!n) {
			*left_out += v->count;
			continue;
		}
		rec.u.site.key = frames[0].file ? frames[0].file : frames[0].display;
		rec.u.site.frames = frames;
		rec.u.site.nframes = (size_t)n;
		ret = so->exp->event(&so->w, &rec);
		*emitted += 1;
	}
	free(frames);
	return ret;
}

/* csv, json: one record per statistic. */
static int export_sites(struct series_out *so, const struct value_table *values,
			struct resolver *res, struct grouping *g, enum an_group by, uint64_t *emitted)
{
	struct ex_frame *frames = NULL;
	struct stats stats;
	size_t cap = 0, i = 0;
	uint64_t stack;
	struct stat_values *v;
	int ret = 0;

	stats_init(&stats, by);
	while (ret == 0 && value_table_next(values, &i, &stack, &v))
		ret = group_stack(g, res, &stats, stack, v);
	if (ret == 0)
		stats_sort_sites(&stats);
	for (size_t k = 0; ret == 0 && k < stats.n; k++) {
		const struct stat *s = &stats.v[k];
		struct ex_record rec = {.type = EX_SITE, .u.site = site_of(&s->v)};
		/* the cut pseudo-frame is a field of its own here */
		size_t kept = s->nframes - (s->frames[s->nframes - 1]->cut != 0);
		char key[4096];

		if (kept > cap) {
			struct ex_frame *nf = realloc(frames, kept * sizeof(*nf));

			if (!nf) {
				ret = -ENOMEM;
				break;
			}
			frames = nf;
			cap = kept;
		}
		for (size_t f = 0; f < kept; f++) {
			const struct an_frame *a = s->frames[f];

			frames[f] = (struct ex_frame){.function = a->function,
						      .file = a->file ? a->display : NULL,
						      .line = a->line,
						      .module = a->module,
						      .display = a->display,
						      .pc = a->pc,
						      .module_id = a->module_id,
						      .inlined = a->inlined != 0};
		}
		rec.u.site.key = stats_trace(&stats, s, key, sizeof(key));
		rec.u.site.frames = frames;
		rec.u.site.nframes = kept;
		ret = so->exp->event(&so->w, &rec);
		*emitted += 1;
	}
	free(frames);
	stats_free(&stats);
	return ret;
}

/* What an export run holds besides the runner's. */
struct export_run {
	const struct exporter *exp;
	FILE *out;		/* the report's stream; f is it without -o */
	FILE *f;
	void *state;		/* the exporter's */
	struct ex_info info;
	struct series_out so;
	char command[COMMAND_MAX], when[64];
};

static int check(struct report *rp, struct an_status *st)
{
	const struct an_opts *o = rp->o;
	struct export_run *x = rp->priv;
	const struct exporter *exp = x->exp = ex_find(o->format);

	if (!exp || !exp->export_format) {
		status_add(st, "unknown export format '%s': use %s", o->format ? o->format : "",
			   an_export_formats());
		return -EINVAL;
	}
	if (exp->input & EX_INPUT_SERIES &&
	    (o->at.kind != AN_WHEN_END || o->ninclude || o->nexclude || o->cumulative)) {
		status_add(st,
			   "--format %s covers the whole run with whole stacks: --at, "
			   "--include, --exclude and --cumulative do not apply",
			   exp->name);
		return -EINVAL;
	}
	if (o->cumulative && (o->by == AN_BY_TRACEBACK || exp->input & EX_INPUT_STACKS)) {
		status_add(st, "--cumulative cannot be used with %s",
			   o->by == AN_BY_TRACEBACK ? "--by traceback" : "--format folded");
		return -EINVAL;
	}
	return 0;
}

/* Opens the output; then the whole run (massif), written as it is
 * replayed, or the snapshot at --at. */
static int collect(struct report *rp, struct an_status *st)
{
	const struct an_opts *o = rp->o;
	struct export_run *x = rp->priv;
	struct snapshot_opts sopt = {.kind = o->kind, .pid = o->pid, .sites = 1};
	int ret;

	x->state = calloc(1, x->exp->state_size ? x->exp->state_size : 1);
	x->f = output_open(o->output, x->out, st);
	if (!x->state || !x->f) {
		if (!x->state)
			status_add(st, "out of memory");
		return x->state ? -EIO : -ENOMEM;
	}
	x->info.command = report_command(rp->r, x->command, sizeof(x->command));
	x->info.log = o->log;
	x->info.start_realtime_ns = log_reader_header(rp->r)->start_realtime_ns;
	x->info.when = when_format(&o->at, x->when, sizeof(x->when));
	x->info.by = group_names[o->by];
	x->info.kind = kind_name(o->kind);
	x->info.metric = metric_names[o->metric];
	x->so.exp = x->exp;
	x->so.w = (struct ex_writer){.out = x->f, .info = &x->info, .state = x->state};
	if (x->exp->input & EX_INPUT_SERIES)
		return series_run(rp->r, o, &x->info, &x->so, 1, st);
	ret = snapshot_take(&rp->snap, rp->r, o->log, &o->at, &sopt, st);
	x->info.end_ns = rp->snap.at.end_ns;
	return ret;
}

/* The snapshot's stacks or statistics through the exporter; never an
 * empty export without saying why. */
static int print(struct report *rp, FILE *out, struct an_status *st)
{
	const struct an_opts *o = rp->o;
	struct export_run *x = rp->priv;
	struct series_out *so = &x->so;
	struct value_table values = {0};
	uint64_t emitted = 0, left_out = 0;
	int ret, end;

	if (x->exp->input & EX_INPUT_SERIES)
		return rp->warned;	/* written while replayed */
	ret = resolver_open(&rp->res, rp->r);
	if (ret == 0)
		ret = stack_values(&rp->snap, o->kind, &values);
	x->info.modules = log_reader_modules(rp->r, &x->info.nmodules);
	if (ret == 0)
		ret = so->exp->begin(&so->w);
	if (ret == 0)
		ret = so->exp->input & EX_INPUT_STACKS
			      ? export_stacks(so, &values, rp->res, &rp->filter, &emitted, &left_out)
			      : export_sites(so, &values, rp->res, &rp->g, o->by, &emitted);
	end = so->exp->end(&so->w);
	if (ret == 0)
		ret = end;
	value_table_free(&values);
	if (ret < 0) {
		status_add(st, ret == -ENOMEM ? "out of memory" : "writing the export failed");
		return ret;
	}
	left_out += rp->g.left_out;
	ret = rp->warned;
	if (!emitted && !left_out) {
		char when[64];

		status_add(st,
			   "%s: %s was live or allocated up to the moment %s: the export is "
			   "empty",
			   o->log, report_kind_words(o->kind),
			   when_describe(&o->at, when, sizeof(when)));
		ret = 1;
	} else if (!emitted) {
		char what[64];

		snprintf(what, sizeof(what), "%" PRIu64 " block%s", left_out,
			 left_out == 1 ? "" : "s");
		report_explain_filtered(o->log, what, rp->res, st);
		ret = 1;
	}
	return ret;
}

static int finish(struct report *rp, int ret, struct an_status *st)
{
	struct export_run *x = rp->priv;

	ret = output_close(x->f, x->out, rp->o->output, ret, st);
	free(x->state);
	return ret;
}

static const struct report_ops export = {
	.check = check,
	.collect = collect,
	.print = print,
	.finish = finish,
};

int an_export(const struct an_opts *o, FILE *out, struct an_status *st)
{
	struct export_run x = {.out = out};

	return report_run(&export, o, &x, out, st);
}
