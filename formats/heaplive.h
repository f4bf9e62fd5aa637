/*
 * heaplive.h - the live heap blocks of a log as its reader models them
 * (heapaddr.h): each block's serial number, address and size class, found
 * by serial (a freed address is coded by its block's serial) and by address
 * (an address coded as itself must not be a live block's; a block made
 * where a live one is makes the reader forget that one).
 *
 * A log holds millions of live blocks at once, so a block costs about 8
 * bytes.  By serial, blocks are kept in chunks of 64 consecutive serials:
 * a bitmap of those still live, then, for each of them, 4 bytes (its 4 KiB
 * page as a distance from the chunk's first block's page, its 8-byte unit
 * in the page, its class), or 9 where the addresses of a chunk are too far
 * apart or not multiples of 8.  Both ends of a program's life (blocks freed
 * as soon as made, blocks freed in the order they were made) touch a few
 * chunks at a time.
 *
 * By address, the model only needs to know whether a block is live there,
 * until a block is made where a live one is (its free was not seen): that
 * one must then be found, and forgotten.  So addresses are first a set of
 * bits (addrset.h), and once a log makes a block where a live one is, a
 * struct blocks (blocks.h) whose value is the low 16 bits of the block's
 * chunk number: the one chunk in 65536 to look in when a block must be
 * found from its address.  It is made from the chunks then, and kept from
 * there on.
 *
 * Private to formats/.
 */
#ifndef MEMTRACK_FORMATS_HEAPLIVE_H
#define MEMTRACK_FORMATS_HEAPLIVE_H

#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "addrset.h"
#include "blocks.h"
#include "popcount.h"

#define HEAPLIVE_CHUNK_SHIFT 6  /* 64 serials a chunk */
#define HEAPLIVE_DIR_SHIFT   10 /* 1024 chunks a directory */
#define HEAPLIVE_MIN_CAP     4  /* entries of a chunk, at least */
#define HEAPLIVE_PAGE_SHIFT  12
#define HEAPLIVE_UNIT_SHIFT  3

/*
 * How heaplive.c keeps its blocks, here for the inline functions below.
 * A chunk's entries, narrow (wide == 0): uint32_t entry[cap], each (page -
 * base) as 16 bits, then the 8-byte unit in the page (9 bits), then the
 * class (7 bits); wide: uint64_t address[cap], then uint8_t class[cap].
 */
struct heaplive_chunk {
	uint64_t mask; /* live serials: bit i is serial (chunk number << 6) + i */
	uint64_t base; /* the page (address >> 12) of the chunk's first block */
	uint8_t n, cap, wide;
	uint8_t pad[5];
	uint64_t data[];
};

struct heaplive_dir {
	uint32_t chunks; /* not NULL in c[] */
	struct heaplive_chunk *c[1u << HEAPLIVE_DIR_SHIFT];
};

static inline uint32_t *heaplive_entries(struct heaplive_chunk *c)
{
	return (uint32_t *)(void *)c->data;
}

/* The narrow entry of (addr, cls) in chunk c: 1, or 0 when it has none. */
static inline int heaplive_narrow(const struct heaplive_chunk *c, uint64_t addr, unsigned cls,
				  uint32_t *e)
{
	int64_t d = (int64_t)((addr >> HEAPLIVE_PAGE_SHIFT) - c->base);

	if ((addr & ((1u << HEAPLIVE_UNIT_SHIFT) - 1)) || d < INT16_MIN || d > INT16_MAX)
		return 0;
	*e = (uint32_t)(uint16_t)d << 16 |
	     (uint32_t)((addr >> HEAPLIVE_UNIT_SHIFT) &
			((1u << (HEAPLIVE_PAGE_SHIFT - HEAPLIVE_UNIT_SHIFT)) - 1))
		     << 7 |
	     cls;
	return 1;
}

/* The address of narrow entry e of chunk c. */
static inline uint64_t heaplive_narrow_addr(const struct heaplive_chunk *c, uint32_t e)
{
	return (c->base + (uint64_t)(int64_t)(int16_t)(e >> 16)) << HEAPLIVE_PAGE_SHIFT |
	       (uint64_t)((e >> 7) & ((1u << (HEAPLIVE_PAGE_SHIFT - HEAPLIVE_UNIT_SHIFT)) - 1))
		       << HEAPLIVE_UNIT_SHIFT;
}

struct heaplive {
	struct addrset live_at;	      /* the addresses of live blocks, until hinted */
	struct blocks by_addr;	      /* once hinted: address -> chunk number & 0xffff */
	int hinted;
	struct heaplive_dir **dirs;   /* [serial >> 16]: 1024 chunks each */
	size_t ndirs;
	uint64_t last_chunk;	      /* the chunk blocks were last made in */
	size_t len;		      /* live blocks */
};

/* A zero-filled struct heaplive is empty. */
void heaplive_free(struct heaplive *l);

/* What the functions below do in their other cases: a chunk to make,
 * grow, widen, shrink or free, a block made where a live one is, blocks
 * found by address through hints, a block not live. */
int heaplive_make_elsewhere(struct heaplive *l, uint64_t serial, uint64_t addr, unsigned cls);
int heaplive_take_elsewhere(struct heaplive *l, uint64_t serial, uint64_t *addr, unsigned *cls);

/* The chunk of serial s, when its directory and it are there. */
static inline struct heaplive_chunk *heaplive_chunk_of(const struct heaplive *l, uint64_t s)
{
	uint64_t k = s >> (HEAPLIVE_CHUNK_SHIFT + HEAPLIVE_DIR_SHIFT);

	if (k >= l->ndirs || !l->dirs[k])
		return NULL;
	return l->dirs[k]->c[(s >> HEAPLIVE_CHUNK_SHIFT) & ((1u << HEAPLIVE_DIR_SHIFT) - 1)];
}

/* Block `serial` (above every serial before it) is made at addr (not 0),
 * of size class cls (1 to 127); a block live at addr is forgotten.  0 or
 * -ENOMEM.  (Inline, as most blocks go to the end of the chunk blocks were
 * last made in: a block made costs a bit set and an entry written.) */
static inline int heaplive_make(struct heaplive *l, uint64_t serial, uint64_t addr, unsigned cls)
{
	struct heaplive_chunk *c;
	uint32_t e;
	int ret;

	if (l->hinted || serial >> HEAPLIVE_CHUNK_SHIFT != l->last_chunk ||
	    !(c = heaplive_chunk_of(l, serial)) || c->wide || c->n == c->cap ||
	    !heaplive_narrow(c, addr, cls, &e))
		return heaplive_make_elsewhere(l, serial, addr, cls);
	ret = addrset_add(&l->live_at, addr);
	if (ret)
		return ret < 0 ? ret : heaplive_make_elsewhere(l, serial, addr, cls);
	heaplive_entries(c)[c->n++] = e;
	c->mask |= 1ull << (serial & ((1u << HEAPLIVE_CHUNK_SHIFT) - 1));
	l->len++;
	return 0;
}

/* The live block of that serial: 1 with its address and class, 0 when it
 * is not live.  heaplive_take() removes it too (inline while the chunk
 * keeps its size). */
int heaplive_get(const struct heaplive *l, uint64_t serial, uint64_t *addr, unsigned *cls);

static inline int heaplive_take(struct heaplive *l, uint64_t serial, uint64_t *addr, unsigned *cls)
{
	unsigned bit = (unsigned)(serial & ((1u << HEAPLIVE_CHUNK_SHIFT) - 1)), i;
	struct heaplive_chunk *c = heaplive_chunk_of(l, serial);
	uint32_t *v, e;

	if (l->hinted || !c || c->wide || !(c->mask >> bit & 1) || c->n == 1 ||
	    (c->cap > HEAPLIVE_MIN_CAP && c->n - 1u <= c->cap / 4u))
		return heaplive_take_elsewhere(l, serial, addr, cls);
	i = popcount64(c->mask & ((1ull << bit) - 1));
	v = heaplive_entries(c);
	e = v[i];
	*addr = heaplive_narrow_addr(c, e);
	*cls = e & 127;
	memmove(&v[i], &v[i + 1], (c->n - i - 1u) * sizeof(*v));
	c->mask &= ~(1ull << bit);
	c->n--;
	l->len--;
	addrset_del(&l->live_at, *addr);
	return 1;
}

/* Is a block live at addr? */
static inline int heaplive_has(const struct heaplive *l, uint64_t addr)
{
	uint32_t v;

	return l->hinted ? blocks_get(&l->by_addr, addr, &v) : addrset_has(&l->live_at, addr);
}

/* Bytes the model holds. */
size_t heaplive_memory(const struct heaplive *l);

#endif
