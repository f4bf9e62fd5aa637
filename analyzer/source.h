/*
 * source.h - source lines for --by traceback, read the way Python's
 * linecache reads them: each file once, lines split at "\n", "\r\n" or "\r".
 */
#ifndef MEMTRACK_ANALYZER_SOURCE_H
#define MEMTRACK_ANALYZER_SOURCE_H

#include <stdint.h>

struct sources;

int sources_open(struct sources **out);
void sources_close(struct sources *s);

/* Line `line` (1-based) of the file at path, without its end of line; NULL
 * when the file cannot be read or is shorter.  Borrowed until close. */
const char *sources_line(struct sources *s, const char *path, uint32_t line);

#endif
