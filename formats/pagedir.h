/*
 * pagedir.h - where the 4 KiB pages of an address are: memory cut into
 * 64 MiB regions (an arena of glibc's is one), each region an array of
 * its 16,384 page pointers, found by a hash of its number, the region
 * used last kept at hand.  The tables of heap addresses that keep
 * something per page share it: blocks.h (a page's blocks and their
 * values) and addrset.h (a bit per block).  What a page is, is theirs.
 */
#ifndef MEMTRACK_FORMATS_PAGEDIR_H
#define MEMTRACK_FORMATS_PAGEDIR_H

#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define PAGEDIR_REGION_SHIFT 26 /* 64 MiB */
#define PAGEDIR_PAGE_SHIFT   12 /* 4 KiB */
#define PAGEDIR_PAGES	     (1u << (PAGEDIR_REGION_SHIFT - PAGEDIR_PAGE_SHIFT))

struct pagedir_region {
	uint64_t key; /* address >> PAGEDIR_REGION_SHIFT */
	void *pages[PAGEDIR_PAGES];
};

/* (for the tables of addresses: also blocks.h's odd ones) */
static inline uint64_t pagedir_hash(uint64_t k)
{
	return hash_mix64(k);
}

static inline int pagedir_eq(uint64_t a, uint64_t b)
{
	return a == b;
}

/* address >> 26 -> index of its region in pagedir.regions + 1 */
HASH_DEFINE(region_index, uint64_t, uint32_t, pagedir_hash, pagedir_eq)

/* A zero-filled struct pagedir is empty. */
struct pagedir {
	struct region_index index;
	struct pagedir_region **regions;
	uint32_t nregions, cap;
	struct pagedir_region *last; /* the region used last */
};

/* The slot of addr's page; NULL when its region is not there (and
 * !create, or memory ran out).  The region becomes the one used last. */
void **pagedir_slot(struct pagedir *d, uint64_t addr, int create);

/* The page of addr, NULL when none (the region used last unchanged). */
void *pagedir_page(const struct pagedir *d, uint64_t addr);

/* The page of addr when it is in the region used last (inline: what a
 * block made or freed asks first), else NULL. */
static inline void *pagedir_page_here(const struct pagedir *d, uint64_t addr)
{
	const struct pagedir_region *r = d->last;

	if (!r || r->key != addr >> PAGEDIR_REGION_SHIFT)
		return NULL;
	return r->pages[(addr >> PAGEDIR_PAGE_SHIFT) & (PAGEDIR_PAGES - 1)];
}

/* Frees the regions, each page given to free_page first (unless NULL:
 * the pages are kept elsewhere), and empties d. */
void pagedir_free(struct pagedir *d, void (*free_page)(void *page));

/* The bytes of the regions and their index (not of the pages). */
size_t pagedir_memory(const struct pagedir *d);

#endif
