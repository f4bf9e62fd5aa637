/*
 * bornlots.c - a replay's live heap blocks by serial, with their lots (see
 * bornlots.h): what the inline functions there leave, chunks to make,
 * widen, make compact, shrink and free.
 *
 * Serials only grow, so blocks are made in the last chunk, which holds a
 * lot per serial; once the chunk is behind and a few of its blocks live,
 * it keeps theirs only, and a block freed there moves at most 23 lots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/popcount.h"
#include "bornlots.h"

#define CHUNK_SHIFT BORNLOTS_CHUNK_SHIFT
#define CHUNK_MAX   (1u << CHUNK_SHIFT)
#define DIR_SHIFT   BORNLOTS_DIR_SHIFT
#define DIR_CHUNKS  (1u << DIR_SHIFT)
#define FEW	    24 /* live blocks a chunk behind keeps compact */
#define MIN_CAP	    4

static size_t chunk_size(unsigned cap, int wide)
{
	return sizeof(struct bornlots_chunk) + cap * (wide ? 4u : 2u);
}

static inline uint32_t lot_at(const struct bornlots_chunk *c, unsigned i)
{
	return c->wide ? ((const uint32_t *)(const void *)c->lots)[i] : c->lots[i];
}

static inline void set_lot(struct bornlots_chunk *c, unsigned i, uint32_t lot)
{
	if (c->wide)
		((uint32_t *)(void *)c->lots)[i] = lot;
	else
		c->lots[i] = (uint16_t)lot;
}

/* Where lot of serial bit `bit` of c is. */
static inline unsigned index_of(const struct bornlots_chunk *c, unsigned bit)
{
	return c->cap == CHUNK_MAX ? bit : popcount64(c->mask & ((1ull << bit) - 1));
}

/* c's live lots into a compact chunk of cap (from a full one or a compact
 * one), or a full chunk made wide; NULL when memory ran out (c is left as
 * it was). */
static struct bornlots_chunk *remake(struct bornlots_chunk *c, unsigned cap, int wide)
{
	struct bornlots_chunk *n = malloc(chunk_size(cap, wide));
	unsigned i = 0;

	if (!n)
		return NULL;
	n->mask = c->mask;
	n->n = c->n;
	n->cap = (uint8_t)cap;
	n->wide = (uint8_t)wide;
	if (cap == CHUNK_MAX) {
		for (uint64_t m = c->mask; m; m &= m - 1)
			set_lot(n, (unsigned)__builtin_ctzll(m),
				lot_at(c, (unsigned)__builtin_ctzll(m)));
	} else {
		for (uint64_t m = c->mask; m; m &= m - 1)
			set_lot(n, i++, lot_at(c, index_of(c, (unsigned)__builtin_ctzll(m))));
	}
	free(c);
	return n;
}

/* Where the chunk of serial s is kept; NULL when its directory is not. */
static inline struct bornlots_chunk **slot_of(const struct bornlots *b, uint64_t s,
					      struct bornlots_dir **dir)
{
	uint64_t k = s >> (CHUNK_SHIFT + DIR_SHIFT);

	if (k >= b->ndirs || !b->dirs[k])
		return NULL;
	*dir = b->dirs[k];
	return &(*dir)->c[(s >> CHUNK_SHIFT) & (DIR_CHUNKS - 1)];
}

/* The chunk in *slot, behind the last one, made compact if few of its
 * blocks live (else, or without memory for it, as it is). */
static void settle(struct bornlots *b, struct bornlots_chunk **slot, uint64_t s)
{
	struct bornlots_chunk *c = *slot, *n;

	if (c->cap != CHUNK_MAX || c->n > FEW || s >> CHUNK_SHIFT == b->last >> CHUNK_SHIFT)
		return;
	n = remake(c, c->n > MIN_CAP ? (c->n + 1u) & ~1u : MIN_CAP, c->wide);
	if (n)
		*slot = n;
}

int bornlots_add_elsewhere(struct bornlots *b, uint64_t serial, uint32_t lot)
{
	uint64_t k = serial >> (CHUNK_SHIFT + DIR_SHIFT), before = b->last;
	struct bornlots_dir *dir;
	struct bornlots_chunk **slot, *c;

	if (k >= b->ndirs) {
		size_t n = b->ndirs ? b->ndirs * 2 : 16;
		struct bornlots_dir **v;

		while (n <= k)
			n *= 2;
		v = realloc(b->dirs, n * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memset(v + b->ndirs, 0, (n - b->ndirs) * sizeof(*v));
		b->dirs = v;
		b->ndirs = n;
	}
	if (!b->dirs[k] && !(b->dirs[k] = calloc(1, sizeof(*b->dirs[k]))))
		return -ENOMEM;
	dir = b->dirs[k];
	slot = &dir->c[(serial >> CHUNK_SHIFT) & (DIR_CHUNKS - 1)];
	c = *slot;
	if (!c) {
		c = malloc(chunk_size(CHUNK_MAX, lot > UINT16_MAX));
		if (!c)
			return -ENOMEM;
		memset(c, 0, sizeof(*c));
		c->cap = CHUNK_MAX;
		c->wide = lot > UINT16_MAX;
		*slot = c;
		dir->chunks++;
	} else if (lot > UINT16_MAX && !c->wide) {
		if (!(c = remake(c, CHUNK_MAX, 1)))
			return -ENOMEM;
		*slot = c;
	}
	set_lot(c, (unsigned)(serial & (CHUNK_MAX - 1)), lot);
	c->mask |= 1ull << (serial & (CHUNK_MAX - 1));
	c->n++;
	b->len++;
	b->last = serial;
	/* the chunk left behind, compact if few of it live */
	if (before >> CHUNK_SHIFT != serial >> CHUNK_SHIFT && (slot = slot_of(b, before, &dir)) &&
	    *slot)
		settle(b, slot, before);
	return 0;
}

/* The live block s: its chunk's slot; NULL when not live. */
static inline struct bornlots_chunk **find(const struct bornlots *b, uint64_t s,
					   struct bornlots_dir **dir)
{
	struct bornlots_chunk **slot = slot_of(b, s, dir);

	if (!slot || !*slot || !((*slot)->mask >> (s & (CHUNK_MAX - 1)) & 1))
		return NULL;
	return slot;
}

int bornlots_get(const struct bornlots *b, uint64_t serial, uint32_t *lot)
{
	struct bornlots_dir *dir;
	struct bornlots_chunk **slot = find(b, serial, &dir);

	if (!slot)
		return 0;
	*lot = lot_at(*slot, index_of(*slot, (unsigned)(serial & (CHUNK_MAX - 1))));
	return 1;
}

int bornlots_take_elsewhere(struct bornlots *b, uint64_t serial, uint32_t *lot)
{
	struct bornlots_dir *dir;
	struct bornlots_chunk **slot = find(b, serial, &dir), *c;
	unsigned bit = (unsigned)(serial & (CHUNK_MAX - 1)), i;

	if (!slot)
		return 0;
	c = *slot;
	i = index_of(c, bit);
	*lot = lot_at(c, i);
	if (c->cap != CHUNK_MAX) {
		size_t w = c->wide ? 4 : 2;

		memmove((uint8_t *)c->lots + i * w, (uint8_t *)c->lots + (i + 1) * w,
			(c->n - i - 1u) * w);
	}
	c->mask &= ~(1ull << bit);
	c->n--;
	b->len--;
	if (!c->n) {
		free(c);
		*slot = NULL;
		if (!--dir->chunks) {
			free(dir);
			b->dirs[serial >> (CHUNK_SHIFT + DIR_SHIFT)] = NULL;
		}
	} else if (c->cap == CHUNK_MAX) {
		settle(b, slot, serial);
	} else if (c->cap > MIN_CAP && c->n <= c->cap / 4u) {
		/* a smaller copy when there is memory for one: else as it is */
		struct bornlots_chunk *smaller = remake(c, c->cap / 2u, c->wide);

		if (smaller)
			*slot = smaller;
	}
	return 1;
}

void bornlots_free(struct bornlots *b)
{
	for (size_t k = 0; k < b->ndirs; k++) {
		if (!b->dirs[k])
			continue;
		for (unsigned i = 0; i < DIR_CHUNKS; i++)
			free(b->dirs[k]->c[i]);
		free(b->dirs[k]);
	}
	free(b->dirs);
	memset(b, 0, sizeof(*b));
}

size_t bornlots_memory(const struct bornlots *b)
{
	size_t n = b->ndirs * sizeof(*b->dirs);

	for (size_t k = 0; k < b->ndirs; k++) {
		if (!b->dirs[k])
			continue;
		n += sizeof(*b->dirs[k]);
		for (unsigned i = 0; i < DIR_CHUNKS; i++)
			if (b->dirs[k]->c[i])
				n += chunk_size(b->dirs[k]->c[i]->cap, b->dirs[k]->c[i]->wide);
	}
	return n;
}
