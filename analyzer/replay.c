/*
 * replay.c - the live state of the traced memory, event by event (see
 * replay.h for the counting rules).
 */
#include <errno.h>
#include <string.h>

#include "analyzer.h"
#include "replay.h"

#define PAGE_SIZE_X86_64      4096ull
#define MREMAP_DONTUNMAP_FLAG 0x4u /* <linux/mman.h>, as logged */

/* A syscall result in the -errno range is a failure even when the tracer
 * did not flag it. */
#define SYSCALL_FAILED(v) ((uint64_t)(v) > UINT64_MAX - 4095)

struct pid_space {
	uint32_t space;
};

void replay_init(struct replay *rp, unsigned kind)
{
	memset(rp, 0, sizeof(*rp));
	table_init(&rp->heap, sizeof(struct heap_block));
	table_init(&rp->spaces, sizeof(struct pid_space));
	regions_init(&rp->maps);
	rp->kind = kind;
}

void replay_free(struct replay *rp)
{
	table_free(&rp->heap);
	table_free(&rp->spaces);
	regions_free(&rp->maps);
}

uint64_t replay_page_up(uint64_t len)
{
	if (len > UINT64_MAX - (PAGE_SIZE_X86_64 - 1))
		return UINT64_MAX & ~(PAGE_SIZE_X86_64 - 1);
	return (len + PAGE_SIZE_X86_64 - 1) & ~(PAGE_SIZE_X86_64 - 1);
}

uint64_t replay_live(const struct replay *rp, unsigned kind)
{
	return (kind & AN_KIND_HEAP ? rp->c.heap_live : 0) +
	       (kind & AN_KIND_MMAP ? rp->maps.live : 0);
}

/* The address space an event's pid runs in (0 before its PROC_START). */
static uint32_t space_of(const struct replay *rp, uint32_t pid)
{
	const struct pid_space *p = table_get(&rp->spaces, pid, 0);

	return p ? p->space : 0;
}

static int heap_alloc(struct replay *rp, uint32_t space, const struct mt_event *ev)
{
	int created;
	struct heap_block *b = table_put(&rp->heap, space, ev->addr, &created);

	if (!b)
		return -ENOMEM;
	/* A block handed out again without a free in between: the free was
	 * missed, so the old block is gone. */
	if (!created)
		rp->c.heap_live -= b->size;
	b->size = ev->size;
	b->stack = ev->stack;
	rp->c.allocs++;
	rp->c.bytes_allocated += ev->size;
	rp->c.heap_live += ev->size;
	return 0;
}

static void heap_free(struct replay *rp, uint32_t space, uint64_t addr, uint32_t flags)
{
	struct heap_block *b;

	if ((flags & MT_EVF_PREEXIST) || !(b = table_get(&rp->heap, space, addr))) {
		rp->c.unknown_frees++;
		return;
	}
	rp->c.heap_live -= b->size;
	rp->c.frees++;
	table_del(&rp->heap, space, addr);
}

static int heap_event(struct replay *rp, uint32_t space, const struct mt_event *ev)
{
	switch (ev->type) {
	case MT_EV_ALLOC:
		return ev->addr ? heap_alloc(rp, space, ev) : 0;
	case MT_EV_FREE:
		heap_free(rp, space, ev->addr, ev->flags);
		return 0;
	case MT_EV_REALLOC:
		if (!ev->old_addr)
			return ev->addr ? heap_alloc(rp, space, ev) : 0;
		if (ev->addr) {
			/* Free first: a block resized in place keeps its address. */
			heap_free(rp, space, ev->old_addr, ev->flags);
			return heap_alloc(rp, space, ev);
		}
		if (!ev->size)
			heap_free(rp, space, ev->old_addr, ev->flags); /* realloc(p, 0) */
		return 0;
	}
	return 0;
}

/*
 * mmap family.  Calls made inside an allocator belong to the heap (the
 * blocks the allocator hands out are counted there); they only move the
 * program break, which later brk calls are measured from.
 */
static int map_event(struct replay *rp, uint32_t space, const struct mt_event *ev)
{
	int own = !(ev->flags & MT_EVF_IN_ALLOC);
	int failed = (ev->flags & MT_EVF_FAILED) != 0;

	switch (ev->type) {
	case MT_EV_MMAP:
		if (failed || SYSCALL_FAILED(ev->addr))
			return 0;
		if (!own) {
			rp->c.mmap_calls_in_allocator++;
			return 0;
		}
		rp->c.mmap_calls++;
		return regions_map(&rp->maps, space, ev->addr, replay_page_up(ev->size), ev->stack);
	case MT_EV_MUNMAP:
		if (failed || ev->result != 0 || !own)
			return 0;
		rp->c.munmap_calls++;
		return regions_unmap(&rp->maps, space, ev->addr, replay_page_up(ev->size));
	case MT_EV_MREMAP:
		if (failed || SYSCALL_FAILED(ev->addr) || !own)
			return 0;
		rp->c.mremap_calls++;
		return regions_remap(&rp->maps, space, ev->old_addr, replay_page_up(ev->old_size),
				     ev->addr, replay_page_up(ev->size),
				     (ev->mflags & MREMAP_DONTUNMAP_FLAG) != 0, ev->stack);
	case MT_EV_BRK:
		/* brk answers with the break, moved or not: a failed call
		 * leaves it where it was, which is what addr then says. */
		if (!ev->addr || SYSCALL_FAILED(ev->addr))
			return 0;
		if (own)
			rp->c.brk_calls++;
		return regions_brk(&rp->maps, space, ev->addr, own, ev->stack);
	}
	return 0;
}

int replay_event(struct replay *rp, const struct mt_event *ev, uint64_t index)
{
	uint32_t space = space_of(rp, ev->pid);
	uint64_t live;
	int ret = 0;

	switch (ev->type) {
	case MT_EV_ALLOC:
	case MT_EV_FREE:
	case MT_EV_REALLOC:
		ret = heap_event(rp, space, ev);
		break;
	case MT_EV_MMAP:
	case MT_EV_MUNMAP:
	case MT_EV_MREMAP:
	case MT_EV_BRK:
		ret = map_event(rp, space, ev);
		break;
	case MT_EV_PROC_START: {
		struct pid_space *p = table_put(&rp->spaces, ev->pid, 0, NULL);

		if (!p)
			return -ENOMEM;
		p->space = ev->space;
		break;
	}
	case MT_EV_MARK:
		rp->c.marks++;
		break;
	}
	rp->c.events++;
	if (rp->c.heap_live > rp->c.heap_peak)
		rp->c.heap_peak = rp->c.heap_live;
	if (rp->maps.live > rp->c.mmap_peak)
		rp->c.mmap_peak = rp->maps.live;
	live = replay_live(rp, rp->kind);
	if (live > rp->peak) {
		rp->peak = live;
		rp->peak_event = index;
		rp->peak_seen = 1;
	}
	return ret;
}
