/*
 * test_formats_tracemalloc.c - tracemalloc's text layouts against answers
 * produced by Python 3.11's own tracemalloc (_format_size, Statistic,
 * StatisticDiff, Traceback.format).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "formats/tracemalloc.h"

/* python3 -c 'from tracemalloc import _format_size; print(_format_size(SIZE, SIGN))' */
static const struct {
	double size;
	int sign;
	const char *expect;
} sizes[] = {
	/* sizes, as Statistic prints them */
	{0.0, 0, "0 B"},
	{1.0, 0, "1 B"},
	{99.0, 0, "99 B"},
	{100.0, 0, "100 B"},
	{101.0, 0, "101 B"},
	{999.0, 0, "999 B"},
	{1000.0, 0, "1000 B"},
	{1023.0, 0, "1023 B"},
	{1024.0, 0, "1024 B"},
	{1025.0, 0, "1025 B"},
	{1536.0, 0, "1536 B"},
	{2047.0, 0, "2047 B"},
	{2048.0, 0, "2048 B"},
	{10239.0, 0, "10239 B"},
	{10240.0, 0, "10.0 KiB"},
	{10241.0, 0, "10.0 KiB"},
	{10291.0, 0, "10.0 KiB"},
	{10342.0, 0, "10.1 KiB"},
	{51200.0, 0, "50.0 KiB"},
	{80000.0, 0, "78.1 KiB"},
	{101888.0, 0, "99.5 KiB"},
	{102347.0, 0, "99.9 KiB"},
	{102348.0, 0, "99.9 KiB"},
	{102399.0, 0, "100.0 KiB"},
	{102400.0, 0, "100 KiB"},
	{102401.0, 0, "100 KiB"},
	{1048575.0, 0, "1024 KiB"},
	{1048576.0, 0, "1024 KiB"},
	{8000000.0, 0, "7812 KiB"},
	{8000112.0, 0, "7813 KiB"},
	{8000512.0, 0, "7813 KiB"},
	{10485759.0, 0, "10240 KiB"},
	{10485760.0, 0, "10.0 MiB"},
	{35966156.0, 0, "34.3 MiB"},
	{104857599.0, 0, "100.0 MiB"},
	{104857600.0, 0, "100 MiB"},
	{104857601.0, 0, "100 MiB"},
	{1073741823.0, 0, "1024 MiB"},
	{1073741824.0, 0, "1024 MiB"},
	{10737418239.0, 0, "10240 MiB"},
	{10737418240.0, 0, "10.0 GiB"},
	{107374182399.0, 0, "100.0 GiB"},
	{107374182400.0, 0, "100 GiB"},
	{1099511627775.0, 0, "1024 GiB"},
	{1099511627776.0, 0, "1024 GiB"},
	{10995116277759.0, 0, "10240 GiB"},
	{10995116277760.0, 0, "10.0 TiB"},
	{109951162777600.0, 0, "100 TiB"},
	{1125899906842624.0, 0, "1024 TiB"},
	{9223372036854775807.0, 0, "8388608 TiB"},
	/* averages: non-integer values, ties on .5 */
	{2.5, 0, "2 B"},
	{3.5, 0, "4 B"},
	{0.5, 0, "0 B"},
	{1.5, 0, "2 B"},
	{7812.5, 0, "7812 B"},
	{99.95, 0, "100 B"},
	{99.94999, 0, "100 B"},
	{102348.8, 0, "100.0 KiB"},
	{0.3333333333333333, 0, "0 B"},
	{1023.5, 0, "1024 B"},
	{10239.5, 0, "10240 B"},
	{102399.5, 0, "100.0 KiB"},
	{26666.666666666668, 0, "26.0 KiB"},
	{2666666.3333333335, 0, "2604 KiB"},
	{5138022.285714285, 0, "5018 KiB"},
	{10485759.5, 0, "10240 KiB"},
	{0.05, 0, "0 B"},
	{0.25, 0, "0 B"},
	/* signed, as StatisticDiff prints a size difference */
	{0.0, 1, "+0 B"},
	{1.0, 1, "+1 B"},
	{99.0, 1, "+99 B"},
	{1023.0, 1, "+1023 B"},
	{1024.0, 1, "+1024 B"},
	{10239.0, 1, "+10239 B"},
	{10240.0, 1, "+10.0 KiB"},
	{102399.0, 1, "+100.0 KiB"},
	{102400.0, 1, "+100 KiB"},
	{8000000.0, 1, "+7812 KiB"},
	{10485760.0, 1, "+10.0 MiB"},
	{1073741824.0, 1, "+1024 MiB"},
	{-1.0, 1, "-1 B"},
	{-99.0, 1, "-99 B"},
	{-100.0, 1, "-100 B"},
	{-1024.0, 1, "-1024 B"},
	{-10239.0, 1, "-10239 B"},
	{-10240.0, 1, "-10.0 KiB"},
	{-102399.0, 1, "-100.0 KiB"},
	{-102400.0, 1, "-100 KiB"},
	{-8000000.0, 1, "-7812 KiB"},
	{-35966156.0, 1, "-34.3 MiB"},
	{-10485760.0, 1, "-10.0 MiB"},
};

static void test_format_size(void **state)
{
	char buf[TM_SIZE_LEN];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		tm_format_size(buf, sizes[i].size, sizes[i].sign);
		if (strcmp(buf, sizes[i].expect))
			fail_msg("_format_size(%.17g, %d): got \"%s\", want \"%s\"", sizes[i].size,
				 sizes[i].sign, buf, sizes[i].expect);
	}
}

/* Captures what fn printed. */
struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static void capture_open(struct capture *c)
{
	c->text = NULL;
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
}

static const char *capture_close(struct capture *c)
{
	fclose(c->f);
	return c->text;
}

/* str(Statistic(Traceback((("samples/arrays.c", 21),)), size, count)) */
static const struct {
	uint64_t size, count;
	const char *expect;
} stats[] = {
	{8000000, 1, "samples/arrays.c:21: size=7812 KiB, count=1, average=7812 KiB"},
	{0, 0, "samples/arrays.c:21: size=0 B, count=0"},
	{80000, 3, "samples/arrays.c:21: size=78.1 KiB, count=3, average=26.0 KiB"},
	{8000112, 2, "samples/arrays.c:21: size=7813 KiB, count=2, average=3906 KiB"},
	{35966156, 7, "samples/arrays.c:21: size=34.3 MiB, count=7, average=5018 KiB"},
	{1, 1, "samples/arrays.c:21: size=1 B, count=1, average=1 B"},
	{102400, 1000, "samples/arrays.c:21: size=100 KiB, count=1000, average=102 B"},
	{7999999, 3, "samples/arrays.c:21: size=7812 KiB, count=3, average=2604 KiB"},
};

static void test_statistic(void **state)
{
	for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++) {
		struct capture c;
		char want[256];

		capture_open(&c);
		assert_int_equal(tm_print_statistic(c.f, "samples/arrays.c:21", stats[i].size,
						    stats[i].count),
				 0);
		snprintf(want, sizeof(want), "%s\n", stats[i].expect);
		assert_string_equal(capture_close(&c), want);
		free(c.text);
	}
}

/* str(StatisticDiff(traceback, size, size_diff, count, count_diff)) */
static const struct {
	uint64_t size;
	int64_t size_diff;
	uint64_t count;
	int64_t count_diff;
	const char *expect;
} diffs[] = {
	{8000000, 8000000, 2, 2,
	 "samples/arrays.c:21: size=7812 KiB (+7812 KiB), count=2 (+2), average=3906 KiB"},
	{0, -80000, 0, -3, "samples/arrays.c:21: size=0 B (-78.1 KiB), count=0 (-3)"},
	{80000, 0, 3, 0,
	 "samples/arrays.c:21: size=78.1 KiB (+0 B), count=3 (+0), average=26.0 KiB"},
	{35966156, -1024, 7, -1,
	 "samples/arrays.c:21: size=34.3 MiB (-1024 B), count=7 (-1), average=5018 KiB"},
	{102400, 102399, 1000, 999,
	 "samples/arrays.c:21: size=100 KiB (+100.0 KiB), count=1000 (+999), average=102 B"},
};

static void test_statistic_diff(void **state)
{
	for (size_t i = 0; i < sizeof(diffs) / sizeof(diffs[0]); i++) {
		struct capture c;
		char want[256];

		capture_open(&c);
		assert_int_equal(tm_print_statistic_diff(c.f, "samples/arrays.c:21", diffs[i].size,
							 diffs[i].size_diff, diffs[i].count,
							 diffs[i].count_diff),
				 0);
		snprintf(want, sizeof(want), "%s\n", diffs[i].expect);
		assert_string_equal(capture_close(&c), want);
		free(c.text);
	}
}

/* Traceback.format(): the source line is stripped like str.strip() and
 * left out when nothing remains. */
static void test_frame(void **state)
{
	struct capture c;

	capture_open(&c);
	tm_print_frame(c.f, "samples/arrays.c", 21, "\t\tdouble *a = malloc(n * 8);  \r\n");
	tm_print_frame(c.f, "samples/arrays.c", 7, " \t\x0c\n");
	tm_print_frame(c.f, "/lib/libc.so.6(malloc+0x1a)", 0, NULL);
	tm_print_frame(c.f, "a.c", 3, "\x1c x\x1f");
	assert_string_equal(capture_close(&c), "  File \"samples/arrays.c\", line 21\n"
					       "    double *a = malloc(n * 8);\n"
					       "  File \"samples/arrays.c\", line 7\n"
					       "  File \"/lib/libc.so.6(malloc+0x1a)\", line 0\n"
					       "  File \"a.c\", line 3\n"
					       "    x\n");
	free(c.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_size),
		cmocka_unit_test(test_statistic),
		cmocka_unit_test(test_statistic_diff),
		cmocka_unit_test(test_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
