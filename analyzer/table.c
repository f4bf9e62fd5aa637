/*
 * table.c - the untyped table of table.h, over formats/hash.h: each value
 * is its own zero-filled allocation.
 */
#include <stdlib.h>

#include "table.h"

void table_init(struct table *t, size_t vsize)
{
	table_slots_init(&t->slots);
	t->vsize = vsize;
}

void table_free(struct table *t)
{
	void **v;

	for (size_t i = 0; table_slots_next(&t->slots, &i, NULL, &v);)
		free(*v);
	table_slots_free(&t->slots);
}

void *table_get(const struct table *t, uint64_t a, uint64_t b)
{
	void **v = table_slots_get(&t->slots, TABLE_KEY(a, b));

	return v ? *v : NULL;
}

void *table_put(struct table *t, uint64_t a, uint64_t b, int *created)
{
	int made;
	void **v = table_slots_put(&t->slots, TABLE_KEY(a, b), &made);

	if (!v)
		return NULL;
	if (made && !(*v = calloc(1, t->vsize ? t->vsize : 1))) {
		table_slots_del(&t->slots, TABLE_KEY(a, b));
		return NULL;
	}
	if (created)
		*created = made;
	return *v;
}

int table_del(struct table *t, uint64_t a, uint64_t b)
{
	void **v = table_slots_get(&t->slots, TABLE_KEY(a, b));

	if (!v)
		return 0;
	free(*v);
	return table_slots_del(&t->slots, TABLE_KEY(a, b));
}

int table_next(const struct table *t, size_t *i, uint64_t *a, uint64_t *b, void **v)
{
	struct table_key k;
	void **p;

	if (!table_slots_next(&t->slots, i, &k, &p))
		return 0;
	if (a)
		*a = k.a;
	if (b)
		*b = k.b;
	if (v)
		*v = *p;
	return 1;
}
