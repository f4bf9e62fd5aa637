/*
 * regions.h - the memory a process mapped itself (mmap family and brk
 * outside allocator calls), as live intervals per address space.
 *
 * Every mmap call, and every brk call that grew the program break, makes one
 * block: its size is the bytes of it still mapped, and it dies when that
 * reaches 0.  A block may be split into several intervals by a partial
 * munmap; mremap carries its intervals (and so its stack) to the new place.
 */
#ifndef MEMTRACK_ANALYZER_REGIONS_H
#define MEMTRACK_ANALYZER_REGIONS_H

#include <stddef.h>
#include <stdint.h>

#include "table.h"

/* Live block: what a snapshot reports. */
struct region_block {
	uint64_t stack;
	uint64_t live;		/* bytes still mapped */
	uint32_t space;
	uint16_t file;		/* 1: a file mapping, 0: anonymous (or the break) */
	uint32_t lot;		/* the owner's: 0 until regions.moved sets it */
};

/* Bytes mapped in one address space (value of regions.spaces). */
struct region_space {
	uint64_t anon;
	uint64_t file;
};

HASH_DEFINE(region_blocks, uint64_t, struct region_block, table_hash_u64, table_eq_u64)
HASH_DEFINE(region_spaces, uint64_t, struct region_space, table_hash_u64, table_eq_u64)

struct region {
	uint32_t space;
	uint64_t start, end;	/* [start, end) */
	uint64_t block;
};

struct regions {
	struct region *v;	/* sorted by (space, start), never overlapping */
	size_t n, cap;
	struct region_blocks blocks;	/* block id -> struct region_block */
	struct u64_map brk;		/* space -> the program break, once seen */
	struct region_spaces spaces;	/* space -> struct region_space */
	uint64_t next_block;
	uint64_t live;		/* bytes mapped, all spaces */
	uint64_t file_live;	/* of which file mappings */
	/* Called whenever a block's live bytes change by `bytes`, with
	 * `blocks` +1 when it had none before, -1 when it has none left, else
	 * 0.  NULL: nobody listens. */
	void (*moved)(void *arg, struct region_block *b, int64_t bytes, int blocks);
	void *arg;
};

void regions_init(struct regions *r);
void regions_free(struct regions *r);

/* A new mapping [start, start + len) made by a call with this stack, of a
 * file (file != 0) or anonymous.  What it overlaps is unmapped first
 * (MAP_FIXED over an existing mapping).  Returns 0 or -ENOMEM. */
int regions_map(struct regions *r, uint32_t space, uint64_t start, uint64_t len,
		uint64_t stack, int file);

/* Unmaps [start, start + len) from whatever covers it. */
int regions_unmap(struct regions *r, uint32_t space, uint64_t start, uint64_t len);

/* mremap: [old, old + old_len) becomes [addr, addr + len), still attributed
 * to the block that mapped old (or to a new block with this stack when memtrack
 * never saw old mapped).  keep_old: MREMAP_DONTUNMAP. */
int regions_remap(struct regions *r, uint32_t space, uint64_t old, uint64_t old_len,
		  uint64_t addr, uint64_t len, int keep_old, uint64_t stack);

/* The program break is now `brk`.  Growth by the program (own != 0) is a
 * new block with this stack; shrinking unmaps from the top.  Growth by an
 * allocator (own == 0) only moves the break. */
int regions_brk(struct regions *r, uint32_t space, uint64_t brk, int own, uint64_t stack);

/* Number of live blocks. */
size_t regions_blocks(const struct regions *r);

/* Bytes mapped in one space now (zeros for a space never seen). */
struct region_space regions_space(const struct regions *r, uint32_t space);

/* fork: space `to` (empty) starts with a copy of every mapping of `from`,
 * each block copied with its stack, and of its program break. */
int regions_copy_space(struct regions *r, uint32_t from, uint32_t to);

/* exec: everything mapped in `space` is gone. */
void regions_drop_space(struct regions *r, uint32_t space);

#endif
