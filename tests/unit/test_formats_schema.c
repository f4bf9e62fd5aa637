/*
 * test_formats_schema.c - FORMAT.md's table of events says what the
 * MT_EVENTS table in formats/log.h says: the same kinds, tags and fields
 * in the same order, so the written spec cannot drift from the code.  Also
 * that the names replay prints are the table's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/log.h"

/* Relative to the top of the repository, where tests/run runs the tests. */
#define FORMAT_MD "formats/FORMAT.md"

/* A row of MT_EVENTS as FORMAT.md writes it, "| 2 | FREE | fn (not stored:
 * free), addr (freed) |": its members, those of a coding of their own noted. */
#define FIELD(member, coding)	     ", " #member NOTE_##coding
#define NOTE_FREED		     " (freed)"
#define NOTE_OLD		     " (freed or 0)"
#define NOTE_BORN		     " (born)"
#define NOTE_FREEFN		     " (not stored: free)"
#define NOTE_ARG		     " (if fn takes one)"
#define NOTE_U64		     ""
#define NOTE_U32		     ""
#define NOTE_I64		     ""
#define NOTE_FN			     ""
#define NOTE_CAUSE		     ""
#define NOTE_STRING		     ""
#define NOTE_STACK		     ""
#define ROW(kind, tag, name, fields) {tag, #kind, name, "" fields},

static const struct row {
	unsigned tag;
	const char *kind, *name;
	const char *fields; /* ", fn, addr (born)", or "" for none */
} rows[] = {MT_EVENTS(ROW, FIELD)};

static void test_format_md_lists_the_table(void **state)
{
	static const char head[] = "| tag | type | fields after the common four |";
	FILE *f = fopen(FORMAT_MD, "r");
	char line[512], want[512];
	size_t n = 0, nrows = sizeof(rows) / sizeof(rows[0]);
	int in_table = 0;

	if (!f)
		fail_msg("%s: not found; run from the top of the repository", FORMAT_MD);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, head, sizeof(head) - 1)) {
			in_table = 1;
			continue;
		}
		if (!in_table || !strncmp(line, "|---", 4))
			continue;
		if (line[0] != '|')
			break;
		assert_true(n < nrows);
		snprintf(want, sizeof(want), "| %u | %s | %s |\n", rows[n].tag, rows[n].kind,
			 rows[n].fields[0] ? rows[n].fields + 2 : "(none)");
		assert_string_equal(line, want);
		n++;
	}
	fclose(f);
	assert_int_equal(n, nrows);
	assert_int_equal(nrows, MT_EV_TYPE_COUNT - 1);
}

static void test_names_are_the_table(void **state)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_string_equal(mt_event_name(rows[i].tag), rows[i].name);
	assert_null(mt_event_name(0));
	assert_null(mt_event_name(MT_EV_TYPE_COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_md_lists_the_table),
		cmocka_unit_test(test_names_are_the_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
