/*
 * symbolizer/cache.c - answers already computed, keyed by (image, pc).
 *
 * Keyed by image rather than by address space: every fork child maps the
 * same files at the same places, and an image is one file at one bias, so a
 * pc resolved for the parent is resolved for its children too.  And the
 * answer for (image, pc) never changes, while which module a (space, pc)
 * falls in can, as modules keep being added.
 *
 * Frames are stored packed (only nframes of them) in one growing array, as
 * most pcs have one or two frames and a full struct mt_symbol holds
 * MT_SYM_MAX_INLINE of them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct entry {
	const struct image *img; /* NULL: empty slot */
	uint64_t pc;
	const char *comp_dir;
	uint32_t nframes;
	size_t first; /* index into symcache.frames */
};

struct symcache {
	struct entry *slots; /* open addressing; a power of two of them */
	size_t nslots, count;
	struct mt_symframe *frames;
	size_t nframes, cap;
};

static size_t slot_of(const struct symcache *c, const struct image *img, uint64_t pc)
{
	uint64_t h = (uint64_t)(uintptr_t)img * 0x9e3779b97f4a7c15ull ^ pc;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h & (c->nslots - 1);
}

int symcache_open(struct symcache **out)
{
	struct symcache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->nslots = 1024;
	c->slots = calloc(c->nslots, sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

int symcache_get(struct symcache *c, const struct image *img, uint64_t pc, struct mt_symbol *out)
{
	for (size_t i = slot_of(c, img, pc);; i = (i + 1) & (c->nslots - 1)) {
		const struct entry *e = &c->slots[i];

		if (!e->img)
			return 0;
		if (e->img == img && e->pc == pc) {
			out->comp_dir = e->comp_dir;
			out->nframes = e->nframes;
			if (e->nframes)
				memcpy(out->frames, c->frames + e->first,
				       e->nframes * sizeof(out->frames[0]));
			return 1;
		}
	}
}

static int grow_slots(struct symcache *c)
{
	size_t old = c->nslots;
	struct entry *slots = c->slots;

	c->slots = calloc(old * 2, sizeof(*c->slots));
	if (!c->slots) {
		c->slots = slots;
		return -ENOMEM;
	}
	c->nslots = old * 2;
	for (size_t i = 0; i < old; i++) {
		if (!slots[i].img)
			continue;

		size_t j = slot_of(c, slots[i].img, slots[i].pc);

		while (c->slots[j].img)
			j = (j + 1) & (c->nslots - 1);
		c->slots[j] = slots[i];
	}
	free(slots);
	return 0;
}

int symcache_put(struct symcache *c, const struct image *img, uint64_t pc,
		 const struct mt_symbol *sym)
{
	if ((c->count + 1) * 4 > c->nslots * 3 && grow_slots(c) < 0)
		return -ENOMEM;
	if (c->nframes + sym->nframes > c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;

		while (cap < c->nframes + sym->nframes)
			cap *= 2;

		struct mt_symframe *frames = realloc(c->frames, cap * sizeof(*frames));

		if (!frames)
			return -ENOMEM;
		c->frames = frames;
		c->cap = cap;
	}

	size_t i = slot_of(c, img, pc);

	while (c->slots[i].img) {
		if (c->slots[i].img == img && c->slots[i].pc == pc)
			return 0;
		i = (i + 1) & (c->nslots - 1);
	}

	struct entry *e = &c->slots[i];

	e->img = img;
	e->pc = pc;
	e->comp_dir = sym->comp_dir;
	e->nframes = sym->nframes;
	e->first = c->nframes;
	if (sym->nframes)
		memcpy(c->frames + c->nframes, sym->frames, sym->nframes * sizeof(sym->frames[0]));
	c->nframes += sym->nframes;
	c->count++;
	return 0;
}

void symcache_close(struct symcache *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c->frames);
	free(c);
}
