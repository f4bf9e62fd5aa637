/*
 * export_massif.c - valgrind massif's output file (massif.out.PID), read by
 * ms_print and massif-visualizer: massif's snapshots of the heap over the
 * run, the detailed ones and the peak with massif's allocation tree.
 *
 * The time unit is B, as `valgrind --tool=massif --time-unit=B` gives: the
 * bytes allocated and freed so far, with the extra bytes valgrind's
 * allocator adds (analyzer/massif.c says which snapshots, and why).  It
 * does not depend on how much the tracing slowed the program down, and it
 * is what massif recommends for short runs.  A tree's root is the whole
 * snapshot; its children are the
 * allocation sites (the first frame outside the allocator), each one's
 * children the callers that brought it there, biggest first:
 *
 *   n2: 8000016 (heap allocation functions) malloc/new/new[], --alloc-fns, etc.
 *    n1: 8000008 0x109189: random_array (samples/arrays.c:21)
 *     n1: 8000008 0x10920c: main (samples/arrays.c:42)
 *   ...
 *
 * ms_print reads '#' as the start of a comment, so a '#' in a name
 * becomes '?'.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "hash.h"

#define THRESHOLD 1.0 /* massif's --threshold, in percent */

static inline int mstack_eq(uint64_t a, uint64_t b)
{
	return a == b;
}

/*
 * A detailed snapshot is kept as its sites, each a run of frame numbers
 * (frames interned once, for the whole export), and printed by grouping
 * them: the children of a node are the distinct frames at the next depth
 * of the sites under it, found by sorting those sites.  No tree is built,
 * so the memory is the stacks' frames at 4 bytes each, however deep and
 * however many the stacks (a python interpreter's are both), each stack's
 * once for the whole export (later snapshots name it by its number).
 */
struct msite {
	uint64_t bytes;
	size_t first;	/* its frames: ids[first..first + n) */
	size_t n;
};

/* a stack's frames in ids: first, n */
struct mstack {
	size_t first, n;
};

HASH_DEFINE(mstack_table, uint64_t, struct mstack, hash_mix64, mstack_eq)

struct massif {
	unsigned long long snapshots;
	struct ex_sample detail; /* the sample being detailed */
	int in_detail;
	/* the frames seen, once each, and a table of them */
	struct ex_frame *frames;
	uint32_t nframes, frames_cap;
	uint32_t *table; /* frame id + 1, 0: empty; (1 << bits) slots */
	unsigned bits;
	/* the detailed snapshot's sites */
	struct msite *sites;
	size_t nsites, sites_cap;
	/* the stacks' frames, 2 bytes each while every frame number fits
	 * (wide: 4) */
	void *ids;
	size_t nids, ids_cap;
	int wide;
	size_t last_first, last_n; /* the frames of the stack given last */
	struct mstack_table stacks;
};

static int massif_begin(struct ex_writer *w)
{
	fprintf(w->out,
		"desc: memtrack export --format massif --kind %s (time unit B: bytes "
		"allocated and freed so far)\n",
		w->info->kind ? w->info->kind : "heap");
	/* "cmd:" takes the rest of its line */
	fputs("cmd: ", w->out);
	for (const char *p = w->info->command ? w->info->command : ""; *p; p++)
		fputc(*p == '\n' ? ' ' : *p, w->out);
	fputs("\ntime_unit: B\n", w->out);
	return ex_status(w->out);
}

static void header(struct ex_writer *w, const struct ex_sample *s, const char *tree)
{
	struct massif *m = w->state;

	fprintf(w->out,
		"#-----------\nsnapshot=%llu\n#-----------\ntime=%llu\nmem_heap_B=%llu\n"
		"mem_heap_extra_B=%llu\nmem_stacks_B=0\nheap_tree=%s\n",
		m->snapshots++, (unsigned long long)s->moved, (unsigned long long)s->total,
		(unsigned long long)s->extra, tree);
}

static int streq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int same_frame(const struct ex_frame *a, const struct ex_frame *b)
{
	return a->pc == b->pc && a->line == b->line && streq(a->function, b->function) &&
	       streq(a->file, b->file);
}

static size_t slot_of(const struct massif *m, const struct ex_frame *f)
{
	size_t mask = ((size_t)1 << m->bits) - 1;
	size_t i = (size_t)((f->pc * 0x9e3779b97f4a7c15ull ^ f->line) >> 7) & mask;

	while (m->table[i] && !same_frame(&m->frames[m->table[i] - 1], f))
		i = (i + 1) & mask;
	return i;
}

/* The number of frame f, interned on first sight; UINT32_MAX when memory
 * ran out. */
static uint32_t frame_id(struct massif *m, const struct ex_frame *f)
{
	size_t i;

	if (!m->table || (size_t)m->nframes * 2 >= ((size_t)1 << m->bits)) {
		unsigned bits = m->table ? m->bits + 1 : 12;
		uint32_t *old = m->table, old_bits = m->bits;

		m->table = calloc((size_t)1 << bits, sizeof(*m->table));
		if (!m->table) {
			m->table = old;
			return UINT32_MAX;
		}
		m->bits = bits;
		for (size_t k = 0; old && k < ((size_t)1 << old_bits); k++)
			if (old[k])
				m->table[slot_of(m, &m->frames[old[k] - 1])] = old[k];
		free(old);
	}
	i = slot_of(m, f);
	if (m->table[i])
		return m->table[i] - 1;
	if (m->nframes == m->frames_cap) {
		uint32_t cap = m->frames_cap ? m->frames_cap * 2 : 1024;
		struct ex_frame *v = realloc(m->frames, cap * sizeof(*v));

		if (!v)
			return UINT32_MAX;
		m->frames = v;
		m->frames_cap = cap;
	}
	m->frames[m->nframes] = *f;
	m->table[i] = ++m->nframes;
	return m->nframes - 1;
}

/* The functions of the C library that call main, or a thread's start
 * where there is no main (the first letter first: asked of every frame). */
static int below_main(const char *fn)
{
	if (fn[0] == 'g')
		return !strncmp(fn, "generic_start_main", 18);
	if (fn[0] != '_' || (fn[1] != 's' && fn[1] != '_'))
		return 0; /* most C library names, every _Py one */
	return !strcmp(fn, "_start") || !strcmp(fn, "__libc_start_call_main") ||
	       !strncmp(fn, "__libc_start_main", 17);
}

/* How many of a stack's frames massif shows: it ends at main (what calls
 * main is the same everywhere), or where there is none at the innermost
 * function of the C library's start, or it is whole. */
static size_t shown_frames(const struct ex_site *s)
{
	size_t below = s->nframes;

	for (size_t i = s->nframes; i-- > 0;) {
		const char *fn = s->frames[i].function;

		if (!fn)
			continue;
		if (fn[0] == 'm' && !strcmp(fn, "main"))
			return i + 1;
		if (below_main(fn))
			below = i + 1;
	}
	return below;
}

/* Room in ids for n more, grown by half. */
static int ids_reserve(struct massif *m, size_t n)
{
	size_t cap = m->ids_cap ? m->ids_cap : 4096;
	void *v;

	if (m->nids + n <= m->ids_cap)
		return 0;
	while (cap < m->nids + n)
		cap += cap / 2;
	if (!(v = realloc(m->ids, cap * (m->wide ? 4 : 2))))
		return -ENOMEM;
	m->ids = v;
	m->ids_cap = cap;
	return 0;
}

/* Frame numbers of 4 bytes from now on; the first n are kept. */
static int ids_widen(struct massif *m, size_t n)
{
	uint32_t *v = malloc((m->ids_cap ? m->ids_cap : 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = ((uint16_t *)m->ids)[i];
	free(m->ids);
	m->ids = v;
	m->wide = 1;
	return 0;
}

/* The frame of a site at depth d, or UINT32_MAX past its end. */
static uint32_t frame_at(const struct massif *m, const struct msite *s, size_t d)
{
	if (d >= s->n)
		return UINT32_MAX;
	return m->wide ? ((const uint32_t *)m->ids)[s->first + d]
		       : ((const uint16_t *)m->ids)[s->first + d];
}

static int add_stack(struct massif *m, const struct ex_site *s)
{
	struct mstack *known = NULL;
	struct msite *site;
	size_t n = 0;

	if (m->nsites == m->sites_cap) {
		size_t cap = m->sites_cap ? m->sites_cap * 2 : 256;
		struct msite *v = realloc(m->sites, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		m->sites = v;
		m->sites_cap = cap;
	}
	if (!s->frames && !(known = mstack_table_get(&m->stacks, s->stack)))
		return -EINVAL; /* a stack never given */
	if (!known) {
		const struct msite last = {0, m->last_first, m->last_n};
		size_t shared = 0;

		n = shown_frames(s);
		if (ids_reserve(m, n) < 0)
			return -ENOMEM;
		/* the outer frames it shares with the stack given before (one
		 * program's stacks come mostly from a few long paths): their
		 * numbers, without a look-up */
		while (shared < n && shared < last.n &&
		       same_frame(&s->frames[n - 1 - shared],
				  &m->frames[frame_at(m, &last, last.n - 1 - shared)]))
			shared++;
		for (size_t i = 0; i < n; i++) {
			/* the shared ones last: the numbers may widen before */
			uint32_t id = i < n - shared ? frame_id(m, &s->frames[i])
						     : frame_at(m, &last, last.n - (n - i));

			if (id == UINT32_MAX || (id > UINT16_MAX && !m->wide && ids_widen(m, m->nids + i) < 0))
				return -ENOMEM;
			if (m->wide)
				((uint32_t *)m->ids)[m->nids + i] = id;
			else
				((uint16_t *)m->ids)[m->nids + i] = (uint16_t)id;
		}
		known = mstack_table_put(&m->stacks, s->stack, NULL);
		if (!known)
			return -ENOMEM;
		*known = (struct mstack){m->nids, n};
		m->last_first = m->nids;
		m->last_n = n;
		m->nids += n;
	}
	site = &m->sites[m->nsites++];
	*site = (struct msite){s->size, known->first, known->n};
	return 0;
}

static void put_text(FILE *out, const char *s)
{
	for (; *s; s++)
		putc_unlocked(*s == '#' ? '?' : *s == '\n' ? ' ' : *s, out);
}

/* Sorts sites[lo..hi) by their frame at depth (those that end before it
 * last), equals in the order they were: a radix sort of the frame
 * numbers, a byte at a time, the bytes all alike skipped.  0 or -ENOMEM. */
static int sort_by_frame(struct massif *m, size_t lo, size_t hi, size_t depth)
{
	size_t n = hi - lo;
	uint32_t *key = malloc(n * sizeof(*key) * 2);
	struct msite *tmp = malloc(n * sizeof(*tmp));
	uint32_t *idx, *other, all_or = 0, all_and = UINT32_MAX;

	if (!key || !tmp) {
		free(key);
		free(tmp);
		return -ENOMEM;
	}
	idx = key + n; /* the sites in order so far */
	other = (uint32_t *)(void *)tmp; /* tmp, until the end: the next order */
	for (size_t i = 0; i < n; i++) {
		key[i] = frame_at(m, &m->sites[lo + i], depth);
		idx[i] = (uint32_t)i;
		all_or |= key[i];
		all_and &= key[i];
	}
	if (all_or == all_and) {
		/* one frame for all (a path every site takes): in order */
		free(key);
		free(tmp);
		return 0;
	}
	for (unsigned shift = 0; shift < 32; shift += 8) {
		size_t count[257] = {0};

		if (((all_or ^ all_and) >> shift & 0xff) == 0)
			continue; /* every key has this byte */
		for (size_t i = 0; i < n; i++)
			count[(key[idx[i]] >> shift & 0xff) + 1]++;
		for (size_t b = 1; b < 257; b++)
			count[b] += count[b - 1];
		for (size_t i = 0; i < n; i++)
			other[count[key[idx[i]] >> shift & 0xff]++] = idx[i];
		memcpy(idx, other, n * sizeof(*idx));
	}
	for (size_t i = 0; i < n; i++)
		tmp[i] = m->sites[lo + idx[i]];
	memcpy(m->sites + lo, tmp, n * sizeof(*tmp));
	free(key);
	free(tmp);
	return 0;
}

/* A group of sites sharing a frame: one child.  The children below the
 * threshold are one group, of frame BELOW, whose lo counts them. */
struct group {
	uint32_t frame;
	uint64_t bytes;
	size_t lo, hi; /* its sites */
};

#define BELOW UINT32_MAX

/* Biggest first; equal sizes in the order of their pc (the group below
 * the threshold as pc 0) and line, then of first sight. */
static int by_bytes(const void *pa, const void *pb, void *arg)
{
	const struct massif *m = arg;
	const struct group *a = pa, *b = pb;
	const struct ex_frame *fa, *fb;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->frame == BELOW || b->frame == BELOW)
		return (b->frame == BELOW) - (a->frame == BELOW);
	fa = &m->frames[a->frame];
	fb = &m->frames[b->frame];
	if (fa->pc != fb->pc)
		return fa->pc < fb->pc ? -1 : 1;
	if (fa->line != fb->line)
		return fa->line < fb->line ? -1 : 1;
	return a->frame < b->frame ? -1 : a->frame > b->frame;
}

static void print_node(FILE *out, const struct ex_frame *f, size_t depth, size_t nchildren,
		       uint64_t bytes)
{
	fprintf(out, "%*sn%zu: %llu ", (int)depth, "", nchildren, (unsigned long long)bytes);
	if (!f) {
		fputs("(heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n", out);
		return;
	}
	fprintf(out, "0x%llx: ", (unsigned long long)f->pc);
	put_text(out, f->function ? f->function : "???");
	if (f->file) {
		fputs(" (", out);
		put_text(out, f->file);
		fprintf(out, ":%u)\n", f->line);
	} else if (f->module) {
		fputs(" (in ", out);
		put_text(out, f->module);
		fputs(")\n", out);
	} else {
		fputc('\n', out);
	}
}

/* The children below the threshold sig made one group, in the place of
 * the first of them; returns how many groups are left. */
static size_t join_below(struct group *groups, size_t n, uint64_t sig)
{
	size_t kept = 0, below = SIZE_MAX;

	for (size_t g = 0; g < n; g++) {
		if (groups[g].bytes >= sig) {
			groups[kept++] = groups[g];
		} else if (below == SIZE_MAX) {
			below = kept;
			groups[kept++] = (struct group){BELOW, groups[g].bytes, 1, 0};
		} else {
			groups[below].bytes += groups[g].bytes;
			groups[below].lo++;
		}
	}
	return kept;
}

/* The node of frame f (NULL: the root) over sites[lo..hi), which share
 * frames 0..depth-1, and its children, biggest first.  A child of fewer
 * bytes than sig is not shown: such children are summed into one line,
 * "in N places, below massif's threshold", as massif writes them. */
static int print_tree(FILE *out, struct massif *m, const struct ex_frame *f, size_t lo, size_t hi,
		      size_t depth, uint64_t bytes, uint64_t sig)
{
	struct group *groups = NULL;
	size_t ngroups = 0, cap = 0;
	int ret = 0;

	if (hi > lo + 1 && sort_by_frame(m, lo, hi, depth) < 0)
		return -ENOMEM;
	for (size_t i = lo; i < hi; i++) {
		uint32_t id = frame_at(m, &m->sites[i], depth);

		if (id == UINT32_MAX)
			break; /* sites ending here: sorted last */
		if (!ngroups || groups[ngroups - 1].frame != id) {
			if (ngroups == cap) {
				struct group *g = realloc(groups, (cap = cap ? cap * 2 : 8) *
									  sizeof(*g));

				if (!g) {
					free(groups);
					return -ENOMEM;
				}
				groups = g;
			}
			groups[ngroups++] = (struct group){id, 0, i, i};
		}
		groups[ngroups - 1].bytes += m->sites[i].bytes;
		groups[ngroups - 1].hi = i + 1;
	}
	ngroups = join_below(groups, ngroups, sig);
	print_node(out, f, depth, ngroups, bytes);
	if (ngroups)
		qsort_r(groups, ngroups, sizeof(*groups), by_bytes, m);
	for (size_t g = 0; g < ngroups && ret == 0; g++) {
		if (groups[g].frame == BELOW)
			fprintf(out, "%*sn0: %llu in %zu place%s below massif's threshold (%.2f%%)\n",
				(int)depth + 1, "", (unsigned long long)groups[g].bytes, groups[g].lo,
				groups[g].lo == 1 ? "," : "s, all", THRESHOLD);
		else
			ret = print_tree(out, m, &m->frames[groups[g].frame], groups[g].lo,
					 groups[g].hi, depth + 1, groups[g].bytes, sig);
	}
	free(groups);
	return ret;
}

static void forget_sites(struct massif *m)
{
	m->nsites = 0;
}

static int massif_event(struct ex_writer *w, const struct ex_record *rec)
{
	struct massif *m = w->state;
	int ret = 0;

	switch (rec->type) {
	case EX_SAMPLE:
		header(w, &rec->u.sample, "empty");
		break;
	case EX_DETAIL_BEGIN:
		forget_sites(m);
		m->detail = rec->u.sample;
		m->in_detail = 1;
		break;
	case EX_SITE:
		if (m->in_detail)
			ret = add_stack(m, &rec->u.site);
		break;
	case EX_DETAIL_END: {
		uint64_t total = 0, sig;

		header(w, &m->detail, m->detail.peak ? "peak" : "detailed");
		for (size_t i = 0; i < m->nsites; i++)
			total += m->sites[i].bytes;
		/* massif's --threshold=1.0: 1% of the heap with its extra
		 * bytes, or any bytes at all when the heap is empty */
		sig = total ? (uint64_t)((double)(total + m->detail.extra) * THRESHOLD / 100) : 1;
		ret = print_tree(w->out, m, NULL, 0, m->nsites, 0, total, sig);
		forget_sites(m);
		m->in_detail = 0;
		break;
	}
	}
	return ret ? ret : ex_status(w->out);
}

static int massif_end(struct ex_writer *w)
{
	struct massif *m = w->state;

	free(m->frames);
	free(m->table);
	free(m->sites);
	free(m->ids);
	mstack_table_free(&m->stacks);
	return ex_status(w->out);
}

const struct exporter ex_massif = {
	.name = "massif",
	.input = EX_INPUT_SERIES | EX_INPUT_DETAIL,
	.export_format = 1,
	.state_size = sizeof(struct massif),
	.begin = massif_begin,
	.event = massif_event,
	.end = massif_end,
};
