/*
 * pagedir.c - the regions of an address space's pages, found or made (see
 * pagedir.h).
 */
#include <stdlib.h>
#include <string.h>

#include "pagedir.h"

static inline uint32_t page_of(uint64_t addr)
{
	return (uint32_t)((addr >> PAGEDIR_PAGE_SHIFT) & (PAGEDIR_PAGES - 1));
}

/* The region of key, made when missing with create. */
static struct pagedir_region *region_of(struct pagedir *d, uint64_t key, int create)
{
	struct pagedir_region *r;
	uint32_t *at;
	int created;

	if (d->last && d->last->key == key)
		return d->last;
	if (!create) {
		at = region_index_get(&d->index, key);
		return at ? (d->last = d->regions[*at - 1]) : NULL;
	}
	at = region_index_put(&d->index, key, &created);
	if (!at)
		return NULL;
	if (!created)
		return d->last = d->regions[*at - 1];
	r = calloc(1, sizeof(*r));
	if (r && d->nregions == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 8;
		struct pagedir_region **v = realloc(d->regions, cap * sizeof(*v));

		if (v) {
			d->regions = v;
			d->cap = cap;
		} else {
			free(r);
			r = NULL;
		}
	}
	if (!r) {
		region_index_del(&d->index, key);
		return NULL;
	}
	r->key = key;
	d->regions[d->nregions] = r;
	*at = ++d->nregions;
	return d->last = r;
}

void **pagedir_slot(struct pagedir *d, uint64_t addr, int create)
{
	struct pagedir_region *r = region_of(d, addr >> PAGEDIR_REGION_SHIFT, create);

	return r ? &r->pages[page_of(addr)] : NULL;
}

void *pagedir_page(const struct pagedir *d, uint64_t addr)
{
	uint64_t key = addr >> PAGEDIR_REGION_SHIFT;
	const struct pagedir_region *r = d->last;

	if (!r || r->key != key) {
		const uint32_t *at = region_index_get(&d->index, key);

		if (!at)
			return NULL;
		r = d->regions[*at - 1];
	}
	return r->pages[page_of(addr)];
}

void pagedir_free(struct pagedir *d, void (*free_page)(void *page))
{
	for (uint32_t i = 0; i < d->nregions; i++) {
		for (uint32_t k = 0; free_page && k < PAGEDIR_PAGES; k++)
			if (d->regions[i]->pages[k])
				free_page(d->regions[i]->pages[k]);
		free(d->regions[i]);
	}
	free(d->regions);
	region_index_free(&d->index);
	memset(d, 0, sizeof(*d));
}

size_t pagedir_memory(const struct pagedir *d)
{
	return d->cap * sizeof(*d->regions) + d->index.cap * (1 + 8 + 4) +
	       d->nregions * sizeof(struct pagedir_region);
}
