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

#include "addrset.h"
#include "blocks.h"

struct heaplive_dir;

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

/* Block `serial` (above every serial before it) is made at addr (not 0),
 * of size class cls (1 to 127); a block live at addr is forgotten.  0 or
 * -ENOMEM. */
int heaplive_make(struct heaplive *l, uint64_t serial, uint64_t addr, unsigned cls);

/* The live block of that serial: 1 with its address and class, 0 when it
 * is not live.  heaplive_take() removes it too. */
int heaplive_get(const struct heaplive *l, uint64_t serial, uint64_t *addr, unsigned *cls);
int heaplive_take(struct heaplive *l, uint64_t serial, uint64_t *addr, unsigned *cls);

/* Is a block live at addr? */
static inline int heaplive_has(const struct heaplive *l, uint64_t addr)
{
	uint32_t v;

	return l->hinted ? blocks_get(&l->by_addr, addr, &v) : addrset_has(&l->live_at, addr);
}

/* Bytes the model holds. */
size_t heaplive_memory(const struct heaplive *l);

#endif
