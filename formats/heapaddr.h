/*
 * heapaddr.h - how a memtrack log codes heap addresses (formats/FORMAT.md,
 * "Heap addresses"), shared by the writer and the reader.  Both keep the
 * same model of the log so far: the blocks its events made and have not
 * freed (by serial number), the last block made, the last few addresses
 * freed in each size class, and for each thread the last address it freed
 * and where its next block would be cut (an allocator gives each thread
 * blocks of its own).  A freed address is then
 * named by how many blocks were made after it, and an address an
 * allocator returns is most often one just freed: a byte or two where the
 * address itself takes six.
 *
 * Private to formats/.  The reader's model also maps serial numbers back
 * to addresses, so it keeps its live blocks compactly (heaplive.h); the
 * writer's does not need to, and keeps a hash map it reaches in one step.
 */
#ifndef MEMTRACK_FORMATS_HEAPADDR_H
#define MEMTRACK_FORMATS_HEAPADDR_H

#include <stddef.h>
#include <stdint.h>

#include "heaplive.h"

#define HEAPADDR_RING	 8   /* freed addresses remembered per size class */
#define HEAPADDR_CLASSES 128 /* size classes (heapaddr_class) */
#define HEAPADDR_THREADS 256 /* threads remembered, by tid modulo this */

/* FREED and OLD codes below HEAPADDR_FREED_LIVE; from there on, a live
 * block: + 2 * (how many blocks were made after it), or + 2 * zigzag(its
 * serial - the serial after the last live block freed) + 1. */
enum {
	HEAPADDR_FREED_ZERO = 0,    /* address 0 (OLD only: realloc(NULL, n)) */
	HEAPADDR_FREED_LITERAL = 1, /* the address follows as a varint */
	HEAPADDR_FREED_LIVE = 2,
};

/* BORN codes. */
enum {
	HEAPADDR_BORN_ZERO = 0,			   /* nothing made (the call failed) */
	HEAPADDR_BORN_LAST_FREED = 1,		   /* the thread's last address freed */
	HEAPADDR_BORN_RING = 2,			   /* + k: k-th last freed of its class */
	HEAPADDR_BORN_LITERAL = 2 + HEAPADDR_RING, /* the address follows */
	HEAPADDR_BORN_DELTA = 3 + HEAPADDR_RING,   /* + zigzag(addr - thread's next) */
};

/* What a reader finds wrong with a code. */
enum heapaddr_error {
	HEAPADDR_OK = 0,
	HEAPADDR_NOMEM,		/* the model could not grow */
	HEAPADDR_ZERO,		/* address 0 where it cannot be */
	HEAPADDR_NOT_LIVE,	/* a distance to no block held live */
	HEAPADDR_NOTHING_FREED, /* "the last address freed" before the thread's first */
	HEAPADDR_EMPTY_SLOT,	/* a freed-ring slot nothing was put in */
	HEAPADDR_NOT_SHORTEST,	/* the value has another, preferred coding */
};

/* An open-addressing map of nonzero 64-bit keys to 64-bit values. */
struct heapaddr_map {
	struct heapaddr_slot *slots; /* key 0: empty */
	size_t len;
	unsigned bits; /* 2^bits slots */
};

struct heapaddr {
	int reader;
	uint64_t made;		       /* blocks made so far: the last one's serial */
	uint64_t last_made;	       /* its address (0 before any) */
	size_t last_made_slot;	       /* writer: where it is in `live`, unless moved since */
	uint64_t freed_serial;	       /* the serial of the last live block freed */
	struct heapaddr_map live;      /* writer: address -> serial << 8 | class */
	struct heaplive blocks;	       /* reader: the live blocks */
	uint64_t ring[HEAPADDR_CLASSES][HEAPADDR_RING];
	uint8_t ring_pos[HEAPADDR_CLASSES];
	/* a thread's: tid (0: none yet), where its next block would start,
	 * the last address it freed (0 before any) */
	struct heapaddr_thread {
		uint32_t tid;
		uint64_t next_guess, last_freed;
	} threads[HEAPADDR_THREADS];
};

/* An empty model; a reader's also maps serials back.  0 or -ENOMEM. */
int heapaddr_init(struct heapaddr *h, int reader);
void heapaddr_free(struct heapaddr *h);

/* Back to empty (the writer's map keeps its memory). */
void heapaddr_reset(struct heapaddr *h);

/* The size class of a block of `size` bytes: 1 to HEAPADDR_CLASSES - 1. */
unsigned heapaddr_class(uint64_t size);

/* Writer: room for one more block, so that heapaddr_put_born cannot fail
 * once a record is being written.  0 or -ENOMEM. */
int heapaddr_grow(struct heapaddr *h);

static inline int heapaddr_reserve(struct heapaddr *h)
{
	/* the map stays at most half full */
	return h->live.len + 1 <= ((size_t)1 << h->live.bits) / 2 ? 0 : heapaddr_grow(h);
}

/*
 * Writer: the code of an address thread tid freed, at p (at most 2
 * varints), and the model updated as the reader will update it.  keep:
 * the block stays live (a realloc that failed).  Returns the end.
 */
uint8_t *heapaddr_put_freed(struct heapaddr *h, uint8_t *p, uint64_t addr, int keep, uint32_t tid);

/* Writer: the code of an address an allocator returned to thread tid for
 * a block of `size` bytes (heapaddr_reserve() first).  Returns the end. */
uint8_t *heapaddr_put_born(struct heapaddr *h, uint8_t *p, uint64_t addr, uint64_t size,
			   uint32_t tid);

/*
 * Reader: the address a FREED or OLD code names (literal: the varint that
 * followed HEAPADDR_FREED_LITERAL), zero_ok for OLD; the model updated.
 * Returns an enum heapaddr_error.
 */
int heapaddr_get_freed(struct heapaddr *h, uint64_t code, uint64_t literal, int zero_ok, int keep,
		       uint32_t tid, uint64_t *addr);

/* Reader: the address a BORN code names (literal after
 * HEAPADDR_BORN_LITERAL) for a block of `size` bytes; the model updated. */
int heapaddr_get_born(struct heapaddr *h, uint64_t code, uint64_t literal, uint64_t size,
		      uint32_t tid, uint64_t *addr);

/* A one-line description of an enum heapaddr_error. */
const char *heapaddr_strerror(int err);

#endif
