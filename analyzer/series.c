/*
 * series.c - the memory of a run over time for the series exporters (see
 * series.h for which moments are sampled).
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/log_reader.h"
#include "ahead.h"
#include "input.h"
#include "massif.h"
#include "trees.h"
#include "series.h"
#include "snapshot.h"

#define SLICES	      1000
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

/* A moment of the timeline kept until the pass ends: what the chart shows
 * of an ex_sample, in one cache line; a mark's text is made when written. */
struct row {
	uint64_t time_ns, heap, anon, file, rss;
	uint64_t seq;	    /* its event */
	uint64_t mark;	    /* mark:N hit there, 0: none */
	uint32_t mark_path; /* its location (a string of the log) */
	uint8_t has_rss, peak;
};

static void setup(struct replay *rp, const struct log_reader *r, const struct an_opts *o)
{
	replay_init(rp, o->kind);
	rp->pid = o->pid;
	rp->root = log_reader_header(r)->pid;
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

static int emit_row(struct feed *fd, const struct row *r)
{
	struct ex_record rec = {.type = EX_SAMPLE};
	char mark[MARK_TEXT];

	rec.u.sample = (struct ex_sample){.time_ns = r->time_ns,
					  .heap = r->heap,
					  .anon = r->anon,
					  .file = r->file,
					  .total = r->heap + r->anon + r->file,
					  .rss = r->rss,
					  .has_rss = r->has_rss,
					  .peak = r->peak};
	if (r->mark) {
		const char *where = log_reader_string(fd->r, r->mark_path);

		snprintf(mark, sizeof(mark), "mark:%" PRIu64 "%s%s", r->mark, where ? " " : "",
			 where ? where : "");
		rec.u.sample.mark = mark;
	}
	return emit(fd, &rec);
}

/* --- the timeline ------------------------------------------------------------- */

/* A row of its own (an RSS sample, a mark, the peak), or a segment: the
 * changes of one slice between two rows of their own, as its lowest,
 * highest and last moment. */
struct item {
	int own;
	uint64_t slice;
	struct row min, max, last; /* own: the row is min */
};

struct timeline {
	struct item *v;
	size_t n, cap;
	unsigned shift; /* slices are 2^shift ns wide */
	int open;	/* v[n - 1] is the segment changes go to */
	size_t peak;	/* the peak's item + 1; 0: none yet */
};

static uint64_t row_total(const struct row *r)
{
	return r->heap + r->anon + r->file;
}

/* Room for one more item at the end (its fields the caller's to set). */
static struct item *push(struct timeline *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct item *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	return &t->v[t->n++];
}

static int push_own(struct timeline *t, const struct row *r)
{
	struct item *it = push(t);

	if (!it)
		return -ENOMEM;
	it->own = 1;
	it->slice = 0;
	it->min = *r;
	t->open = 0;
	return 0;
}

/* b's changes join a's, b being later: the earliest lowest, the earliest
 * highest, b's last. */
static void join(struct item *a, const struct item *b)
{
	if (row_total(&b->min) < row_total(&a->min))
		a->min = b->min;
	if (row_total(&b->max) > row_total(&a->max))
		a->max = b->max;
	a->last = b->last;
}

/* Joins the neighbours of one slice in v[from..n) that no row of their own
 * keeps apart; the peak's index follows. */
static void compact(struct timeline *t, size_t from)
{
	size_t w = from;

	for (size_t i = from; i < t->n; i++) {
		struct item *it = &t->v[i];

		if (w > 0 && !it->own && !t->v[w - 1].own && t->v[w - 1].slice == it->slice) {
			join(&t->v[w - 1], it);
			continue;
		}
		if (t->peak == i + 1)
			t->peak = w + 1;
		if (w != i)
			t->v[w] = *it;
		w++;
	}
	t->n = w;
}

/* The run is longer than 1000 slices: slices twice as wide. */
static void widen(struct timeline *t)
{
	t->shift++;
	for (size_t i = 0; i < t->n; i++)
		t->v[i].slice >>= 1;
	compact(t, 0);
}

/* The slice of a moment, the slices widened as far as it needs. */
static uint64_t slice_of(struct timeline *t, uint64_t time_ns)
{
	while ((time_ns >> t->shift) >= SLICES)
		widen(t);
	return time_ns >> t->shift;
}

/* A higher peak came: the old one is an ordinary change of its slice. */
static void demote(struct timeline *t)
{
	uint64_t slice = slice_of(t, t->v[t->peak - 1].min.time_ns);
	size_t p = t->peak - 1;
	struct item *it = &t->v[p];

	it->own = 0;
	it->min.peak = 0;
	it->slice = slice;
	it->max = it->last = it->min;
	t->peak = 0;
	compact(t, p ? p - 1 : 0);
}

static void fill_row(struct row *r, const struct replay *rp, uint64_t time_ns, uint64_t index)
{
	struct replay_memory use = replay_in_use(rp);

	*r = (struct row){.time_ns = time_ns,
			  .heap = use.heap,
			  .anon = use.anon,
			  .file = use.file,
			  .rss = rp->rss,
			  .seq = index,
			  .has_rss = rp->c.rss_samples > 0};
}

/* A change the chart shows, at the slice of its time (use: the memory in
 * use after it): the row goes to its slice's segment, made right there
 * (most events of a busy program are changes). */
static int change(struct timeline *t, const struct replay *rp, uint64_t slice, uint64_t time_ns,
		  uint64_t index, struct replay_memory use)
{
	uint64_t total = use.heap + use.anon + use.file;
	struct item *it;

	if (t->open && t->v[t->n - 1].slice == slice) {
		it = &t->v[t->n - 1];
		/* only what changed: the rest of the row is as before */
		it->last.time_ns = time_ns;
		it->last.heap = use.heap;
		it->last.anon = use.anon;
		it->last.file = use.file;
		it->last.rss = rp->rss;
		it->last.seq = index;
		it->last.has_rss = rp->c.rss_samples > 0;
		if (total < row_total(&it->min))
			it->min = it->last;
		else if (total > row_total(&it->max))
			it->max = it->last;
		return 0;
	}
	it = push(t);
	if (!it)
		return -ENOMEM;
	it->own = 0;
	it->slice = slice;
	fill_row(&it->last, rp, time_ns, index);
	it->min = it->max = it->last;
	t->open = 1;
	return 0;
}

static int by_seq(const void *a, const void *b)
{
	uint64_t x = ((const struct row *)a)->seq, y = ((const struct row *)b)->seq;

	return x < y ? -1 : x > y;
}

static int write_timeline(struct feed *fd, const struct timeline *t)
{
	int ret = 0;

	for (size_t i = 0; i < t->n && ret == 0; i++) {
		const struct item *it = &t->v[i];
		struct row rows[3] = {it->min, it->max, it->last};

		if (it->own) {
			ret = emit_row(fd, &it->min);
			continue;
		}
		qsort(rows, 3, sizeof(rows[0]), by_seq);
		for (int k = 0; k < 3 && ret == 0; k++)
			if (!k || rows[k].seq != rows[k - 1].seq)
				ret = emit_row(fd, &rows[k]);
	}
	return ret;
}

static uint64_t last_seq(const struct timeline *t)
{
	const struct item *it = &t->v[t->n - 1];

	return it->own ? it->min.seq : it->last.seq;
}

/* One event replayed: the rows it makes. */
struct timeline_pass {
	struct timeline t;
	struct replay_memory before;
	struct row marked; /* a mark waits for the RSS sample the tracer takes
			      right after it */
	uint32_t marked_pid;
	int pending;
};

/* A row of its own (an RSS sample, a mark, the peak), a mark waiting for
 * its RSS sample, or a change. */
static int timeline_own(struct timeline_pass *tp, const struct replay *rp,
			const struct mt_event *ev, uint64_t index, uint64_t rss_before,
			int new_peak, unsigned kind)
{
	struct timeline *t = &tp->t;
	int sel = rp->last_selected, ret;
	int own = new_peak || ((ev->type == MT_EV_RSS || ev->type == MT_EV_MARK) && sel);
	struct replay_memory use = replay_in_use(rp);
	struct row row;
	int changed = use.heap != tp->before.heap || use.anon != tp->before.anon ||
		      use.file != tp->before.file || rp->rss != rss_before;
	/* the slices cover the run so far */
	uint64_t slice = slice_of(t, ev->time_ns);

	if (!tp->pending && !own) {
		/* nothing the chart shows, or a change of a slice */
		ret = changed ? change(t, rp, slice, ev->time_ns, index, use) : 0;
		tp->before = use;
		return ret;
	}
	fill_row(&row, rp, ev->time_ns, index);
	if (tp->pending) {
		tp->pending = 0;
		if (ev->type == MT_EV_RSS && sel && ev->pid == tp->marked_pid) {
			tp->marked.rss = rp->rss;
			tp->marked.has_rss = 1;
			tp->marked.seq = index;
			tp->before = use;
			return push_own(t, &tp->marked);
		}
		if ((ret = push_own(t, &tp->marked)) < 0)
			return ret;
	}
	if (own) {
		t->open = 0;
		if (new_peak && t->peak && t->peak == t->n && t->n > 1) {
			/* the memory rising event after event: the old peak, last,
			 * joins the segment before it when that is of its slice,
			 * and the new one takes its place (the slice first: that
			 * may widen the slices) */
			uint64_t old_slice = slice_of(t, t->v[t->n - 1].min.time_ns);
			struct item *old = &t->v[t->n - 1], *prev = &t->v[t->n - 2];

			if (!prev->own && prev->slice == old_slice) {
				struct row *r = &old->min;

				/* join(prev, that row): the earliest lowest, the
				 * earliest highest, the last */
				r->peak = 0;
				if (row_total(r) < row_total(&prev->min))
					prev->min = *r;
				if (row_total(r) > row_total(&prev->max))
					prev->max = *r;
				prev->last = *r;
				row.peak = 1;
				*r = row;
				tp->before = use;
				return 0;
			}
		}
		if (new_peak) {
			if (t->peak)
				demote(t);
			row.peak = 1;
		}
		if (ev->type == MT_EV_MARK && sel) {
			row.mark = rp->c.marks;
			row.mark_path = ev->path;
			tp->marked = row;
			tp->marked_pid = ev->pid;
			tp->pending = 1;
		} else if ((ret = push_own(t, &row)) < 0) {
			return ret;
		}
		if (new_peak)
			t->peak = t->n; /* (a mark never raises the memory) */
	} else if (changed &&
		   (ret = change(t, rp, slice_of(t, ev->time_ns), ev->time_ns, index, use)) < 0) {
		return ret;
	}
	tp->before = use;
	return 0;
}

static int timeline_event(struct timeline_pass *tp, const struct replay *rp,
			  const struct mt_event *ev, uint64_t index, uint64_t rss_before,
			  int new_peak, unsigned kind)
{
	struct timeline *t = &tp->t;

	/* most events: no row of their own, the memory changed or not (the
	 * slices widen at the next change or at the end: the same, as no
	 * row comes meanwhile) */
	if (!new_peak && !tp->pending && ev->type != MT_EV_RSS && ev->type != MT_EV_MARK) {
		struct replay_memory use = replay_in_use(rp);
		int ret;

		if (use.heap == tp->before.heap && use.anon == tp->before.anon &&
		    use.file == tp->before.file && rp->rss == rss_before)
			return 0;
		ret = change(t, rp, slice_of(t, ev->time_ns), ev->time_ns, index, use);
		tp->before = use;
		return ret;
	}
	return timeline_own(tp, rp, ev, index, rss_before, new_peak, kind);
}

/* --- massif ------------------------------------------------------------------- */

/* A detailed snapshot: its tree, each stack with its bytes; each stack's
 * frames given once (the detailed snapshots of a run share most of their
 * stacks), given[] telling which were, by the stack's number. */
static int detail(struct feed *fd, const struct tree_stack *tree, size_t len, uint8_t *given,
		  struct ex_sample s)
{
	/* whole stacks, but for the allocator's frames */
	const struct an_filter none = {.alloc_fn = fd->o->alloc_fn, .nalloc_fn = fd->o->nalloc_fn};
	struct ex_record rec = {.type = EX_DETAIL_BEGIN, .u.sample = s};
	int ret = emit(fd, &rec);

	for (size_t i = 0; i < len && ret == 0; i++) {
		int first = !given[tree[i].index];
		long n = 0;

		if (first && (n = series_frames(fd->res, &none, tree[i].stack, &fd->frames,
						&fd->cap)) < 0) {
			ret = (int)n;
			break;
		}
		given[tree[i].index] = 1;
		rec = (struct ex_record){.type = EX_SITE};
		rec.u.site = (struct ex_site){.key = "",
					      .frames = first ? fd->frames : NULL,
					      .nframes = (size_t)n,
					      .size = tree[i].bytes,
					      .count = tree[i].blocks,
					      .stack = tree[i].stack};
		ret = emit(fd, &rec);
	}
	if (ret == 0) {
		rec = (struct ex_record){.type = EX_DETAIL_END};
		ret = emit(fd, &rec);
	}
	return ret;
}

/* The snapshots massif held at the end, in order, the detailed ones with
 * their trees. */
static int massif_write(struct feed *fd, struct trees *t, const struct replay *rp,
			const struct massif_model *m)
{
	struct massif_snapshot held[MASSIF_MAX_SNAPSHOTS];
	size_t n = massif_held(m, held);
	uint8_t *given = NULL;
	int ret = 0;

	for (size_t k = 0; k < n && ret == 0; k++) {
		struct ex_sample s = {.moved = held[k].time,
				      .total = held[k].heap,
				      .extra = held[k].extra,
				      .peak = held[k].peak};
		struct ex_record rec = {.type = EX_SAMPLE, .u.sample = s};
		const struct tree_stack *tree;
		size_t len;

		if (!held[k].detailed) {
			ret = emit(fd, &rec);
			continue;
		}
		ret = trees_tree(t, rp, held[k].serial, &tree, &len);
		/* the stacks are all numbered by the first tree */
		if (ret == 0 && !given && !(given = calloc(t->nstacks + 1, 1)))
			ret = -ENOMEM;
		if (ret == 0)
			ret = detail(fd, tree, len, given, s);
	}
	free(given);
	return ret;
}

/* What the trees follow in the pass. */
struct massif_trees {
	struct trees *t;
	struct replay *rp;
	const struct massif_model *m;
};

/* What an event made of massif's snapshots (took: MASSIF_*): the trees of
 * those gone join the next, a detailed one's is taken. */
static int massif_took(void *arg, int took)
{
	struct massif_trees *mt = arg;
	int ret = 0;

	if (took & MASSIF_CULLED)
		trees_cull(mt->t, mt->m);
	if (took & MASSIF_DETAILED)
		ret = trees_capture(mt->t, mt->rp, massif_last(mt->m));
	return ret;
}

/* One pass: every event replayed, and massif's model (massif.c) fed each
 * as the replay applied it; the trees of the detailed snapshots it takes
 * are kept as what changed between them (trees.c). */
static int massif(struct feed *fd, struct replay *rp, struct massif_model *m, struct trees *t,
		  uint64_t *end_ns, struct an_status *st)
{
	struct massif_trees mt = {t, rp, m};
	struct ahead *ah = NULL;
	int ret = ahead_begin(&ah, fd->r, fd->o->log, st), nomem = 0;

	if (ah)
		ret = massif_pass(m, rp, ah, massif_took, &mt, end_ns, &nomem);
	if (nomem)
		status_add(st, "out of memory");
	ahead_end(ah);
	return ret < 0 ? ret : 0;
}

/* --- the pass ----------------------------------------------------------------- */

/* Ends the exporters; ret: how what came before went. */
static int end_all(struct feed *fd, int ret, struct an_status *st)
{
	for (size_t i = 0; i < fd->n; i++) {
		int e = fd->outs[i].exp->end(&fd->outs[i].w);

		if (e < 0 && ret == 0)
			ret = e;
	}
	if (ret < 0 && !st->message[0])
		status_add(st, ret == -ENOMEM ? "out of memory" : "writing the export failed");
	return ret;
}

/* Begins the exporters, with what the run is. */
static int begin_all(struct feed *fd, struct ex_info *info)
{
	int ret = 0;

	for (size_t i = 0; i < fd->n && ret == 0; i++) {
		fd->outs[i].w.info = info;
		ret = fd->outs[i].exp->begin(&fd->outs[i].w);
	}
	return ret;
}

/* massif: one pass (massif()), then the snapshots massif kept written. */
static int run_massif(struct feed *fd, struct log_reader *r, const struct an_opts *o,
		      struct ex_info *info, struct an_status *st)
{
	struct massif_model *m = NULL;
	uint64_t end_ns = 0;
	struct trees t;
	struct replay rp;
	int ret;

	setup(&rp, r, o);
	/* massif has peaks of its own: the replay follows none (a lot that
	 * changes after a peak keeps no copy of its counts then) */
	rp.kind = 0;
	trees_init(&t, &rp, o->kind);
	if ((ret = massif_model_new(&m)) < 0)
		status_add(st, "out of memory");
	else
		ret = massif(fd, &rp, m, &t, &end_ns, st);
	if (ret == 0 && o->pid && !proc_table_get(&rp.procs, o->pid)) {
		status_add(st, "%s: no process %" PRIu32 " in the log", o->log, o->pid);
		ret = -ENOENT;
	}
	/* what the pass freed (most of it in the reader thread's arena,
	 * which this thread does not take from) given back before the trees
	 * are written */
	malloc_trim(0);
	if (ret == 0 && (ret = resolver_open(&fd->res, r)) < 0)
		status_add(st, "out of memory");
	if (ret == 0) {
		/* what the run is, as the replay saw it (as for the timeline) */
		info->end_ns = end_ns;
		info->has_rss = rp.c.rss_samples > 0;
		info->multi_process = !o->pid && rp.procs.len > 1;
		ret = begin_all(fd, info);
		if (ret == 0)
			ret = massif_write(fd, &t, &rp, m);
		ret = end_all(fd, ret, st);
	}
	trees_free(&t);
	massif_model_free(m);
	replay_free(&rp);
	return ret;
}

/* The timeline: one pass, its rows kept, then written. */
static int run_timeline(struct feed *fd, struct log_reader *r, const struct an_opts *o,
			struct ex_info *info, struct an_status *st)
{
	struct timeline_pass tp;
	int seen = 0, ret;
	uint64_t index = 0, last_ns = 0;
	const struct mt_event *ev;
	struct ahead *ah = NULL;
	struct replay rp;

	memset(&tp, 0, sizeof(tp));
	setup(&rp, r, o);
	ret = ahead_begin(&ah, r, o->log, st);
	while (ah && (ret = ahead_next(ah, &ev)) > 0) {
		uint64_t peaks = rp.peaks, rss = rp.rss;

		index = seen ? index + 1 : 0;
		seen = 1;
		last_ns = ev->time_ns;
		if (replay_event(&rp, ev, index) < 0) {
			status_add(st, "out of memory");
			ret = -ENOMEM;
			break;
		}
		if ((ret = timeline_event(&tp, &rp, ev, index, rss, rp.peaks != peaks, o->kind)) < 0)
			break;
	}
	ahead_end(ah);
	if (ret == 0 && o->pid && !proc_table_get(&rp.procs, o->pid)) {
		status_add(st, "%s: no process %" PRIu32 " in the log", o->log, o->pid);
		ret = -ENOENT;
	}
	if (ret == 0) {
		/* the slices cover the whole run (events that changed nothing
		 * widened them not) */
		if (seen)
			slice_of(&tp.t, last_ns);
		if (tp.pending)
			ret = push_own(&tp.t, &tp.marked);
		/* the state holds to the last event */
		if (ret == 0 && seen && (!tp.t.n || last_seq(&tp.t) != index)) {
			struct row row;

			fill_row(&row, &rp, last_ns, index);
			ret = push_own(&tp.t, &row);
		}
	}
	info->end_ns = last_ns;
	info->has_rss = rp.c.rss_samples > 0;
	info->multi_process = !o->pid && rp.procs.len > 1;
	if (ret == 0) {
		ret = begin_all(fd, info);
		if (ret == 0)
			ret = write_timeline(fd, &tp.t);
		ret = end_all(fd, ret, st);
	}
	free(tp.t.v);
	replay_free(&rp);
	return ret;
}

int series_run(struct log_reader *r, const struct an_opts *o, struct ex_info *info,
	       struct series_out *outs, size_t n, struct an_status *st)
{
	struct feed fd = {.outs = outs, .n = n, .o = o, .r = r};
	int detailed = 0, ret;

	for (size_t i = 0; i < n; i++)
		detailed |= (outs[i].exp->input & EX_INPUT_DETAIL) != 0;
	ret = detailed ? run_massif(&fd, r, o, info, st) : run_timeline(&fd, r, o, info, st);
	resolver_close(fd.res);
	free(fd.frames);
	return ret;
}
