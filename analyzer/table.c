/*
 * table.c - open-addressing hash table keyed by two 64-bit numbers (see
 * table.h).  Load factor at most 1/2, so probes stay short.
 */
#include <stdlib.h>
#include <string.h>

#include "table.h"

static uint64_t mix(uint64_t a, uint64_t b)
{
	/* splitmix64's finalizer over both halves: heap addresses differ only in
	 * a few middle bits, and the low bits must still spread. */
	uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ull);

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

void table_init(struct table *t, size_t vsize)
{
	memset(t, 0, sizeof(*t));
	t->vsize = vsize;
}

void table_free(struct table *t)
{
	free(t->keys);
	free(t->used);
	free(t->vals);
	table_init(t, t->vsize);
}

static size_t find(const struct table *t, uint64_t a, uint64_t b, int *found)
{
	size_t mask = t->cap - 1, i = mix(a, b) & mask;

	while (t->used[i]) {
		if (t->keys[2 * i] == a && t->keys[2 * i + 1] == b) {
			*found = 1;
			return i;
		}
		i = (i + 1) & mask;
	}
	*found = 0;
	return i;
}

void *table_get(const struct table *t, uint64_t a, uint64_t b)
{
	int found;
	size_t i;

	if (!t->len)
		return NULL;
	i = find(t, a, b, &found);
	return found ? t->vals + i * t->vsize : NULL;
}

static int grow(struct table *t)
{
	struct table n;
	size_t i;

	table_init(&n, t->vsize);
	n.cap = t->cap ? t->cap * 2 : 64;
	n.keys = malloc(n.cap * 2 * sizeof(*n.keys));
	n.used = calloc(n.cap, 1);
	n.vals = malloc(n.cap * n.vsize);
	if (!n.keys || !n.used || !n.vals) {
		table_free(&n);
		return -1;
	}
	for (i = 0; i < t->cap; i++) {
		size_t j;
		int found;

		if (!t->used[i])
			continue;
		j = find(&n, t->keys[2 * i], t->keys[2 * i + 1], &found);
		n.used[j] = 1;
		n.keys[2 * j] = t->keys[2 * i];
		n.keys[2 * j + 1] = t->keys[2 * i + 1];
		memcpy(n.vals + j * n.vsize, t->vals + i * t->vsize, t->vsize);
	}
	n.len = t->len;
	table_free(t);
	*t = n;
	return 0;
}

void *table_put(struct table *t, uint64_t a, uint64_t b, int *created)
{
	int found;
	size_t i;

	if ((t->len + 1) * 2 > t->cap && grow(t) < 0)
		return NULL;
	i = find(t, a, b, &found);
	if (!found) {
		t->used[i] = 1;
		t->keys[2 * i] = a;
		t->keys[2 * i + 1] = b;
		memset(t->vals + i * t->vsize, 0, t->vsize);
		t->len++;
	}
	if (created)
		*created = !found;
	return t->vals + i * t->vsize;
}

int table_del(struct table *t, uint64_t a, uint64_t b)
{
	size_t mask = t->cap - 1, i, j;
	int found;

	if (!t->len)
		return 0;
	i = find(t, a, b, &found);
	if (!found)
		return 0;
	/* Backward shift: pull later members of the probe run into the hole
	 * when their home slot does not lie cyclically in (hole, j]. */
	for (j = (i + 1) & mask; t->used[j]; j = (j + 1) & mask) {
		size_t home = mix(t->keys[2 * j], t->keys[2 * j + 1]) & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->keys[2 * i] = t->keys[2 * j];
			t->keys[2 * i + 1] = t->keys[2 * j + 1];
			memcpy(t->vals + i * t->vsize, t->vals + j * t->vsize, t->vsize);
			i = j;
		}
	}
	t->used[i] = 0;
	t->len--;
	return 1;
}

int table_next(const struct table *t, size_t *i, uint64_t *a, uint64_t *b, void **v)
{
	for (; *i < t->cap; (*i)++) {
		if (t->used[*i]) {
			if (a)
				*a = t->keys[2 * *i];
			if (b)
				*b = t->keys[2 * *i + 1];
			if (v)
				*v = t->vals + *i * t->vsize;
			(*i)++;
			return 1;
		}
	}
	return 0;
}
