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

#include "../formats/hash.h"
#include "internal.h"

struct cache_key {
	const struct image *img;
	uint64_t pc;
};

struct entry {
	const char *comp_dir;
	uint32_t nframes;
	size_t first; /* index into symcache.frames */
};

static uint64_t key_hash(struct cache_key k)
{
	uint64_t h = (uint64_t)(uintptr_t)k.img * 0x9e3779b97f4a7c15ull ^ k.pc;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static int key_eq(struct cache_key a, struct cache_key b)
{
	return a.img == b.img && a.pc == b.pc;
}

HASH_DEFINE(entry_table, struct cache_key, struct entry, key_hash, key_eq)

struct symcache {
	struct entry_table entries;
	struct mt_symframe *frames;
	size_t nframes, cap;
};

int symcache_open(struct symcache **out)
{
	struct symcache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	*out = c;
	return 0;
}

int symcache_get(struct symcache *c, const struct image *img, uint64_t pc, struct mt_symbol *out)
{
	const struct entry *e = entry_table_get(&c->entries, (struct cache_key){img, pc});

	if (!e)
		return 0;
	out->comp_dir = e->comp_dir;
	out->nframes = e->nframes;
	if (e->nframes)
		memcpy(out->frames, c->frames + e->first, e->nframes * sizeof(out->frames[0]));
	return 1;
}

int symcache_put(struct symcache *c, const struct image *img, uint64_t pc,
		 const struct mt_symbol *sym)
{
	struct entry *e;
	int created;

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
	e = entry_table_put(&c->entries, (struct cache_key){img, pc}, &created);
	if (!e)
		return -ENOMEM;
	if (!created)
		return 0;
	e->comp_dir = sym->comp_dir;
	e->nframes = sym->nframes;
	e->first = c->nframes;
	if (sym->nframes)
		memcpy(c->frames + c->nframes, sym->frames, sym->nframes * sizeof(sym->frames[0]));
	c->nframes += sym->nframes;
	return 0;
}

void symcache_close(struct symcache *c)
{
	if (!c)
		return;
	entry_table_free(&c->entries);
	free(c->frames);
	free(c);
}
