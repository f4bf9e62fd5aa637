/*
 * series.c - the memory of a run over time for the series exporters (see
 * series.h for which moments are sampled).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "series.h"
#include "snapshot.h"

#define SLICES	      1000
#define MASSIF_POINTS 50
#define MARK_TEXT     512

long series_frames(struct resolver *res, const struct an_filter *f, uint64_t stack,
		   struct ex_frame **frames, size_t *cap)
{
	const struct an_frame *const *fr;
	size_t n;
	long site;

	fr = resolver_stack(res, stack, &n);
	if (!fr)
		return -ENOMEM;
	site = filter_site(f, fr, n);
	if (site < 0)
		return 0;
	fr += site;
	n -= (size_t)site;
	if (n > *cap) {
		struct ex_frame *v = realloc(*frames, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		*frames = v;
		*cap = n;
	}
	for (size_t i = 0; i < n; i++)
		(*frames)[i] = (struct ex_frame){
			.function = fr[i]->function,
			.file = fr[i]->file ? fr[i]->display : NULL,
			.line = fr[i]->line,
			.module = fr[i]->module,
			.display = fr[i]->display,
			.pc = fr[i]->pc,
			.module_id = fr[i]->module_id,
			.inlined = fr[i]->inlined != 0,
		};
	/* a stack cut at --depth: "[truncated]" at its root end (the cut
	 * pseudo-frame has no function, and that display) */
	return (long)n;
}

/* What the first pass learns. */
struct extent {
	uint64_t end_ns;
	uint64_t peak;	     /* heap + mappings in use, highest */
	uint64_t peak_event; /* first event reaching it */
	int peak_seen;
	uint64_t kind_peak_event; /* massif: the peak of the exported kind */
	int kind_peak_seen;
	uint64_t moved; /* bytes allocated and freed in all */
	int has_rss;
	int multi_process;
};

static void setup(struct replay *rp, const struct log_reader *r, const struct an_opts *o)
{
	replay_init(rp, o->kind);
	rp->pid = o->pid;
	rp->root = log_reader_header(r)->pid;
}

static uint64_t in_use_total(const struct replay *rp)
{
	struct replay_memory m = replay_in_use(rp);

	return m.heap + m.anon + m.file;
}

static int first_pass(struct log_reader *r, const struct an_opts *o, struct extent *x,
		      struct an_status *st)
{
	struct replay rp;
	struct mt_event ev;
	int ret;

	memset(x, 0, sizeof(*x));
	setup(&rp, r, o);
	while ((ret = input_next(r, o->log, &ev, st)) > 0) {
		uint64_t index = log_reader_event_index(r), total;

		if (replay_event(&rp, &ev, index) < 0) {
			status_add(st, "out of memory");
			ret = -ENOMEM;
			break;
		}
		x->end_ns = ev.time_ns;
		total = in_use_total(&rp);
		if (total > x->peak) {
			x->peak = total;
			x->peak_event = index;
			x->peak_seen = 1;
		}
	}
	if (ret == 0 && o->pid && !proc_table_get(&rp.procs, o->pid)) {
		status_add(st, "%s: no process %" PRIu32 " in the log", o->log, o->pid);
		ret = -ENOENT;
	}
	x->kind_peak_event = rp.peak_event;
	x->kind_peak_seen = rp.peak_seen;
	x->moved = rp.moved;
	x->has_rss = rp.c.rss_samples > 0;
	x->multi_process = !o->pid && rp.procs.len > 1;
	replay_free(&rp);
	if (ret == 0 && (ret = log_reader_rewind(r)) < 0)
		status_add(st, "%s: cannot read the log again: %s", o->log, strerror(-ret));
	return ret;
}

struct feed {
	struct series_out *outs;
	size_t n;
	const struct an_opts *o;
	struct log_reader *r;
	struct resolver *res;
	struct ex_frame *frames;
	size_t cap;
};

static int emit(struct feed *fd, const struct ex_record *rec)
{
	for (size_t i = 0; i < fd->n; i++) {
		int ret = fd->outs[i].exp->event(&fd->outs[i].w, rec);

		if (ret < 0)
			return ret;
	}
	return 0;
}

static struct ex_sample sample_of(const struct replay *rp, uint64_t time_ns, unsigned kind)
{
	struct replay_memory m = replay_in_use(rp);
	struct ex_sample s = {
		.time_ns = time_ns,
		.moved = rp->moved,
		.total = replay_live(rp, kind),
		.heap = m.heap,
		.anon = m.anon,
		.file = m.file,
		.rss = rp->rss,
		.has_rss = rp->c.rss_samples > 0,
	};

	return s;
}

/* --- the timeline ------------------------------------------------------------- */

struct row {
	struct ex_sample s;
	uint64_t seq;
};

struct slice {
	int used;
	uint64_t index;
	struct row min, max, last;
};

static int by_seq(const void *a, const void *b)
{
	uint64_t x = ((const struct row *)a)->seq, y = ((const struct row *)b)->seq;

	return x < y ? -1 : x > y;
}

static uint64_t row_total(const struct row *r)
{
	return r->s.heap + r->s.anon + r->s.file;
}

static int emit_row(struct feed *fd, const struct row *r, uint64_t *last_seq, int *any)
{
	struct ex_record rec = {.type = EX_SAMPLE, .u.sample = r->s};

	*last_seq = r->seq;
	*any = 1;
	return emit(fd, &rec);
}

static int flush(struct feed *fd, struct slice *sl, uint64_t *last_seq, int *any)
{
	struct row rows[3];
	int ret = 0;

	if (!sl->used)
		return 0;
	rows[0] = sl->min;
	rows[1] = sl->max;
	rows[2] = sl->last;
	qsort(rows, 3, sizeof(rows[0]), by_seq);
	for (int i = 0; i < 3 && ret == 0; i++)
		if (!i || rows[i].seq != rows[i - 1].seq)
			ret = emit_row(fd, &rows[i], last_seq, any);
	sl->used = 0;
	return ret;
}

static void mark_text(const struct log_reader *r, const struct mt_event *ev, uint64_t n, char *buf,
		      size_t len)
{
	const char *where = log_reader_string(r, ev->path);

	snprintf(buf, len, "mark:%" PRIu64 "%s%s", n, where ? " " : "", where ? where : "");
}

static int timeline(struct feed *fd, struct replay *rp, const struct extent *x,
		    struct an_status *st)
{
	uint64_t width = x->end_ns / SLICES ? x->end_ns / SLICES : 1, last_seq = 0, last_ns = 0;
	struct replay_memory before = {0, 0, 0};
	uint64_t index = 0;
	struct slice sl = {0};
	struct mt_event ev;
	/* a mark waits for the RSS sample the tracer takes right after it */
	char mark[MARK_TEXT];
	struct row marked;
	uint32_t marked_pid = 0;
	int ret, any = 0, seen = 0, pending = 0;

	while ((ret = input_next(fd->r, fd->o->log, &ev, st)) > 0) {
		uint64_t total, rss_before = rp->rss;
		struct row row;
		int special;

		index = log_reader_event_index(fd->r);
		seen = 1;
		last_ns = ev.time_ns;
		if (replay_event(rp, &ev, index) < 0) {
			status_add(st, "out of memory");
			return -ENOMEM;
		}
		if (pending) {
			pending = 0;
			if (ev.type == MT_EV_RSS && rp->last_selected && ev.pid == marked_pid) {
				marked.s.rss = rp->rss;
				marked.s.has_rss = 1;
				marked.seq = index;
				if ((ret = emit_row(fd, &marked, &last_seq, &any)) < 0)
					return ret;
				before = replay_in_use(rp);
				continue;
			}
			if ((ret = emit_row(fd, &marked, &last_seq, &any)) < 0)
				return ret;
		}
		total = in_use_total(rp);
		row.s = sample_of(rp, ev.time_ns, fd->o->kind);
		row.seq = index;
		special = (ev.type == MT_EV_RSS && rp->last_selected) ||
			  (ev.type == MT_EV_MARK && rp->last_selected) ||
			  (x->peak_seen && index == x->peak_event);
		if (special) {
			if ((ret = flush(fd, &sl, &last_seq, &any)) < 0)
				return ret;
			row.s.peak = x->peak_seen && index == x->peak_event;
			if (ev.type == MT_EV_MARK && rp->last_selected) {
				mark_text(fd->r, &ev, rp->c.marks, mark, sizeof(mark));
				row.s.mark = mark;
				marked = row;
				marked_pid = ev.pid;
				pending = 1;
			} else if ((ret = emit_row(fd, &row, &last_seq, &any)) < 0) {
				return ret;
			}
		} else if (row.s.heap != before.heap || row.s.anon != before.anon ||
			   row.s.file != before.file || rp->rss != rss_before) {
			uint64_t slice = ev.time_ns / width;

			if (sl.used && slice != sl.index &&
			    (ret = flush(fd, &sl, &last_seq, &any)) < 0)
				return ret;
			sl.index = slice;
			if (!sl.used) {
				sl.min = sl.max = sl.last = row;
				sl.used = 1;
			} else {
				if (total < row_total(&sl.min))
					sl.min = row;
				if (total > row_total(&sl.max))
					sl.max = row;
				sl.last = row;
			}
		}
		before = replay_in_use(rp);
	}
	if (ret < 0)
		return ret;
	if (pending && (ret = emit_row(fd, &marked, &last_seq, &any)) < 0)
		return ret;
	if ((ret = flush(fd, &sl, &last_seq, &any)) < 0)
		return ret;
	/* the state holds to the last event */
	if (seen && (!any || last_seq != index)) {
		struct row row = {sample_of(rp, last_ns, fd->o->kind), index};

		ret = emit_row(fd, &row, &last_seq, &any);
	}
	return ret;
}

/* --- massif ------------------------------------------------------------------- */

static int detail(struct feed *fd, const struct replay *rp, struct ex_sample s)
{
	static const struct an_filter none;
	struct snapshot_opts so = {.kind = fd->o->kind, .pid = fd->o->pid};
	struct ex_record rec = {.type = EX_DETAIL_BEGIN, .u.sample = s};
	struct snapshot snap;
	struct snapshot_entry *e;
	uint64_t stack;
	size_t i = 0;
	int ret;

	memset(&snap, 0, sizeof(snap));
	snap_stacks_init(&snap.stacks);
	site_table_init(&snap.sites);
	ret = snapshot_collect(&snap, rp, &so, 0);
	if (ret == 0)
		ret = emit(fd, &rec);
	while (ret == 0 && snap_stacks_next(&snap.stacks, &i, &stack, &e)) {
		long n = series_frames(fd->res, &none, stack, &fd->frames, &fd->cap);

		if (n < 0) {
			ret = (int)n;
			break;
		}
		rec = (struct ex_record){.type = EX_SITE};
		rec.u.site = (struct ex_site){.key = "",
					      .frames = fd->frames,
					      .nframes = (size_t)n,
					      .size = e->size,
					      .count = e->count};
		ret = emit(fd, &rec);
	}
	if (ret == 0) {
		rec = (struct ex_record){.type = EX_DETAIL_END};
		ret = emit(fd, &rec);
	}
	snapshot_free(&snap);
	return ret;
}

static int massif(struct feed *fd, struct replay *rp, const struct extent *x, struct an_status *st)
{
	struct ex_record rec = {.type = EX_SAMPLE};
	struct mt_event ev;
	uint64_t next = 1, last_ns = 0;
	int ret;

	/* the start: nothing yet */
	if ((ret = emit(fd, &rec)) < 0)
		return ret;
	while ((ret = input_next(fd->r, fd->o->log, &ev, st)) > 0) {
		uint64_t index = log_reader_event_index(fd->r);

		if (replay_event(rp, &ev, index) < 0) {
			status_add(st, "out of memory");
			return -ENOMEM;
		}
		last_ns = ev.time_ns;
		if (x->kind_peak_seen && index == x->kind_peak_event) {
			struct ex_sample s = sample_of(rp, ev.time_ns, fd->o->kind);

			s.peak = 1;
			if ((ret = detail(fd, rp, s)) < 0)
				return ret;
		} else if (next <= MASSIF_POINTS && rp->moved >= x->moved / MASSIF_POINTS * next &&
			   rp->moved) {
			rec.u.sample = sample_of(rp, ev.time_ns, fd->o->kind);
			if ((ret = emit(fd, &rec)) < 0)
				return ret;
		}
		while (next <= MASSIF_POINTS && rp->moved >= x->moved / MASSIF_POINTS * next &&
		       rp->moved)
			next++;
	}
	if (ret < 0)
		return ret;
	return detail(fd, rp, sample_of(rp, last_ns, fd->o->kind));
}

int series_run(struct log_reader *r, const struct an_opts *o, struct ex_info *info,
	       struct series_out *outs, size_t n, struct an_status *st)
{
	struct feed fd = {.outs = outs, .n = n, .o = o, .r = r};
	int detailed = 0, ret;
	struct replay rp;
	struct extent x;

	for (size_t i = 0; i < n; i++)
		detailed |= (outs[i].exp->input & EX_INPUT_DETAIL) != 0;
	ret = first_pass(r, o, &x, st);
	if (ret < 0)
		return ret;
	info->end_ns = x.end_ns;
	info->has_rss = x.has_rss;
	info->multi_process = x.multi_process;
	if (detailed && (ret = resolver_open(&fd.res, r)) < 0) {
		status_add(st, "out of memory");
		return ret;
	}
	setup(&rp, r, o);
	for (size_t i = 0; i < n && ret == 0; i++) {
		outs[i].w.info = info;
		ret = outs[i].exp->begin(&outs[i].w);
	}
	if (ret == 0)
		ret = detailed ? massif(&fd, &rp, &x, st) : timeline(&fd, &rp, &x, st);
	for (size_t i = 0; i < n; i++) {
		int e = outs[i].exp->end(&outs[i].w);

		if (e < 0 && ret == 0)
			ret = e;
	}
	if (ret < 0 && !st->message[0])
		status_add(st, ret == -ENOMEM ? "out of memory" : "writing the export failed");
	replay_free(&rp);
	resolver_close(fd.res);
	free(fd.frames);
	return ret;
}
