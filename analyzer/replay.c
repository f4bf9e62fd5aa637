/*
 * replay.c - the live state of the traced memory, event by event (see
 * replay.h for the counting rules).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "replay.h"
#include "resolve.h"

/* A syscall result in the -errno range is a failure even when the tracer
 * did not flag it. */

static void region_moved(void *arg, struct region_block *b, int64_t bytes, int blocks);

void replay_init(struct replay *rp, unsigned kind)
{
	memset(rp, 0, sizeof(*rp));
	lot_index_init(&rp->lot_index);
	proc_table_init(&rp->procs);
	space_table_init(&rp->spaces);
	last_alloc_table_init(&rp->last_alloc);
	u64_map_init(&rp->doubtful);
	rss_table_init(&rp->rss_pids);
	regions_init(&rp->maps);
	rp->maps.moved = region_moved;
	rp->maps.arg = rp;
	rp->kind = kind;
}

void replay_free(struct replay *rp)
{
	size_t i = 0;
	struct space_state *ss;

	while (space_table_next(&rp->spaces, &i, NULL, &ss)) {
		if (ss->blocks)
			blocks_free(ss->blocks);
		free(ss->blocks);
	}
	free(rp->lots);
	free(rp->lot_cache);
	lot_index_free(&rp->lot_index);
	proc_table_free(&rp->procs);
	space_table_free(&rp->spaces);
	last_alloc_table_free(&rp->last_alloc);
	u64_map_free(&rp->doubtful);
	rss_table_free(&rp->rss_pids);
	free(rp->dirty.seen);
	free(rp->dirty.v);
	free(rp->gone_list);
	regions_free(&rp->maps);
	replay_init(rp, rp->kind);
}

uint64_t replay_page_up(uint64_t len)
{
	if (len > UINT64_MAX - (MT_PAGE_SIZE - 1))
		return UINT64_MAX & ~(MT_PAGE_SIZE - 1);
	return (len + MT_PAGE_SIZE - 1) & ~(MT_PAGE_SIZE - 1);
}

int replay_space_selected(const struct replay *rp, uint32_t space)
{
	const struct space_state *ss = space_table_get(&rp->spaces, space);

	return ss ? ss->selected : !rp->pid;
}

int replay_space_exited(const struct replay *rp, uint32_t space)
{
	const struct space_state *ss = space_table_get(&rp->spaces, space);

	return ss && ss->gone;
}

int replay_space_gone_at_peak(const struct replay *rp, uint32_t space)
{
	const struct space_state *ss = space_table_get(&rp->spaces, space);

	/* gone by the event that set the last peak, or before it */
	return ss && ss->gone && ss->gone_stamp < rp->peaks;
}

int replay_block(const struct replay *rp, uint32_t space, uint64_t addr, const struct lot **lot)
{
	const struct space_state *ss = space_table_get(&rp->spaces, space);
	uint32_t n;

	if (!ss || !ss->blocks || !blocks_get(ss->blocks, addr, &n))
		return 0;
	*lot = &rp->lots[n - 1];
	return 1;
}

const struct lot_counts *replay_lot_at_peak(const struct replay *rp, const struct lot *l)
{
	/* not changed since the last peak: as it is now */
	return l->stamp == rp->peaks ? &l->at_peak : &l->now;
}

int replay_site(const struct replay *rp, uint64_t stack, unsigned kind, struct site_totals *out)
{
	int found = 0;

	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < rp->nlots; i++) {
		const struct lot *l = &rp->lots[i];

		if (l->stack != stack || l->kind != kind)
			continue;
		found = 1;
		out->bytes += l->now.alloc_bytes;
		out->count += l->now.allocs;
		out->temp_bytes += l->now.temp_bytes;
		out->temps += l->now.temps;
	}
	return found;
}

/* Appends x to the vector v (n of cap); 0, or -ENOMEM. */
static int push_u32(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		uint32_t *w = realloc(*v, c * sizeof(*w));

		if (!w)
			return -ENOMEM;
		*v = w;
		*cap = c;
	}
	(*v)[(*n)++] = x;
	return 0;
}

/* note_changed() when the lists need room first. */
static __attribute__((noinline)) void note_grown(struct replay *rp, uint32_t n)
{
	struct replay_dirty *d = &rp->dirty;

	if (n > d->nseen) {
		size_t len = d->nseen ? d->nseen : 1024;
		uint32_t *seen;

		while (len < n)
			len *= 2;
		seen = realloc(d->seen, len * sizeof(*seen));
		if (!seen) {
			d->nomem = 1;
			return;
		}
		memset(seen + d->nseen, 0, (len - d->nseen) * sizeof(*seen));
		d->seen = seen;
		d->nseen = len;
	}
	if (push_u32(&d->v, &d->n, &d->cap, n) < 0) {
		d->nomem = 1;
		return;
	}
	d->seen[n - 1] = d->stamp;
}

/* touch() for a lot not noted yet as changed since the lots were last
 * taken (replay.dirty): with the lists tracked, every few events. */
static inline void note_changed(struct replay *rp, uint32_t n)
{
	struct replay_dirty *d = &rp->dirty;

	if (n > d->nseen || d->n == d->cap) {
		note_grown(rp, n);
		return;
	}
	d->v[d->n++] = n;
	d->seen[n - 1] = d->stamp;
}

/* A lot is about to change: keep its counts of the last peak first (and
 * note it as changed, when asked). */
static inline struct lot *touch(struct replay *rp, uint32_t n)
{
	struct lot *l = &rp->lots[n - 1];

	if (__builtin_expect(rp->dirty.on, 0) &&
	    (n > rp->dirty.nseen || rp->dirty.seen[n - 1] != rp->dirty.stamp))
		note_changed(rp, n);
	if (l->stamp != rp->peaks) {
		l->at_peak = l->now;
		l->stamp = rp->peaks;
	}
	return l;
}

/* The lot cache's entry for a key: a cheap hash, as the cache is a guess
 * that lot_key_eq() checks. */
static inline struct lot_cache_entry *cached_lot(struct replay *rp, uint64_t stack, uint64_t size)
{
	uint64_t h = (stack * 0x9e3779b97f4a7c15ull) ^ (size * 0xc2b2ae3d27d4eb4full);

	return &rp->lot_cache[(h >> 40) & (LOT_CACHE - 1)];
}

/* lot_of() past its cache: the index, or a lot made. */
static __attribute__((noinline)) uint32_t lot_made(struct replay *rp, struct lot_key k,
						   struct lot_cache_entry *e)
{
	int created;
	uint32_t *n;
	struct lot *l;

	n = lot_index_put(&rp->lot_index, k, &created);
	if (!n)
		return 0;
	if (!created)
		goto out;
	if (rp->nlots == rp->lots_cap) {
		uint32_t cap = rp->lots_cap ? rp->lots_cap * 2 : 256;
		/* aligned as struct lot asks: realloc() would not keep that */
		struct lot *v = cap > rp->lots_cap ? aligned_alloc(_Alignof(struct lot),
								   (size_t)cap * sizeof(*v))
						   : NULL;

		if (!v) {
			lot_index_del(&rp->lot_index, k);
			return 0;
		}
		if (rp->nlots)
			memcpy(v, rp->lots, rp->nlots * sizeof(*v));
		free(rp->lots);
		rp->lots = v;
		rp->lots_cap = cap;
	}
	l = &rp->lots[rp->nlots];
	memset(l, 0, sizeof(*l));
	l->stack = k.stack;
	l->size = k.size;
	l->space = k.space;
	l->kind = (uint8_t)(k.kind_late & 0xff);
	l->late = (uint8_t)(k.kind_late >> 8);
	/* it was not there at the last peak: nothing then */
	l->stamp = rp->peaks;
	*n = ++rp->nlots;
out:
	if (e) {
		e->key = k;
		e->n = *n;
	}
	return *n;
}

/* The number of the lot of that key, made when missing; 0 when memory ran
 * out. */
static inline uint32_t lot_of(struct replay *rp, uint32_t space, unsigned kind, uint64_t stack,
			      uint64_t size)
{
	struct lot_key k = {stack, size, space, kind | (kind == AN_KIND_HEAP && rp->late) << 8};
	struct lot_cache_entry *e = NULL;

	if (rp->lot_cache || (rp->lot_cache = calloc(LOT_CACHE, sizeof(*rp->lot_cache)))) {
		e = cached_lot(rp, stack, size);
		if (e->n && lot_key_eq(e->key, k))
			return e->n;
	}
	return lot_made(rp, k, e);
}

/* The regions' listener: a mapping's bytes moved. */
static void region_moved(void *arg, struct region_block *b, int64_t bytes, int blocks)
{
	struct replay *rp = arg;
	struct lot *l;

	if (!b->lot && !(b->lot = lot_of(rp, b->space, AN_KIND_MMAP, b->stack, 0))) {
		rp->nomem = 1;
		return;
	}
	l = touch(rp, b->lot);
	l->now.live_bytes += (uint64_t)bytes;
	l->now.live += (uint64_t)(int64_t)blocks;
	rp->map_lot = b->lot;
}

static int chosen(const struct replay *rp, uint32_t pid)
{
	return !rp->pid || rp->pid == pid;
}

/* Table puts move values: forget the cached pointers. */
static void forget(struct replay *rp)
{
	rp->cache_ss = NULL;
}

static struct space_state *new_space(struct replay *rp, uint32_t space, uint32_t owner)
{
	int created;
	struct space_state *ss = space_table_put(&rp->spaces, space, &created);

	forget(rp);
	if (ss && created) {
		ss->owner = owner;
		ss->selected = chosen(rp, owner);
	}
	return ss;
}

/* The process of an event, made up (running in space 0) when the log did
 * not start it. */
static struct proc_state *proc_of(struct replay *rp, uint32_t pid)
{
	struct proc_state *p = proc_table_get(&rp->procs, pid);
	struct space_state *ss;

	if (p)
		return p;
	p = proc_table_put(&rp->procs, pid, NULL);
	forget(rp);
	if (!p)
		return NULL;
	p->status = -1;
	ss = new_space(rp, 0, pid);
	if (!ss)
		return NULL;
	ss->pids++;
	return proc_table_get(&rp->procs, pid);
}

/* space_of() for another process than the last event's. */
static __attribute__((noinline)) struct space_state *space_looked_up(struct replay *rp,
								     uint32_t pid, uint32_t *space)
{
	struct proc_state *p;
	struct space_state *ss;

	p = proc_of(rp, pid);
	if (!p)
		return NULL;
	*space = p->space;
	ss = space_table_get(&rp->spaces, p->space);
	if (!ss) {
		ss = new_space(rp, p->space, pid);
		if (!ss)
			return NULL;
		ss->pids++;
		p = proc_table_get(&rp->procs, pid);
	}
	rp->cache_ps = p;
	rp->cache_pid = pid;
	rp->cache_space = *space;
	rp->cache_ss = ss;
	return ss;
}

/* The address space an event's process runs in. */
static inline struct space_state *space_of(struct replay *rp, uint32_t pid, uint32_t *space)
{
	if (rp->cache_ss && rp->cache_pid == pid) {
		*space = rp->cache_space;
		return rp->cache_ss;
	}
	return space_looked_up(rp, pid, space);
}

/* The mapped bytes of the chosen processes, after the regions changed. */
static void recount_mapped(struct replay *rp)
{
	size_t i = 0;
	uint64_t space;
	struct space_state *v;

	if (!rp->pid) {
		rp->mapped.file = rp->maps.file_live;
		rp->mapped.anon = rp->maps.live - rp->maps.file_live;
		return;
	}
	rp->mapped.anon = rp->mapped.file = 0;
	while (space_table_next(&rp->spaces, &i, &space, &v))
		if (v->selected) {
			struct region_space rs = regions_space(&rp->maps, (uint32_t)space);

			rp->mapped.anon += rs.anon;
			rp->mapped.file += rs.file;
		}
}

static void heap_add(struct replay *rp, struct space_state *ss, int64_t bytes)
{
	ss->heap += (uint64_t)bytes;
	if (ss->selected)
		rp->c.heap_live += (uint64_t)bytes;
}

/* last_of() for another thread than the one asked for last. */
static __attribute__((noinline)) struct last_alloc *last_looked_up(struct replay *rp, uint32_t tid,
								   int create)
{
	struct last_alloc *last;

	/* a put may move every entry: only the one it returns is cached */
	last = create ? last_alloc_table_put(&rp->last_alloc, tid, NULL)
		      : last_alloc_table_get(&rp->last_alloc, tid);
	if (last) {
		rp->last = last;
		rp->last_tid = tid;
	}
	return last;
}

/* A thread's last allocation, made when missing with create (NULL when
 * memory ran out, or with !create when it has none). */
static inline struct last_alloc *last_of(struct replay *rp, uint32_t tid, int create)
{
	if (rp->last && rp->last_tid == tid)
		return rp->last;
	return last_looked_up(rp, tid, create);
}

/* The live blocks of a space, made on first need. */
static struct blocks *blocks_of(struct space_state *ss)
{
	if (!ss->blocks)
		ss->blocks = calloc(1, sizeof(*ss->blocks));
	return ss->blocks;
}

/* A block is gone from its lot. */
static inline void lot_drop(struct replay *rp, uint32_t n)
{
	struct lot *l = touch(rp, n);

	l->now.live--;
	l->now.live_bytes -= l->size;
	rp->blocks--;
}

static inline __attribute__((always_inline)) int heap_alloc(struct replay *rp,
							    struct space_state *ss, uint32_t space,
							    const struct mt_event *ev,
							    uint64_t stack, int sel)
{
	struct blocks *bt = blocks_of(ss);
	uint32_t n = lot_of(rp, space, AN_KIND_HEAP, stack, ev->size), old;
	struct last_alloc *last;
	struct lot *l;
	int ret;

	if (!bt || !n)
		return -ENOMEM;
	ret = blocks_put(bt, ev->addr, n, &old);
	if (ret < 0)
		return ret;
	/* A block handed out again without a free in between: the free was
	 * missed, so the old block is gone. */
	if (ret == 1) {
		rp->heap_out.replaced = 1;
		rp->heap_out.replaced_size = rp->lots[old - 1].size;
		heap_add(rp, ss, -(int64_t)rp->lots[old - 1].size);
		lot_drop(rp, old);
	}
	l = touch(rp, n);
	l->now.live++;
	l->now.live_bytes += ev->size;
	rp->blocks++;
	heap_add(rp, ss, (int64_t)ev->size);
	if (sel) {
		rp->c.allocs++;
		rp->c.bytes_allocated += ev->size;
		rp->c.size_allocs[replay_size_class(ev->size)]++;
		rp->c.size_bytes[replay_size_class(ev->size)] += ev->size;
		rp->cache_ps->allocs++;
		rp->cache_ps->bytes_allocated += ev->size;
		if (rp->kind & AN_KIND_HEAP)
			rp->moved += ev->size;
		l->now.allocs++;
		l->now.alloc_bytes += ev->size;
	}
	last = last_of(rp, ev->tid, 1);
	if (!last)
		return -ENOMEM;
	last->space = space;
	last->addr = ev->addr;
	return 0;
}

/* Was this block the last one its freeing thread allocated? */
static int temporary(struct replay *rp, uint32_t tid, uint32_t space, uint64_t addr)
{
	struct last_alloc *last = last_of(rp, tid, 0);

	if (!last || last->space != space || last->addr != addr)
		return 0;
	last->addr = 0;
	return 1;
}

static inline __attribute__((always_inline)) int heap_free(struct replay *rp,
							   struct space_state *ss, uint32_t space,
							   const struct mt_event *ev, uint64_t addr,
							   int sel)
{
	uint32_t n;
	uint64_t size;

	if ((ev->flags & MT_EVF_PREEXIST) || !ss->blocks || !blocks_take(ss->blocks, addr, &n)) {
		if (!sel)
			return 0;
		if ((ev->flags & MT_EVF_PREEXIST) || ss->attached) {
			rp->c.preexisting_frees++;
		} else {
			/* unknown, unless the thread exits before anything else */
			uint64_t *d = u64_map_put(&rp->doubtful, ev->tid, NULL);

			if (!d)
				return -ENOMEM;
			++*d;
			rp->ndoubtful++;
		}
		return 0;
	}
	size = rp->lots[n - 1].size;
	rp->heap_out.freed = 1;
	rp->heap_out.freed_size = size;
	if (temporary(rp, ev->tid, space, addr) && sel) {
		struct lot *l = touch(rp, n);

		rp->c.temporaries++;
		rp->c.temporary_bytes += size;
		l->now.temps++;
		l->now.temp_bytes += size;
	}
	lot_drop(rp, n);
	heap_add(rp, ss, -(int64_t)size);
	if (sel) {
		rp->c.frees++;
		rp->cache_ps->frees++;
		if (rp->kind & AN_KIND_HEAP)
			rp->moved += size;
	}
	return 0;
}

/* A failed realloc(p, n): the old block stays.  memcheck counts it as an
 * alloc of n and a free before it tries, unless n is "fishy" (negative as
 * a signed size), so its totals include this one. */
static void failed_realloc(struct replay *rp, const struct mt_event *ev, int sel)
{
	if (sel && (int64_t)ev->size > 0) {
		rp->c.allocs++;
		rp->c.frees++;
		rp->c.bytes_allocated += ev->size;
		rp->c.size_allocs[replay_size_class(ev->size)]++;
		rp->c.size_bytes[replay_size_class(ev->size)] += ev->size;
		rp->cache_ps->allocs++;
		rp->cache_ps->frees++;
		rp->cache_ps->bytes_allocated += ev->size;
	}
}

/* What a heap event frees (at free_addr), then allocates: each of
 * heap_free() and heap_alloc() called from one place, inline. */
static int heap_event(struct replay *rp, struct space_state *ss, uint32_t space,
		      const struct mt_event *ev, uint64_t stack, int sel)
{
	int frees = 0, allocates = 0, ret;
	uint64_t free_addr = 0;

	switch (ev->type) {
	case MT_EV_ALLOC:
		allocates = ev->addr != 0;
		break;
	case MT_EV_FREE:
		frees = 1;
		free_addr = ev->addr;
		break;
	case MT_EV_REALLOC:
		if (!ev->old_addr) {
			allocates = ev->addr != 0;
		} else if (ev->addr) {
			/* free first: a block resized in place keeps its address */
			frees = allocates = 1;
			free_addr = ev->old_addr;
		} else if (!ev->size) { /* realloc(p, 0) */
			frees = 1;
			free_addr = ev->old_addr;
		} else {
			failed_realloc(rp, ev, sel);
		}
		break;
	default:
		break;
	}
	if (frees && (ret = heap_free(rp, ss, space, ev, free_addr, sel)) != 0)
		return ret;
	return allocates ? heap_alloc(rp, ss, space, ev, stack, sel) : 0;
}

/* A mapping made: counted in the lot of the block that changed last, the
 * new one. */
static int count_mapping(struct replay *rp, uint64_t bytes)
{
	struct lot *l;

	if (rp->kind & AN_KIND_MMAP)
		rp->moved += bytes;
	if (!rp->map_lot)
		return 0;
	l = touch(rp, rp->map_lot);
	l->now.alloc_bytes += bytes;
	l->now.allocs++;
	return 0;
}

/*
 * mmap family.  Calls made inside an allocator belong to the heap (the
 * blocks the allocator hands out are counted there); they only move the
 * program break, which later brk calls are measured from.
 */
static int map_event(struct replay *rp, uint32_t space, const struct mt_event *ev, uint64_t stack,
		     int sel)
{
	int own = !(ev->flags & MT_EVF_IN_ALLOC);
	int failed = (ev->flags & MT_EVF_FAILED) != 0;
	uint64_t before = rp->maps.live;
	int ret = 0;

	rp->map_lot = 0;
	switch (ev->type) {
	case MT_EV_MMAP:
		if (failed || mt_syscall_failed((int64_t)ev->addr))
			return 0;
		if (!own) {
			rp->c.mmap_calls_in_allocator += sel;
			return 0;
		}
		ret = regions_map(&rp->maps, space, ev->addr, replay_page_up(ev->size), stack,
				  !(ev->mflags & MT_MAP_ANONYMOUS));
		if (sel && ret == 0) {
			rp->c.mmap_calls++;
			ret = count_mapping(rp, replay_page_up(ev->size));
		}
		break;
	case MT_EV_MUNMAP:
		if (failed || ev->result != 0 || !own)
			return 0;
		rp->c.munmap_calls += sel;
		ret = regions_unmap(&rp->maps, space, ev->addr, replay_page_up(ev->size));
		if (sel && (rp->kind & AN_KIND_MMAP))
			rp->moved += before - rp->maps.live;
		break;
	case MT_EV_MREMAP:
		if (failed || mt_syscall_failed((int64_t)ev->addr) || !own)
			return 0;
		rp->c.mremap_calls += sel;
		ret = regions_remap(&rp->maps, space, ev->old_addr, replay_page_up(ev->old_size),
				    ev->addr, replay_page_up(ev->size),
				    (ev->mflags & MT_MREMAP_DONTUNMAP) != 0, stack);
		if (sel && (rp->kind & AN_KIND_MMAP))
			rp->moved += before > rp->maps.live ? before - rp->maps.live
							    : rp->maps.live - before;
		break;
	case MT_EV_BRK:
		/* brk answers with the break, moved or not: a failed call
		 * leaves it where it was, which is what addr then says. */
		if (!ev->addr || mt_syscall_failed((int64_t)ev->addr))
			return 0;
		if (own)
			rp->c.brk_calls += sel;
		ret = regions_brk(&rp->maps, space, ev->addr, own, stack);
		if (sel && own && ret == 0 && rp->maps.live > before)
			ret = count_mapping(rp, rp->maps.live - before);
		else if (sel && (rp->kind & AN_KIND_MMAP))
			rp->moved += before - rp->maps.live;
		break;
	}
	recount_mapped(rp);
	return ret;
}

/* Notes that space is gone (replay.gone_list). */
static void went(struct replay *rp, uint32_t space)
{
	if (push_u32(&rp->gone_list, &rp->ngone, &rp->gone_cap, space) < 0)
		rp->nomem = 1;
}

/* fork: the new space starts with a copy of the parent's live blocks, each
 * in the child's lot of the same size and stack. */
static int copy_heap(struct replay *rp, uint32_t from, uint32_t to, struct space_state *child)
{
	const struct space_state *parent = space_table_get(&rp->spaces, from);
	struct blocks *src = parent ? parent->blocks : NULL, *dst;
	struct u64_map lots = {0}; /* parent's lot -> child's */
	struct blocks_iter it = {0};
	uint64_t addr;
	uint32_t n;
	int ret = 0;

	if (!src || !src->len)
		return 0;
	dst = blocks_of(child);
	if (!dst)
		return -ENOMEM;
	/* a new space: its lots are made here, one after the other */
	rp->copied.first = rp->nlots + 1;
	while (ret == 0 && blocks_next(src, &it, &addr, &n)) {
		int created;
		uint64_t *c = u64_map_put(&lots, n, &created);
		struct lot *l;

		if (!c) {
			ret = -ENOMEM;
			break;
		}
		if (created) {
			const struct lot *pl = &rp->lots[n - 1];
			int late = rp->late;

			rp->late = pl->late;
			*c = lot_of(rp, to, AN_KIND_HEAP, pl->stack, pl->size);
			rp->late = late;
			if (!*c) {
				ret = -ENOMEM;
				break;
			}
		}
		ret = blocks_put(dst, addr, (uint32_t)*c, NULL);
		if (ret < 0)
			break;
		l = touch(rp, (uint32_t)*c);
		l->now.live++;
		l->now.live_bytes += l->size;
		rp->blocks++;
		heap_add(rp, child, (int64_t)l->size);
		ret = 0;
	}
	rp->copied.space = to;
	rp->copied.end = rp->nlots + 1;
	rp->copied.count++;
	u64_map_free(&lots);
	return ret;
}

/* exec: nothing of the old image stays. */
static int drop_space(struct replay *rp, uint32_t space, struct space_state *ss)
{
	struct blocks_iter it = {0};
	uint64_t addr;
	uint32_t n;

	if (ss->blocks) {
		while (blocks_next(ss->blocks, &it, &addr, &n))
			lot_drop(rp, n);
		blocks_free(ss->blocks);
	}
	heap_add(rp, ss, -(int64_t)ss->heap);
	regions_drop_space(&rp->maps, space);
	ss->gone = 1;
	ss->gone_stamp = rp->peaks;
	went(rp, space);
	return 0;
}

static int proc_start(struct replay *rp, const struct mt_event *ev)
{
	struct proc_state *p = proc_table_get(&rp->procs, ev->pid);
	struct space_state *ss;
	uint32_t old = p ? p->space : 0, parent_space = 0;
	int had = p && p->started, made_up = p && !p->started, fork_copy = 0, attached = 0;
	uint64_t start_ns = ev->time_ns;
	int ret = 0;

	if (ev->mflags == MT_PROC_FORK) {
		const struct proc_state *pp = proc_table_get(&rp->procs, (uint32_t)ev->arg);
		const struct space_state *ps = pp ? space_table_get(&rp->spaces, pp->space) : NULL;

		if (pp && pp->space != ev->space && !space_table_get(&rp->spaces, ev->space)) {
			fork_copy = 1;
			parent_space = pp->space;
		}
		attached = ps && ps->attached;
	}
	ss = space_table_get(&rp->spaces, ev->space);
	if (!ss) {
		ss = new_space(rp, ev->space, ev->pid);
		if (!ss)
			return -ENOMEM;
		ss->attached = attached || ev->mflags == MT_PROC_ATTACH;
		if (fork_copy) {
			ret = copy_heap(rp, parent_space, ev->space, ss);
			if (ret == 0)
				ret = regions_copy_space(&rp->maps, parent_space, ev->space);
			if (ret < 0)
				return ret;
			ss = space_table_get(&rp->spaces, ev->space);
		}
	}
	if (had && old == ev->space)
		return 0; /* already there */
	ss->pids++;
	if (had || made_up) {
		struct space_state *os = space_table_get(&rp->spaces, old);

		/* what ran before the log named the process stays */
		if (os && os->pids && !--os->pids && !os->gone && had)
			ret = drop_space(rp, old, os);
		start_ns = had ? p->start_ns : start_ns;
	}
	p = proc_table_put(&rp->procs, ev->pid, NULL);
	forget(rp);
	if (!p)
		return -ENOMEM;
	if (!had && !made_up)
		p->status = -1;
	p->started = 1;
	p->space = ev->space;
	p->start_ns = start_ns;
	if (ev->mflags == MT_PROC_FORK)
		p->parent = (uint32_t)ev->arg;
	if (ev->mflags == MT_PROC_EXEC)
		p->execs++;
	return ret;
}

/* A process ended: its RSS is gone; so is its memory, unless it is the
 * first process (the end of the chart) or shares its space with another. */
static void proc_exit(struct replay *rp, const struct mt_event *ev)
{
	struct proc_state *p = proc_table_get(&rp->procs, ev->pid);
	struct space_state *ss = p ? space_table_get(&rp->spaces, p->space) : NULL;
	struct rss_sample *r = rss_table_get(&rp->rss_pids, ev->pid);

	if (!p || p->exited)
		return;
	p->exited = 1;
	p->status = ev->status;
	if (ev->pid == rp->root)
		return;
	if (r) {
		if (chosen(rp, ev->pid))
			rp->rss -= r->bytes;
		rss_table_del(&rp->rss_pids, ev->pid);
	}
	if (!ss || !ss->pids || --ss->pids || ss->gone)
		return;
	ss->gone = 1;
	ss->gone_stamp = rp->peaks;
	went(rp, p->space);
	if (ss->selected) {
		struct region_space rs = regions_space(&rp->maps, p->space);

		rp->gone.heap += ss->heap;
		rp->gone.anon += rs.anon;
		rp->gone.file += rs.file;
	}
}

static int rss_event(struct replay *rp, const struct mt_event *ev)
{
	struct rss_sample *r = rss_table_put(&rp->rss_pids, ev->pid, NULL);

	if (!r)
		return -ENOMEM;
	rp->rss += ev->size - r->bytes;
	r->bytes = ev->size;
	rp->c.rss_samples++;
	if (rp->rss > rp->c.rss_peak)
		rp->c.rss_peak = rp->rss;
	return 0;
}

/* The thread's doubtful frees are settled: teardown when it exited. */
static void settle(struct replay *rp, uint32_t tid, int exited)
{
	uint64_t *n = u64_map_get(&rp->doubtful, tid);

	if (!n)
		return;
	*(exited ? &rp->c.teardown_frees : &rp->c.unknown_frees) += *n;
	rp->ndoubtful -= *n;
	u64_map_del(&rp->doubtful, tid);
}

/* replay_event() for anything but a heap event. */
static __attribute__((noinline)) int other_event(struct replay *rp, const struct mt_event *ev,
						 uint64_t stack, int sel)
{
	struct space_state *ss;
	uint32_t space;
	int ret = 0;

	switch (ev->type) {
	case MT_EV_MMAP:
	case MT_EV_MUNMAP:
	case MT_EV_MREMAP:
	case MT_EV_BRK:
		ss = space_of(rp, ev->pid, &space);
		ret = ss ? map_event(rp, space, ev, stack, sel) : -ENOMEM;
		break;
	case MT_EV_PROC_START:
		ret = proc_start(rp, ev);
		recount_mapped(rp);
		break;
	case MT_EV_PROC_EXIT:
		proc_exit(rp, ev);
		break;
	case MT_EV_THREAD_EXIT:
		last_alloc_table_del(&rp->last_alloc, ev->tid);
		rp->last = NULL;
		break;
	case MT_EV_MARK:
		rp->c.marks += sel;
		break;
	case MT_EV_RSS:
		if (sel)
			ret = rss_event(rp, ev);
		break;
	}
	return ret;
}

int replay_heap_block(struct replay *rp, uint32_t pid, uint64_t addr, uint64_t *size)
{
	uint32_t space, n;
	struct space_state *ss = space_of(rp, pid, &space);

	if (!ss)
		return -ENOMEM;
	if (!ss->selected || ss->gone || !ss->blocks || !blocks_get(ss->blocks, addr, &n))
		return 0;
	*size = rp->lots[n - 1].size;
	return 1;
}

void replay_track_lots(struct replay *rp)
{
	rp->dirty.on = 1;
	rp->dirty.stamp = 1; /* no lot's yet */
}

int replay_lots_taken(struct replay *rp, const uint32_t **lots, size_t *n)
{
	struct replay_dirty *d = &rp->dirty;

	/* the next changes are noted afresh, under a new stamp (the list
	 * itself is the caller's until then) */
	if (++d->stamp == 0) {
		if (d->nseen)
			memset(d->seen, 0, d->nseen * sizeof(*d->seen));
		d->stamp = 1;
	}
	*lots = d->v;
	*n = d->n;
	d->n = 0;
	if (d->nomem) {
		d->nomem = 0;
		return -ENOMEM;
	}
	return 0;
}

int replay_event(struct replay *rp, const struct mt_event *ev, uint64_t index)
{
	int sel = chosen(rp, ev->pid);
	struct space_state *ss;
	uint32_t space;
	struct replay_memory use;
	uint64_t live;
	int ret;
	/* what a stack cut at --depth holds is told apart from then on */
	uint64_t stack =
		ev->stack && (ev->flags & MT_EVF_TRUNCATED) ? ev->stack | AN_STACK_CUT : ev->stack;

	if (rp->ndoubtful && ev->type != MT_EV_FREE && ev->type != MT_EV_RSS)
		settle(rp, ev->tid, ev->type == MT_EV_THREAD_EXIT);
	if (ev->type == MT_EV_ALLOC || ev->type == MT_EV_FREE || ev->type == MT_EV_REALLOC) {
		ss = space_of(rp, ev->pid, &space);
		rp->heap_out.freed = rp->heap_out.replaced = 0;
		rp->heap_out.space = space;
		rp->heap_out.counts = ss && ss->selected && !ss->gone;
		ret = ss ? heap_event(rp, ss, space, ev, stack, sel) : -ENOMEM;
	} else {
		ret = other_event(rp, ev, stack, sel);
	}
	rp->last_selected = sel;
	rp->c.events += sel;
	/* peaks are of the memory in use at once: an exited child's leaks
	 * no longer add to what the running processes hold */
	use = replay_in_use(rp);
	if (use.heap > rp->c.heap_peak)
		rp->c.heap_peak = use.heap;
	if (use.anon + use.file > rp->c.mmap_peak)
		rp->c.mmap_peak = use.anon + use.file;
	live = replay_live(rp, rp->kind);
	if (live > rp->peak) {
		rp->peak = live;
		rp->peak_event = index;
		rp->peak_ns = ev->time_ns;
		rp->peak_seen = 1;
		rp->peaks++;
	}
	return rp->nomem ? -ENOMEM : ret;
}
