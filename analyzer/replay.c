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

void replay_init(struct replay *rp, unsigned kind)
{
	memset(rp, 0, sizeof(*rp));
	heap_blocks_init(&rp->heap);
	proc_table_init(&rp->procs);
	space_table_init(&rp->spaces);
	last_alloc_table_init(&rp->last_alloc);
	u64_map_init(&rp->doubtful);
	rss_table_init(&rp->rss_pids);
	site_table_init(&rp->sites);
	regions_init(&rp->maps);
	rp->kind = kind;
}

void replay_free(struct replay *rp)
{
	heap_blocks_free(&rp->heap);
	proc_table_free(&rp->procs);
	space_table_free(&rp->spaces);
	last_alloc_table_free(&rp->last_alloc);
	u64_map_free(&rp->doubtful);
	rss_table_free(&rp->rss_pids);
	site_table_free(&rp->sites);
	regions_free(&rp->maps);
}

uint64_t replay_page_up(uint64_t len)
{
	if (len > UINT64_MAX - (MT_PAGE_SIZE - 1))
		return UINT64_MAX & ~(MT_PAGE_SIZE - 1);
	return (len + MT_PAGE_SIZE - 1) & ~(MT_PAGE_SIZE - 1);
}

uint64_t replay_live(const struct replay *rp, unsigned kind)
{
	struct replay_memory m = replay_in_use(rp);

	return (kind & AN_KIND_HEAP ? m.heap : 0) + (kind & AN_KIND_MMAP ? m.anon + m.file : 0);
}

struct replay_memory replay_in_use(const struct replay *rp)
{
	struct replay_memory m = {rp->c.heap_live - rp->gone.heap, rp->mapped.anon - rp->gone.anon,
				  rp->mapped.file - rp->gone.file};

	return m;
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

/* The address space an event's process runs in. */
static struct space_state *space_of(struct replay *rp, uint32_t pid, uint32_t *space)
{
	struct proc_state *p;
	struct space_state *ss;

	if (rp->cache_ss && rp->cache_pid == pid) {
		*space = rp->cache_space;
		return rp->cache_ss;
	}
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

static struct site_totals *site(struct replay *rp, uint64_t stack, unsigned kind)
{
	return site_table_put(&rp->sites, TABLE_KEY(stack, kind), NULL);
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

static int heap_alloc(struct replay *rp, struct space_state *ss, uint32_t space,
		      const struct mt_event *ev, uint64_t index, int sel)
{
	int created;
	struct heap_block *b = heap_blocks_put(&rp->heap, TABLE_KEY(space, ev->addr), &created);
	struct last_alloc *last;

	if (!b)
		return -ENOMEM;
	/* A block handed out again without a free in between: the free was
	 * missed, so the old block is gone. */
	if (!created)
		heap_add(rp, ss, -(int64_t)b->size);
	b->size = ev->size;
	b->stack = ev->stack;
	b->event = index;
	heap_add(rp, ss, (int64_t)ev->size);
	if (sel) {
		rp->c.allocs++;
		rp->c.bytes_allocated += ev->size;
		rp->cache_ps->allocs++;
		rp->cache_ps->bytes_allocated += ev->size;
		if (rp->kind & AN_KIND_HEAP)
			rp->moved += ev->size;
		if (rp->track_sites) {
			struct site_totals *t = site(rp, ev->stack, AN_KIND_HEAP);

			if (!t)
				return -ENOMEM;
			t->bytes += ev->size;
			t->count++;
		}
	}
	last = last_alloc_table_put(&rp->last_alloc, ev->tid, NULL);
	if (!last)
		return -ENOMEM;
	last->space = space;
	last->addr = ev->addr;
	return 0;
}

/* Was this block the last one its freeing thread allocated? */
static int temporary(struct replay *rp, uint32_t tid, uint32_t space, uint64_t addr)
{
	struct last_alloc *last = last_alloc_table_get(&rp->last_alloc, tid);

	if (!last || last->space != space || last->addr != addr)
		return 0;
	last_alloc_table_del(&rp->last_alloc, tid);
	return 1;
}

static int heap_free(struct replay *rp, struct space_state *ss, uint32_t space,
		     const struct mt_event *ev, uint64_t addr, int sel)
{
	struct heap_block *b;

	if ((ev->flags & MT_EVF_PREEXIST) || !(b = heap_blocks_get(&rp->heap, TABLE_KEY(space, addr)))) {
		if (!sel)
			return 0;
		if ((ev->flags & MT_EVF_PREEXIST) || ss->attached) {
			rp->c.preexisting_frees++;
		} else {
			/* unknown, unless the thread exits before anything else */
			uint64_t *n = u64_map_put(&rp->doubtful, ev->tid, NULL);

			if (!n)
				return -ENOMEM;
			++*n;
			rp->ndoubtful++;
		}
		return 0;
	}
	if (temporary(rp, ev->tid, space, addr) && sel) {
		rp->c.temporaries++;
		rp->c.temporary_bytes += b->size;
		if (rp->track_sites) {
			uint64_t size = b->size, stack = b->stack;
			struct site_totals *t = site(rp, stack, AN_KIND_HEAP);

			if (!t)
				return -ENOMEM;
			t->temp_bytes += size;
			t->temps++;
		}
	}
	heap_add(rp, ss, -(int64_t)b->size);
	if (sel) {
		rp->c.frees++;
		rp->cache_ps->frees++;
		if (rp->kind & AN_KIND_HEAP)
			rp->moved += b->size;
	}
	heap_blocks_del(&rp->heap, TABLE_KEY(space, addr));
	return 0;
}

static int heap_event(struct replay *rp, struct space_state *ss, uint32_t space,
		      const struct mt_event *ev, uint64_t index, int sel)
{
	int ret;

	switch (ev->type) {
	case MT_EV_ALLOC:
		return ev->addr ? heap_alloc(rp, ss, space, ev, index, sel) : 0;
	case MT_EV_FREE:
		return heap_free(rp, ss, space, ev, ev->addr, sel);
	case MT_EV_REALLOC:
		if (!ev->old_addr)
			return ev->addr ? heap_alloc(rp, ss, space, ev, index, sel) : 0;
		if (ev->addr) {
			/* Free first: a block resized in place keeps its address. */
			ret = heap_free(rp, ss, space, ev, ev->old_addr, sel);
			return ret ? ret : heap_alloc(rp, ss, space, ev, index, sel);
		}
		if (!ev->size) /* realloc(p, 0) */
			return heap_free(rp, ss, space, ev, ev->old_addr, sel);
		/* Failed: the old block stays.  memcheck counts realloc(p, n) as
		 * an alloc of n and a free before it tries, unless n is "fishy"
		 * (negative as a signed size), so its totals include this one. */
		if (sel && (int64_t)ev->size > 0) {
			rp->c.allocs++;
			rp->c.frees++;
			rp->c.bytes_allocated += ev->size;
			rp->cache_ps->allocs++;
			rp->cache_ps->frees++;
			rp->cache_ps->bytes_allocated += ev->size;
		}
		return 0;
	}
	return 0;
}

static int count_mapping(struct replay *rp, const struct mt_event *ev, uint64_t bytes)
{
	struct site_totals *t;

	if (rp->kind & AN_KIND_MMAP)
		rp->moved += bytes;
	if (!rp->track_sites)
		return 0;
	t = site(rp, ev->stack, AN_KIND_MMAP);
	if (!t)
		return -ENOMEM;
	t->bytes += bytes;
	t->count++;
	return 0;
}

/*
 * mmap family.  Calls made inside an allocator belong to the heap (the
 * blocks the allocator hands out are counted there); they only move the
 * program break, which later brk calls are measured from.
 */
static int map_event(struct replay *rp, uint32_t space, const struct mt_event *ev, int sel)
{
	int own = !(ev->flags & MT_EVF_IN_ALLOC);
	int failed = (ev->flags & MT_EVF_FAILED) != 0;
	uint64_t before = rp->maps.live;
	int ret = 0;

	switch (ev->type) {
	case MT_EV_MMAP:
		if (failed || mt_syscall_failed((int64_t)ev->addr))
			return 0;
		if (!own) {
			rp->c.mmap_calls_in_allocator += sel;
			return 0;
		}
		ret = regions_map(&rp->maps, space, ev->addr, replay_page_up(ev->size), ev->stack,
				  !(ev->mflags & MT_MAP_ANONYMOUS));
		if (sel && ret == 0) {
			rp->c.mmap_calls++;
			ret = count_mapping(rp, ev, replay_page_up(ev->size));
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
				    (ev->mflags & MT_MREMAP_DONTUNMAP) != 0, ev->stack);
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
		ret = regions_brk(&rp->maps, space, ev->addr, own, ev->stack);
		if (sel && own && ret == 0 && rp->maps.live > before)
			ret = count_mapping(rp, ev, rp->maps.live - before);
		else if (sel && (rp->kind & AN_KIND_MMAP))
			rp->moved += before - rp->maps.live;
		break;
	}
	recount_mapped(rp);
	return ret;
}

/* fork: the new space starts with a copy of the parent's live blocks. */
static int copy_heap(struct replay *rp, uint32_t from, uint32_t to, struct space_state *child)
{
	struct copied {
		uint64_t addr;
		struct heap_block b;
	} *v = NULL;
	size_t n = 0, cap = 0, i = 0;
	struct table_key k;
	struct heap_block *val;
	int ret = 0;

	while (heap_blocks_next(&rp->heap, &i, &k, &val)) {
		if (k.a != from)
			continue;
		if (n == cap) {
			struct copied *nv = realloc(v, (cap = cap ? cap * 2 : 256) * sizeof(*v));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n].addr = k.b;
		v[n++].b = *val;
	}
	for (i = 0; i < n; i++) {
		struct heap_block *b = heap_blocks_put(&rp->heap, TABLE_KEY(to, v[i].addr), NULL);

		if (!b) {
			ret = -ENOMEM;
			break;
		}
		*b = v[i].b;
		heap_add(rp, child, (int64_t)b->size);
	}
	free(v);
	return ret;
}

/* exec: nothing of the old image stays. */
static int drop_space(struct replay *rp, uint32_t space, struct space_state *ss)
{
	uint64_t *addrs = NULL;
	size_t n = 0, cap = 0, i = 0;
	struct table_key k;

	while (heap_blocks_next(&rp->heap, &i, &k, NULL)) {
		if (k.a != space)
			continue;
		if (n == cap) {
			uint64_t *na = realloc(addrs, (cap = cap ? cap * 2 : 256) * sizeof(*addrs));

			if (!na) {
				free(addrs);
				return -ENOMEM;
			}
			addrs = na;
		}
		addrs[n++] = k.b;
	}
	for (i = 0; i < n; i++)
		heap_blocks_del(&rp->heap, TABLE_KEY(space, addrs[i]));
	free(addrs);
	heap_add(rp, ss, -(int64_t)ss->heap);
	regions_drop_space(&rp->maps, space);
	ss->gone = 1;
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

int replay_event(struct replay *rp, const struct mt_event *ev, uint64_t index)
{
	int sel = chosen(rp, ev->pid);
	struct space_state *ss;
	uint32_t space;
	struct replay_memory use;
	uint64_t live;
	int ret = 0;
	struct mt_event cut;

	/* what a stack cut at --depth holds is told apart from then on */
	if (ev->stack && (ev->flags & MT_EVF_TRUNCATED)) {
		cut = *ev;
		cut.stack |= AN_STACK_CUT;
		ev = &cut;
	}

	if (rp->ndoubtful && ev->type != MT_EV_FREE && ev->type != MT_EV_RSS)
		settle(rp, ev->tid, ev->type == MT_EV_THREAD_EXIT);
	switch (ev->type) {
	case MT_EV_ALLOC:
	case MT_EV_FREE:
	case MT_EV_REALLOC:
		ss = space_of(rp, ev->pid, &space);
		ret = ss ? heap_event(rp, ss, space, ev, index, sel) : -ENOMEM;
		break;
	case MT_EV_MMAP:
	case MT_EV_MUNMAP:
	case MT_EV_MREMAP:
	case MT_EV_BRK:
		ss = space_of(rp, ev->pid, &space);
		ret = ss ? map_event(rp, space, ev, sel) : -ENOMEM;
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
		break;
	case MT_EV_MARK:
		rp->c.marks += sel;
		break;
	case MT_EV_RSS:
		if (sel)
			ret = rss_event(rp, ev);
		break;
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
		rp->peak_seen = 1;
	}
	return ret;
}
