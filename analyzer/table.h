/*
 * table.h - an open-addressing hash table keyed by a pair of 64-bit
 * numbers ((space, address), (stack, 0), ...) holding fixed-size values.
 * Linear probing with backward-shift deletion: no tombstones, so a table
 * that sees millions of insert/delete pairs stays as small as its live set.
 *
 * Value pointers are borrowed and stay valid until the next table_put() or
 * table_del() on the same table.
 */
#ifndef MEMTRACK_ANALYZER_TABLE_H
#define MEMTRACK_ANALYZER_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct table {
	size_t cap;		/* slots, a power of two (0 before the first put) */
	size_t len;		/* used slots */
	size_t vsize;		/* bytes per value */
	uint64_t *keys;		/* 2 per slot */
	unsigned char *used;
	unsigned char *vals;
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
