/*
 * addrset.c - heap addresses as bits of 4 KiB pages' maps (see addrset.h):
 * what the inline functions there leave, the regions and pages to find
 * or make, and the addresses that are not multiples of 8.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addrset.h"

#define REGION_SHIFT ADDRSET_REGION_SHIFT
#define PAGE_SHIFT   ADDRSET_PAGE_SHIFT
#define UNIT_SHIFT   ADDRSET_UNIT_SHIFT
#define PAGES	     ADDRSET_PAGES
#define PAGE_WORDS   ((1u << (PAGE_SHIFT - UNIT_SHIFT)) / 64)

void addrset_free(struct addrset *s)
{
	for (uint32_t i = 0; i < s->nregions; i++)
		free(s->regions[i]);
	free(s->regions);
	region_index_free(&s->index);
	odd_blocks_free(&s->odd);
	arena_free(&s->pages);
	memset(s, 0, sizeof(*s));
}

/* The region of addr, made when missing with create; NULL when it has
 * none (or memory ran out). */
static struct addrset_region *region_of(struct addrset *s, uint64_t addr, int create)
{
	uint64_t key = addr >> REGION_SHIFT;
	struct addrset_region *r;
	uint32_t *at;
	int created;

	if (s->last && s->last->key == key)
		return s->last;
	if (!create) {
		at = region_index_get(&s->index, key);
		return at ? (s->last = s->regions[*at - 1]) : NULL;
	}
	at = region_index_put(&s->index, key, &created);
	if (!at)
		return NULL;
	if (!created)
		return s->last = s->regions[*at - 1];
	r = calloc(1, sizeof(*r));
	if (r && s->nregions == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 8;
		struct addrset_region **v = realloc(s->regions, cap * sizeof(*v));

		if (v) {
			s->regions = v;
			s->cap = cap;
		} else {
			free(r);
			r = NULL;
		}
	}
	if (!r) {
		region_index_del(&s->index, key);
		return NULL;
	}
	r->key = key;
	s->regions[s->nregions] = r;
	*at = ++s->nregions;
	return s->last = r;
}

/* The word of addr's bit in its page, and the bit; NULL when its page is
 * not there (and !create, or memory ran out). */
static inline uint64_t *word_of(struct addrset *s, uint64_t addr, int create, uint64_t *bit)
{
	struct addrset_region *r = region_of(s, addr, create);
	uint64_t **page;
	unsigned unit = (unsigned)(addr >> UNIT_SHIFT) & (PAGE_WORDS * 64 - 1);

	if (!r)
		return NULL;
	page = &r->pages[(addr >> PAGE_SHIFT) & (PAGES - 1)];
	if (!*page && (!create || !(*page = arena_alloc(&s->pages, PAGE_WORDS * 8))))
		return NULL;
	*bit = (uint64_t)1 << (unit & 63);
	return &(*page)[unit >> 6];
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
	uint64_t key = addr >> REGION_SHIFT;
	const struct addrset_region *r = s->last;
	const uint64_t *page;
	unsigned unit = (unsigned)(addr >> UNIT_SHIFT) & (PAGE_WORDS * 64 - 1);

	if (addr & ((1u << UNIT_SHIFT) - 1))
		return odd_blocks_get(&s->odd, addr) != NULL;
	if (!r || r->key != key) {
		const uint32_t *at = region_index_get(&s->index, key);

		if (!at)
			return 0;
		r = s->regions[*at - 1];
	}
	page = r->pages[(addr >> PAGE_SHIFT) & (PAGES - 1)];
	return page && (page[unit >> 6] >> (unit & 63) & 1);
}

size_t addrset_memory(const struct addrset *s)
{
	size_t n = s->cap * sizeof(*s->regions) + s->index.cap * (1 + 8 + 4) +
		   s->odd.cap * (1 + 8 + 4) + s->nregions * sizeof(struct addrset_region);

	for (uint32_t i = 0; i < s->nregions; i++)
		for (uint32_t k = 0; k < PAGES; k++)
			if (s->regions[i]->pages[k])
				n += PAGE_WORDS * 8;
	return n;
}
