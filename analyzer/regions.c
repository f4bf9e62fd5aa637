/*
 * regions.c - live mapped intervals per address space (see regions.h).
 *
 * A sorted array: a process holds thousands of mappings, not millions, and a
 * memmove of a few thousand entries costs less than a tree's pointer chase.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "regions.h"

void regions_init(struct regions *r)
{
	memset(r, 0, sizeof(*r));
	region_blocks_init(&r->blocks);
	u64_map_init(&r->brk);
	region_spaces_init(&r->spaces);
}

void regions_free(struct regions *r)
{
	free(r->v);
	region_blocks_free(&r->blocks);
	u64_map_free(&r->brk);
	region_spaces_free(&r->spaces);
	regions_init(r);
}

size_t regions_blocks(const struct regions *r)
{
	return r->blocks.len;
}

/* First interval of `space` that ends after addr (n if none). */
static size_t lower(const struct regions *r, uint32_t space, uint64_t addr)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct region *g = &r->v[mid];

		if (g->space < space || (g->space == space && g->end <= addr))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int in_space(const struct regions *r, size_t i, uint32_t space)
{
	return i < r->n && r->v[i].space == space;
}

struct region_space regions_space(const struct regions *r, uint32_t space)
{
	const struct region_space *s = region_spaces_get(&r->spaces, space);
	struct region_space none = {0, 0};

	return s ? *s : none;
}

/* Adds bytes to a block (add), or takes them away, with the byte counts of
 * its space and kind; the space's entry exists once the block has any
 * byte.  The listener hears of it. */
static void account(struct regions *r, struct region_block *b, uint64_t bytes, int add)
{
	struct region_space *s = region_spaces_get(&r->spaces, b->space);
	uint64_t *kind = s ? (b->file ? &s->file : &s->anon) : NULL;
	uint64_t before = b->live;

	if (add) {
		b->live += bytes;
		r->live += bytes;
		r->file_live += b->file ? bytes : 0;
		if (kind)
			*kind += bytes;
	} else {
		b->live -= bytes;
		r->live -= bytes;
		r->file_live -= b->file ? bytes : 0;
		if (kind)
			*kind -= bytes;
	}
	if (r->moved && bytes)
		r->moved(r->arg, b, add ? (int64_t)bytes : -(int64_t)bytes,
			 !before && b->live ? 1 : before && !b->live ? -1 : 0);
}

/* Takes bytes away from a block; it dies at 0 unless it is `keep`. */
static void shrink_block(struct regions *r, uint64_t id, uint64_t bytes, uint64_t keep)
{
	struct region_block *b = region_blocks_get(&r->blocks, id);

	if (!b) {
		r->live -= bytes;
		return;
	}
	account(r, b, bytes, 0);
	if (!b->live && id != keep)
		region_blocks_del(&r->blocks, id);
}

static int insert_at(struct regions *r, size_t i, const struct region *g)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct region *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof(*r->v));
	r->v[i] = *g;
	r->n++;
	return 0;
}

/* Removes intervals [i, j).  Nothing to move is no call: with no interval
 * ever added, r->v is NULL, and memmove must not be handed it even for 0
 * bytes. */
static void close_gap(struct regions *r, size_t i, size_t j)
{
	if (j == i)
		return;
	memmove(&r->v[i], &r->v[j], (r->n - j) * sizeof(*r->v));
	r->n -= j - i;
}

/* Unmaps [s, e) of `space`; block `keep` survives reaching 0 bytes. */
static int remove_range(struct regions *r, uint32_t space, uint64_t s, uint64_t e, uint64_t keep)
{
	size_t i = lower(r, space, s), j;

	if (s >= e)
		return 0;
	/* An interval sticking out on the left keeps its head... */
	if (in_space(r, i, space) && r->v[i].start < s) {
		struct region *g = &r->v[i];

		if (g->end > e) {
			/* ...and its tail too when the hole is inside it. */
			struct region tail = *g;

			tail.start = e;
			g->end = s;
			shrink_block(r, g->block, e - s, keep);
			return insert_at(r, i + 1, &tail);
		}
		shrink_block(r, g->block, g->end - s, keep);
		g->end = s;
		i++;
	}
	/* Intervals wholly inside go. */
	for (j = i; in_space(r, j, space) && r->v[j].end <= e; j++)
		shrink_block(r, r->v[j].block, r->v[j].end - r->v[j].start, keep);
	close_gap(r, i, j);
	/* One sticking out on the right keeps its tail. */
	if (in_space(r, i, space) && r->v[i].start < e) {
		shrink_block(r, r->v[i].block, e - r->v[i].start, keep);
		r->v[i].start = e;
	}
	return 0;
}

/* Adds [s, e) to block id, the range being free of intervals. */
static int add_range(struct regions *r, uint32_t space, uint64_t s, uint64_t e, uint64_t id)
{
	struct region g = {space, s, e, id};
	struct region_block *b;

	if (insert_at(r, lower(r, space, s), &g) < 0)
		return -ENOMEM;
	b = region_blocks_get(&r->blocks, id);
	account(r, b, e - s, 1);
	return 0;
}

static uint64_t new_block(struct regions *r, uint32_t space, uint64_t stack, int file)
{
	uint64_t id = ++r->next_block;
	struct region_block *b;

	if (!region_spaces_put(&r->spaces, space, NULL))
		return 0;
	b = region_blocks_put(&r->blocks, id, NULL);
	if (!b)
		return 0;
	b->stack = stack;
	b->space = space;
	b->file = file != 0;
	return id;
}

/* End of [start, start + len), clamped so a bogus length cannot wrap. */
static uint64_t range_end(uint64_t start, uint64_t len)
{
	return len > UINT64_MAX - start ? UINT64_MAX : start + len;
}

int regions_map(struct regions *r, uint32_t space, uint64_t start, uint64_t len, uint64_t stack,
		int file)
{
	uint64_t end = range_end(start, len), id;

	if (start >= end)
		return 0;
	if (remove_range(r, space, start, end, 0) < 0)
		return -ENOMEM;
	id = new_block(r, space, stack, file);
	if (!id)
		return -ENOMEM;
	return add_range(r, space, start, end, id);
}

int regions_unmap(struct regions *r, uint32_t space, uint64_t start, uint64_t len)
{
	return remove_range(r, space, start, range_end(start, len), 0);
}

int regions_remap(struct regions *r, uint32_t space, uint64_t old, uint64_t old_len, uint64_t addr,
		  uint64_t len, int keep_old, uint64_t stack)
{
	uint64_t old_end = range_end(old, old_len), end = range_end(addr, len), id = 0;
	size_t i = lower(r, space, old);
	struct region_block *b;
	int ret = 0;

	/* The block that mapped the old range carries over to the new one. */
	if (in_space(r, i, space) && r->v[i].start < old_end)
		id = r->v[i].block;
	if (!keep_old && remove_range(r, space, old, old_end, id) < 0)
		return -ENOMEM;
	if (!id) {
		id = new_block(r, space, stack, 0);
		if (!id)
			return -ENOMEM;
	}
	if (remove_range(r, space, addr, end, id) < 0)
		return -ENOMEM;
	if (addr < end)
		ret = add_range(r, space, addr, end, id);
	b = region_blocks_get(&r->blocks, id);
	if (b && !b->live)
		region_blocks_del(&r->blocks, id);
	return ret;
}

int regions_brk(struct regions *r, uint32_t space, uint64_t brk, int own, uint64_t stack)
{
	int created;
	uint64_t *st = u64_map_put(&r->brk, space, &created);
	uint64_t cur;

	if (!st)
		return -ENOMEM;
	cur = *st;
	*st = brk;
	/* The first break seen is the start: nothing is known below it. */
	if (created)
		return 0;
	if (brk > cur && own)
		return regions_map(r, space, cur, brk - cur, stack, 0);
	if (brk < cur)
		return remove_range(r, space, brk, cur, 0);
	return 0;
}

int regions_copy_space(struct regions *r, uint32_t from, uint32_t to)
{
	size_t i = lower(r, from, 0), n = 0;
	struct region *copy = NULL;
	struct u64_map ids = {0}; /* parent's block -> child's block */
	const uint64_t *pb;
	int ret = 0;

	if (from == to)
		return 0;
	/* the parent's intervals first: inserting moves them */
	for (size_t j = i; in_space(r, j, from); j++)
		n++;
	if (n && !(copy = malloc(n * sizeof(*copy))))
		return -ENOMEM;
	if (n)
		memcpy(copy, &r->v[i], n * sizeof(*copy));
	for (size_t j = 0; j < n && ret == 0; j++) {
		int created;
		uint64_t *child = u64_map_put(&ids, copy[j].block, &created);
		const struct region_block *pbk;

		if (!child) {
			ret = -ENOMEM;
			break;
		}
		if (created) {
			pbk = region_blocks_get(&r->blocks, copy[j].block);
			*child = new_block(r, to, pbk ? pbk->stack : 0, pbk ? (int)pbk->file : 0);
			if (!*child) {
				ret = -ENOMEM;
				break;
			}
		}
		ret = add_range(r, to, copy[j].start, copy[j].end, *child);
	}
	pb = ret == 0 ? u64_map_get(&r->brk, from) : NULL;
	if (pb) {
		uint64_t brk = *pb;
		uint64_t *cb = u64_map_put(&r->brk, to, NULL);

		if (!cb)
			ret = -ENOMEM;
		else
			*cb = brk;
	}
	free(copy);
	u64_map_free(&ids);
	return ret;
}

void regions_drop_space(struct regions *r, uint32_t space)
{
	size_t i = lower(r, space, 0), j;

	for (j = i; in_space(r, j, space); j++)
		shrink_block(r, r->v[j].block, r->v[j].end - r->v[j].start, 0);
	close_gap(r, i, j);
	u64_map_del(&r->brk, space);
	region_spaces_del(&r->spaces, space);
}
