/*
 * say.h - how samples print: formatted into a stack buffer and written
 * with write(2), so that printing allocates nothing (stdio would malloc its
 * buffer, at a line of the sample, and the sample's own account of its
 * memory would be wrong by that much).
 */
#ifndef MEMTRACK_SAMPLES_SAY_H
#define MEMTRACK_SAMPLES_SAY_H

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static inline void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	if (n > 0 && write(STDOUT_FILENO, buf, (size_t)n) < 0)
		_exit(2);
}

#endif
