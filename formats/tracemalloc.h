/*
 * tracemalloc.h - the text Python's tracemalloc prints, byte for byte:
 * _format_size(), Statistic.__str__, StatisticDiff.__str__ and the lines of
 * Traceback.format().  `top` and `diff` print through these so their output
 * can be compared with tracemalloc's line for line.
 *
 * Functions writing to a FILE return 0, or -EIO when the stream failed.
 */
#ifndef MEMTRACK_FORMATS_TRACEMALLOC_H
#define MEMTRACK_FORMATS_TRACEMALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Room for any tm_format_size() result ("-1.79...e308 TiB" fits too). */
#define TM_SIZE_LEN 336

/*
 * _format_size(size, sign): "7813 KiB", "78.2 KiB", "+1.5 MiB", "0 B".
 * Writes into buf (of TM_SIZE_LEN bytes) and returns buf.
 */
char *tm_format_size(char *buf, double size, int sign);

/* Statistic.__str__: "TRACE: size=S, count=N, average=A" (no average when
 * count is 0) and a newline.  trace is what str(traceback) gives, e.g.
 * "samples/arrays.c:21". */
int tm_print_statistic(FILE *out, const char *trace, uint64_t size, uint64_t count);

/* StatisticDiff.__str__: "TRACE: size=S (+D), count=N (+C), average=A" and a
 * newline. */
int tm_print_statistic_diff(FILE *out, const char *trace, uint64_t size, int64_t size_diff,
			    uint64_t count, int64_t count_diff);

/* One frame of Traceback.format(): '  File "PATH", line N', then, when
 * source is not NULL and not empty once stripped, '    SOURCE' stripped of
 * surrounding whitespace as Python's str.strip() does. */
int tm_print_frame(FILE *out, const char *path, uint32_t line, const char *source);

#endif
