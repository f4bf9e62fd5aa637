/*
 * analyzer.h - offline reports over a memtrack log: replay it into
 * snapshots and print what Python's tracemalloc would print for them.
 *
 * The analyzer only reads logs (formats/log_reader.h) and resolves symbols
 * (symbolizer/, for logs that lack a symbol table); it never touches a
 * process.  Each report function writes its report to `out` and returns
 *   0       done,
 *   1       done, with warnings in st->message (one line each),
 *   < 0     a negative errno; st->message holds the one-line reason.
 */
#ifndef MEMTRACK_ANALYZER_H
#define MEMTRACK_ANALYZER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* --by: how statistics are grouped. */
enum an_group {
	AN_BY_LINENO = 0,	/* file:line of the allocation site */
	AN_BY_FILENAME,		/* file of the allocation site (printed file:0) */
	AN_BY_FUNCTION,		/* function of the allocation site */
	AN_BY_TRACEBACK,	/* the whole stack */
};

/* --kind: which memory is reported. */
#define AN_KIND_HEAP 0x1u	/* malloc family */
#define AN_KIND_MMAP 0x2u	/* mmap family, outside allocator calls */
#define AN_KIND_ALL  (AN_KIND_HEAP | AN_KIND_MMAP)

/* WHEN := end | peak | <seconds>s | #<event-number> | mark:<n> */
enum an_when_kind {
	AN_WHEN_END = 0,
	AN_WHEN_PEAK,
	AN_WHEN_TIME,		/* value: nanoseconds since the start of the log */
	AN_WHEN_EVENT,		/* value: event index; the state after that event */
	AN_WHEN_MARK,		/* value: mark number, 1-based */
};

struct an_when {
	enum an_when_kind kind;
	uint64_t value;
};

/* Parses a WHEN; 0 or -EINVAL. */
int an_when_parse(const char *text, struct an_when *out);

struct an_opts {
	const char *log;
	enum an_group by;
	long limit;			/* -n: how many statistics; <= 0: all */
	struct an_when at;
	const char *const *include;	/* --include globs (fnmatch) */
	size_t ninclude;
	const char *const *exclude;	/* --exclude globs */
	size_t nexclude;
	unsigned kind;			/* AN_KIND_* */
	int cumulative;
	int json;			/* summary --json */
};

struct an_status {
	char message[1024];
};

/* memtrack top */
int an_top(const struct an_opts *o, FILE *out, struct an_status *st);

/* memtrack summary [--json] */
int an_summary(const struct an_opts *o, FILE *out, struct an_status *st);

/* memtrack replay: every event, symbolized, one a line */
int an_replay(const struct an_opts *o, FILE *out, struct an_status *st);

#endif
