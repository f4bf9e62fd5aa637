/*
 * trees.h - the heap's tree at each detailed snapshot massif keeps, from
 * one pass over the log.  Which snapshots massif keeps is known only at the
 * end (half of those held go each time 100 are), so each detailed one
 * taken is kept as what changed since the one before: the lots (replay.h)
 * that changed, with their counts then, appended to one list.  A snapshot
 * that goes leaves its changes where they are: they become the first of
 * the next one's.  At the end the list is applied in order, and each kept
 * tree is the state where its changes end.
 */
#ifndef MEMTRACK_ANALYZER_TREES_H
#define MEMTRACK_ANALYZER_TREES_H

#include <stddef.h>
#include <stdint.h>

#include "massif.h"
#include "replay.h"
#include "table.h"

struct tree_lot {
	uint32_t lot;	 /* its number n */
	uint32_t in;	 /* in the tree (live blocks, or ever allocated) */
	uint64_t bytes;	 /* live bytes */
	uint64_t blocks; /* live blocks */
};

/* A stack's part of a tree; index: the stack's number among the trees'
 * stacks (in the order their first lot was made), for the caller to keep
 * what it knows of each stack in an array. */
struct tree_stack {
	uint64_t stack;
	uint64_t bytes, blocks;
	uint32_t index;
};

/* A detailed snapshot held: its changes end at `end` in trees.v. */
struct tree_end {
	uint64_t serial;
	size_t end;
};

struct trees {
	unsigned kind;	    /* AN_KIND_*: the lots that count */
	struct tree_lot *v; /* the changes, in the order made */
	size_t n, cap;
	size_t compacted;      /* n after the last compaction */
	struct tree_end *ends; /* of the detailed snapshots held, in order */
	size_t nends, ends_cap;
	size_t gone; /* of replay.gone_list, taken */
	/* each space's lots, a list through next_lot (lot n's next at
	 * n - 1; 0 ends it) from heads (space -> its last lot) */
	uint32_t *next_lot;
	size_t nnext;
	uint32_t indexed; /* lots in the lists */
	struct u64_map heads;
	uint32_t space; /* the space asked of last: whether its lots count */
	int known, counted;
	size_t known_gone; /* replay.ngone then */
	uint32_t *mark;	   /* per lot: the stamp of the last range that saw it */
	size_t nmark;
	uint32_t stamp;
	struct tree_lot *now; /* trees_tree(): the counts so far, per lot */
	size_t nnow;
	size_t applied; /* trees_tree(): changes applied so far */
	/* trees_tree(): each lot's stack's number; by number, the stack and
	 * its place in the tree being made (while its stamp is the tree's);
	 * the tree */
	uint32_t *lot_stack;
	size_t nlot_stack;
	struct tree_slot {
		uint64_t stack;
		uint32_t place, stamp;
	} * stacks;
	struct tree_stack *tree;
	size_t nstacks, stacks_cap;
	uint32_t tree_stamp;
	struct u64_map stack_index;
};

/* rp: the replay the trees follow (it notes the lots that change from
 * now on). */
void trees_init(struct trees *t, struct replay *rp, unsigned kind);
void trees_free(struct trees *t);

/* The detailed snapshot just taken (serial): what changed since the one
 * before.  0 or -ENOMEM. */
int trees_capture(struct trees *t, struct replay *rp, uint64_t serial);

/* Snapshots went (m holds the rest): those gone are forgotten. */
void trees_cull(struct trees *t, const struct massif_model *m);

/* The tree of detailed snapshot `serial`: its stacks, in the order of
 * their first lots in it, in *out (the trees', until the next call), *n of them;
 * asked in order of serial, each once, after the pass.  0, -ENOMEM, or
 * -EINVAL for a snapshot not held. */
int trees_tree(struct trees *t, const struct replay *rp, uint64_t serial,
	       const struct tree_stack **out, size_t *n);

#endif
