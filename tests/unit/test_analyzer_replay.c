/*
 * test_analyzer_replay.c - the live state and the counters of a replay:
 * valgrind memcheck's "total heap usage" rules for every realloc case,
 * unknown frees, peaks (the first event reaching the highest point), the
 * mmap family inside and outside allocators, address spaces.
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
	if (!ev.pid)
		ev.pid = ev.tid = 100;
	assert_int_equal(replay_event(rp, &ev, next_index++), 0);
}

#define ALLOC(addr_, size_, stack_)                                                                \
	feed(&rp, (struct mt_event){.type = MT_EV_ALLOC,                                           \
				    .fn = MT_FN_MALLOC,                                            \
				    .addr = (addr_),                                               \
				    .size = (size_),                                               \
				    .stack = (stack_)})
#define FREE(addr_, flags_)                                                                        \
	feed(&rp,                                                                                  \
	     (struct mt_event){                                                                    \
		     .type = MT_EV_FREE, .fn = MT_FN_FREE, .addr = (addr_), .flags = (flags_)})
#define REALLOC(old_, addr_, size_)                                                                \
	feed(&rp, (struct mt_event){.type = MT_EV_REALLOC,                                         \
				    .fn = MT_FN_REALLOC,                                           \
				    .old_addr = (old_),                                            \
				    .addr = (addr_),                                               \
				    .size = (size_),                                               \
				    .stack = 9})

static void counts(const struct replay *rp, uint64_t allocs, uint64_t frees, uint64_t unknown,
		   uint64_t bytes, uint64_t live, uint64_t blocks)
{
	assert_int_equal(rp->c.allocs, allocs);
	assert_int_equal(rp->c.frees, frees);
	/* the thread's latest unknown frees stay doubtful until it does
	 * something else: they count as unknown meanwhile */
	assert_int_equal(rp->c.unknown_frees + rp->ndoubtful, unknown);
	assert_int_equal(rp->c.bytes_allocated, bytes);
	assert_int_equal(rp->c.heap_live, live);
	assert_int_equal(rp->blocks, blocks);
}

static void test_alloc_free(void **state)
{
	struct replay rp;

	replay_init(&rp, AN_KIND_HEAP);
	ALLOC(0, 100, 1); /* failed: nothing */
	counts(&rp, 0, 0, 0, 0, 0, 0);
	ALLOC(0x1000, 100, 1);
	ALLOC(0x2000, 50, 2);
	counts(&rp, 2, 0, 0, 150, 150, 2);
	FREE(0x1000, 0);
	counts(&rp, 2, 1, 0, 150, 50, 1);
	/* double free, free of a block never seen: unknown frees, not frees;
	 * a block allocated before attach: a preexisting free */
	FREE(0x1000, 0);
	FREE(0x9000, 0);
	FREE(0x2000, MT_EVF_PREEXIST);
	counts(&rp, 2, 1, 2, 150, 50, 1);
	assert_int_equal(rp.c.preexisting_frees, 1);
	/* the same address handed out twice: the missed free loses the old block */
	ALLOC(0x2000, 70, 3);
	counts(&rp, 3, 1, 2, 220, 70, 1);
	assert_int_equal(rp.c.events, 8);
	replay_free(&rp);
}

/* Unknown frees right before a thread exits are glibc's per-thread cache
 * torn down; anything else of the thread between makes them unknown. */
static void test_teardown_frees(void **state)
{
	struct replay rp;

	replay_init(&rp, AN_KIND_HEAP);
	feed(&rp, (struct mt_event){.type = MT_EV_ALLOC, .pid = 100, .tid = 101, .addr = 0x1000,
				    .size = 32});
	feed(&rp, (struct mt_event){.type = MT_EV_FREE, .pid = 100, .tid = 101, .addr = 0x1000});
	/* the cached block again, and the cache: then the thread exits */
	feed(&rp, (struct mt_event){.type = MT_EV_FREE, .pid = 100, .tid = 101, .addr = 0x1000});
	feed(&rp, (struct mt_event){.type = MT_EV_FREE, .pid = 100, .tid = 101, .addr = 0x5000});
	/* another thread's events settle nothing of this one's */
	feed(&rp, (struct mt_event){.type = MT_EV_FREE, .pid = 100, .tid = 102, .addr = 0x6000});
	feed(&rp, (struct mt_event){.type = MT_EV_ALLOC, .pid = 100, .tid = 100, .addr = 0x2000,
				    .size = 8});
	assert_int_equal(rp.ndoubtful, 3);
	feed(&rp, (struct mt_event){.type = MT_EV_THREAD_EXIT, .pid = 100, .tid = 101});
	assert_int_equal(rp.c.teardown_frees, 2);
	assert_int_equal(rp.c.unknown_frees, 0);
	/* thread 102 goes on allocating: its free was a double free */
	feed(&rp, (struct mt_event){.type = MT_EV_ALLOC, .pid = 100, .tid = 102, .addr = 0x3000,
				    .size = 8});
	assert_int_equal(rp.c.unknown_frees, 1);
	assert_int_equal(rp.ndoubtful, 0);
	assert_int_equal(rp.c.frees, 1);
	replay_free(&rp);
}

static void test_realloc_cases(void **state)
{
	struct replay rp;
	const struct lot *b;

	replay_init(&rp, AN_KIND_HEAP);
	/* realloc(NULL, 40): an alloc */
	REALLOC(0, 0x1000, 40);
	counts(&rp, 1, 0, 0, 40, 40, 1);
	/* realloc(NULL, 40) failing: nothing */
	REALLOC(0, 0, 40);
	counts(&rp, 1, 0, 0, 40, 40, 1);
	/* moved: one alloc of the new size, one free of the old block */
	REALLOC(0x1000, 0x2000, 100);
	counts(&rp, 2, 1, 0, 140, 100, 1);
	assert_null(block(&rp, 0, 0x1000));
	/* in place: the same, the address stays live with the new size */
	REALLOC(0x2000, 0x2000, 30);
	counts(&rp, 3, 2, 0, 170, 30, 1);
	b = block(&rp, 0, 0x2000);
	assert_non_null(b);
	assert_int_equal(b->size, 30);
	assert_int_equal(b->stack, 9);
	/* failed growth: the old block lives on, but memcheck counts the call
	 * (an alloc of 1000 and a free) before it tries */
	REALLOC(0x2000, 0, 1000);
	counts(&rp, 4, 3, 0, 1170, 30, 1);
	/* ... unless the size is "fishy", negative as a signed size */
	REALLOC(0x2000, 0, UINT64_MAX - 9);
	counts(&rp, 4, 3, 0, 1170, 30, 1);
	/* realloc(p, 0) returning NULL: glibc freed p */
	REALLOC(0x2000, 0, 0);
	counts(&rp, 4, 4, 0, 1170, 0, 0);
	/* a block memtrack never saw: the new one counts, the free is unknown */
	REALLOC(0x7000, 0x8000, 8);
	counts(&rp, 5, 4, 1, 1178, 8, 1);
	replay_free(&rp);
}

static void test_heap_peak(void **state)
{
	struct replay rp;

	next_index = 0;
	replay_init(&rp, AN_KIND_HEAP);
	ALLOC(0x1000, 100, 1); /* #0: 100 */
	ALLOC(0x2000, 200, 1); /* #1: 300 */
	FREE(0x2000, 0);       /* #2: 100 */
	ALLOC(0x3000, 200, 1); /* #3: 300 again: a tie, the first stays */
	assert_int_equal(rp.c.heap_peak, 300);
	assert_int_equal(rp.peak, 300);
	assert_int_equal(rp.peak_event, 1);
	ALLOC(0x4000, 1, 1); /* #4: 301 */
	assert_int_equal(rp.peak_event, 4);
	assert_int_equal(rp.c.heap_peak, 301);
	replay_free(&rp);
}

#define MMAP(addr_, len_, flags_)                                                                  \
	feed(&rp, (struct mt_event){.type = MT_EV_MMAP,                                            \
				    .addr = (addr_),                                               \
				    .size = (len_),                                                \
				    .prot = 3,                                                     \
				    .mflags = 0x22,                                                \
				    .fd = -1,                                                      \
				    .flags = (flags_),                                             \
				    .stack = 5})
#define MUNMAP(addr_, len_, flags_)                                                                \
	feed(&rp, (struct mt_event){.type = MT_EV_MUNMAP,                                          \
				    .addr = (addr_),                                               \
				    .size = (len_),                                                \
				    .flags = (flags_),                                             \
				    .stack = 6})

static void test_mmap_family(void **state)
{
	struct replay rp;

	next_index = 0;
	replay_init(&rp, AN_KIND_MMAP);
	/* lengths count in whole pages, as the kernel maps them */
	MMAP(0x10000, 4000, 0);
	assert_int_equal(rp.maps.live, 4096);
	/* inside malloc: the heap's business */
	MMAP(0x20000, 0x21000, MT_EVF_IN_ALLOC);
	assert_int_equal(rp.maps.live, 4096);
	/* failed: nothing */
	MMAP(UINT64_MAX - 11, 4096, MT_EVF_FAILED);
	MMAP(0x30000, 0x3000, 0);
	assert_int_equal(rp.maps.live, 4096 + 0x3000);
	assert_int_equal(rp.c.mmap_peak, 4096 + 0x3000);
	assert_int_equal(rp.peak_event, 3);
	MUNMAP(0x31000, 0x1000, 0);
	MUNMAP(0x20000, 0x21000, MT_EVF_IN_ALLOC);
	feed(&rp, (struct mt_event){.type = MT_EV_MUNMAP,
				    .addr = 0x30000,
				    .size = 0x1000,
				    .result = -22,
				    .flags = MT_EVF_FAILED});
	assert_int_equal(rp.maps.live, 4096 + 0x2000);
	assert_int_equal(regions_blocks(&rp.maps), 2);
	feed(&rp, (struct mt_event){.type = MT_EV_MREMAP,
				    .old_addr = 0x10000,
				    .old_size = 4096,
				    .addr = 0x50000,
				    .size = 8192,
				    .mflags = 1,
				    .stack = 8});
	assert_int_equal(rp.maps.live, 8192 + 0x2000);
	assert_int_equal(rp.c.mmap_calls, 2);
	assert_int_equal(rp.c.munmap_calls, 1);
	assert_int_equal(rp.c.mremap_calls, 1);
	assert_int_equal(rp.c.mmap_calls_in_allocator, 1);
	assert_int_equal(rp.c.mmap_peak, 8192 + 0x2000);
	/* the heap is not in --kind mmap's peak */
	ALLOC(0x900000, 1 << 20, 1);
	assert_int_equal(rp.peak, 8192 + 0x2000);
	replay_free(&rp);
}

static void test_brk_events(void **state)
{
	struct replay rp;

	replay_init(&rp, AN_KIND_ALL);
	feed(&rp, (struct mt_event){.type = MT_EV_BRK, .arg = 0, .addr = 0x555000});
	feed(&rp, (struct mt_event){.type = MT_EV_BRK,
				    .arg = 0x576000,
				    .addr = 0x576000,
				    .flags = MT_EVF_IN_ALLOC});
	feed(&rp,
	     (struct mt_event){.type = MT_EV_BRK, .arg = 0x580000, .addr = 0x580000, .stack = 4});
	assert_int_equal(rp.maps.live, 0xa000);
	assert_int_equal(rp.c.brk_calls, 2);
	/* a refused brk answers the old break: nothing moves */
	feed(&rp, (struct mt_event){.type = MT_EV_BRK,
				    .arg = 0x90000000,
				    .addr = 0x580000,
				    .flags = MT_EVF_FAILED});
	assert_int_equal(rp.maps.live, 0xa000);
	feed(&rp, (struct mt_event){.type = MT_EV_BRK, .arg = 0x578000, .addr = 0x578000});
	assert_int_equal(rp.maps.live, 0x2000);
	assert_int_equal(rp.c.mmap_peak, 0xa000);
	replay_free(&rp);
}

static void test_address_spaces(void **state)
{
	struct replay rp;

	replay_init(&rp, AN_KIND_HEAP);
	feed(&rp, (struct mt_event){.type = MT_EV_PROC_START,
				    .pid = 100,
				    .tid = 100,
				    .space = 1,
				    .mflags = MT_PROC_EXEC});
	feed(&rp, (struct mt_event){.type = MT_EV_PROC_START,
				    .pid = 200,
				    .tid = 200,
				    .space = 2,
				    .arg = 100,
				    .mflags = MT_PROC_FORK});
	feed(&rp, (struct mt_event){
			  .type = MT_EV_ALLOC, .pid = 100, .tid = 100, .addr = 0x1000, .size = 10});
	feed(&rp, (struct mt_event){
			  .type = MT_EV_ALLOC, .pid = 200, .tid = 200, .addr = 0x1000, .size = 20});
	counts(&rp, 2, 0, 0, 30, 30, 2);
	assert_non_null(block(&rp, 1, 0x1000));
	assert_non_null(block(&rp, 2, 0x1000));
	/* the child frees its own block, not its parent's */
	feed(&rp, (struct mt_event){.type = MT_EV_FREE, .pid = 200, .tid = 201, .addr = 0x1000});
	counts(&rp, 2, 1, 0, 30, 10, 1);
	assert_non_null(block(&rp, 1, 0x1000));
	replay_free(&rp);
}

static void test_many_blocks(void **state)
{
	struct replay rp;

	/* the table grows, and shrinks back through deletions in any order */
	replay_init(&rp, AN_KIND_HEAP);
	for (uint64_t i = 1; i <= 100000; i++)
		ALLOC(0x10000 + i * 16, i, 1);
	assert_int_equal(rp.blocks, 100000);
	for (uint64_t i = 1; i <= 100000; i += 2)
		FREE(0x10000 + i * 16, 0);
	for (uint64_t i = 100000; i >= 2; i -= 2) {
		const struct lot *b = block(&rp, 0, 0x10000 + i * 16);

		assert_non_null(b);
		assert_int_equal(b->size, i);
		FREE(0x10000 + i * 16, 0);
	}
	counts(&rp, 100000, 100000, 0, 100000ull * 100001 / 2, 0, 0);
	replay_free(&rp);
}

/* A random run of two processes (the child forked with a copy, exiting
 * halfway), heap and mappings, for the one-pass peak. */
static uint64_t seed = 88172645463325252ull;

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static struct mt_event random_event(uint64_t i, uint64_t n)
{
	uint32_t pid = i > n / 4 && i < n / 2 && rnd() % 2 ? 200 : 100;
	uint64_t addr = 0x1000 + (rnd() % 256) * 16;
	struct mt_event ev = {.pid = pid, .tid = pid, .stack = 1 + rnd() % 4};

	if (i == 0)
		return (struct mt_event){.type = MT_EV_PROC_START, .pid = 100, .tid = 100, .space = 1,
					 .mflags = MT_PROC_EXEC};
	if (i == n / 4)
		return (struct mt_event){.type = MT_EV_PROC_START, .pid = 200, .tid = 200, .space = 2,
					 .arg = 100, .mflags = MT_PROC_FORK};
	if (i == n / 2)
		return (struct mt_event){.type = MT_EV_PROC_EXIT, .pid = 200, .tid = 200};
	switch (rnd() % 6) {
	case 0:
	case 1:
		ev.type = MT_EV_ALLOC;
		ev.fn = MT_FN_MALLOC;
		ev.addr = addr;
		ev.size = 1 + rnd() % 3 * 100;
		break;
	case 2:
		ev.type = MT_EV_REALLOC;
		ev.fn = MT_FN_REALLOC;
		ev.old_addr = addr;
		ev.addr = 0x1000 + (rnd() % 256) * 16;
		ev.size = 1 + rnd() % 3 * 100;
		break;
	case 3:
		ev.type = MT_EV_MMAP;
		ev.addr = 0x100000 + (rnd() % 64) * 4096;
		ev.size = 4096 * (1 + rnd() % 3);
		ev.mflags = MT_MAP_ANONYMOUS;
		break;
	case 4:
		ev.type = MT_EV_MUNMAP;
		ev.addr = 0x100000 + (rnd() % 64) * 4096;
		ev.size = 4096;
		break;
	default:
		ev.type = MT_EV_FREE;
		ev.fn = MT_FN_FREE;
		ev.addr = addr;
		break;
	}
	return ev;
}

static void test_peak_in_one_pass(void **state)
{
	const uint64_t n = 20000;

	for (unsigned kind = AN_KIND_HEAP; kind <= AN_KIND_ALL; kind++) {
		struct replay all, upto;
		uint64_t start = seed;

		/* the whole run, and the run stopped at its peak */
		replay_init(&all, kind);
		all.root = 100;
		for (uint64_t i = 0; i < n; i++) {
			struct mt_event ev = random_event(i, n);

			assert_int_equal(replay_event(&all, &ev, i), 0);
		}
		assert_true(all.peaks > 10);
		seed = start;
		replay_init(&upto, kind);
		upto.root = 100;
		for (uint64_t i = 0; i <= all.peak_event; i++) {
			struct mt_event ev = random_event(i, n);

			assert_int_equal(replay_event(&upto, &ev, i), 0);
		}
		/* lots are made in the same order: each one's counts at the peak
		 * are those of the run stopped there */
		assert_true(upto.nlots <= all.nlots);
		for (uint32_t i = 0; i < all.nlots; i++) {
			const struct lot_counts *p = replay_lot_at_peak(&all, &all.lots[i]);
			struct lot_counts none = {0};
			const struct lot_counts *want = i < upto.nlots ? &upto.lots[i].now : &none;

			assert_int_equal(p->live, want->live);
			assert_int_equal(p->live_bytes, want->live_bytes);
			assert_int_equal(p->allocs, want->allocs);
			assert_int_equal(p->alloc_bytes, want->alloc_bytes);
			assert_int_equal(p->temps, want->temps);
		}
		/* the child exited before or after the peak */
		assert_int_equal(replay_space_gone_at_peak(&all, 2), replay_space_exited(&upto, 2));
		replay_free(&all);
		replay_free(&upto);
		seed = start + 1;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_free),     cmocka_unit_test(test_teardown_frees),
		cmocka_unit_test(test_realloc_cases),  cmocka_unit_test(test_heap_peak),
		cmocka_unit_test(test_mmap_family),    cmocka_unit_test(test_brk_events),
		cmocka_unit_test(test_address_spaces), cmocka_unit_test(test_many_blocks),
		cmocka_unit_test(test_peak_in_one_pass),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
