/*
 * test_analyzer_when.c - WHEN parsing: every valid form, exact values, and
 * the malformed ones it must reject; WHEN in words.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "analyzer/analyzer.h"
#include "analyzer/when.h"

static void test_valid(void **state)
{
	static const struct {
		const char *text;
		enum an_when_kind kind;
		uint64_t value;
	} cases[] = {
		{"end", AN_WHEN_END, 0},
		{"peak", AN_WHEN_PEAK, 0},
		{"0s", AN_WHEN_TIME, 0},
		{"2s", AN_WHEN_TIME, 2000000000ull},
		{"1.5s", AN_WHEN_TIME, 1500000000ull},
		{".25s", AN_WHEN_TIME, 250000000ull},
		{"0.1s", AN_WHEN_TIME, 100000000ull},
		{"0.000000001s", AN_WHEN_TIME, 1},
		{"1.1234567891s", AN_WHEN_TIME, 1123456789ull}, /* beyond ns: dropped */
		{"007s", AN_WHEN_TIME, 7000000000ull},
		{"18446744073s", AN_WHEN_TIME, 18446744073000000000ull},
		{"#0", AN_WHEN_EVENT, 0},
		{"#12", AN_WHEN_EVENT, 12},
		{"#18446744073709551615", AN_WHEN_EVENT, UINT64_MAX},
		{"mark:1", AN_WHEN_MARK, 1},
		{"mark:42", AN_WHEN_MARK, 42},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct an_when w = {AN_WHEN_PEAK, 99};

		if (an_when_parse(cases[i].text, &w) != 0)
			fail_msg("'%s' rejected", cases[i].text);
		assert_int_equal(w.kind, cases[i].kind);
		assert_int_equal(w.value, cases[i].value);
	}
}

static void test_invalid(void **state)
{
	static const char *const cases[] = {
		"",
		"s",
		".s",
		"1.s",
		"-1s",
		"+1s",
		"1",
		"1.5",
		"1 s",
		" 1s",
		"1e3s",
		"1,5s",
		"1.2.3s",
		"0x10s",
		"#",
		"#-1",
		"#1x",
		"# 1",
		"#18446744073709551616",
		"mark:",
		"mark:0",
		"mark:x",
		"mark:-1",
		"mark1",
		"END",
		"Peak",
		"peak ",
		"ends",
		"18446744074s",
		"18446744073709551616s",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct an_when w = {AN_WHEN_MARK, 7};

		if (an_when_parse(cases[i], &w) != -EINVAL)
			fail_msg("'%s' accepted", cases[i]);
		/* a rejected WHEN leaves the output alone */
		assert_int_equal(w.kind, AN_WHEN_MARK);
		assert_int_equal(w.value, 7);
	}
	assert_int_equal(an_when_parse(NULL, &(struct an_when){0}), -EINVAL);
}

static void test_describe(void **state)
{
	char buf[64];

	assert_string_equal(when_describe(&(struct an_when){AN_WHEN_END, 0}, buf, sizeof(buf)),
			    "at the end of the log");
	assert_string_equal(when_describe(&(struct an_when){AN_WHEN_PEAK, 0}, buf, sizeof(buf)),
			    "at the peak");
	assert_string_equal(
		when_describe(&(struct an_when){AN_WHEN_TIME, 1500000000ull}, buf, sizeof(buf)),
		"at 1.5s");
	assert_string_equal(
		when_describe(&(struct an_when){AN_WHEN_TIME, 3000000000ull}, buf, sizeof(buf)),
		"at 3s");
	assert_string_equal(when_describe(&(struct an_when){AN_WHEN_TIME, 1}, buf, sizeof(buf)),
			    "at 0.000000001s");
	assert_string_equal(when_describe(&(struct an_when){AN_WHEN_EVENT, 12}, buf, sizeof(buf)),
			    "after #12");
	assert_string_equal(when_describe(&(struct an_when){AN_WHEN_MARK, 2}, buf, sizeof(buf)),
			    "at mark:2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
