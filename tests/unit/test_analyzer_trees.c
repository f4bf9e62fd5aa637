/*
 * test_analyzer_trees.c - the trees of massif's detailed snapshots, kept as
 * the lots that changed between them (trees.c), against the tree taken
 * whole (snapshot_collect()) at each detailed snapshot when it is taken:
 * random allocations, frees and reallocs over thousands of lots, so that
 * massif culls again and again, the list of changes is compacted, and
 * (with processes) children fork, allocate and exit or exec.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyzer/analyzer.h"
#include "analyzer/massif.h"
#include "analyzer/replay.h"
#include "analyzer/snapshot.h"
#include "analyzer/trees.h"

/* A tree: (stack, size, count) sorted by stack. */
struct entry {
	uint64_t stack, size, count;
};

struct tree {
	uint64_t serial;
	struct entry *v;
	size_t n;
};

static int by_stack(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static struct tree tree_of(struct snapshot *snap, uint64_t serial)
{
	struct tree t = {.serial = serial};
	struct snapshot_entry *e;
	uint64_t stack;
	size_t i = 0;

	t.v = calloc(snap->stacks.len + 1, sizeof(*t.v));
	assert_non_null(t.v);
	while (snap_stacks_next(&snap->stacks, &i, &stack, &e))
		t.v[t.n++] = (struct entry){stack, e->size, e->count};
	qsort(t.v, t.n, sizeof(*t.v), by_stack);
	return t;
}

/* trees_tree()'s: each stack once, by the number it was given */
static struct tree tree_of_stacks(const struct trees *trees, const struct tree_stack *v, size_t n,
				  uint64_t serial)
{
	struct tree t = {.serial = serial, .n = n};

	t.v = calloc(n + 1, sizeof(*t.v));
	assert_non_null(t.v);
	for (size_t i = 0; i < n; i++) {
		assert_true(v[i].index < trees->nstacks);
		assert_true(trees->stacks[v[i].index].stack == v[i].stack);
		t.v[i] = (struct entry){v[i].stack, v[i].bytes, v[i].blocks};
	}
	qsort(t.v, t.n, sizeof(*t.v), by_stack);
	for (size_t i = 1; i < n; i++)
		assert_true(t.v[i - 1].stack != t.v[i].stack);
	return t;
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct run {
	struct replay rp;
	struct massif_model *m;
	struct trees t;
	struct tree *whole; /* at each detailed snapshot taken */
	size_t nwhole, cap;
	uint64_t index;
};

static void took(struct run *r, int took)
{
	assert_true(took >= 0);
	if (took & MASSIF_CULLED)
		trees_cull(&r->t, r->m);
	if (took & MASSIF_DETAILED) {
		struct snapshot_opts so = {.kind = AN_KIND_HEAP, .freed_too = 1};
		struct snapshot snap;

		assert_int_equal(trees_capture(&r->t, &r->rp, massif_last(r->m)), 0);
		snapshot_init(&snap);
		assert_int_equal(snapshot_collect(&snap, &r->rp, &so, 0, 0), 0);
		if (r->nwhole == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 64;
			r->whole = realloc(r->whole, r->cap * sizeof(*r->whole));
			assert_non_null(r->whole);
		}
		r->whole[r->nwhole++] = tree_of(&snap, massif_last(r->m));
		snapshot_free(&snap);
	}
}

/* One event, as series.c's pass feeds it. */
static void feed(struct run *r, struct mt_event ev)
{
	if (!ev.tid)
		ev.tid = ev.pid;
	took(r, massif_before(r->m, &r->rp, &ev, r->index));
	assert_int_equal(replay_event(&r->rp, &ev, r->index), 0);
	took(r, massif_after(r->m, &r->rp, &ev, r->index));
	r->index++;
}

/* Every detailed snapshot held at the end: its tree from the changes is
 * the one taken whole. */
static size_t check(struct run *r)
{
	struct massif_snapshot held[MASSIF_MAX_SNAPSHOTS];
	size_t n = massif_held(r->m, held), k = 0, checked = 0;

	for (size_t i = 0; i < n; i++) {
		const struct tree_stack *tree;
		size_t len;
		struct tree mine;

		if (!held[i].detailed)
			continue;
		while (k < r->nwhole && r->whole[k].serial < held[i].serial)
			k++;
		assert_true(k < r->nwhole && r->whole[k].serial == held[i].serial);
		assert_int_equal(trees_tree(&r->t, &r->rp, held[i].serial, &tree, &len), 0);
		mine = tree_of_stacks(&r->t, tree, len, held[i].serial);
		/* massif's heap is the tree's total */
		{
			uint64_t total = 0;

			for (size_t j = 0; j < mine.n; j++)
				total += mine.v[j].size;
			assert_int_equal(total, held[i].heap);
		}
		assert_int_equal(mine.n, r->whole[k].n);
		assert_memory_equal(mine.v, r->whole[k].v, mine.n * sizeof(*mine.v));
		free(mine.v);
		checked++;
	}
	return checked;
}

static void run_begin(struct run *r)
{
	memset(r, 0, sizeof(*r));
	replay_init(&r->rp, AN_KIND_HEAP);
	r->rp.root = 100;
	trees_init(&r->t, &r->rp, AN_KIND_HEAP);
	assert_int_equal(massif_model_new(&r->m), 0);
}

static void run_end(struct run *r)
{
	for (size_t i = 0; i < r->nwhole; i++)
		free(r->whole[i].v);
	free(r->whole);
	trees_free(&r->t);
	massif_model_free(r->m);
	replay_free(&r->rp);
}

#define SLOTS 4096

/* Random heap events of process pid in slots [0, SLOTS) at base. */
static void churn(struct run *r, uint32_t pid, uint64_t base, uint64_t *size, int events,
		  int stacks)
{
	for (int i = 0; i < events; i++) {
		unsigned s = (unsigned)(next_rand() % SLOTS), what = (unsigned)(next_rand() % 8);
		uint64_t addr = base + (uint64_t)s * 4096,
			 stack = 1 + next_rand() % (unsigned)stacks;
		uint64_t sz = 1 + next_rand() % 300;

		if (!size[s] && what < 6) {
			feed(r, (struct mt_event){.type = MT_EV_ALLOC,
						  .pid = pid,
						  .addr = addr,
						  .size = sz,
						  .stack = stack});
			size[s] = sz;
		} else if (size[s] && what < 5) {
			feed(r, (struct mt_event){.type = MT_EV_FREE, .pid = pid, .addr = addr});
			size[s] = 0;
		} else if (size[s]) {
			/* in place (shrunk, or within its slop) or moved to
			 * another free slot */
			unsigned to = what == 7 ? (unsigned)(next_rand() % SLOTS) : s;

			if (to != s && size[to])
				to = s;
			feed(r, (struct mt_event){.type = MT_EV_REALLOC,
						  .pid = pid,
						  .old_addr = addr,
						  .addr = base + (uint64_t)to * 4096,
						  .size = sz,
						  .stack = stack});
			size[s] = 0;
			size[to] = sz;
		}
	}
}

static void test_one_process(void **state)
{
	static uint64_t size[SLOTS];
	struct run r;
	size_t checked;

	run_begin(&r);
	/* thousands of lots (stack, size), snapshots at nearly every event */
	churn(&r, 100, 0x100000, size, 60000, 400);
	checked = check(&r);
	/* massif keeps every 10th detailed and a peak: several to compare,
	 * and the changes were compacted on the way */
	assert_true(checked >= 5);
	assert_true(r.t.compacted > 0);
	run_end(&r);
}

static void test_processes(void **state)
{
	static uint64_t size[SLOTS], child[SLOTS];
	struct run r;

	run_begin(&r);
	feed(&r, (struct mt_event){
			 .type = MT_EV_PROC_START, .pid = 100, .space = 1, .mflags = MT_PROC_EXEC});
	churn(&r, 100, 0x100000, size, 3000, 50);
	for (uint32_t k = 0; k < 6; k++) {
		uint32_t pid = 200 + k;

		/* a child with a copy of its parent's blocks, that frees some
		 * of them and allocates its own, then exits (or execs) */
		feed(&r, (struct mt_event){.type = MT_EV_PROC_START,
					   .pid = pid,
					   .space = 10 + k,
					   .arg = 100,
					   .mflags = MT_PROC_FORK});
		memcpy(child, size, sizeof(child));
		churn(&r, pid, 0x100000, child, 2000, 50);
		churn(&r, 100, 0x100000, size, 1000, 50);
		if (k % 2)
			feed(&r, (struct mt_event){.type = MT_EV_PROC_START,
						   .pid = pid,
						   .space = 100 + k,
						   .mflags = MT_PROC_EXEC});
		feed(&r, (struct mt_event){.type = MT_EV_PROC_EXIT, .pid = pid});
		churn(&r, 100, 0x100000, size, 1000, 50);
	}
	assert_true(check(&r) >= 3);
	run_end(&r);
}

/* A child allocating across a detailed snapshot, then exiting, and the
 * parent's next allocation a detailed one: the child's lot changed since
 * the snapshot before comes first then, and no longer counts (its space
 * went).  Each phase moves the detailed snapshots by one event, so that
 * one of them lands right there. */
static void test_gone_between_captures(void **state)
{
	for (uint64_t phase = 0; phase < 10; phase++) {
		struct run r;

		run_begin(&r);
		feed(&r, (struct mt_event){.type = MT_EV_PROC_START,
					   .pid = 100,
					   .space = 1,
					   .mflags = MT_PROC_EXEC});
		for (uint64_t i = 0; i < phase; i++)
			feed(&r, (struct mt_event){.type = MT_EV_ALLOC,
						   .pid = 100,
						   .addr = 0x1000 + i * 0x100,
						   .size = 100,
						   .stack = 1});
		feed(&r, (struct mt_event){.type = MT_EV_PROC_START,
					   .pid = 200,
					   .space = 2,
					   .arg = 100,
					   .mflags = MT_PROC_FORK});
		for (uint64_t i = 0; i < 15; i++)
			feed(&r, (struct mt_event){.type = MT_EV_ALLOC,
						   .pid = 200,
						   .addr = 0x100000 + i * 0x100,
						   .size = 50,
						   .stack = 2});
		feed(&r, (struct mt_event){.type = MT_EV_PROC_EXIT, .pid = 200});
		for (uint64_t i = 0; i < 10; i++)
			feed(&r, (struct mt_event){.type = MT_EV_ALLOC,
						   .pid = 100,
						   .addr = 0x200000 + i * 0x100,
						   .size = 70,
						   .stack = 3});
		assert_true(check(&r) >= 2);
		run_end(&r);
	}
}

/* --pid of a process whose memory a clone(CLONE_VM) child shares: the
 * child's blocks are in the chosen memory, and the parent frees them; a
 * child that exited frees and allocates still (its memory went). */
static void test_shared_and_gone(void **state)
{
	struct run r;

	run_begin(&r);
	r.rp.pid = 100;
	feed(&r, (struct mt_event){
			 .type = MT_EV_PROC_START, .pid = 100, .space = 1, .mflags = MT_PROC_EXEC});
	feed(&r, (struct mt_event){
			 .type = MT_EV_ALLOC, .pid = 100, .addr = 0x1000, .size = 100, .stack = 1});
	feed(&r, (struct mt_event){.type = MT_EV_PROC_START,
				   .pid = 200,
				   .space = 1,
				   .arg = 100,
				   .mflags = MT_PROC_FORK});
	for (uint64_t i = 0; i < 30; i++)
		feed(&r, (struct mt_event){.type = MT_EV_ALLOC,
					   .pid = 200,
					   .addr = 0x10000 + i * 0x1000,
					   .size = 1000,
					   .stack = 2});
	feed(&r, (struct mt_event){.type = MT_EV_PROC_EXIT, .pid = 200});
	for (uint64_t i = 0; i < 30; i++)
		feed(&r, (struct mt_event){
				 .type = MT_EV_FREE, .pid = 100, .addr = 0x10000 + i * 0x1000});
	/* a forked child that goes on after its exit */
	feed(&r, (struct mt_event){.type = MT_EV_PROC_START,
				   .pid = 300,
				   .space = 3,
				   .arg = 100,
				   .mflags = MT_PROC_FORK});
	feed(&r, (struct mt_event){.type = MT_EV_PROC_EXIT, .pid = 300});
	feed(&r, (struct mt_event){.type = MT_EV_FREE, .pid = 300, .addr = 0x1000});
	for (uint64_t i = 0; i < 30; i++)
		feed(&r, (struct mt_event){.type = MT_EV_ALLOC,
					   .pid = 100,
					   .addr = 0x10000 + i * 0x1000,
					   .size = 10,
					   .stack = 3});
	check(&r);
	run_end(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_process),
		cmocka_unit_test(test_processes),
		cmocka_unit_test(test_shared_and_gone),
		cmocka_unit_test(test_gone_between_captures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
