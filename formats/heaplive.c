/*
 * heaplive.c - the reader's live heap blocks, by serial in chunks of 64
 * and by address in a set of bits, or a struct blocks once a block was
 * made where a live one is (see heaplive.h).
 *
 * A chunk's entries are those of its live serials, in serial order, so
 * the entry of serial s is found by counting the live serials below it in
 * the bitmap.  Serials are made in order, so a block made is appended to
 * the last chunk; a block freed is taken out of its chunk (at most 63
 * entries moved), and a chunk shrinks as it empties, and goes when empty.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "heaplive.h"
#include "popcount.h"

#define CHUNK_SHIFT HEAPLIVE_CHUNK_SHIFT
#define CHUNK_MAX   (1u << CHUNK_SHIFT)
#define DIR_SHIFT   HEAPLIVE_DIR_SHIFT
#define DIR_CHUNKS  (1u << DIR_SHIFT)
#define HINT_MASK   0xffffu
#define MIN_CAP	    HEAPLIVE_MIN_CAP
#define PAGE_SHIFT  HEAPLIVE_PAGE_SHIFT
#define UNIT_SHIFT  HEAPLIVE_UNIT_SHIFT

#define chunk heaplive_chunk

static inline uint32_t *entries(struct chunk *c)
{
	return heaplive_entries(c);
}

static inline uint8_t *classes(struct chunk *c)
{
	return (uint8_t *)(c->data + c->cap);
}

static size_t chunk_size(unsigned cap, int wide)
{
	return sizeof(struct chunk) + cap * (wide ? 9u : 4u);
}

static inline int narrow_entry(const struct chunk *c, uint64_t addr, unsigned cls, uint32_t *e)
{
	return heaplive_narrow(c, addr, cls, e);
}

static inline uint64_t entry_addr(struct chunk *c, unsigned i)
{
	return c->wide ? c->data[i] : heaplive_narrow_addr(c, entries(c)[i]);
}

static inline unsigned entry_class(struct chunk *c, unsigned i)
{
	return c->wide ? classes(c)[i] : entries(c)[i] & 127;
}

/* c copied into a chunk of cap entries, wide or not (narrow only from
 * narrow); NULL when memory ran out (c is left as it was). */
static struct chunk *resize(struct chunk *c, unsigned cap, int wide)
{
	struct chunk *n = malloc(chunk_size(cap, wide));

	if (!n)
		return NULL;
	n->mask = c->mask;
	n->base = c->base;
	n->n = c->n;
	n->cap = (uint8_t)cap;
	n->wide = (uint8_t)wide;
	if (c->wide == wide) {
		memcpy(n->data, c->data, c->n * (wide ? 8u : 4u));
		if (wide)
			memcpy(classes(n), classes(c), c->n);
	} else {
		for (unsigned i = 0; i < c->n; i++) {
			n->data[i] = entry_addr(c, i);
			classes(n)[i] = (uint8_t)entry_class(c, i);
		}
	}
	free(c);
	return n;
}

/* Where the chunk of serial s is held; NULL when its directory is not. */
static inline struct chunk **chunk_slot(const struct heaplive *l, uint64_t s,
					struct heaplive_dir **dir)
{
	uint64_t k = s >> (CHUNK_SHIFT + DIR_SHIFT);

	if (k >= l->ndirs || !l->dirs[k])
		return NULL;
	*dir = l->dirs[k];
	return &(*dir)->c[(s >> CHUNK_SHIFT) & (DIR_CHUNKS - 1)];
}

/* Entry i of the chunk in *slot goes (the live serial of bit `bit`). */
static void remove_entry(struct heaplive *l, struct heaplive_dir *dir, struct chunk **slot,
			 unsigned i, unsigned bit)
{
	struct chunk *c = *slot;
	unsigned after = c->n - i - 1u;

	if (c->wide) {
		memmove(&c->data[i], &c->data[i + 1], after * 8u);
		memmove(&classes(c)[i], &classes(c)[i + 1], after);
	} else {
		memmove(&entries(c)[i], &entries(c)[i + 1], after * 4u);
	}
	c->mask &= ~(1ull << bit);
	c->n--;
	l->len--;
	if (!c->n) {
		free(c);
		*slot = NULL;
		if (!--dir->chunks) {
			uint64_t k;

			for (k = 0; l->dirs[k] != dir; k++)
				;
			free(dir);
			l->dirs[k] = NULL;
		}
	} else if (c->cap > MIN_CAP && c->n <= c->cap / 4u) {
		/* a smaller copy when there is memory for one: else as it is */
		struct chunk *smaller = resize(c, c->cap / 2u > MIN_CAP ? c->cap / 2u : MIN_CAP,
					       c->wide);

		if (smaller)
			*slot = smaller;
	}
}

/* The live block of serial s: its chunk's slot, and its entry there. */
static inline struct chunk **find(const struct heaplive *l, uint64_t s, struct heaplive_dir **dir,
				  unsigned *i)
{
	struct chunk **slot = chunk_slot(l, s, dir);
	unsigned bit = (unsigned)(s & ((1u << CHUNK_SHIFT) - 1));

	if (!slot || !*slot || !((*slot)->mask >> bit & 1))
		return NULL;
	*i = (unsigned)popcount64((*slot)->mask & ((1ull << bit) - 1));
	return slot;
}

int heaplive_get(const struct heaplive *l, uint64_t serial, uint64_t *addr, unsigned *cls)
{
	struct heaplive_dir *dir;
	unsigned i;
	struct chunk **slot = find(l, serial, &dir, &i);

	if (!slot)
		return 0;
	*addr = entry_addr(*slot, i);
	*cls = entry_class(*slot, i);
	return 1;
}

int heaplive_take_elsewhere(struct heaplive *l, uint64_t serial, uint64_t *addr, unsigned *cls)
{
	struct heaplive_dir *dir;
	unsigned i;
	struct chunk **slot = find(l, serial, &dir, &i);
	uint32_t hint;

	if (!slot)
		return 0;
	*addr = entry_addr(*slot, i);
	*cls = entry_class(*slot, i);
	remove_entry(l, dir, slot, i, (unsigned)(serial & ((1u << CHUNK_SHIFT) - 1)));
	if (l->hinted)
		blocks_take(&l->by_addr, *addr, &hint);
	else
		addrset_del(&l->live_at, *addr);
	return 1;
}

/* The entry of the block at addr in the chunk of number n, if there. */
static int find_addr(const struct heaplive *l, uint64_t n, uint64_t addr, struct heaplive_dir **dir,
		     struct chunk ***slot, unsigned *i)
{
	struct chunk *c;
	uint32_t e;

	*slot = chunk_slot(l, n << CHUNK_SHIFT, dir);
	if (!*slot || !(c = **slot))
		return 0;
	if (c->wide) {
		for (*i = 0; *i < c->n; ++*i)
			if (c->data[*i] == addr)
				return 1;
		return 0;
	}
	if (!narrow_entry(c, addr, 0, &e))
		return 0;
	for (*i = 0; *i < c->n; ++*i)
		if ((entries(c)[*i] & ~127u) == e)
			return 1;
	return 0;
}

/* The block at addr, whose chunk number ends in the 16 bits of hint, is
 * forgotten: the latest such chunk before `serial`'s that holds it. */
static void forget(struct heaplive *l, uint32_t hint, uint64_t addr, uint64_t serial)
{
	uint64_t top = (serial - 1) >> CHUNK_SHIFT, d = (top - hint) & HINT_MASK;
	struct heaplive_dir *dir;
	struct chunk **slot;
	unsigned i;

	if (d > top)
		return;
	for (uint64_t n = top - d;; n -= HINT_MASK + 1) {
		if (find_addr(l, n, addr, &dir, &slot, &i)) {
			uint64_t m = (*slot)->mask;

			/* the serial of entry i: the i-th live bit */
			for (unsigned k = 0; k < i; k++)
				m &= m - 1;
			remove_entry(l, dir, slot, i, (unsigned)__builtin_ctzll(m));
			return;
		}
		if (n <= HINT_MASK)
			return;
	}
}

/* The chunk blocks were last made in is made no larger than its blocks:
 * no block will be added to it. */
static void trim(struct heaplive *l)
{
	struct heaplive_dir *dir;
	struct chunk **slot = chunk_slot(l, l->last_chunk << CHUNK_SHIFT, &dir), *c;

	if (slot && (c = *slot) && c->cap > c->n && c->cap > MIN_CAP) {
		c = resize(c, c->n > MIN_CAP ? c->n : MIN_CAP, c->wide);
		if (c)
			*slot = c;
	}
}

/* A block is made where a live one is, for the first time: every live
 * block goes into by_addr with its chunk's hint, and the set of bits goes.
 * 0 or -ENOMEM. */
static __attribute__((noinline)) int hint_all(struct heaplive *l)
{
	for (size_t k = 0; k < l->ndirs; k++) {
		if (!l->dirs[k])
			continue;
		for (unsigned j = 0; j < DIR_CHUNKS; j++) {
			struct chunk *c = l->dirs[k]->c[j];
			uint32_t hint = (uint32_t)((k << DIR_SHIFT | j) & HINT_MASK);

			for (unsigned i = 0; c && i < c->n; i++)
				if (blocks_put(&l->by_addr, entry_addr(c, i), hint, NULL) < 0)
					return -ENOMEM;
		}
	}
	addrset_free(&l->live_at);
	l->hinted = 1;
	return 0;
}

int heaplive_make_elsewhere(struct heaplive *l, uint64_t serial, uint64_t addr, unsigned cls)
{
	uint64_t k = serial >> (CHUNK_SHIFT + DIR_SHIFT);
	unsigned bit = (unsigned)(serial & ((1u << CHUNK_SHIFT) - 1));
	struct heaplive_dir *dir;
	struct chunk **slot, *c;
	uint32_t old, e = 0;
	int ret;

	if (k >= l->ndirs) {
		size_t n = l->ndirs ? l->ndirs * 2 : 16;
		struct heaplive_dir **v;

		while (n <= k)
			n *= 2;
		v = realloc(l->dirs, n * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memset(v + l->ndirs, 0, (n - l->ndirs) * sizeof(*v));
		l->dirs = v;
		l->ndirs = n;
	}
	if (!l->hinted) {
		ret = addrset_add(&l->live_at, addr);
		if (ret == 1)
			ret = hint_all(l);
		if (ret < 0)
			return ret;
	}
	if (l->hinted) {
		ret = blocks_put(&l->by_addr, addr, (uint32_t)((serial >> CHUNK_SHIFT) & HINT_MASK),
				 &old);
		if (ret < 0)
			return ret;
		if (ret == 1)
			forget(l, old, addr, serial);
	}
	if (serial >> CHUNK_SHIFT != l->last_chunk)
		trim(l);
	if (!l->dirs[k] && !(l->dirs[k] = calloc(1, sizeof(*l->dirs[k]))))
		return -ENOMEM;
	dir = l->dirs[k];
	slot = &dir->c[(serial >> CHUNK_SHIFT) & (DIR_CHUNKS - 1)];
	c = *slot;
	if (!c) {
		c = malloc(chunk_size(MIN_CAP, (addr & 7) != 0));
		if (!c)
			return -ENOMEM;
		memset(c, 0, sizeof(*c));
		c->cap = MIN_CAP;
		c->wide = (addr & 7) != 0;
		c->base = addr >> PAGE_SHIFT;
		*slot = c;
		dir->chunks++;
	}
	if (!c->wide && !narrow_entry(c, addr, cls, &e)) {
		if (!(c = resize(c, c->cap, 1)))
			return -ENOMEM;
		*slot = c;
	}
	if (c->n == c->cap) {
		if (!(c = resize(c, c->cap * 2u < CHUNK_MAX ? c->cap * 2u : CHUNK_MAX, c->wide)))
			return -ENOMEM;
		*slot = c;
	}
	if (c->wide) {
		c->data[c->n] = addr;
		classes(c)[c->n] = (uint8_t)cls;
	} else {
		entries(c)[c->n] = e;
	}
	c->n++;
	c->mask |= 1ull << bit;
	l->len++;
	l->last_chunk = serial >> CHUNK_SHIFT;
	return 0;
}

void heaplive_free(struct heaplive *l)
{
	for (size_t k = 0; k < l->ndirs; k++) {
		if (!l->dirs[k])
			continue;
		for (unsigned i = 0; i < DIR_CHUNKS; i++)
			free(l->dirs[k]->c[i]);
		free(l->dirs[k]);
	}
	free(l->dirs);
	blocks_free(&l->by_addr);
	addrset_free(&l->live_at);
	memset(l, 0, sizeof(*l));
}

size_t heaplive_memory(const struct heaplive *l)
{
	size_t n = blocks_memory(&l->by_addr) + addrset_memory(&l->live_at) +
		   l->ndirs * sizeof(*l->dirs);

	for (size_t k = 0; k < l->ndirs; k++) {
		if (!l->dirs[k])
			continue;
		n += sizeof(*l->dirs[k]);
		for (unsigned i = 0; i < DIR_CHUNKS; i++)
			if (l->dirs[k]->c[i])
				n += chunk_size(l->dirs[k]->c[i]->cap, l->dirs[k]->c[i]->wide);
	}
	return n;
}
