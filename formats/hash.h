/*
 * hash.h - memtrack's one hash table, typed by a macro.
 *
 *   HASH_DEFINE(name, K, V, hash, eq)
 *
 * defines struct name (a table of K -> V) and static inline functions
 * name_init, name_free, name_copy, name_clear, name_get, name_put, name_del
 * and name_next.  hash(K) returns a uint64_t whose low bits spread well (the
 * table masks it); eq(K, K) is nonzero when two keys are the same.
 *
 * Open addressing with linear probing over a power-of-two number of slots,
 * at most half full so probes stay short.  Deletion shifts the rest of the
 * probe run back instead of leaving tombstones, so a table that sees
 * millions of insert/delete pairs stays as small as its live set.  The
 * layout depends only on the hash and the order of puts and dels, so
 * iterating a table is as reproducible as the program that filled it.
 *
 * Not for the tables the recorder shares with the tracer (tracer/recorder/):
 * those live in shared memory, with no malloc.
 *
 * A zero-filled struct name is an empty table, as name_init() makes one.
 *
 * Ownership: the table owns its slots; name_free() releases them.  Value
 * pointers are borrowed, valid until the next put or del on that table.
 */
#ifndef MEMTRACK_FORMATS_HASH_H
#define MEMTRACK_FORMATS_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HASH_MIN_SLOTS 64

/* splitmix64's finalizer: addresses that differ only in a few middle bits
 * still spread over the low ones. */
static inline uint64_t hash_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

#define HASH_DEFINE(name, K, V, hash_fn, eq_fn)                                            \
	struct name {                                                                      \
		size_t cap; /* slots, a power of two (0 before the first put) */           \
		size_t len; /* used slots */                                               \
		unsigned char *used;                                                       \
		K *keys;                                                                   \
		V *vals;                                                                   \
	};                                                                                 \
                                                                                           \
	static inline __attribute__((unused)) void name##_init(struct name *t)             \
	{                                                                                  \
		*t = (struct name){0};                                                     \
	}                                                                                  \
                                                                                           \
	static inline __attribute__((unused)) void name##_free(struct name *t)             \
	{                                                                                  \
		free(t->used);                                                             \
		free(t->keys);                                                             \
		free(t->vals);                                                             \
		name##_init(t);                                                            \
	}                                                                                  \
                                                                                           \
	/* to = a copy of from (to's old contents are not freed); 0 or -1. */              \
	static inline __attribute__((unused)) int name##_copy(struct name *to,             \
							      const struct name *from)     \
	{                                                                                  \
		name##_init(to);                                                           \
		if (!from->cap)                                                            \
			return 0;                                                          \
		to->used = malloc(from->cap);                                              \
		to->keys = malloc(from->cap * sizeof(*to->keys));                          \
		to->vals = malloc(from->cap * sizeof(*to->vals));                          \
		if (!to->used || !to->keys || !to->vals) {                                 \
			name##_free(to);                                                   \
			return -1;                                                         \
		}                                                                          \
		memcpy(to->used, from->used, from->cap);                                   \
		memcpy(to->keys, from->keys, from->cap * sizeof(*to->keys));               \
		memcpy(to->vals, from->vals, from->cap * sizeof(*to->vals));               \
		to->cap = from->cap;                                                       \
		to->len = from->len;                                                       \
		return 0;                                                                  \
	}                                                                                  \
                                                                                           \
	/* Empties t, keeping its slots. */                                                \
	static inline __attribute__((unused)) void name##_clear(struct name *t)            \
	{                                                                                  \
		if (t->cap)                                                                \
			memset(t->used, 0, t->cap);                                        \
		t->len = 0;                                                                \
	}                                                                                  \
                                                                                           \
	/* The slot holding key, or the empty one where it would go. */                    \
	static inline size_t name##_find_(const struct name *t, K key)                     \
	{                                                                                  \
		size_t mask_ = t->cap - 1, i_ = (size_t)(hash_fn(key)) & mask_;            \
                                                                                           \
		while (t->used[i_] && !(eq_fn(t->keys[i_], key)))                          \
			i_ = (i_ + 1) & mask_;                                             \
		return i_;                                                                 \
	}                                                                                  \
                                                                                           \
	/* The value for key, or NULL. */                                                  \
	static inline __attribute__((unused)) V *name##_get(const struct name *t, K key)   \
	{                                                                                  \
		size_t i_;                                                                 \
                                                                                           \
		if (!t->vals) /* nothing was put */                                        \
			return NULL;                                                       \
		i_ = name##_find_(t, key);                                                 \
		return t->used[i_] ? &t->vals[i_] : NULL;                                  \
	}                                                                                  \
                                                                                           \
	static inline int name##_grow_(struct name *t)                                     \
	{                                                                                  \
		struct name n_ = {.cap = t->cap ? t->cap * 2 : HASH_MIN_SLOTS};            \
                                                                                           \
		n_.used = calloc(n_.cap, 1);                                               \
		n_.keys = calloc(n_.cap, sizeof(*n_.keys));                                \
		n_.vals = calloc(n_.cap, sizeof(*n_.vals));                                \
		if (!n_.used || !n_.keys || !n_.vals) {                                    \
			name##_free(&n_);                                                  \
			return -1;                                                         \
		}                                                                          \
		for (size_t i_ = 0; i_ < t->cap; i_++) {                                   \
			size_t j_;                                                         \
                                                                                           \
			if (!t->used[i_])                                                  \
				continue;                                                  \
			j_ = name##_find_(&n_, t->keys[i_]);                               \
			n_.used[j_] = 1;                                                   \
			n_.keys[j_] = t->keys[i_];                                         \
			n_.vals[j_] = t->vals[i_];                                         \
		}                                                                          \
		n_.len = t->len;                                                           \
		name##_free(t);                                                            \
		*t = n_;                                                                   \
		return 0;                                                                  \
	}                                                                                  \
                                                                                           \
	/* The value for key, inserted zero-filled when missing (*created = 1,             \
	 * created may be NULL).  NULL when memory ran out. */                             \
	static inline __attribute__((unused)) V *name##_put(struct name *t, K key,         \
							    int *created)                  \
	{                                                                                  \
		size_t i_;                                                                 \
                                                                                           \
		if (t->len >= t->cap / 2 && name##_grow_(t) < 0)                           \
			return NULL;                                                       \
		i_ = name##_find_(t, key);                                                 \
		if (created)                                                               \
			*created = !t->used[i_];                                           \
		if (!t->used[i_]) {                                                        \
			memset(&t->vals[i_], 0, sizeof(t->vals[i_]));                      \
			t->keys[i_] = key;                                                 \
			t->used[i_] = 1;                                                   \
			t->len++;                                                          \
		}                                                                          \
		return &t->vals[i_];                                                       \
	}                                                                                  \
                                                                                           \
	/* Removes key; 1 if it was there, 0 if not. */                                    \
	static inline __attribute__((unused)) int name##_del(struct name *t, K key)        \
	{                                                                                  \
		size_t mask_ = t->cap - 1, i_, j_;                                         \
                                                                                           \
		if (!t->vals) /* nothing was put */                                        \
			return 0;                                                          \
		i_ = name##_find_(t, key);                                                 \
		if (!t->used[i_])                                                          \
			return 0;                                                          \
		/* Pull later members of the probe run into the hole when their home       \
		 * slot does not lie cyclically in (hole, j]. */                           \
		for (j_ = (i_ + 1) & mask_; t->used[j_]; j_ = (j_ + 1) & mask_) {          \
			size_t home_ = (size_t)(hash_fn(t->keys[j_])) & mask_;             \
                                                                                           \
			if (((j_ - home_) & mask_) >= ((j_ - i_) & mask_)) {               \
				t->keys[i_] = t->keys[j_];                                 \
				t->vals[i_] = t->vals[j_];                                 \
				i_ = j_;                                                   \
			}                                                                  \
		}                                                                          \
		t->used[i_] = 0;                                                           \
		t->len--;                                                                  \
		return 1;                                                                  \
	}                                                                                  \
                                                                                           \
	/* Iteration: for (size_t i = 0; name_next(t, &i, &key, &val);) ...  key and       \
	 * val may be NULL.  No put or del while iterating. */                             \
	static inline __attribute__((unused)) int name##_next(const struct name *t,        \
							      size_t *i, K *key, V **val)  \
	{                                                                                  \
		for (; *i < t->cap; (*i)++) {                                              \
			if (!t->used[*i])                                                  \
				continue;                                                  \
			if (key)                                                           \
				*key = t->keys[*i];                                        \
			if (val)                                                           \
				*val = &t->vals[*i];                                       \
			(*i)++;                                                            \
			return 1;                                                          \
		}                                                                          \
		return 0;                                                                  \
	}

#endif
