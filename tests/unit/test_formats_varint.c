/*
 * test_formats_varint.c - LEB128 varints and zigzag (formats/varint.h):
 * exact encodings at every length boundary, round trips, and each
 * malformed input the log reader must reject.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "formats/varint.h"

struct known {
	uint64_t v;
	size_t len;
	uint8_t bytes[VARINT_MAX];
};

static const struct known known[] = {
	{0, 1, {0x00}},
	{1, 1, {0x01}},
	{127, 1, {0x7f}},
	{128, 2, {0x80, 0x01}},
	{300, 2, {0xac, 0x02}},
	{16383, 2, {0xff, 0x7f}},
	{16384, 3, {0x80, 0x80, 0x01}},
	{(1ull << 32) - 1, 5, {0xff, 0xff, 0xff, 0xff, 0x0f}},
	{1ull << 32, 5, {0x80, 0x80, 0x80, 0x80, 0x10}},
	{(1ull << 56) - 1, 8, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
	{(1ull << 63) - 1, 9, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
	{1ull << 63, 10, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}},
	{UINT64_MAX, 10, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
};

static void test_known_encodings(void **state)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		uint8_t buf[VARINT_MAX + 4];
		const uint8_t *p = buf;
		uint64_t v = 0;
		uint8_t *end;

		memset(buf, 0xee, sizeof(buf));
		end = varint_put(buf, known[i].v);
		assert_int_equal(end - buf, known[i].len);
		assert_int_equal(varint_len(known[i].v), known[i].len);
		assert_memory_equal(buf, known[i].bytes, known[i].len);
		assert_int_equal(buf[known[i].len], 0xee); /* nothing written past the end */

		assert_int_equal(varint_get(&p, buf + known[i].len, &v), VARINT_OK);
		assert_true(v == known[i].v);
		assert_ptr_equal(p, buf + known[i].len);
		/* and with bytes after it: varint_get() then reads without
		 * checking for the end */
		p = buf;
		v = 0;
		assert_int_equal(varint_get(&p, buf + sizeof(buf), &v), VARINT_OK);
		assert_true(v == known[i].v);
		assert_ptr_equal(p, buf + known[i].len);
	}
}

/* Every power of two and its neighbours decode to themselves. */
static void test_round_trip_powers(void **state)
{
	for (int bit = 0; bit < 64; bit++) {
		uint64_t base = 1ull << bit;
		uint64_t vals[3] = {base - 1, base, base + 1};

		for (int k = 0; k < 3; k++) {
			uint8_t buf[VARINT_MAX];
			const uint8_t *p = buf;
			uint64_t v;
			size_t n = (size_t)(varint_put(buf, vals[k]) - buf);

			assert_int_equal(n, varint_len(vals[k]));
			assert_int_equal(varint_get(&p, buf + n, &v), VARINT_OK);
			assert_true(v == vals[k]);
			assert_ptr_equal(p, buf + n);
		}
	}
}

static void test_zigzag(void **state)
{
	static const struct {
		int64_t s;
		uint64_t u;
	} z[] = {
		{0, 0},
		{-1, 1},
		{1, 2},
		{-2, 3},
		{2, 4},
		{-64, 127},
		{64, 128},
		{INT32_MAX, 4294967294ull},
		{INT32_MIN, 4294967295ull},
		{INT64_MAX, UINT64_MAX - 1},
		{INT64_MIN, UINT64_MAX},
	};

	for (size_t i = 0; i < sizeof(z) / sizeof(z[0]); i++) {
		uint8_t buf[VARINT_MAX];
		const uint8_t *p = buf;
		uint64_t u = 0;
		size_t n;

		assert_true(zigzag_encode(z[i].s) == z[i].u);
		assert_true(zigzag_decode(z[i].u) == z[i].s);
		n = (size_t)(varint_put(buf, zigzag_encode(z[i].s)) - buf);
		assert_int_equal(varint_get(&p, buf + n, &u), VARINT_OK);
		assert_true(zigzag_decode(u) == z[i].s);
	}
	/* INT64_MIN is the longest zigzag varint. */
	assert_int_equal(varint_len(zigzag_encode(INT64_MIN)), 10);
}

static void expect_error(const uint8_t *bytes, size_t len, int error)
{
	const uint8_t *p = bytes;
	uint64_t v = 12345;

	assert_int_equal(varint_get(&p, bytes + len, &v), error);
	assert_ptr_equal(p, bytes); /* untouched on error */
	assert_true(v == 12345);
	if (error != VARINT_SHORT) {
		/* the same with bytes after it, read without checking for the end */
		uint8_t buf[2 * VARINT_MAX];

		memset(buf, 0xee, sizeof(buf));
		memcpy(buf, bytes, len);
		p = buf;
		assert_int_equal(varint_get(&p, buf + sizeof(buf), &v), error);
		assert_ptr_equal(p, buf);
		assert_true(v == 12345);
	}
}

static void test_malformed(void **state)
{
	static const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					 0x80, 0x80, 0x80, 0x81, 0x00};
	static const uint8_t overflow[] = {0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff, 0x02};
	static const uint8_t overflow_7f[] = {0x80, 0x80, 0x80, 0x80, 0x80,
					      0x80, 0x80, 0x80, 0x80, 0x7f};
	static const uint8_t zero_2[] = {0x80, 0x00};
	static const uint8_t one_3[] = {0x81, 0x80, 0x00};
	static const uint8_t zero_10[] = {0x80, 0x80, 0x80, 0x80, 0x80,
					  0x80, 0x80, 0x80, 0x80, 0x00};
	static const uint8_t cut[] = {0x80, 0x80};

	expect_error(eleven, sizeof(eleven), VARINT_TOO_LONG);
	expect_error(eleven, 10, VARINT_TOO_LONG); /* known at the 10th byte */
	expect_error(overflow, sizeof(overflow), VARINT_OVERFLOW);
	expect_error(overflow_7f, sizeof(overflow_7f), VARINT_OVERFLOW);
	expect_error(zero_2, sizeof(zero_2), VARINT_NOT_MINIMAL);
	expect_error(one_3, sizeof(one_3), VARINT_NOT_MINIMAL);
	expect_error(zero_10, sizeof(zero_10), VARINT_NOT_MINIMAL);
	expect_error(cut, sizeof(cut), VARINT_SHORT);
	expect_error(cut, 0, VARINT_SHORT);
	/* A cut 10-byte varint is short, not too long. */
	expect_error(overflow, 9, VARINT_SHORT);
}

/* Several varints back to back decode in order and stop exactly. */
static void test_sequence(void **state)
{
	uint8_t buf[64], *q = buf;
	const uint8_t *p = buf;
	uint64_t v;

	q = varint_put(q, 0);
	q = varint_put(q, UINT64_MAX);
	q = varint_put(q, 128);
	assert_int_equal(q - buf, 1 + 10 + 2);
	assert_int_equal(varint_get(&p, q, &v), VARINT_OK);
	assert_true(v == 0);
	assert_int_equal(varint_get(&p, q, &v), VARINT_OK);
	assert_true(v == UINT64_MAX);
	assert_int_equal(varint_get(&p, q, &v), VARINT_OK);
	assert_true(v == 128);
	assert_int_equal(varint_get(&p, q, &v), VARINT_SHORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_encodings), cmocka_unit_test(test_round_trip_powers),
		cmocka_unit_test(test_zigzag),		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_sequence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
