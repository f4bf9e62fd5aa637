/*
 * blocks.c - live heap blocks by address, in sorted arrays per 4 KiB page
 * (see blocks.h).
 *
 * A page holds at most 512 blocks (one per 8-byte unit).  Its units are a
 * sorted list of 2 bytes each while it holds at most 32 blocks, then a
 * 512-bit map (64 bytes: as much as 32 units, less beyond): finding a
 * block is then one bit and counting the bits before it, not a search.
 * Values are in the order of their units, so keeping them costs a memmove
 * of a few hundred bytes at most.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "popcount.h"

#define REGION_SHIFT BLOCKS_REGION_SHIFT
#define PAGE_SHIFT   BLOCKS_PAGE_SHIFT
#define UNIT_SHIFT   BLOCKS_UNIT_SHIFT
#define PAGES	     BLOCKS_PAGES
#define UNITS	     BLOCKS_UNITS
#define MIN_CAP	     4
#define LIST_MAX     32 /* blocks a page lists; beyond, a map */
#define NARROW_MAX   BLOCKS_NARROW_MAX

static size_t page_size(uint16_t cap, int wide_values, int map)
{
	return sizeof(struct block_page) + (map ? UNITS / 8 : cap * sizeof(uint16_t)) +
	       cap * (wide_values ? 4u : 2u);
}

/* The unit of slot i of a page (in order of units). */
static inline uint16_t unit_at(struct block_page *p, uint32_t i)
{
	const uint64_t *b;
	unsigned w = 0, n;

	if (!p->map)
		return p->units[i];
	b = blocks_bits(p);
	while ((n = popcount64(b[w])) <= i) {
		i -= n;
		w++;
	}
	{
		uint64_t x = b[w];

		while (i--)
			x &= x - 1;
		return (uint16_t)(w * 64 + (unsigned)__builtin_ctzll(x));
	}
}

void blocks_init(struct blocks *b)
{
	memset(b, 0, sizeof(*b));
}

void blocks_free(struct blocks *b)
{
	pagedir_free(&b->dir, free);
	odd_blocks_free(&b->odd);
	blocks_init(b);
}

static inline uint16_t unit_of(uint64_t addr)
{
	return (uint16_t)((addr & ((1u << PAGE_SHIFT) - 1)) >> UNIT_SHIFT);
}

/* The capacity after cap: half as much again, even (so wide values stay
 * aligned), at most a page's units: a page is on average 5/6 full, not
 * 3/4 as it would be if doubled. */
static inline uint16_t next_cap(uint16_t cap)
{
	uint32_t n = cap + cap / 2u;

	n += n & 1;
	return (uint16_t)(n < UNITS ? n : UNITS);
}

/* p (NULL: none yet) copied into a page of cap slots, wide or not, a map
 * or not (a map from a list, never back). */
static struct block_page *remake(struct block_page *p, uint16_t cap, int wide_values, int map)
{
	struct block_page *n = malloc(page_size(cap, wide_values, map));

	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->cap = cap;
	n->wide = (uint8_t)wide_values;
	n->map = (uint8_t)map;
	n->voff = (uint16_t)(sizeof(*n) + (map ? UNITS / 8 : cap * sizeof(uint16_t)));
	if (map)
		memset(blocks_bits(n), 0, UNITS / 8);
	if (!p)
		return n;
	n->len = p->len;
	if (map && !p->map) {
		for (uint32_t i = 0; i < p->len; i++)
			blocks_bits(n)[p->units[i] >> 6] |= 1ull << (p->units[i] & 63);
	} else {
		memcpy(n->units, p->units, map ? UNITS / 8 : p->len * sizeof(*p->units));
	}
	if (p->wide == n->wide) {
		memcpy(blocks_values(n), blocks_values(p), p->len * (p->wide ? 4u : 2u));
	} else {
		for (uint32_t i = 0; i < p->len; i++)
			((uint32_t *)blocks_values(n))[i] = ((uint16_t *)blocks_values(p))[i];
	}
	free(p);
	return n;
}

int blocks_put_elsewhere(struct blocks *b, uint64_t addr, uint32_t value, uint32_t *old)
{
	struct block_page *p;
	void **slot;
	uint16_t unit;
	uint32_t i = 0;
	int present = 0;

	if (addr & ((1u << UNIT_SHIFT) - 1)) {
		int created;
		uint32_t *ov = odd_blocks_put(&b->odd, addr, &created);

		if (!ov)
			return -ENOMEM;
		if (!created && old)
			*old = *ov;
		*ov = value;
		b->len += created;
		return !created;
	}
	slot = pagedir_slot(&b->dir, addr, 1);
	if (!slot)
		return -ENOMEM;
	p = *slot;
	unit = unit_of(addr);
	if (p && value > NARROW_MAX && !p->wide) {
		if (!(p = remake(p, p->cap, 1, p->map)))
			return -ENOMEM;
		*slot = p;
	}
	if (p)
		i = blocks_slot_of(p, unit, &present);
	if (present) {
		blocks_replace_at(p, i, value, old);
		return 1;
	}
	if (!p || p->len == p->cap) {
		int wide_values = (p && p->wide) || value > NARROW_MAX;

		p = p ? remake(p, next_cap(p->cap), wide_values, p->map || p->cap >= LIST_MAX)
		      : remake(NULL, MIN_CAP, wide_values, 0);
		if (!p)
			return -ENOMEM;
		*slot = p;
	}
	blocks_insert_at(b, p, i, unit, value);
	return 0;
}

/* The page of addr and the slot of its block: NULL when there is none. */
static struct block_page *find(const struct blocks *b, uint64_t addr, uint32_t *slot)
{
	struct block_page *p = pagedir_page(&b->dir, addr);
	int present;

	if (!p)
		return NULL;
	*slot = blocks_slot_of(p, unit_of(addr), &present);
	return present ? p : NULL;
}

int blocks_get(const struct blocks *b, uint64_t addr, uint32_t *value)
{
	struct block_page *p;
	uint32_t i;

	if (addr & ((1u << UNIT_SHIFT) - 1)) {
		const uint32_t *v = odd_blocks_get(&b->odd, addr);

		if (v)
			*value = *v;
		return v != NULL;
	}
	p = find(b, addr, &i);
	if (!p)
		return 0;
	*value = blocks_value_at(p, i);
	return 1;
}

int blocks_take_elsewhere(struct blocks *b, uint64_t addr, uint32_t *value)
{
	struct block_page *p;
	void **slot;
	uint16_t unit;
	uint32_t i;
	int present;

	if (addr & ((1u << UNIT_SHIFT) - 1)) {
		const uint32_t *ov = odd_blocks_get(&b->odd, addr);

		if (!ov)
			return 0;
		*value = *ov;
		odd_blocks_del(&b->odd, addr);
		b->len--;
		return 1;
	}
	/* the region found is likely the next one's too */
	slot = pagedir_slot(&b->dir, addr, 0);
	if (!slot || !(p = *slot))
		return 0;
	unit = unit_of(addr);
	i = blocks_slot_of(p, unit, &present);
	if (!present)
		return 0;
	blocks_remove_at(b, p, i, unit, value);
	return 1;
}

int blocks_next(const struct blocks *b, struct blocks_iter *it, uint64_t *addr, uint32_t *value)
{
	for (; it->region < b->dir.nregions; it->region++, it->page = 0) {
		const struct pagedir_region *r = b->dir.regions[it->region];

		for (; it->page < PAGES; it->page++, it->slot = 0) {
			struct block_page *p = r->pages[it->page];

			if (!p || it->slot >= p->len)
				continue;
			*addr = r->key << REGION_SHIFT | (uint64_t)it->page << PAGE_SHIFT |
				(uint64_t)unit_at(p, (uint32_t)it->slot) << UNIT_SHIFT;
			*value = blocks_value_at(p, (uint32_t)it->slot++);
			return 1;
		}
	}
	/* then the odd addresses: it->slot walks that table's slots */
	if (it->region == b->dir.nregions) {
		size_t i = it->slot;
		uint64_t k;
		uint32_t *v;

		if (odd_blocks_next(&b->odd, &i, &k, &v)) {
			it->slot = i;
			*addr = k;
			*value = *v;
			return 1;
		}
		it->region++;
	}
	return 0;
}

size_t blocks_memory(const struct blocks *b)
{
	size_t n = pagedir_memory(&b->dir) + b->odd.cap * (1 + 8 + 4);

	for (uint32_t i = 0; i < b->dir.nregions; i++) {
		for (uint32_t k = 0; k < PAGES; k++) {
			const struct block_page *p = b->dir.regions[i]->pages[k];

			if (p)
				n += page_size(p->cap, p->wide, p->map);
		}
	}
	return n;
}
