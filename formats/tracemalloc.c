/*
 * tracemalloc.c - Python tracemalloc's text layouts (see tracemalloc.h).
 *
 * Python formats sizes with "%.1f"/"%.0f" on a double; glibc's printf
 * rounds the exact binary value half-to-even just as Python does, so the
 * same format strings give the same digits.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tracemalloc.h"

char *tm_format_size(char *buf, double size, int sign)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		int last = i == sizeof(units) / sizeof(units[0]) - 1;

		if (fabs(size) < 100 && i > 0) {
			/* 3 digits: "xx.x UNIT" */
			snprintf(buf, TM_SIZE_LEN, sign ? "%+.1f %s" : "%.1f %s", size, units[i]);
			return buf;
		}
		if (fabs(size) < 10 * 1024 || last) {
			/* 4 or 5 digits: "xxxx UNIT" */
			snprintf(buf, TM_SIZE_LEN, sign ? "%+.0f %s" : "%.0f %s", size, units[i]);
			return buf;
		}
		size /= 1024;
	}
	return buf; /* not reached: the last unit always returns */
}

static int stream_status(FILE *out)
{
	return ferror(out) ? -EIO : 0;
}

/* ", average=A" when there is anything to average, then the newline. */
static void print_average(FILE *out, uint64_t size, uint64_t count)
{
	char avg[TM_SIZE_LEN];

	if (count)
		fprintf(out, ", average=%s", tm_format_size(avg, (double)size / (double)count, 0));
	fputc('\n', out);
}

int tm_print_statistic(FILE *out, const char *trace, uint64_t size, uint64_t count)
{
	char sz[TM_SIZE_LEN];

	fprintf(out, "%s: size=%s, count=%llu", trace, tm_format_size(sz, (double)size, 0),
		(unsigned long long)count);
	print_average(out, size, count);
	return stream_status(out);
}

int tm_print_statistic_diff(FILE *out, const char *trace, uint64_t size, int64_t size_diff,
			    uint64_t count, int64_t count_diff)
{
	char sz[TM_SIZE_LEN], diff[TM_SIZE_LEN];

	fprintf(out, "%s: size=%s (%s), count=%llu (%+lld)", trace,
		tm_format_size(sz, (double)size, 0), tm_format_size(diff, (double)size_diff, 1),
		(unsigned long long)count, (long long)count_diff);
	print_average(out, size, count);
	return stream_status(out);
}

/* Python's str.isspace() for the ASCII range, which is all C sources use. */
static int py_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

int tm_print_frame(FILE *out, const char *path, uint32_t line, const char *source)
{
	fprintf(out, "  File \"%s\", line %u\n", path, line);
	if (source) {
		const char *s = source, *e = source + strlen(source);

		while (s < e && py_space((unsigned char)*s))
			s++;
		while (e > s && py_space((unsigned char)e[-1]))
			e--;
		if (e > s)
			fprintf(out, "    %.*s\n", (int)(e - s), s);
	}
	return stream_status(out);
}
