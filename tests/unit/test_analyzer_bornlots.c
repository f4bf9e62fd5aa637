/*
 * test_analyzer_bornlots.c - a replay's blocks by serial (analyzer/bornlots.h)
 * agree with a plain model over a long random run: blocks made in order,
 * taken in every order (the last made, the oldest first, any), lots
 * beyond 16 bits in chunks of narrow ones; and a block costs a few bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyzer/bornlots.h"
#include "analyzer/table.h"

static uint64_t seed = 88172645463325252ull;

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static void check(struct bornlots *b, struct u64_map *ref, uint64_t serial, int take)
{
	uint64_t *v = u64_map_get(ref, serial);
	uint32_t lot = 0;
	int got = take ? bornlots_take(b, serial, &lot) : bornlots_get(b, serial, &lot);

	assert_int_equal(got, v != NULL);
	if (!v)
		return;
	assert_int_equal(lot, *v);
	if (take)
		u64_map_del(ref, serial);
}

static void test_against_a_plain_model(void **state)
{
	struct bornlots b = {0};
	struct u64_map ref = {0};
	uint64_t serial = 0;

	for (int n = 0; n < 600000; n++) {
		switch (rnd() % 8) {
		case 0: /* a jump in serials: blocks made and freed elsewhere */
			serial += rnd() % 300;
			/* fall through */
		case 1:
		case 2:
		case 3: {
			/* most lots narrow, a few beyond 16 bits */
			uint32_t lot = rnd() % 16 ? 1 + (uint32_t)(rnd() % 60000)
						  : 70000 + (uint32_t)(rnd() % 100000);

			assert_int_equal(bornlots_add(&b, ++serial, lot), 0);
			*u64_map_put(&ref, serial, NULL) = lot;
			break;
		}
		case 4: /* the last made, or one just before */
			check(&b, &ref, serial - rnd() % 4, 1);
			break;
		case 5: /* anything made so far */
			check(&b, &ref, 1 + rnd() % (serial + 1), (int)(rnd() % 2));
			break;
		default: /* the oldest first */
			check(&b, &ref, 1 + rnd() % (serial / 64 + 1), 1);
			break;
		}
		assert_int_equal(b.len, ref.len);
	}
	for (uint64_t s = 1; s <= serial; s++)
		check(&b, &ref, s, 1);
	assert_int_equal(b.len, 0);
	assert_int_equal(bornlots_memory(&b), b.ndirs * sizeof(void *)); /* chunks all gone */
	bornlots_free(&b);
	u64_map_free(&ref);
}

static void test_few_bytes_per_block(void **state)
{
	struct bornlots b = {0};
	uint32_t lot;

	/* two million blocks, every other one freed at once */
	for (uint64_t s = 1; s <= 2000000; s++) {
		assert_int_equal(bornlots_add(&b, s, 1 + (uint32_t)(s % 1000)), 0);
		if (s % 2 == 0)
			assert_int_equal(bornlots_take(&b, s, &lot), 1);
	}
	assert_int_equal(b.len, 1000000);
	assert_true(bornlots_memory(&b) < 5 * 1000000);
	for (uint64_t s = 1; s <= 2000000; s += 2) {
		assert_int_equal(bornlots_take(&b, s, &lot), 1);
		assert_int_equal(lot, 1 + s % 1000);
	}
	assert_int_equal(b.len, 0);
	bornlots_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_a_plain_model),
		cmocka_unit_test(test_few_bytes_per_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
