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

#include <string.h>

#include "hash.h"
#include "pagedir.h"
#include "popcount.h"

#define BLOCKS_REGION_SHIFT PAGEDIR_REGION_SHIFT /* 64 MiB */
#define BLOCKS_PAGE_SHIFT   PAGEDIR_PAGE_SHIFT	 /* 4 KiB */
#define BLOCKS_UNIT_SHIFT   3			 /* 8-byte units: 512 per page */
#define BLOCKS_PAGES	    PAGEDIR_PAGES
#define BLOCKS_UNITS	    (1u << (BLOCKS_PAGE_SHIFT - BLOCKS_UNIT_SHIFT))
#define BLOCKS_NARROW_MAX   0xffffu /* the largest value a narrow page holds */

/* How blocks.c keeps pages, here for the inline functions at the end. */
/*
 * A list page: uint16_t units[cap], then its values; a map page: uint64_t
 * bits[8], then its values.  Values are cap of 2 bytes (narrow) or 4
 * (wide); cap is even and the header 8 bytes, so wide values are aligned.
 * Where the values start is kept, not worked out at every access.
 */
struct block_page {
	uint16_t len, cap;
	uint8_t wide;
	uint8_t map;
	uint16_t voff; /* bytes from the page to its values */
	uint16_t units[];
};

static inline uint64_t *blocks_bits(struct block_page *p)
{
	return (uint64_t *)(void *)p->units;
}

static inline void *blocks_values(struct block_page *p)
{
	return (uint8_t *)p + p->voff;
}

static inline uint32_t blocks_value_at(struct block_page *p, uint32_t i)
{
	return p->wide ? ((uint32_t *)blocks_values(p))[i] : ((uint16_t *)blocks_values(p))[i];
}

/* (a value too large for a narrow page widens it first: see blocks_put) */
static inline void blocks_set_value(struct block_page *p, uint32_t i, uint32_t v)
{
	if (p->wide)
		((uint32_t *)blocks_values(p))[i] = v;
	else
		((uint16_t *)blocks_values(p))[i] = (uint16_t)v;
}

/* Values [from, len) moved by one slot: up (a block inserted at from) or
 * down (the block at from - 1 removed). */
static inline void blocks_move_values(struct block_page *p, uint32_t from, int up)
{
	size_t w = p->wide ? 4 : 2, n = (p->len - from) * w;
	uint8_t *v = (uint8_t *)blocks_values(p) + from * w;

	if (up)
		memmove(v + w, v, n);
	else
		memmove(v - w, v, n);
}

/* The slot of unit in p: where it is, or where it would go. */
static inline __attribute__((always_inline)) uint32_t blocks_slot_of(struct block_page *p,
								      uint16_t unit, int *present)
{
	uint32_t lo = 0, hi = p->len;

	if (p->map) {
		const uint64_t *b = blocks_bits(p);
		unsigned w = unit >> 6;
		uint64_t below = ((uint64_t)1 << (unit & 63)) - 1;
		uint32_t r;

		*present = (int)(b[w] >> (unit & 63) & 1);
		/* the units set before it, counted from the nearer end of
		 * the map: four words at most */
		if (w < BLOCKS_UNITS / 128) {
			r = popcount64(b[w] & below);
			for (unsigned k = 0; k < w; k++)
				r += popcount64(b[k]);
			return r;
		}
		r = p->len - popcount64(b[w] & ~below);
		for (unsigned k = w + 1; k < BLOCKS_UNITS / 64; k++)
			r -= popcount64(b[k]);
		return r;
	}
	/* an allocator filling a page hands out addresses upward */
	if (!hi || p->units[hi - 1] < unit) {
		*present = 0;
		return hi;
	}
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (p->units[mid] < unit)
			lo = mid + 1;
		else
			hi = mid;
	}
	*present = p->units[lo] == unit;
	return lo;
}

/* an address that is not a multiple of 8 -> its value */
HASH_DEFINE(odd_blocks, uint64_t, uint32_t, pagedir_hash, pagedir_eq)

struct blocks {
	struct pagedir dir; /* the pages, struct block_page */
	struct odd_blocks odd;
	size_t len; /* live blocks */
};

/* A zero-filled struct blocks is empty, as blocks_init() makes it. */
void blocks_init(struct blocks *b);
void blocks_free(struct blocks *b);

/* What blocks_put() and blocks_take() do where their inline paths do not
 * go: an odd address, another region than the last one's, a page to make,
 * grow or widen. */
int blocks_put_elsewhere(struct blocks *b, uint64_t addr, uint32_t value, uint32_t *old);
int blocks_take_elsewhere(struct blocks *b, uint64_t addr, uint32_t *value);

/* The page of addr when it is a multiple of 8 in an existing page of the
 * region used last, and its unit. */
static inline struct block_page *blocks_page_here(const struct blocks *b, uint64_t addr,
						  uint16_t *unit)
{
	if (addr & ((1u << BLOCKS_UNIT_SHIFT) - 1))
		return NULL;
	*unit = (uint16_t)((addr & ((1u << BLOCKS_PAGE_SHIFT) - 1)) >> BLOCKS_UNIT_SHIFT);
	return pagedir_page_here(&b->dir, addr);
}

/* The block at slot i of p (present) gets value; its old one in *old
 * when old is not NULL. */
static inline void blocks_replace_at(struct block_page *p, uint32_t i, uint32_t value,
				     uint32_t *old)
{
	if (old)
		*old = blocks_value_at(p, i);
	blocks_set_value(p, i, value);
}

/* A new block of b, of unit and value, at slot i of p (which has room). */
static inline void blocks_insert_at(struct blocks *b, struct block_page *p, uint32_t i,
				    uint16_t unit, uint32_t value)
{
	if (p->map)
		blocks_bits(p)[unit >> 6] |= 1ull << (unit & 63);
	else if (i < p->len)
		memmove(&p->units[i + 1], &p->units[i], (p->len - i) * sizeof(*p->units));
	if (i < p->len)
		blocks_move_values(p, i, 1);
	if (!p->map)
		p->units[i] = unit;
	blocks_set_value(p, i, value);
	p->len++;
	b->len++;
}

/* The block of unit at slot i of p goes; its value in *value. */
static inline void blocks_remove_at(struct blocks *b, struct block_page *p, uint32_t i,
				    uint16_t unit, uint32_t *value)
{
	*value = blocks_value_at(p, i);
	if (p->map)
		blocks_bits(p)[unit >> 6] &= ~(1ull << (unit & 63));
	else if (i + 1 < p->len)
		memmove(&p->units[i], &p->units[i + 1], (p->len - i - 1) * sizeof(*p->units));
	if (i + 1 < p->len)
		blocks_move_values(p, i + 1, 0);
	p->len--;
	b->len--;
}

/* Sets the value of the block at addr.  Returns 1 when the block was
 * there already (its value is replaced, the old one in *old when old is
 * not NULL), 0 when it is new, or -ENOMEM.  (Inline, as a replay puts a
 * block at every allocation: most often in the region of the block
 * before, in a page with room.) */
static inline int blocks_put(struct blocks *b, uint64_t addr, uint32_t value, uint32_t *old)
{
	uint16_t unit;
	struct block_page *p = blocks_page_here(b, addr, &unit);
	uint32_t i;
	int present;

	if (!p || p->len == p->cap || (value > BLOCKS_NARROW_MAX && !p->wide))
		return blocks_put_elsewhere(b, addr, value, old);
	i = blocks_slot_of(p, unit, &present);
	if (present) {
		blocks_replace_at(p, i, value, old);
		return 1;
	}
	blocks_insert_at(b, p, i, unit, value);
	return 0;
}

/* Removes the block at addr: 1 with its value in *value, 0 when no block
 * is there. */
static inline int blocks_take(struct blocks *b, uint64_t addr, uint32_t *value)
{
	uint16_t unit;
	struct block_page *p = blocks_page_here(b, addr, &unit);
	uint32_t i;
	int present;

	if (!p)
		return blocks_take_elsewhere(b, addr, value);
	i = blocks_slot_of(p, unit, &present);
	if (!present)
		return 0;
	blocks_remove_at(b, p, i, unit, value);
	return 1;
}

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
