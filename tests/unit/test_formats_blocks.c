/*
 * test_formats_blocks.c - the compact table of live heap blocks: every
 * put, take and get agrees with a plain table over a long random run
 * (addresses dense in a page, spread over regions, not multiples of 8;
 * values of 2 bytes and of 4, so pages widen as they fill), iteration
 * visits each block once, and a block costs a few bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "formats/blocks.h"

/* the reference: address -> value */
HASH_DEFINE(ref_map, uint64_t, uint64_t, pagedir_hash, pagedir_eq)

/* xorshift64: the same run every time */
static uint64_t seed = 88172645463325252ull;

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

/* An address of one of a few shapes: dense 16-byte blocks in a few pages,
 * 8-byte units anywhere in a 64 MiB region, other regions, odd ones. */
static uint64_t address(void)
{
	switch (rnd() % 5) {
	case 0:
		return 0x555555560000ull + (rnd() % 4096) * 16;
	case 1:
		return 0x7f0000000000ull + (rnd() % (1u << 23)) * 8;
	case 2:
		return ((rnd() % 64) << 26) + 0x10000000000ull + (rnd() % 1024) * 8;
	case 3:
		return 0x555555560000ull + (rnd() % 4096) * 16 + 1 + rnd() % 7;
	default:
		return 8 + (rnd() % 512) * 8; /* the first page of memory */
	}
}

static void test_against_a_plain_table(void **state)
{
	struct blocks b;
	struct ref_map ref = {0};
	struct blocks_iter it = {0};
	uint64_t addr, *rv;
	uint32_t v, seen = 0;
	size_t i = 0;

	blocks_init(&b);
	for (uint32_t n = 1; n <= 600000; n++) {
		uint64_t a = address();
		int created, ret;
		uint32_t old = 0;
		/* mostly a narrow page's values, now and then a wide one */
		uint32_t val = rnd() % 8 ? (uint32_t)(rnd() % 65536) : (uint32_t)rnd();

		switch (rnd() % 3) {
		case 0: /* put */
		case 1:
			rv = ref_map_put(&ref, a, &created);
			ret = blocks_put(&b, a, val, &old);
			assert_int_equal(ret, !created);
			if (!created)
				assert_int_equal(old, (uint32_t)*rv);
			*rv = val;
			break;
		default: /* take */
			rv = ref_map_get(&ref, a);
			ret = blocks_take(&b, a, &v);
			assert_int_equal(ret, rv != NULL);
			if (rv) {
				assert_int_equal(v, (uint32_t)*rv);
				ref_map_del(&ref, a);
			}
			break;
		}
		assert_int_equal(b.len, ref.len);
	}
	/* every block is found, with its value */
	while (ref_map_next(&ref, &i, &addr, &rv)) {
		assert_int_equal(blocks_get(&b, addr, &v), 1);
		assert_int_equal(v, (uint32_t)*rv);
	}
	/* and visited once */
	while (blocks_next(&b, &it, &addr, &v)) {
		rv = ref_map_get(&ref, addr);
		assert_non_null(rv);
		assert_int_equal(v, (uint32_t)*rv);
		*rv = 0; /* a second visit would find 0 */
		seen++;
	}
	assert_int_equal(seen, ref.len);
	ref_map_free(&ref);
	blocks_free(&b);
	assert_int_equal(b.len, 0);
}

static void test_few_bytes_per_block(void **state)
{
	struct blocks b;
	uint32_t v;

	/* a million blocks of 48 bytes, as an allocator hands them out */
	blocks_init(&b);
	for (uint64_t i = 0; i < 1000000; i++)
		assert_int_equal(blocks_put(&b, 0x555555560000ull + i * 48, (uint32_t)i, NULL), 0);
	assert_true(blocks_memory(&b) < 12 * 1000000);
	/* freed in the order they came, then in the reverse order */
	for (uint64_t i = 0; i < 1000000; i += 2) {
		assert_int_equal(blocks_take(&b, 0x555555560000ull + i * 48, &v), 1);
		assert_int_equal(v, (uint32_t)i);
	}
	for (uint64_t i = 999999; i < 1000000; i -= 2) {
		assert_int_equal(blocks_take(&b, 0x555555560000ull + i * 48, &v), 1);
		assert_int_equal(v, (uint32_t)i);
	}
	assert_int_equal(b.len, 0);
	assert_int_equal(blocks_get(&b, 0x555555560000ull, &v), 0);
	assert_int_equal(blocks_take(&b, 0x555555560000ull, &v), 0);
	blocks_free(&b);

	/* values below 65536 take 2 bytes, not 4 */
	for (uint64_t i = 0; i < 1000000; i++)
		assert_int_equal(blocks_put(&b, 0x555555560000ull + i * 48, (uint32_t)(i % 65536),
					    NULL),
				 0);
	assert_true(blocks_memory(&b) < 7 * 1000000);
	for (uint64_t i = 0; i < 1000000; i++) {
		assert_int_equal(blocks_get(&b, 0x555555560000ull + i * 48, &v), 1);
		assert_int_equal(v, (uint32_t)(i % 65536));
	}
	blocks_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_a_plain_table),
		cmocka_unit_test(test_few_bytes_per_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
