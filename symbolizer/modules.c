/*
 * symbolizer/modules.c - the module map: which module holds a pc in an
 * address space.
 *
 * Modules only accumulate: a log records mappings as they appear, and an
 * address space's history may hold modules that overlap (a library unmapped
 * and another mapped over it).  The latest added wins, as it is the one
 * that was mapped when later stacks were taken.
 *
 * Lookups use an index sorted by (space, start) with, for each entry, the
 * furthest end reached by it and the entries before it in the same space:
 * scanning back from the last start <= pc can stop as soon as nothing
 * earlier reaches pc.  The index is rebuilt on the first lookup after an
 * add, as modules arrive in bulk before pcs are resolved.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct span {
	uint32_t space;
	uint64_t start, end;
	uint64_t reach; /* max end of this and earlier spans of its space */
	size_t idx;	/* into modmap.mods: higher is added later */
};

int modmap_add(struct modmap *map, const struct mt_module *m, struct image *img)
{
	if (map->n == map->cap) {
		size_t cap = map->cap ? map->cap * 2 : 64;
		struct module *mods = realloc(map->mods, cap * sizeof(*mods));

		if (!mods)
			return -ENOMEM;
		map->mods = mods;
		map->cap = cap;
	}

	struct module *mod = &map->mods[map->n++];

	mod->m = *m;
	mod->m.path = img->path;
	mod->img = img;
	map->dirty = 1;
	return 0;
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->space != y->space)
		return x->space < y->space ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int rebuild(struct modmap *map)
{
	struct span *spans = realloc(map->spans, (map->n ? map->n : 1) * sizeof(*spans));

	if (!spans)
		return -ENOMEM;
	map->spans = spans;
	for (size_t i = 0; i < map->n; i++) {
		spans[i].space = map->mods[i].m.space;
		spans[i].start = map->mods[i].m.start;
		spans[i].end = map->mods[i].m.end;
		spans[i].idx = i;
	}
	qsort(spans, map->n, sizeof(*spans), span_cmp);
	for (size_t i = 0; i < map->n; i++) {
		spans[i].reach = spans[i].end;
		if (i > 0 && spans[i - 1].space == spans[i].space &&
		    spans[i - 1].reach > spans[i].reach)
			spans[i].reach = spans[i - 1].reach;
	}
	map->dirty = 0;
	return 0;
}

const struct module *modmap_find(struct modmap *map, uint32_t space, uint64_t pc, int *err)
{
	if (map->dirty && (*err = rebuild(map)) < 0)
		return NULL;

	/* hi = the number of spans with (space, start) <= (space, pc) */
	size_t lo = 0, hi = map->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct span *s = &map->spans[mid];

		if (s->space < space || (s->space == space && s->start <= pc))
			lo = mid + 1;
		else
			hi = mid;
	}

	const struct span *best = NULL;

	for (size_t i = hi; i-- > 0;) {
		const struct span *s = &map->spans[i];

		if (s->space != space || s->reach <= pc)
			break;
		if (pc < s->end && (!best || s->idx > best->idx))
			best = s;
	}
	return best ? &map->mods[best->idx] : NULL;
}

const struct module *modmap_by_id(const struct modmap *map, uint32_t id)
{
	for (size_t i = map->n; i-- > 0;) {
		if (map->mods[i].m.id == id)
			return &map->mods[i];
	}
	return NULL;
}

void modmap_free(struct modmap *map)
{
	free(map->mods);
	free(map->spans);
	memset(map, 0, sizeof(*map));
}
