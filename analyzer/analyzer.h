/*
 * analyzer.h - offline reports over a memtrack log: replay it into
 * snapshots and print what Python's tracemalloc would print for them.
 *
 * The analyzer only reads logs (formats/log_reader.h) and resolves symbols
 * (symbolizer/, for logs that lack a symbol table); it never touches a
 * process.  Each report function writes its report to `out` and returns
 *   0       done (st->message may hold notes, e.g. "no leaks"),
 *   1       done, with warnings in st->message (one line each),
 *   -EINVAL options that cannot be used together (a usage error),
 *   < 0     another negative errno; st->message holds the one-line reason.
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

/* export --metric: what a stack's value is. */
enum an_metric {
	AN_METRIC_LIVE = 0,	/* bytes live at --at */
	AN_METRIC_ALLOCATED,	/* bytes allocated up to --at */
	AN_METRIC_COUNT,	/* allocations up to --at */
};

struct an_opts {
	const char *log;
	const char *log2;		/* diff OLD_LOG NEW_LOG: the new one */
	enum an_group by;
	long limit;			/* -n: how many statistics; <= 0: all */
	struct an_when at;
	struct an_when from, to;	/* diff */
	const char *const *include;	/* --include globs (fnmatch) */
	size_t ninclude;
	const char *const *exclude;	/* --exclude globs */
	size_t nexclude;
	unsigned kind;			/* AN_KIND_* */
	int cumulative;
	int json;			/* summary --json */
	uint32_t pid;			/* --pid: that process only; 0: all */
	int temporary;			/* top --temporary */
	const char *format;		/* export --format */
	enum an_metric metric;		/* export --metric */
	const char *output;		/* export, report -o FILE; NULL: out */
	const char *csv;		/* timeline --csv FILE ("-": out) */
	const char *svg;		/* timeline --svg FILE ("-": out) */
};

/* One line per message.  With a report's result 0 the lines are notes
 * (e.g. "no leaks"), with 1 warnings, with < 0 the error. */
struct an_status {
	char message[1024];
};

/* memtrack top */
int an_top(const struct an_opts *o, FILE *out, struct an_status *st);

/* memtrack summary [--json] */
int an_summary(const struct an_opts *o, FILE *out, struct an_status *st);

/* memtrack replay: every event, symbolized, one a line */
int an_replay(const struct an_opts *o, FILE *out, struct an_status *st);

/* memtrack diff: Snapshot.compare_to() between two moments of one log
 * (from, to) or the ends of two logs (log, log2) */
int an_diff(const struct an_opts *o, FILE *out, struct an_status *st);

/* memtrack leaks: the heap still live at the end, by traceback */
int an_leaks(const struct an_opts *o, FILE *out, struct an_status *st);

/* memtrack timeline: memory over time as CSV and/or an SVG chart */
int an_timeline(const struct an_opts *o, FILE *out, struct an_status *st);

/* memtrack export: a snapshot (or the run, for massif) in another tool's
 * format; o->format names a row of formats/export.h's table */
int an_export(const struct an_opts *o, FILE *out, struct an_status *st);

/* memtrack report: the whole log as one self-contained HTML page, written
 * to o->output ("-": out), by default the log's path with .html for .log */
int an_report(const struct an_opts *o, FILE *out, struct an_status *st);

/* The formats `memtrack export --format` takes, "a|b|c", for help texts. */
const char *an_export_formats(void);

#endif
