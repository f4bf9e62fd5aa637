/*
 * test_formats_crc32c.c - CRC-32C against published vectors (RFC 3720
 * appendix B.4 and the "123456789" check value), chaining, and the
 * SSE4.2 path against the table path at every length and alignment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "formats/crc32c.h"

static void check(const void *buf, size_t len, uint32_t want)
{
	assert_int_equal(crc32c(0, buf, len), want);
	assert_int_equal(crc32c_portable(0, buf, len), want);
}

static void test_vectors(void **state)
{
	uint8_t b[32];

	check("123456789", 9, 0xE3069283u);
	check("", 0, 0x00000000u);
	check("a", 1, 0xC1D04330u);
	memset(b, 0, sizeof(b));
	check(b, 32, 0x8A9136AAu);
	memset(b, 0xff, sizeof(b));
	check(b, 32, 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	check(b, 32, 0x46DD794Eu);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(31 - i);
	check(b, 32, 0x113FDB5Cu);
}

static void test_chaining(void **state)
{
	const char *s = "123456789";

	for (size_t cut = 0; cut <= 9; cut++) {
		assert_int_equal(crc32c(crc32c(0, s, cut), s + cut, 9 - cut), 0xE3069283u);
		assert_int_equal(crc32c_portable(crc32c_portable(0, s, cut), s + cut, 9 - cut),
				 0xE3069283u);
	}
}

static void test_paths_agree(void **state)
{
	static uint8_t buf[4096 + 16];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len < 300; len++)
			assert_int_equal(crc32c(0, buf + off, len),
					 crc32c_portable(0, buf + off, len));
	assert_int_equal(crc32c(0, buf, 4096), crc32c_portable(0, buf, 4096));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_chaining),
		cmocka_unit_test(test_paths_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
