/*
 * export.h - memtrack's formats for other tools: folded stacks (flamegraph.pl,
 * inferno, speedscope), valgrind's massif.out (ms_print, massif-visualizer),
 * CSV and JSON for scripts, pprof's profile.proto (go tool pprof), and the
 * timeline as CSV and as an SVG chart.
 *
 * Exporters are one table of {name, begin, event, end}: the analyzer calls
 * begin() once, event() for each record in order, end() once, and the
 * exporter writes to w->out.  An exporter keeps what it needs between calls
 * in w->state (zeroed, exp->state_size bytes, owned by the caller); end()
 * releases what the exporter allocated there, and is called even when an
 * event() failed.  Every function returns 0 or a negative errno (-EIO when
 * the stream failed).
 *
 * Records borrow everything they point to for the duration of the call,
 * except the strings inside frames (function, file, module, display):
 * those stay valid until end() returns.
 */
#ifndef MEMTRACK_FORMATS_EXPORT_H
#define MEMTRACK_FORMATS_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

/* One frame of a stack. */
struct ex_frame {
	const char *function;	/* NULL if unknown */
	const char *file;	/* source path as reports show it; NULL if unknown */
	uint32_t line;		/* 0 if unknown */
	const char *module;	/* the module's path; NULL if in none */
	const char *display;	/* the frame as reports show it without a file:
				   MODULE+0xOFF(FUNCTION), 0xPC */
	uint64_t pc;
	uint32_t module_id;	/* its module's id in info->modules; 0: none */
	int inlined;		/* inlined into the next frame: both are one pc's */
};

enum ex_record_type {
	EX_SITE,		/* a stack, or a statistic of a snapshot */
	EX_SAMPLE,		/* the memory at one moment */
	EX_DETAIL_BEGIN,	/* the EX_SITEs up to EX_DETAIL_END detail this sample */
	EX_DETAIL_END,
};

struct ex_site {
	const char *key;		/* str(statistic.traceback): "samples/a.c:21" */
	const struct ex_frame *frames;	/* the site first, then its callers */
	size_t nframes;
	uint64_t size, count;		/* live at the moment */
	uint64_t allocated, allocs;	/* allocated up to the moment */
	uint64_t temp_bytes, temps;	/* temporary allocations up to the moment */
	int truncated;			/* a stack of it was cut at --depth: its
					   oldest frames are not in the log */
	/* A detailed snapshot's site (EX_SITE between EX_DETAIL_BEGIN and
	 * EX_DETAIL_END) is one stack of the log, this one; from the second
	 * detailed snapshot on, a stack given before comes without its
	 * frames (frames NULL, nframes 0): they are the same. */
	uint64_t stack;
};

struct ex_sample {
	uint64_t time_ns;		/* since the start of the log */
	uint64_t moved;			/* bytes allocated and freed so far */
	uint64_t total;			/* live memory of the exported kind */
	uint64_t extra;			/* massif: valgrind's slop and admin bytes */
	uint64_t heap, anon, file;	/* live heap, anonymous and file mappings */
	uint64_t rss;
	int has_rss;			/* 0 before the first RSS sample */
	int peak;			/* the peak of heap + mappings */
	const char *mark;		/* a mark hit here: "mark:2 samples/a.c:40" */
};

struct ex_record {
	enum ex_record_type type;
	union {
		struct ex_site site;		/* EX_SITE */
		struct ex_sample sample;	/* EX_SAMPLE, EX_DETAIL_BEGIN */
	} u;
};

/* What the export is of. */
struct ex_info {
	const char *command;	/* the traced command line */
	const char *log;
	const char *when;	/* the moment, as given: "end", "mark:2" */
	const char *by;		/* how sites are grouped: "lineno", "traceback" */
	const char *kind;	/* "heap", "mmap", "all" */
	const char *metric;	/* "live", "allocated", "count" */
	uint64_t end_ns;	/* the time of the log's last event */
	uint64_t start_realtime_ns; /* when tracing began (CLOCK_REALTIME) */
	int has_rss;		/* the log holds RSS samples */
	int multi_process;	/* the samples sum several processes */
	const struct mt_module *modules; /* the log's, ids 1..nmodules (sites only) */
	size_t nmodules;
};

struct ex_writer {
	FILE *out;
	const struct ex_info *info;
	void *state;
};

/* What an exporter is fed (exporter.input). */
#define EX_INPUT_SITES	0x1u	/* EX_SITEs of one moment, grouped by --by */
#define EX_INPUT_STACKS 0x2u	/* EX_SITEs of one moment, one per stack */
#define EX_INPUT_SERIES 0x4u	/* EX_SAMPLEs over the run, marks and peak included */
#define EX_INPUT_DETAIL 0x8u	/* with SERIES: evenly spaced by bytes moved, the
				   peak and the end detailed with their stacks */

struct exporter {
	const char *name;
	unsigned input;		/* EX_INPUT_* */
	int export_format;	/* offered by `memtrack export --format` */
	size_t state_size;
	int (*begin)(struct ex_writer *w);
	int (*event)(struct ex_writer *w, const struct ex_record *rec);
	int (*end)(struct ex_writer *w);
};

/* The exporter called name, or NULL. */
const struct exporter *ex_find(const char *name);

/* Every exporter, then a row whose name is NULL. */
extern const struct exporter *const ex_table[];

/* Helpers the exporters share. */

/* The name a frame goes by in a stack: its function, else its display. */
const char *ex_frame_name(const struct ex_frame *f);

/* s as a JSON string, quotes included. */
void ex_json_string(FILE *out, const char *s);

/* s as a CSV field (quoted when it holds a comma, quote or line end). */
void ex_csv_field(FILE *out, const char *s);

/* A stream's status as a return value: 0, or -EIO when it failed. */
int ex_status(FILE *out);

#endif
