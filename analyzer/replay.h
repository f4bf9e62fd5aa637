/*
 * replay.h - streams a log's events into the state of the traced memory:
 * the live heap blocks (keyed by address space and address), the regions
 * the program mapped itself, and the counters `summary` prints.
 *
 * Heap counting follows valgrind memcheck's "total heap usage": a failed
 * call counts nothing, realloc is one alloc of the new size plus one free of
 * the old block, realloc(p, 0) returning NULL is a free.  Freeing a block
 * that is not live (allocated before attach, or never seen) is an
 * unknown free, not a free.
 *
 * Memory grows with live blocks and live mappings, never with events.
 */
#ifndef MEMTRACK_ANALYZER_REPLAY_H
#define MEMTRACK_ANALYZER_REPLAY_H

#include <stdint.h>

#include "../formats/log.h"
#include "regions.h"
#include "table.h"

/* A live heap block (value of replay.heap, keyed by (space, address)). */
struct heap_block {
	uint64_t size;
	uint64_t stack;
};

struct replay_counts {
	uint64_t events;
	uint64_t allocs, frees, unknown_frees;
	uint64_t bytes_allocated;
	uint64_t heap_live, heap_peak;
	uint64_t mmap_calls, munmap_calls, mremap_calls, brk_calls;
	uint64_t mmap_calls_in_allocator;
	uint64_t mmap_peak;
	uint64_t marks;
};

struct replay {
	struct table heap;		/* (space, addr) -> struct heap_block */
	struct regions maps;
	struct table spaces;		/* pid -> address space */
	struct replay_counts c;
	/* The peak of the memory of `kind` (AN_KIND_*): first event reaching it. */
	unsigned kind;
	uint64_t peak;
	uint64_t peak_event;		/* index of that event */
	int peak_seen;			/* 0 while nothing was ever live */
};

void replay_init(struct replay *rp, unsigned kind);
void replay_free(struct replay *rp);

/* Applies event number `index`.  Returns 0 or -ENOMEM. */
int replay_event(struct replay *rp, const struct mt_event *ev, uint64_t index);

/* Live bytes of `kind` now. */
uint64_t replay_live(const struct replay *rp, unsigned kind);

/* The mapping length the kernel works with: whole pages. */
uint64_t replay_page_up(uint64_t len);

#endif
