/*
 * test_analyzer_regions.c - the interval arithmetic of mapped memory:
 * partial munmap splitting a mapping, one munmap over several, MAP_FIXED
 * over existing mappings, mremap moving and resizing, brk growing and
 * shrinking, address spaces kept apart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "analyzer/regions.h"

struct want {
	uint32_t space;
	uint64_t start, end;
	uint64_t stack; /* of the interval's block */
};

/* The intervals, in order, with the stacks of their blocks; and the bytes
 * and blocks the regions count. */
static void check(const struct regions *r, const struct want *w, size_t n, uint64_t live,
		  size_t blocks)
{
	uint64_t sum = 0;

	if (r->n != n) {
		for (size_t i = 0; i < r->n; i++)
			fprintf(stderr, "  [%u] %#llx-%#llx block %llu\n", r->v[i].space,
				(unsigned long long)r->v[i].start, (unsigned long long)r->v[i].end,
				(unsigned long long)r->v[i].block);
		fail_msg("%zu intervals, want %zu", r->n, n);
	}
	for (size_t i = 0; i < n; i++) {
		const struct region_block *b = region_blocks_get(&r->blocks, r->v[i].block);

		assert_int_equal(r->v[i].space, w[i].space);
		assert_int_equal(r->v[i].start, w[i].start);
		assert_int_equal(r->v[i].end, w[i].end);
		assert_non_null(b);
		assert_int_equal(b->stack, w[i].stack);
	}
	assert_int_equal(r->live, live);
	assert_int_equal(regions_blocks(r), blocks);
	/* every block's size is the bytes of it still mapped */
	for (size_t i = 0; i < r->n; i++)
		sum += r->v[i].end - r->v[i].start;
	assert_int_equal(sum, live);
	{
		size_t it = 0;
		uint64_t total = 0;
		struct region_block *v;

		while (region_blocks_next(&r->blocks, &it, NULL, &v))
			total += v->live;
		assert_int_equal(total, live);
	}
}

#define CHECK(r, live, blocks, ...)                                                                \
	do {                                                                                       \
		static const struct want w_[] = {__VA_ARGS__};                                     \
		check(r, w_, sizeof(w_) / sizeof(w_[0]), live, blocks);                            \
	} while (0)

static void test_partial_munmap_splits(void **state)
{
	struct regions r;

	regions_init(&r);
	assert_int_equal(regions_map(&r, 1, 0x1000, 0x4000, 11, 0), 0);
	CHECK(&r, 0x4000, 1, {1, 0x1000, 0x5000, 11});
	/* a hole in the middle: two intervals, still one block */
	assert_int_equal(regions_unmap(&r, 1, 0x2000, 0x1000), 0);
	CHECK(&r, 0x3000, 1, {1, 0x1000, 0x2000, 11}, {1, 0x3000, 0x5000, 11});
	/* the head, then the tail */
	regions_unmap(&r, 1, 0x1000, 0x1000);
	CHECK(&r, 0x2000, 1, {1, 0x3000, 0x5000, 11});
	regions_unmap(&r, 1, 0x4000, 0x1000);
	CHECK(&r, 0x1000, 1, {1, 0x3000, 0x4000, 11});
	/* unmapping nothing mapped changes nothing */
	regions_unmap(&r, 1, 0x8000, 0x1000);
	regions_unmap(&r, 1, 0x1000, 0x2000);
	CHECK(&r, 0x1000, 1, {1, 0x3000, 0x4000, 11});
	/* the last byte: the block dies */
	regions_unmap(&r, 1, 0x0, 0x10000);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.live, 0);
	assert_int_equal(regions_blocks(&r), 0);
	regions_free(&r);
}

static void test_munmap_over_several(void **state)
{
	struct regions r;

	regions_init(&r);
	regions_map(&r, 1, 0x1000, 0x1000, 1, 0);
	regions_map(&r, 1, 0x3000, 0x1000, 2, 0);
	regions_map(&r, 1, 0x5000, 0x1000, 3, 0);
	regions_map(&r, 1, 0x7000, 0x1000, 4, 0);
	CHECK(&r, 0x4000, 4, {1, 0x1000, 0x2000, 1}, {1, 0x3000, 0x4000, 2}, {1, 0x5000, 0x6000, 3},
	      {1, 0x7000, 0x8000, 4});
	/* cuts the tail of 1, all of 2, the head of 3; 4 untouched */
	regions_unmap(&r, 1, 0x1800, 0x4000);
	CHECK(&r, 0x800 + 0x800 + 0x1000, 3, {1, 0x1000, 0x1800, 1}, {1, 0x5800, 0x6000, 3},
	      {1, 0x7000, 0x8000, 4});
	regions_free(&r);
}

static void test_map_fixed_over_existing(void **state)
{
	struct regions r;

	regions_init(&r);
	regions_map(&r, 1, 0x10000, 0x10000, 5, 0);
	/* MAP_FIXED in the middle: the old mapping keeps both sides */
	regions_map(&r, 1, 0x14000, 0x4000, 6, 0);
	CHECK(&r, 0x10000, 2, {1, 0x10000, 0x14000, 5}, {1, 0x14000, 0x18000, 6},
	      {1, 0x18000, 0x20000, 5});
	{
		size_t it = 0;
		uint64_t id;
		struct region_block *b;

		while (region_blocks_next(&r.blocks, &it, &id, &b)) {
			assert_int_equal(b->live, b->stack == 5 ? 0xc000 : 0x4000);
		}
	}
	/* across the end of one and into another */
	regions_map(&r, 1, 0x17000, 0x2000, 7, 0);
	CHECK(&r, 0x10000, 3, {1, 0x10000, 0x14000, 5}, {1, 0x14000, 0x17000, 6},
	      {1, 0x17000, 0x19000, 7}, {1, 0x19000, 0x20000, 5});
	/* over everything: one block left */
	regions_map(&r, 1, 0x0, 0x30000, 8, 0);
	CHECK(&r, 0x30000, 1, {1, 0x0, 0x30000, 8});
	regions_free(&r);
}

static void test_mremap(void **state)
{
	struct regions r;

	regions_init(&r);
	regions_map(&r, 1, 0x1000, 0x2000, 7, 0);
	/* moved and grown: the original mapping's stack goes along */
	assert_int_equal(regions_remap(&r, 1, 0x1000, 0x2000, 0x9000, 0x4000, 0, 99), 0);
	CHECK(&r, 0x4000, 1, {1, 0x9000, 0xd000, 7});
	/* shrunk in place */
	regions_remap(&r, 1, 0x9000, 0x4000, 0x9000, 0x1000, 0, 99);
	CHECK(&r, 0x1000, 1, {1, 0x9000, 0xa000, 7});
	/* grown in place */
	regions_remap(&r, 1, 0x9000, 0x1000, 0x9000, 0x3000, 0, 99);
	CHECK(&r, 0x3000, 1, {1, 0x9000, 0xc000, 7});
	/* a mapping memtrack never saw: a new block with the mremap's stack */
	regions_remap(&r, 1, 0x40000, 0x1000, 0x50000, 0x2000, 0, 42);
	CHECK(&r, 0x5000, 2, {1, 0x9000, 0xc000, 7}, {1, 0x50000, 0x52000, 42});
	/* MREMAP_DONTUNMAP: the old range stays, the block grows by the new one */
	regions_remap(&r, 1, 0x50000, 0x2000, 0x60000, 0x2000, 1, 43);
	CHECK(&r, 0x7000, 2, {1, 0x9000, 0xc000, 7}, {1, 0x50000, 0x52000, 42},
	      {1, 0x60000, 0x62000, 42});
	/* moved onto another mapping: that one loses the overlap */
	regions_remap(&r, 1, 0x60000, 0x2000, 0xa000, 0x2000, 0, 44);
	CHECK(&r, 0x1000 + 0x2000 + 0x2000, 2, {1, 0x9000, 0xa000, 7}, {1, 0xa000, 0xc000, 42},
	      {1, 0x50000, 0x52000, 42});
	regions_free(&r);
}

static void test_brk(void **state)
{
	struct regions r;

	regions_init(&r);
	/* brk(0): where the break starts */
	regions_brk(&r, 1, 0x100000, 1, 1);
	CHECK(&r, 0, 0, );
	/* the program grows it: one block per growing call */
	regions_brk(&r, 1, 0x121000, 1, 3);
	CHECK(&r, 0x21000, 1, {1, 0x100000, 0x121000, 3});
	/* malloc grows it: not the program's mapping, but the break moved */
	regions_brk(&r, 1, 0x130000, 0, 0);
	CHECK(&r, 0x21000, 1, {1, 0x100000, 0x121000, 3});
	regions_brk(&r, 1, 0x140000, 1, 4);
	CHECK(&r, 0x31000, 2, {1, 0x100000, 0x121000, 3}, {1, 0x130000, 0x140000, 4});
	/* unchanged: nothing */
	regions_brk(&r, 1, 0x140000, 1, 5);
	CHECK(&r, 0x31000, 2, {1, 0x100000, 0x121000, 3}, {1, 0x130000, 0x140000, 4});
	/* shrinking takes from the top: 4 dies, 3 loses its top */
	regions_brk(&r, 1, 0x110000, 1, 6);
	CHECK(&r, 0x10000, 1, {1, 0x100000, 0x110000, 3});
	/* another address space has its own break */
	regions_brk(&r, 2, 0x500000, 1, 7);
	regions_brk(&r, 2, 0x501000, 1, 8);
	CHECK(&r, 0x11000, 2, {1, 0x100000, 0x110000, 3}, {2, 0x500000, 0x501000, 8});
	regions_free(&r);
}

static void test_spaces_apart(void **state)
{
	struct regions r;

	regions_init(&r);
	regions_map(&r, 2, 0x1000, 0x1000, 20, 0);
	regions_map(&r, 1, 0x1000, 0x1000, 10, 0);
	regions_map(&r, 3, 0x1000, 0x1000, 30, 0);
	CHECK(&r, 0x3000, 3, {1, 0x1000, 0x2000, 10}, {2, 0x1000, 0x2000, 20},
	      {3, 0x1000, 0x2000, 30});
	regions_unmap(&r, 2, 0x0, 0x10000);
	CHECK(&r, 0x2000, 2, {1, 0x1000, 0x2000, 10}, {3, 0x1000, 0x2000, 30});
	regions_free(&r);
}

static void test_files_and_spaces(void **state)
{
	struct regions r;
	struct region_space sp;

	/* a file mapping counts apart from anonymous memory, per space */
	regions_init(&r);
	regions_map(&r, 1, 0x1000, 0x2000, 10, 0);
	regions_map(&r, 1, 0x10000, 0x3000, 11, 1);
	regions_map(&r, 2, 0x1000, 0x1000, 20, 1);
	assert_int_equal(r.file_live, 0x4000);
	sp = regions_space(&r, 1);
	assert_int_equal(sp.anon, 0x2000);
	assert_int_equal(sp.file, 0x3000);
	/* a partial munmap of the file, MAP_FIXED anonymous memory over it */
	regions_unmap(&r, 1, 0x10000, 0x1000);
	regions_map(&r, 1, 0x11000, 0x1000, 12, 0);
	sp = regions_space(&r, 1);
	assert_int_equal(sp.anon, 0x3000);
	assert_int_equal(sp.file, 0x1000);
	assert_int_equal(r.file_live, 0x2000);
	sp = regions_space(&r, 7);
	assert_int_equal(sp.anon + sp.file, 0);
	regions_free(&r);
}

static void test_copy_and_drop(void **state)
{
	struct regions r;
	struct region_space sp;

	regions_init(&r);
	regions_brk(&r, 1, 0x500000, 1, 0);
	regions_brk(&r, 1, 0x502000, 1, 5);
	regions_map(&r, 1, 0x1000, 0x2000, 10, 0);
	regions_map(&r, 1, 0x10000, 0x3000, 11, 1);
	regions_unmap(&r, 1, 0x11000, 0x1000); /* one block, two intervals */
	regions_map(&r, 3, 0x9000, 0x1000, 30, 0);
	/* fork: space 2 gets copies of every block of 1, with their stacks */
	assert_int_equal(regions_copy_space(&r, 1, 2), 0);
	CHECK(&r, 0x6000 * 2 + 0x1000, 7, {1, 0x1000, 0x3000, 10}, {1, 0x10000, 0x11000, 11},
	      {1, 0x12000, 0x13000, 11}, {1, 0x500000, 0x502000, 5}, {2, 0x1000, 0x3000, 10},
	      {2, 0x10000, 0x11000, 11}, {2, 0x12000, 0x13000, 11}, {2, 0x500000, 0x502000, 5},
	      {3, 0x9000, 0xa000, 30});
	sp = regions_space(&r, 2);
	assert_int_equal(sp.anon, 0x4000);
	assert_int_equal(sp.file, 0x2000);
	/* the child's break is its parent's: it grows from there */
	regions_brk(&r, 2, 0x503000, 1, 6);
	assert_int_equal(regions_space(&r, 2).anon, 0x5000);
	/* the child unmaps its copy, the parent's stays */
	regions_unmap(&r, 2, 0x10000, 0x3000);
	assert_int_equal(regions_space(&r, 1).file, 0x2000);
	assert_int_equal(regions_space(&r, 2).file, 0);
	/* exec: everything of space 1 is gone */
	regions_drop_space(&r, 1);
	CHECK(&r, 0x5000 + 0x1000, 4, {2, 0x1000, 0x3000, 10}, {2, 0x500000, 0x502000, 5},
	      {2, 0x502000, 0x503000, 6}, {3, 0x9000, 0xa000, 30});
	assert_int_equal(r.file_live, 0);
	assert_int_equal(regions_space(&r, 1).anon, 0);
	regions_free(&r);
}

/* Before anything is mapped (the array not yet allocated), unmapping,
 * remapping, shrinking the break and dropping a space change nothing and
 * touch no memory: UBSan reported memmove(NULL, NULL, 0) here. */
static void test_empty(void **state)
{
	struct regions r;

	regions_init(&r);
	assert_int_equal(regions_unmap(&r, 1, 0x1000, 0x1000), 0);
	regions_drop_space(&r, 1);
	assert_int_equal(regions_brk(&r, 1, 0x5000, 1, 0), 0);
	regions_free(&r);
	regions_init(&r);
	assert_int_equal(regions_copy_space(&r, 1, 2), 0);
	regions_drop_space(&r, 2);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.live, 0);
	assert_int_equal(regions_blocks(&r), 0);
	regions_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partial_munmap_splits),
		cmocka_unit_test(test_munmap_over_several),
		cmocka_unit_test(test_map_fixed_over_existing),
		cmocka_unit_test(test_mremap),
		cmocka_unit_test(test_brk),
		cmocka_unit_test(test_spaces_apart),
		cmocka_unit_test(test_files_and_spaces),
		cmocka_unit_test(test_copy_and_drop),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
