/*
 * test_formats_heaplive.c - the reader's live blocks (formats/heaplive.h)
 * agree with a plain model over a long random run: blocks made at
 * addresses near each other, far apart, not multiples of 8, or where a
 * live block is (which forgets that one), taken by serial in every order;
 * a block found from its address among chunks whose numbers share their
 * low 16 bits, also when the first block made where a live one is comes
 * after many; and a block costs a few bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "formats/heaplive.h"

/* the reference: serial -> address << 8 | class, address -> serial */
HASH_DEFINE(ref_map, uint64_t, uint64_t, pagedir_hash, pagedir_eq)

static uint64_t seed = 88172645463325252ull;

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

/* While set, addresses are never made twice, so no block is made where a
 * live one is: the model's addresses stay a set of bits. */
static int calm;
static uint64_t calm_made;

static uint64_t address(void)
{
	if (calm) {
		calm_made++;
		switch (rnd() % 4) {
		case 0: /* a heap */
			return 0x555555560000ull + calm_made * 48;
		case 1: /* another arena */
			return 0x7f0000000000ull + calm_made * 32;
		case 2: /* a page each, anywhere in it */
			return 0x20000000000ull + calm_made * 4096 + (rnd() % 512) * 8;
		default: /* not a multiple of 8 */
			return 0x555555560000ull + calm_made * 48 + 1 + rnd() % 7;
		}
	}
	switch (rnd() % 6) {
	case 0:
	case 1: /* a heap: 16-byte blocks in a few MiB */
		return 0x555555560000ull + (rnd() % (1u << 18)) * 16;
	case 2: /* another arena, far from the heap */
		return 0x7f0000000000ull + (rnd() % (1u << 16)) * 16;
	case 3: /* anywhere in 4 GiB */
		return 0x10000000000ull + (rnd() % (1u << 29)) * 8;
	case 4: /* not a multiple of 8 */
		return 0x555555560000ull + (rnd() % 4096) * 16 + 1 + rnd() % 7;
	default: /* few addresses: many made where a block is live */
		return 0x555555560000ull + (rnd() % 64) * 16;
	}
}

struct ref {
	struct ref_map by_serial, by_addr;
};

static void ref_drop(struct ref *r, uint64_t serial)
{
	uint64_t *v = ref_map_get(&r->by_serial, serial);

	assert_non_null(v);
	ref_map_del(&r->by_addr, *v >> 8);
	ref_map_del(&r->by_serial, serial);
}

static void make(struct heaplive *l, struct ref *r, uint64_t serial, uint64_t addr, unsigned cls)
{
	uint64_t *old = ref_map_get(&r->by_addr, addr);

	if (old)
		ref_drop(r, *old);
	*ref_map_put(&r->by_serial, serial, NULL) = addr << 8 | cls;
	*ref_map_put(&r->by_addr, addr, NULL) = serial;
	assert_int_equal(heaplive_make(l, serial, addr, cls), 0);
	assert_int_equal(l->len, r->by_serial.len);
}

static void check_take(struct heaplive *l, struct ref *r, uint64_t serial, int take)
{
	uint64_t *v = ref_map_get(&r->by_serial, serial), addr = 0;
	unsigned cls = 0;
	int got = take ? heaplive_take(l, serial, &addr, &cls) : heaplive_get(l, serial, &addr, &cls);

	assert_int_equal(got, v != NULL);
	if (!v)
		return;
	assert_int_equal(addr, *v >> 8);
	assert_int_equal(cls, *v & 0xff);
	if (take)
		ref_drop(r, serial);
	assert_int_equal(heaplive_has(l, addr), !take);
}

/* calm_ops: how many operations make no block where a live one is, first */
static void against_a_plain_model(int calm_ops)
{
	struct heaplive l = {0};
	struct ref r;

	memset(&r, 0, sizeof(r));
	uint64_t serial = 0, *v, k;
	size_t i = 0;

	for (int n = 0; n < 600000; n++) {
		calm = n < calm_ops;
		if (n == calm_ops)
			assert_int_equal(l.hinted, 0);
		switch (rnd() % 8) {
		case 0: /* a jump in serials: chunks left empty between */
			serial += rnd() % 200;
			/* fall through */
		case 1:
		case 2:
		case 3:
			make(&l, &r, ++serial, address(), 1 + (unsigned)(rnd() % 127));
			break;
		case 4: /* the last made, or one just before */
			check_take(&l, &r, serial - rnd() % 4, 1);
			break;
		case 5: /* anything made so far */
			check_take(&l, &r, 1 + rnd() % (serial + 1), rnd() % 2);
			break;
		case 6: /* the oldest live ones first */
			check_take(&l, &r, 1 + rnd() % (serial / 64 + 1), 1);
			break;
		default:
			k = address();
			assert_int_equal(heaplive_has(&l, k), ref_map_get(&r.by_addr, k) != NULL);
			break;
		}
		assert_int_equal(l.len, r.by_serial.len);
	}
	/* what is left is found, then taken */
	while (ref_map_next(&r.by_serial, &i, &k, &v))
		check_take(&l, &r, k, 0);
	for (k = 1; k <= serial; k++)
		check_take(&l, &r, k, 1);
	assert_int_equal(l.len, 0);
	assert_int_equal(r.by_serial.len, 0);
	assert_int_equal(l.hinted, 1);
	heaplive_free(&l);
	ref_map_free(&r.by_serial);
	ref_map_free(&r.by_addr);
}

static void test_against_a_plain_model(void **state)
{
	against_a_plain_model(0);
}

/* The same with many blocks live when the first is made where a live one
 * is: the addresses go from bits to hints then. */
static void test_against_a_plain_model_then_hinted(void **state)
{
	against_a_plain_model(300000);
}

/* A block made where a live one is: the chunk it is in is found by 16 bits
 * of its number, here among others that share them. */
static void test_forget_among_chunks_alike(void **state)
{
	struct heaplive l = {0};
	const uint64_t a = 0x555555560040ull, b = 0x555555560080ull;
	const uint64_t step = 64ull << 16; /* serials of chunks alike */
	uint64_t addr;
	unsigned cls;

	assert_int_equal(heaplive_make(&l, 5, a, 3), 0);
	assert_int_equal(heaplive_make(&l, 5 + step, b, 4), 0);
	assert_int_equal(heaplive_make(&l, 6 + step, 0x555555570000ull, 4), 0);
	assert_int_equal(heaplive_make(&l, 7 + 2 * step, a, 5), 0);
	/* the first block at a is forgotten, the others stay */
	assert_int_equal(heaplive_get(&l, 5, &addr, &cls), 0);
	assert_int_equal(heaplive_get(&l, 5 + step, &addr, &cls), 1);
	assert_int_equal(addr, b);
	assert_int_equal(heaplive_get(&l, 7 + 2 * step, &addr, &cls), 1);
	assert_int_equal(addr, a);
	assert_int_equal(cls, 5);
	assert_int_equal(l.len, 3);
	/* and again, the block at b */
	assert_int_equal(heaplive_make(&l, 8 + 3 * step, b, 6), 0);
	assert_int_equal(heaplive_get(&l, 5 + step, &addr, &cls), 0);
	assert_int_equal(heaplive_take(&l, 6 + step, &addr, &cls), 1);
	assert_int_equal(addr, 0x555555570000ull);
	assert_int_equal(l.len, 2);
	heaplive_free(&l);
}

static void test_few_bytes_per_block(void **state)
{
	struct heaplive l = {0};
	uint64_t addr;
	unsigned cls;

	/* a million blocks of 48 bytes, every other one freed at once */
	for (uint64_t s = 1; s <= 2000000; s++) {
		assert_int_equal(heaplive_make(&l, s, 0x555555560000ull + s * 48, 4), 0);
		if (s % 2 == 0)
			assert_int_equal(heaplive_take(&l, s, &addr, &cls), 1);
	}
	assert_int_equal(l.len, 1000000);
	assert_true(heaplive_memory(&l) < 11 * 1000000);
	for (uint64_t s = 1; s <= 2000000; s += 2) {
		assert_int_equal(heaplive_take(&l, s, &addr, &cls), 1);
		assert_int_equal(addr, 0x555555560000ull + s * 48);
	}
	assert_int_equal(l.len, 0);
	heaplive_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_a_plain_model),
		cmocka_unit_test(test_against_a_plain_model_then_hinted),
		cmocka_unit_test(test_forget_among_chunks_alike),
		cmocka_unit_test(test_few_bytes_per_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
