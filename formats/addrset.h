/*
 * addrset.h - a set of heap addresses, one bit each: whether a block is
 * live at an address, for the log reader's model (heaplive.h), which must
 * know it at every block made and freed but rarely needs more.
 *
 * Memory is cut into 64 MiB regions of 4 KiB pages (pagedir.h), as in
 * blocks.h, and a page in use is a 512-bit map of its 8-byte units (64 bytes, however many
 * blocks it holds): adding, removing and finding an address is setting,
 * clearing and testing one bit.  Addresses that are not multiples of 8 go
 * to a plain table on the side.  Pages are kept once made, until
 * addrset_free().
 */
#ifndef MEMTRACK_FORMATS_ADDRSET_H
#define MEMTRACK_FORMATS_ADDRSET_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "blocks.h"

#define ADDRSET_PAGE_SHIFT PAGEDIR_PAGE_SHIFT /* 4 KiB */
#define ADDRSET_UNIT_SHIFT 3		      /* 8-byte units: 512 per page */

struct addrset {
	struct pagedir dir;    /* where each page's map is */
	struct odd_blocks odd; /* addresses not multiples of 8 (values unused) */
	struct arena pages;    /* the pages' maps, 512 bits each */
	size_t len;	       /* addresses in the set */
};

/* A zero-filled struct addrset is empty. */
void addrset_free(struct addrset *s);

/* What the functions below do when addr is not a multiple of 8, or not
 * in the page of the region used last. */
int addrset_add_elsewhere(struct addrset *s, uint64_t addr);
int addrset_del_elsewhere(struct addrset *s, uint64_t addr);
int addrset_has_elsewhere(const struct addrset *s, uint64_t addr);

/* The word of addr's bit when addr is a multiple of 8 in an existing page
 * of the region used last (inline: a block made or freed asks for it). */
static inline uint64_t *addrset_word(const struct addrset *s, uint64_t addr, uint64_t *bit)
{
	uint64_t *page;
	unsigned unit = (unsigned)(addr >> ADDRSET_UNIT_SHIFT) & 511;

	if ((addr & ((1u << ADDRSET_UNIT_SHIFT) - 1)) || !(page = pagedir_page_here(&s->dir, addr)))
		return NULL;
	*bit = (uint64_t)1 << (unit & 63);
	return &page[unit >> 6];
}

/* Adds addr: 1 when it was in the set already, 0 when added, -ENOMEM. */
static inline int addrset_add(struct addrset *s, uint64_t addr)
{
	uint64_t bit, *w = addrset_word(s, addr, &bit);

	if (!w)
		return addrset_add_elsewhere(s, addr);
	if (*w & bit)
		return 1;
	*w |= bit;
	s->len++;
	return 0;
}

/* Removes addr: 1 when it was in the set, 0 when not. */
static inline int addrset_del(struct addrset *s, uint64_t addr)
{
	uint64_t bit, *w = addrset_word(s, addr, &bit);

	if (!w)
		return addrset_del_elsewhere(s, addr);
	if (!(*w & bit))
		return 0;
	*w &= ~bit;
	s->len--;
	return 1;
}

/* Is addr in the set? */
static inline int addrset_has(const struct addrset *s, uint64_t addr)
{
	uint64_t bit, *w = addrset_word(s, addr, &bit);

	return w ? (*w & bit) != 0 : addrset_has_elsewhere(s, addr);
}

/* Bytes the set holds. */
size_t addrset_memory(const struct addrset *s);

#endif
