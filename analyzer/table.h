/*
 * table.h - the analyzer's keys for formats/hash.h: a pair of 64-bit
 * numbers ((space, address), (stack, kind), ...) or one (pid, block id,
 * ...).  Each header declares the typed tables its structs hold next to
 * their value types.
 *
 * struct table is the untyped form, for values whose type a caller keeps to
 * itself: (a, b) -> vsize zero-filled bytes, each value its own allocation.
 * Value pointers are borrowed and stay valid until that key's table_del()
 * or table_free().
 */
#ifndef MEMTRACK_ANALYZER_TABLE_H
#define MEMTRACK_ANALYZER_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "../formats/hash.h"

struct table_key {
	uint64_t a, b;
};

#define TABLE_KEY(x, y) ((struct table_key){(x), (y)})

static inline uint64_t table_hash_pair(struct table_key k)
{
	return hash_mix64(k.a ^ (k.b * 0x9e3779b97f4a7c15ull));
}

static inline int table_eq_pair(struct table_key x, struct table_key y)
{
	return x.a == y.a && x.b == y.b;
}

/* The hash of (k, 0): a table keyed by one number lays out as one keyed by
 * pairs with b = 0. */
#define table_hash_u64(k) hash_mix64(k)
#define table_eq_u64(x, y) ((x) == (y))

HASH_DEFINE(table_slots, struct table_key, void *, table_hash_pair, table_eq_pair)

/* id -> id (a count, a block, an index + 1). */
HASH_DEFINE(u64_map, uint64_t, uint64_t, table_hash_u64, table_eq_u64)

struct table {
	struct table_slots slots;
	size_t vsize;		/* bytes per value */
};

void table_init(struct table *t, size_t vsize);
void table_free(struct table *t);

/* The value for (a, b), or NULL. */
void *table_get(const struct table *t, uint64_t a, uint64_t b);

/* The value for (a, b), inserted zero-filled when missing (*created = 1).
 * NULL when memory ran out. */
void *table_put(struct table *t, uint64_t a, uint64_t b, int *created);

/* Removes (a, b); 1 if it was there, 0 if not. */
int table_del(struct table *t, uint64_t a, uint64_t b);

/* Iteration: for (i = 0; table_next(t, &i, &a, &b, &v);) ...  No put or del
 * while iterating. */
int table_next(const struct table *t, size_t *i, uint64_t *a, uint64_t *b, void **v);

#endif
