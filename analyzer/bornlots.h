/*
 * bornlots.h - a replay's live heap blocks by serial number (the n-th block
 * the log makes is n: log_reader.h, struct log_block_ids), each with its
 * lot (replay.h).  While a log keeps to one address space, the reader says
 * which block each free names, and the replay keeps its blocks here rather
 * than by address: a block made is stored at its number, a block freed is
 * found by its number, no address is looked up.
 *
 * Blocks are kept in chunks of 64 consecutive serials: a bitmap of those
 * live and their lots, 2 bytes each while every lot number of the chunk
 * fits, else 4; directories of 1024 chunks.  A chunk holds a lot for each
 * of its 64 serials while many of its blocks live (made and freed in a few
 * instructions, inline); once few do, only theirs, in serial order (a
 * block freed then moves those after it).  A chunk goes when empty, as
 * does a directory: memory follows live blocks at 2 to 8 bytes each.
 */
#ifndef MEMTRACK_ANALYZER_BORNLOTS_H
#define MEMTRACK_ANALYZER_BORNLOTS_H

#include <stddef.h>
#include <stdint.h>

#define BORNLOTS_CHUNK_SHIFT 6	/* 64 serials a chunk */
#define BORNLOTS_DIR_SHIFT   10 /* 1024 chunks a directory */

/* (here for the inline functions below) */
struct bornlots_chunk {
	uint64_t mask; /* live serials: bit i is serial (chunk number << 6) + i */
	uint8_t n;     /* live */
	uint8_t cap;   /* 64: a lot per serial; less: the live ones' in order */
	uint8_t wide;  /* lots of 4 bytes */
	uint8_t pad[5];
	uint16_t lots[]; /* uint32_t when wide */
};

struct bornlots_dir {
	uint32_t chunks; /* not NULL in c[] */
	struct bornlots_chunk *c[1u << BORNLOTS_DIR_SHIFT];
};

struct bornlots {
	struct bornlots_dir **dirs; /* [serial >> 16] */
	size_t ndirs;
	size_t len;		    /* live blocks */
	uint64_t last;		    /* the last serial added */
};

/* A zero-filled struct bornlots is empty. */
void bornlots_free(struct bornlots *b);

/* What the functions below do in their other cases. */
int bornlots_add_elsewhere(struct bornlots *b, uint64_t serial, uint32_t lot);
int bornlots_take_elsewhere(struct bornlots *b, uint64_t serial, uint32_t *lot);

/* The chunk of serial s, when there. */
static inline struct bornlots_chunk *bornlots_chunk_of(const struct bornlots *b, uint64_t s)
{
	uint64_t k = s >> (BORNLOTS_CHUNK_SHIFT + BORNLOTS_DIR_SHIFT);

	if (k >= b->ndirs || !b->dirs[k])
		return NULL;
	return b->dirs[k]->c[(s >> BORNLOTS_CHUNK_SHIFT) & ((1u << BORNLOTS_DIR_SHIFT) - 1)];
}

/* Block `serial`, above every serial before it, is live in lot `lot` (not
 * 0).  0 or -ENOMEM. */
static inline int bornlots_add(struct bornlots *b, uint64_t serial, uint32_t lot)
{
	struct bornlots_chunk *c;
	unsigned bit = (unsigned)(serial & ((1u << BORNLOTS_CHUNK_SHIFT) - 1));

	/* most often: the chunk of the serial before, narrow */
	if (serial >> BORNLOTS_CHUNK_SHIFT != b->last >> BORNLOTS_CHUNK_SHIFT || lot > UINT16_MAX ||
	    !(c = bornlots_chunk_of(b, serial)) || c->wide)
		return bornlots_add_elsewhere(b, serial, lot);
	c->lots[bit] = (uint16_t)lot;
	c->mask |= 1ull << bit;
	c->n++;
	b->len++;
	b->last = serial;
	return 0;
}

/* The lot of live block `serial`: 1 with it in *lot, 0 when the block is
 * not live.  bornlots_take() removes it too. */
int bornlots_get(const struct bornlots *b, uint64_t serial, uint32_t *lot);

static inline int bornlots_take(struct bornlots *b, uint64_t serial, uint32_t *lot)
{
	struct bornlots_chunk *c = bornlots_chunk_of(b, serial);
	unsigned bit = (unsigned)(serial & ((1u << BORNLOTS_CHUNK_SHIFT) - 1));

	/* most often: a chunk of a lot per serial, narrow, that stays so
	 * (the last one, or one behind that keeps many) */
	if (!c || c->cap != 64 || c->wide || c->n == 1 || !(c->mask >> bit & 1) ||
	    (c->n <= 24 && serial >> BORNLOTS_CHUNK_SHIFT != b->last >> BORNLOTS_CHUNK_SHIFT))
		return bornlots_take_elsewhere(b, serial, lot);
	*lot = c->lots[bit];
	c->mask &= ~(1ull << bit);
	c->n--;
	b->len--;
	return 1;
}

/* Bytes held. */
size_t bornlots_memory(const struct bornlots *b);

#endif
