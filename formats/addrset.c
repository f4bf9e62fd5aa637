/*
 * addrset.c - heap addresses as bits of 4 KiB pages' maps (see addrset.h):
 * what the inline functions there leave, the regions and pages to find
 * or make, and the addresses that are not multiples of 8.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addrset.h"

#define PAGE_SHIFT ADDRSET_PAGE_SHIFT
#define UNIT_SHIFT ADDRSET_UNIT_SHIFT
#define PAGE_WORDS ((1u << (PAGE_SHIFT - UNIT_SHIFT)) / 64)

void addrset_free(struct addrset *s)
{
	pagedir_free(&s->dir, NULL); /* the pages are the arena's */
	odd_blocks_free(&s->odd);
	arena_free(&s->pages);
	memset(s, 0, sizeof(*s));
}

/* The word of addr's bit in its page, and the bit; NULL when its page is
 * not there (and !create, or memory ran out). */
static inline uint64_t *word_of(struct addrset *s, uint64_t addr, int create, uint64_t *bit)
{
	void **slot = pagedir_slot(&s->dir, addr, create);
	uint64_t *page;
	unsigned unit = (unsigned)(addr >> UNIT_SHIFT) & (PAGE_WORDS * 64 - 1);

	if (!slot)
		return NULL;
	if (!*slot && (!create || !(*slot = arena_alloc(&s->pages, PAGE_WORDS * 8))))
		return NULL;
	page = *slot;
	*bit = (uint64_t)1 << (unit & 63);
	return &page[unit >> 6];
}

int addrset_add_elsewhere(struct addrset *s, uint64_t addr)
{
	uint64_t *w, bit;

	if (addr & ((1u << UNIT_SHIFT) - 1)) {
		int created;

		if (!odd_blocks_put(&s->odd, addr, &created))
			return -ENOMEM;
		s->len += created;
		return !created;
	}
	w = word_of(s, addr, 1, &bit);
	if (!w)
		return -ENOMEM;
	if (*w & bit)
		return 1;
	*w |= bit;
	s->len++;
	return 0;
}

int addrset_del_elsewhere(struct addrset *s, uint64_t addr)
{
	uint64_t *w, bit;

	if (addr & ((1u << UNIT_SHIFT) - 1)) {
		int gone = odd_blocks_del(&s->odd, addr);

		s->len -= (size_t)gone;
		return gone;
	}
	w = word_of(s, addr, 0, &bit);
	if (!w || !(*w & bit))
		return 0;
	*w &= ~bit;
	s->len--;
	return 1;
}

int addrset_has_elsewhere(const struct addrset *s, uint64_t addr)
{
	const uint64_t *page;
	unsigned unit = (unsigned)(addr >> UNIT_SHIFT) & (PAGE_WORDS * 64 - 1);

	if (addr & ((1u << UNIT_SHIFT) - 1))
		return odd_blocks_get(&s->odd, addr) != NULL;
	page = pagedir_page(&s->dir, addr);
	return page && (page[unit >> 6] >> (unit & 63) & 1);
}

size_t addrset_memory(const struct addrset *s)
{
	size_t n = pagedir_memory(&s->dir) + s->odd.cap * (1 + 8 + 4);

	for (uint32_t i = 0; i < s->dir.nregions; i++)
		for (uint32_t k = 0; k < PAGEDIR_PAGES; k++)
			if (s->dir.regions[i]->pages[k])
				n += PAGE_WORDS * 8;
	return n;
}
