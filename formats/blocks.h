/*
 * blocks.h - live heap blocks by address, compactly: each block's address
 * maps to a 32-bit value (the log reader's: where the block is in its
 * model, heapaddr.h; a replay's: the lot the block belongs to, replay.h).
 *
 * A log holds millions of live blocks at once, so a block must cost a few
 * bytes, not a hash slot of 40, and the blocks a program frees one after
 * the other (often in the order it allocated them, or the reverse) must be
 * found close together, not scattered by a hash.  So blocks are kept in
 * address order: memory is cut into 64 MiB regions (an arena of glibc's is
 * one) of 4 KiB pages; a region is an array of its pages, and a page a
 * sorted array of its blocks' 8-byte units (2 bytes each) and their values
 * (2 bytes each while every value of the page is below 65536, else 4).  A
 * block costs 4 bytes and a little slack, a page in use about 30 more.  An
 * address that is not a multiple of 8 (an allocator of the program's own
 * may return one) goes to a plain table on the side.
 */
#ifndef MEMTRACK_FORMATS_BLOCKS_H
#define MEMTRACK_FORMATS_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

struct block_region;

static inline uint64_t blocks_hash(uint64_t k)
{
	return hash_mix64(k);
}

static inline int blocks_eq(uint64_t a, uint64_t b)
{
	return a == b;
}

/* address >> 26 -> index of its region in blocks.regions + 1 */
HASH_DEFINE(region_index, uint64_t, uint32_t, blocks_hash, blocks_eq)
/* an address that is not a multiple of 8 -> its value */
HASH_DEFINE(odd_blocks, uint64_t, uint32_t, blocks_hash, blocks_eq)

struct blocks {
	struct region_index index;
	struct block_region **regions;
	uint32_t nregions, cap;
	struct block_region *last;	/* the region used last */
	struct odd_blocks odd;
	size_t len;			/* live blocks */
};

/* A zero-filled struct blocks is empty, as blocks_init() makes it. */
void blocks_init(struct blocks *b);
void blocks_free(struct blocks *b);

/* Sets the value of the block at addr.  Returns 1 when the block was
 * there already (its value is replaced, the old one in *old when old is
 * not NULL), 0 when it is new, or -ENOMEM. */
int blocks_put(struct blocks *b, uint64_t addr, uint32_t value, uint32_t *old);

/* Removes the block at addr: 1 with its value in *value, 0 when no block
 * is there. */
int blocks_take(struct blocks *b, uint64_t addr, uint32_t *value);

/* The value of the block at addr: 1, or 0 when no block is there. */
int blocks_get(const struct blocks *b, uint64_t addr, uint32_t *value);

/* Iteration, in address order (odd addresses last):
 *   struct blocks_iter it = {0};
 *   while (blocks_next(b, &it, &addr, &value)) ...
 * No put or take while iterating. */
struct blocks_iter {
	size_t region, page, slot;
};

int blocks_next(const struct blocks *b, struct blocks_iter *it, uint64_t *addr, uint32_t *value);

/* Bytes the table holds. */
size_t blocks_memory(const struct blocks *b);

#endif
