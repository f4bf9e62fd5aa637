/*
 * test_analyzer_processes.c - several processes in one replay: a fork
 * copies its parent's live blocks and mappings (the child's frees of them
 * are ordinary frees), vfork shares its parent's space, exec drops the old
 * image, --pid keeps one process's events and memory, attach turns frees
 * of unknown blocks into preexisting frees; temporary allocations per
 * thread; RSS per process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "analyzer/analyzer.h"
#include "analyzer/replay.h"

/* The lot of the live block at (space, addr), or NULL. */
static const struct lot *block(const struct replay *rp, uint32_t space, uint64_t addr)
{
	const struct lot *l;

	return replay_block(rp, space, addr, &l) ? l : NULL;
}

static uint64_t next_index;

static void feed(struct replay *rp, struct mt_event ev)
{
	if (!ev.tid)
		ev.tid = ev.pid;
	assert_int_equal(replay_event(rp, &ev, next_index++), 0);
}

static void start(struct replay *rp, uint32_t pid, uint32_t space, uint32_t cause, uint32_t parent)
{
	feed(rp, (struct mt_event){.type = MT_EV_PROC_START,
				   .pid = pid,
				   .space = space,
				   .arg = parent,
				   .mflags = cause});
}

static void alloc(struct replay *rp, uint32_t pid, uint64_t addr, uint64_t size, uint64_t stack)
{
	feed(rp, (struct mt_event){.type = MT_EV_ALLOC,
				   .fn = MT_FN_MALLOC,
				   .pid = pid,
				   .addr = addr,
				   .size = size,
				   .stack = stack});
}

static void release(struct replay *rp, uint32_t pid, uint32_t tid, uint64_t addr)
{
	feed(rp,
	     (struct mt_event){
		     .type = MT_EV_FREE, .fn = MT_FN_FREE, .pid = pid, .tid = tid, .addr = addr});
}

static void map(struct replay *rp, uint32_t pid, uint64_t addr, uint64_t len, int file)
{
	feed(rp, (struct mt_event){.type = MT_EV_MMAP,
				   .pid = pid,
				   .addr = addr,
				   .size = len,
				   .prot = 1,
				   .mflags = file ? 0x2 : 0x22,
				   .fd = file ? 3 : -1,
				   .path = 0,
				   .stack = 7});
}

static void exit_proc(struct replay *rp, uint32_t pid)
{
	feed(rp, (struct mt_event){.type = MT_EV_PROC_EXIT, .pid = pid, .status = 0});
}

/*
 * 100 allocates 0x1000 (100 B) and 0x2000 (200 B) and maps a file page,
 * forks 200 (a new space): 200 frees the inherited 0x1000 and allocates
 * 0x3000 (300 B), execs (space 3), allocates 0x1000 (50 B) and exits; 100
 * frees 0x2000 and ends with 0x1000 still live.
 */
static void run(struct replay *rp, uint32_t pid, uint64_t stop_after)
{
	next_index = 0;
	replay_init(rp, AN_KIND_ALL);
	rp->pid = pid;
	rp->root = 100;
	start(rp, 100, 1, MT_PROC_EXEC, 0);   /* #0 */
	alloc(rp, 100, 0x1000, 100, 1);	      /* #1 */
	alloc(rp, 100, 0x2000, 200, 2);	      /* #2 */
	map(rp, 100, 0x7000000, 4096, 1);     /* #3 */
	start(rp, 200, 2, MT_PROC_FORK, 100); /* #4 */
	if (stop_after == 4)
		return;
	release(rp, 200, 200, 0x1000);	/* #5 */
	alloc(rp, 200, 0x3000, 300, 3); /* #6 */
	if (stop_after == 6)
		return;
	start(rp, 200, 3, MT_PROC_EXEC, 0); /* #7 */
	alloc(rp, 200, 0x1000, 50, 4);	    /* #8 */
	exit_proc(rp, 200);		    /* #9 */
	if (stop_after == 9)
		return;
	release(rp, 100, 100, 0x2000); /* #10 */
	exit_proc(rp, 100);	       /* #11 */
}

static void test_fork_copies(void **state)
{
	struct replay rp;
	const struct lot *b;

	run(&rp, 0, 4);
	/* the child's space holds copies of its parent's blocks and mapping */
	assert_int_equal(rp.blocks, 4);
	b = block(&rp, 2, 0x2000);
	assert_non_null(b);
	assert_int_equal(b->size, 200);
	assert_int_equal(b->stack, 2);
	assert_int_equal(rp.c.heap_live, 600);
	assert_int_equal(rp.mapped.file, 8192);
	/* copies are not allocations */
	assert_int_equal(rp.c.allocs, 2);
	assert_int_equal(rp.c.bytes_allocated, 300);
	replay_free(&rp);

	/* the child frees an inherited block: an ordinary free of its own copy */
	run(&rp, 0, 6);
	assert_int_equal(rp.c.frees, 1);
	assert_int_equal(rp.c.unknown_frees, 0);
	assert_null(block(&rp, 2, 0x1000));
	assert_non_null(block(&rp, 1, 0x1000));
	assert_int_equal(rp.c.heap_live, 100 + 200 + 200 + 300);
	replay_free(&rp);
}

static void test_exec_drops(void **state)
{
	struct replay rp;
	struct replay_memory m;

	run(&rp, 0, 9);
	/* exec: space 2 is gone; 200 runs in space 3 */
	assert_null(block(&rp, 2, 0x2000));
	assert_null(block(&rp, 2, 0x3000));
	assert_non_null(block(&rp, 3, 0x1000));
	assert_int_equal(rp.mapped.file, 4096);
	/* 200 exited: its block stays live (its leak), but not in use */
	assert_int_equal(rp.c.heap_live, 100 + 200 + 50);
	m = replay_in_use(&rp);
	assert_int_equal(m.heap, 300);
	assert_int_equal(m.file, 4096);
	replay_free(&rp);

	run(&rp, 0, UINT64_MAX);
	assert_int_equal(rp.c.allocs, 4);
	assert_int_equal(rp.c.frees, 2);
	assert_int_equal(rp.c.heap_live, 150);
	assert_int_equal(rp.c.heap_peak, 800);
	/* the first process's memory stays in use after it exits: the end of
	 * the chart is what it held */
	m = replay_in_use(&rp);
	assert_int_equal(m.heap, 100);
	replay_free(&rp);
}

static void test_pid(void **state)
{
	struct replay rp;
	const struct proc_state *p;

	/* 200 alone: its events, the spaces it ran in */
	run(&rp, 200, 6);
	assert_int_equal(rp.c.allocs, 1);
	assert_int_equal(rp.c.frees, 1);
	assert_int_equal(rp.c.heap_live, 200 + 300);
	assert_int_equal(rp.mapped.file, 4096);
	assert_true(replay_space_selected(&rp, 2));
	assert_false(replay_space_selected(&rp, 1));
	replay_free(&rp);
	run(&rp, 200, UINT64_MAX);
	assert_int_equal(rp.c.allocs, 2);
	assert_int_equal(rp.c.bytes_allocated, 350);
	assert_int_equal(rp.c.heap_live, 50);
	assert_int_equal(rp.c.heap_peak, 500);
	assert_int_equal(rp.mapped.file, 0);
	assert_true(replay_space_selected(&rp, 3));
	/* the first process alone */
	replay_free(&rp);
	run(&rp, 100, UINT64_MAX);
	assert_int_equal(rp.c.allocs, 2);
	assert_int_equal(rp.c.frees, 1);
	assert_int_equal(rp.c.heap_live, 100);
	assert_int_equal(rp.c.events, 6);
	/* every process is known, the others without counts */
	p = proc_table_get(&rp.procs, 200);
	assert_non_null(p);
	assert_int_equal(p->allocs, 0);
	assert_int_equal(p->parent, 100);
	assert_int_equal(p->execs, 1);
	assert_int_equal(p->exited, 1);
	replay_free(&rp);
	/* unfiltered, each process has its own counts */
	run(&rp, 0, UINT64_MAX);
	p = proc_table_get(&rp.procs, 200);
	assert_int_equal(p->allocs, 2);
	assert_int_equal(p->frees, 1);
	assert_int_equal(p->bytes_allocated, 350);
	p = proc_table_get(&rp.procs, 100);
	assert_int_equal(p->allocs, 2);
	assert_int_equal(p->frees, 1);
	assert_int_equal(p->execs, 1);
	replay_free(&rp);
}

static void test_vfork_shares(void **state)
{
	struct replay rp;

	next_index = 0;
	replay_init(&rp, AN_KIND_HEAP);
	rp.root = 100;
	start(&rp, 100, 1, MT_PROC_EXEC, 0);
	alloc(&rp, 100, 0x1000, 10, 1);
	/* vfork: the child runs in its parent's space, nothing is copied */
	start(&rp, 300, 1, MT_PROC_FORK, 100);
	assert_int_equal(rp.blocks, 1);
	alloc(&rp, 300, 0x2000, 20, 1);
	assert_non_null(block(&rp, 1, 0x2000));
	/* its exec leaves the space to the parent: nothing is dropped */
	start(&rp, 300, 4, MT_PROC_EXEC, 0);
	assert_non_null(block(&rp, 1, 0x1000));
	assert_int_equal(rp.c.heap_live, 30);
	exit_proc(&rp, 300);
	assert_int_equal(replay_in_use(&rp).heap, 30);
	replay_free(&rp);
}

static void test_attach(void **state)
{
	struct replay rp;

	next_index = 0;
	replay_init(&rp, AN_KIND_HEAP);
	rp.root = 500;
	start(&rp, 500, 1, MT_PROC_ATTACH, 0);
	/* blocks allocated before the attach: preexisting, not unknown */
	release(&rp, 500, 500, 0xdead0);
	feed(&rp, (struct mt_event){.type = MT_EV_FREE,
				    .fn = MT_FN_FREE,
				    .pid = 500,
				    .addr = 0xbeef0,
				    .flags = MT_EVF_PREEXIST});
	alloc(&rp, 500, 0x1000, 64, 1);
	release(&rp, 500, 500, 0x1000);
	/* a fork of an attached process inherits what memtrack never saw */
	start(&rp, 600, 2, MT_PROC_FORK, 500);
	release(&rp, 600, 600, 0xcafe0);
	assert_int_equal(rp.c.preexisting_frees, 3);
	assert_int_equal(rp.c.unknown_frees, 0);
	assert_int_equal(rp.c.frees, 1);
	assert_int_equal(rp.c.allocs, 1);
	replay_free(&rp);
}

static void test_temporaries(void **state)
{
	struct replay rp;
	struct site_totals site, *t = &site;

	next_index = 0;
	replay_init(&rp, AN_KIND_HEAP);
	start(&rp, 100, 1, MT_PROC_EXEC, 0);
	/* freed before its thread allocated again: temporary */
	alloc(&rp, 100, 0x1000, 10, 1);
	release(&rp, 100, 100, 0x1000);
	/* another thread's allocation in between does not count */
	feed(&rp, (struct mt_event){.type = MT_EV_ALLOC,
				    .fn = MT_FN_MALLOC,
				    .pid = 100,
				    .tid = 101,
				    .addr = 0x2000,
				    .size = 20,
				    .stack = 2});
	alloc(&rp, 100, 0x3000, 30, 3);
	feed(&rp, (struct mt_event){.type = MT_EV_ALLOC,
				    .fn = MT_FN_MALLOC,
				    .pid = 100,
				    .tid = 101,
				    .addr = 0x4000,
				    .size = 40,
				    .stack = 2});
	release(&rp, 100, 100, 0x3000);
	/* freed after its thread allocated again: not temporary */
	release(&rp, 100, 101, 0x2000);
	/* freed by another thread: not temporary */
	release(&rp, 100, 100, 0x4000);
	/* a realloc frees its old block: the thread's last one is temporary */
	alloc(&rp, 100, 0x5000, 50, 1);
	feed(&rp, (struct mt_event){.type = MT_EV_REALLOC,
				    .fn = MT_FN_REALLOC,
				    .pid = 100,
				    .old_addr = 0x5000,
				    .addr = 0x6000,
				    .size = 500,
				    .stack = 4});
	assert_int_equal(rp.c.temporaries, 3);
	assert_int_equal(rp.c.temporary_bytes, 10 + 30 + 50);
	assert_true(replay_site(&rp, 1, AN_KIND_HEAP, t));
	assert_int_equal(t->temps, 2);
	assert_int_equal(t->temp_bytes, 60);
	assert_int_equal(t->count, 2);
	assert_int_equal(t->bytes, 60);
	assert_true(replay_site(&rp, 2, AN_KIND_HEAP, t));
	assert_int_equal(t->temps, 0);
	assert_int_equal(t->count, 2);
	replay_free(&rp);
}

static void test_rss(void **state)
{
	struct replay rp;

	next_index = 0;
	replay_init(&rp, AN_KIND_HEAP);
	rp.root = 100;
	start(&rp, 100, 1, MT_PROC_EXEC, 0);
	start(&rp, 200, 2, MT_PROC_FORK, 100);
	feed(&rp, (struct mt_event){.type = MT_EV_RSS, .pid = 100, .size = 1000});
	feed(&rp, (struct mt_event){.type = MT_EV_RSS, .pid = 200, .size = 300});
	assert_int_equal(rp.rss, 1300);
	feed(&rp, (struct mt_event){.type = MT_EV_RSS, .pid = 100, .size = 1200});
	assert_int_equal(rp.rss, 1500);
	assert_int_equal(rp.c.rss_peak, 1500);
	/* a child's RSS goes with it; the first process's stays to the end */
	exit_proc(&rp, 200);
	assert_int_equal(rp.rss, 1200);
	exit_proc(&rp, 100);
	assert_int_equal(rp.rss, 1200);
	assert_int_equal(rp.c.rss_samples, 3);
	replay_free(&rp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_copies), cmocka_unit_test(test_exec_drops),
		cmocka_unit_test(test_pid),	    cmocka_unit_test(test_vfork_shares),
		cmocka_unit_test(test_attach),	    cmocka_unit_test(test_temporaries),
		cmocka_unit_test(test_rss),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
