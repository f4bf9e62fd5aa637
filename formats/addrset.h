/*
 * addrset.h - a set of heap addresses, one bit each: whether a block is
 * live at an address, for the log reader's model (heaplive.h), which must
 * know it at every block made and freed but rarely needs more.
 *
 * Memory is cut into 64 MiB regions of 4 KiB pages, as in blocks.h, and a
 * page in use is a 512-bit map of its 8-byte units (64 bytes, however many
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

struct addrset_region;

struct addrset {
	struct region_index index; /* address >> 26 -> index of its region + 1 */
	struct addrset_region **regions;
	uint32_t nregions, cap;
	struct addrset_region *last; /* the region used last */
	struct odd_blocks odd;	     /* addresses not multiples of 8 (values unused) */
	struct arena pages;	     /* the pages' maps */
	size_t len;		     /* addresses in the set */
};

/* A zero-filled struct addrset is empty. */
void addrset_free(struct addrset *s);

/* Adds addr: 1 when it was in the set already, 0 when added, -ENOMEM. */
int addrset_add(struct addrset *s, uint64_t addr);

/* Removes addr: 1 when it was in the set, 0 when not. */
int addrset_del(struct addrset *s, uint64_t addr);

/* Is addr in the set? */
int addrset_has(const struct addrset *s, uint64_t addr);

/* Bytes the set holds. */
size_t addrset_memory(const struct addrset *s);

#endif
