/*
 * trees.c - the heap's tree at each detailed snapshot massif keeps, from
 * one pass over the log (trees.h).  A capture costs what changed since the
 * capture before: a busy program takes a snapshot at nearly every event
 * (massif's minimum interval stays 0 while two snapshots share a time),
 * a detailed one every tenth, and most of them go soon after.
 *
 * The list of changes only grows, with a lot's older entries of one range
 * (between two held snapshots) made useless by its newer ones; when it has
 * doubled since it was last compacted, each range keeps the newest entry
 * of each of its lots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trees.h"

#define MIN_COMPACT 4096 /* entries before the first compaction */

void trees_init(struct trees *t, struct replay *rp, unsigned kind)
{
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->gone = rp->ngone;
	u64_map_init(&t->heads);
	u64_map_init(&t->stack_index);
	replay_track_lots(rp);
}

void trees_free(struct trees *t)
{
	free(t->v);
	free(t->ends);
	free(t->mark);
	free(t->now);
	free(t->next_lot);
	free(t->lot_stack);
	free(t->stacks);
	free(t->tree);
	u64_map_free(&t->heads);
	u64_map_free(&t->stack_index);
	memset(t, 0, sizeof(*t));
}

/* A stamp no lot has yet, with a mark for each of nlots lots. */
static int new_stamp(struct trees *t, size_t nlots)
{
	if (t->nmark < nlots) {
		uint32_t *mark = realloc(t->mark, nlots * sizeof(*mark));

		if (!mark)
			return -ENOMEM;
		memset(mark + t->nmark, 0, (nlots - t->nmark) * sizeof(*mark));
		t->mark = mark;
		t->nmark = nlots;
	}
	if (++t->stamp == 0) {
		memset(t->mark, 0, t->nmark * sizeof(*t->mark));
		t->stamp = 1;
	}
	return 0;
}

/* Each range keeps the newest entry of each of its lots (in their order:
 * a lot's entries of one range are all the same once applied but the
 * last).  The changes after the last held snapshot are a range too. */
static int compact(struct trees *t, size_t nlots)
{
	size_t start = 0, out = 0;

	for (size_t k = 0; k <= t->nends; k++) {
		size_t end = k < t->nends ? t->ends[k].end : t->n, keep;

		if (new_stamp(t, nlots) < 0)
			return -ENOMEM;
		/* from the end: the first seen of a lot is its newest */
		keep = end;
		for (size_t i = end; i-- > start;) {
			struct tree_lot e = t->v[i];

			if (t->mark[e.lot - 1] == t->stamp)
				continue;
			t->mark[e.lot - 1] = t->stamp;
			t->v[--keep] = e;
		}
		memmove(t->v + out, t->v + keep, (end - keep) * sizeof(*t->v));
		out += end - keep;
		if (k < t->nends)
			t->ends[k].end = out;
		start = end;
	}
	t->n = out;
	t->compacted = out;
	return 0;
}

static int reserve(struct trees *t, size_t more, size_t nlots)
{
	struct tree_lot *v;
	size_t cap = t->cap ? t->cap : MIN_COMPACT;

	if (t->n + more <= t->cap)
		return 0;
	/* room made by compacting first, once enough came since */
	if (t->n >= MIN_COMPACT && t->n >= 2 * t->compacted) {
		if (compact(t, nlots) < 0)
			return -ENOMEM;
		if (t->n + more <= t->cap)
			return 0;
	}
	while (cap < t->n + more)
		cap *= 2;
	if (!(v = realloc(t->v, cap * sizeof(*v))))
		return -ENOMEM;
	t->v = v;
	t->cap = cap;
	return 0;
}

/* Each lot made since the last capture joins its space's list. */
static int index_lots(struct trees *t, const struct replay *rp)
{
	if (t->nnext < rp->nlots) {
		size_t cap = t->nnext ? t->nnext : 1024;
		uint32_t *next;

		while (cap < rp->nlots)
			cap *= 2;
		if (!(next = realloc(t->next_lot, cap * sizeof(*next))))
			return -ENOMEM;
		t->next_lot = next;
		t->nnext = cap;
	}
	for (; t->indexed < rp->nlots; t->indexed++) {
		uint32_t n = t->indexed + 1;
		uint64_t *head = u64_map_put(&t->heads, rp->lots[n - 1].space, NULL);

		if (!head)
			return -ENOMEM;
		t->next_lot[n - 1] = (uint32_t)*head; /* 0 on first put: none */
		*head = n;
	}
	return 0;
}

/* Appends lot n as it is now. */
static inline __attribute__((always_inline)) void append(struct trees *t, const struct replay *rp,
							 uint32_t n)
{
	const struct lot *l = &rp->lots[n - 1];
	int in = (l->kind & t->kind) && (l->now.live || l->now.allocs);

	/* as snapshot_collect() counts it: the chosen processes' blocks, of
	 * spaces still in use (lots come in runs of one space) */
	if (in && (!t->known || l->space != t->space)) {
		t->space = l->space;
		t->known = 1;
		t->counted =
			replay_space_selected(rp, l->space) && !replay_space_exited(rp, l->space);
	}
	t->v[t->n++] = (struct tree_lot){.lot = n,
					 .in = (uint32_t)(in && t->counted),
					 .bytes = l->now.live_bytes,
					 .blocks = l->now.live};
}

int trees_capture(struct trees *t, struct replay *rp, uint64_t serial)
{
	const uint32_t *lots;
	size_t n, more;
	int ret = replay_lots_taken(rp, &lots, &n);

	if (ret < 0 || (ret = index_lots(t, rp)) < 0)
		return ret;
	if (t->nends == t->ends_cap) {
		size_t cap = t->ends_cap ? t->ends_cap * 2 : 32;
		struct tree_end *v = realloc(t->ends, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->ends = v;
		t->ends_cap = cap;
	}
	/* a space that went: its lots count no more, though none changed */
	more = n;
	for (size_t k = t->gone; k < rp->ngone; k++) {
		const uint64_t *head = u64_map_get(&t->heads, rp->gone_list[k]);

		for (uint32_t l = head ? (uint32_t)*head : 0; l; l = t->next_lot[l - 1])
			more++;
	}
	if (reserve(t, more, rp->nlots) < 0)
		return -ENOMEM;
	/* whether a space's lots count changes only when a space goes */
	if (t->known_gone != rp->ngone) {
		t->known = 0;
		t->known_gone = rp->ngone;
	}
	for (size_t i = 0; i < n; i++)
		append(t, rp, lots[i]);
	for (; t->gone < rp->ngone; t->gone++) {
		const uint64_t *head = u64_map_get(&t->heads, rp->gone_list[t->gone]);

		for (uint32_t l = head ? (uint32_t)*head : 0; l; l = t->next_lot[l - 1])
			append(t, rp, l);
	}
	t->ends[t->nends++] = (struct tree_end){serial, t->n};
	return 0;
}

void trees_cull(struct trees *t, const struct massif_model *m)
{
	const uint64_t *gone;
	size_t n = massif_culled(m, &gone), k = 0, out = t->nends, i;

	if (!n)
		return;
	/* those before the first that went stay (the newest go, mostly) */
	while (out > 0 && t->ends[out - 1].serial >= gone[0])
		out--;
	/* a range whose snapshot went is the start of the next one's (both
	 * lists in the order taken) */
	for (i = out; i < t->nends; i++) {
		while (k < n && gone[k] < t->ends[i].serial)
			k++;
		if (k < n && gone[k] == t->ends[i].serial)
			continue;
		t->ends[out++] = t->ends[i];
	}
	t->nends = out;
}

/* Numbers the stacks of the lots made since the last call, each stack
 * once. */
static int number_stacks(struct trees *t, const struct replay *rp)
{
	if (t->nlot_stack < rp->nlots) {
		uint32_t *v = realloc(t->lot_stack, rp->nlots * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->lot_stack = v;
	}
	for (; t->nlot_stack < rp->nlots; t->nlot_stack++) {
		uint64_t stack = rp->lots[t->nlot_stack].stack;
		int created;
		uint64_t *index = u64_map_put(&t->stack_index, stack, &created);

		if (!index)
			return -ENOMEM;
		if (created) {
			if (t->nstacks == t->stacks_cap) {
				size_t cap = t->stacks_cap ? t->stacks_cap * 2 : 1024;
				struct tree_slot *v = realloc(t->stacks, cap * sizeof(*v));
				struct tree_stack *w =
					v ? realloc(t->tree, cap * sizeof(*w)) : NULL;

				if (v)
					t->stacks = v;
				if (!w)
					return -ENOMEM;
				t->tree = w;
				t->stacks_cap = cap;
			}
			t->stacks[t->nstacks] = (struct tree_slot){.stack = stack};
			*index = t->nstacks++;
		}
		t->lot_stack[t->nlot_stack] = (uint32_t)*index;
	}
	return 0;
}

int trees_tree(struct trees *t, const struct replay *rp, uint64_t serial,
	       const struct tree_stack **out, size_t *n)
{
	size_t k = 0, len = 0;
	uint32_t i;

	if (t->nnow < rp->nlots) {
		struct tree_lot *now = realloc(t->now, rp->nlots * sizeof(*now));

		if (!now)
			return -ENOMEM;
		memset(now + t->nnow, 0, (rp->nlots - t->nnow) * sizeof(*now));
		t->now = now;
		t->nnow = rp->nlots;
	}
	if (number_stacks(t, rp) < 0)
		return -ENOMEM;
	while (k < t->nends && t->ends[k].serial < serial)
		k++;
	if (k == t->nends || t->ends[k].serial != serial)
		return -EINVAL; /* not taken: cannot be */
	for (; t->applied < t->ends[k].end; t->applied++)
		t->now[t->v[t->applied].lot - 1] = t->v[t->applied];
	/* each stack of a lot in the tree, summed, in the place of its
	 * first such lot */
	if (++t->tree_stamp == 0) {
		for (size_t j = 0; j < t->nstacks; j++)
			t->stacks[j].stamp = 0;
		t->tree_stamp = 1;
	}
	for (i = 0; i < rp->nlots; i++) {
		const struct tree_lot *e = &t->now[i];
		struct tree_slot *slot = &t->stacks[t->lot_stack[i]];

		if (!e->in)
			continue;
		if (slot->stamp != t->tree_stamp) {
			slot->stamp = t->tree_stamp;
			slot->place = (uint32_t)len;
			t->tree[len++] =
				(struct tree_stack){.stack = slot->stack, .index = t->lot_stack[i]};
		}
		t->tree[slot->place].bytes += e->bytes;
		t->tree[slot->place].blocks += e->blocks;
	}
	*out = t->tree;
	*n = len;
	return 0;
}
