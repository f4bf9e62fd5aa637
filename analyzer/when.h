/*
 * when.h - WHEN in words, for the reports' messages (an_when_parse() is in
 * analyzer.h).
 */
#ifndef MEMTRACK_ANALYZER_WHEN_H
#define MEMTRACK_ANALYZER_WHEN_H

#include <stddef.h>

#include "analyzer.h"

/* "at the end of the log", "at the peak", "at 1.5s", "after #12",
 * "at mark:2"; into buf, returned. */
const char *when_describe(const struct an_when *w, char *buf, size_t len);

/* WHEN as the command line writes it ("end", "1.5s", "#12", "mark:2"),
 * into buf, returned. */
const char *when_format(const struct an_when *w, char *buf, size_t len);

#endif
