/*
 * memtrack.c - the command line: one table of subcommands, one table of
 * options.  This file only parses arguments and calls into the components
 * (tracer, formats, symbolizer, analyzer); it is the only place that prints
 * errors and chooses exit codes.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/analyzer.h"
#include "formats/log.h"
#include "tracer/tracer.h"

#define MEMTRACK_VERSION "0.1"

/* Exit codes (documented in --help). */
enum {
	EXIT_OK = 0,
	EXIT_PROBLEMS = 1,	/* done, with non-fatal problems (warnings) */
	EXIT_FATAL = 2,
	EXIT_USAGE = 64,
	EXIT_NOEXEC = 126,	/* run: the command cannot be executed */
	EXIT_NOTFOUND = 127,	/* run: the command does not exist */
};

#define MAX_LIST 64

/* Every option of every command lands here. */
struct args {
	const char *output;
	long depth;
	int no_pin;
	int follow_forks;
	const char *engine;
	const char *duration;
	const char *time_resolution;
	const char *marks[MAX_LIST];
	size_t nmarks;
	long limit;
	const char *by;
	const char *at;
	const char *kind;
	const char *include[MAX_LIST];
	size_t ninclude;
	const char *exclude[MAX_LIST];
	size_t nexclude;
	int cumulative;
	const char *sort;
	const char *alloc_fn[MAX_LIST];
	size_t nalloc_fn;
	int json;
	int histogram;
	long pid;
	const char *from, *to;
	int temporary;
	const char *format;
	const char *metric;
	const char *csv, *svg;
	int help;
	/* positional arguments */
	char **rest;
	int nrest;
};

enum opt_type {
	OPT_FLAG,	/* int, set to 1 */
	OPT_LONG,	/* long, decimal, >= 0 */
	OPT_STR,	/* const char * */
	OPT_LIST,	/* const char *[MAX_LIST] + size_t count right after it */
};

struct opt {
	const char *name;	/* long name without "--" */
	char shortname;		/* 0 if none */
	enum opt_type type;
	size_t offset;		/* into struct args */
	const char *argname;	/* shown in help; NULL for flags */
	const char *help;
};

#define ARG(field) offsetof(struct args, field)

static const struct opt opt_output = {"output", 'o', OPT_STR, ARG(output), "LOG",
				      "write the log to LOG (default: memtrack.CMD.PID.log)"};
static const struct opt opt_depth = {"depth", 0, OPT_LONG, ARG(depth), "N",
				     "record up to N frames per stack (default 64; 0: none)"};
static const struct opt opt_nopin = {"no-pin", 0, OPT_FLAG, ARG(no_pin), NULL,
				     "do not keep tracer and program on one CPU (the fast engine "
				     "does only while the program has one thread)"};
static const struct opt opt_engine = {"engine", 0, OPT_STR, ARG(engine), "ENGINE",
				      "fast (default: a recorder mapped into the program, no "
				      "stop per call) or ptrace (a stop per call, nothing "
				      "injected); the default comes from $MEMTRACK_ENGINE"};
static const struct opt opt_follow = {"follow-forks", 0, OPT_FLAG, ARG(follow_forks), NULL,
				      "record child processes too, into the same log"};
static const struct opt opt_mark = {"mark", 0, OPT_LIST, ARG(marks), "LOCATION",
				    "record a mark each time FUNCTION or FILE:LINE executes"};
static const struct opt opt_duration = {"duration", 0, OPT_STR, ARG(duration), "SECONDS",
					"detach after SECONDS (default: when the process ends "
					"or on ^C)"};
static const struct opt opt_time_resolution = {
	"time-resolution", 0, OPT_STR, ARG(time_resolution), "UNIT",
	"store event times in steps of UNIT: 10ms (default), or from 1ns to 1s, e.g. 1ms, "
	"10us (finer takes more log space, and below 1ms more time under the fast engine; "
	"the order of events is always exact)"};
static const struct opt opt_by = {"by", 0, OPT_STR, ARG(by), "KEY",
				  "group by lineno (default), filename, function or traceback"};
static const struct opt opt_limit = {"limit", 'n', OPT_LONG, ARG(limit), "N",
				     "print the N biggest entries (default 10; 0: all)"};
static const struct opt opt_at = {"at", 0, OPT_STR, ARG(at), "WHEN",
				  "snapshot at end (default), peak, <seconds>s, #<event>, mark:<n>"};
static const struct opt opt_include = {"include", 0, OPT_LIST, ARG(include), "GLOB",
				       "attribute to the innermost frame whose source path matches"};
static const struct opt opt_exclude = {"exclude", 0, OPT_LIST, ARG(exclude), "GLOB",
				       "skip frames whose source path matches"};
static const struct opt opt_kind = {"kind", 0, OPT_STR, ARG(kind), "KIND",
				    "heap (default), mmap or all"};
static const struct opt opt_cumulative = {"cumulative", 0, OPT_FLAG, ARG(cumulative), NULL,
					  "count every frame of a stack, not only the site"};
static const struct opt opt_sort = {"sort", 0, OPT_STR, ARG(sort), "ORDER",
				    "size (default: biggest first, as tracemalloc) or count (most "
				    "blocks first; with --temporary, most calls; diff: biggest "
				    "change of count first)"};
static const struct opt opt_alloc_fn = {"alloc-fn", 0, OPT_LIST, ARG(alloc_fn), "GLOB",
					"count frames of functions matching GLOB as allocator, "
					"so the site is their caller (as massif's --alloc-fn)"};
static const struct opt opt_json = {"json", 0, OPT_FLAG, ARG(json), NULL,
				    "print one JSON object"};
static const struct opt opt_histogram = {"histogram", 0, OPT_FLAG, ARG(histogram), NULL,
					 "also count allocations by power-of-two size class"};
static const struct opt opt_pid = {"pid", 0, OPT_LONG, ARG(pid), "PID",
				   "only process PID (with --follow-forks logs)"};
static const struct opt opt_temporary = {"temporary", 0, OPT_FLAG, ARG(temporary), NULL,
					 "count temporaries per site instead: blocks freed "
					 "before their thread allocated again (as heaptrack)"};
static const struct opt opt_summary_at = {"at", 0, OPT_STR, ARG(at), "WHEN",
					  "totals up to WHEN (default: end)"};
static const struct opt opt_leaks_at = {"at", 0, OPT_STR, ARG(at), "WHEN",
					"only blocks allocated by WHEN (default: end)"};
static const struct opt opt_leaks_limit = {"limit", 'n', OPT_LONG, ARG(limit), "N",
					   "print the N biggest (default: all)"};
static const struct opt opt_from = {"from", 0, OPT_STR, ARG(from), "WHEN",
				    "the old snapshot (required with one log; two logs: "
				    "default end)"};
static const struct opt opt_to = {"to", 0, OPT_STR, ARG(to), "WHEN",
				  "the new snapshot (default: end)"};
static const struct opt opt_format = {"format", 0, OPT_STR, ARG(format), "FORMAT",
				      "folded, massif, csv, json or pprof (required)"};
static const struct opt opt_metric = {"metric", 0, OPT_STR, ARG(metric), "METRIC",
				      "folded's value: live (default), allocated or count"};
static const struct opt opt_export_output = {"output", 'o', OPT_STR, ARG(output), "FILE",
					     "write to FILE (default: standard output)"};
static const struct opt opt_report_output = {"output", 'o', OPT_STR, ARG(output), "FILE",
					     "write the page to FILE ('-': standard output; "
					     "default: LOG with .html for .log)"};
static const struct opt opt_csv = {"csv", 0, OPT_STR, ARG(csv), "FILE",
				   "write the timeline as CSV to FILE ('-': standard output)"};
static const struct opt opt_svg = {"svg", 0, OPT_STR, ARG(svg), "FILE",
				   "draw the timeline as an SVG chart into FILE"};

struct command {
	const char *name;
	int (*fn)(struct args *a);	/* NULL: a report, run by report() */
	const char *synopsis;	/* after "memtrack NAME " */
	const char *help;
	const struct opt *opts[16];
	const char *rest_name;	/* what the positional arguments are, for errors */
	int min_rest, max_rest;	/* positional arguments; max -1: unbounded */
	int stop_at_first_arg;	/* options end at the first positional (run) */
	/* reports: the analyzer's function, -n when not given, and the usage
	 * error of the command's own arguments (NULL: they are fine) */
	int (*report)(const struct an_opts *o, FILE *out, struct an_status *st);
	long limit;
	const char *(*usage)(const struct args *a);
};

static int cmd_run(struct args *a);
static int cmd_attach(struct args *a);
static const char *diff_usage(const struct args *a);
static const char *export_usage(const struct args *a);

static const struct command commands[] = {
	{"run", cmd_run, "[OPTIONS] [--] CMD [ARGS...]",
	 "Run CMD under ptrace and record its allocations and mappings.\n"
	 "Exits with CMD's exit status (128+N if a signal N killed it), 127 if CMD\n"
	 "does not exist, 126 if it cannot be executed.",
	 {&opt_output, &opt_engine, &opt_depth, &opt_follow, &opt_mark, &opt_time_resolution,
	  &opt_nopin},
	 "CMD", 1, -1,
	 .stop_at_first_arg = 1},
	{"attach", cmd_attach, "[OPTIONS] PID",
	 "Trace a running process, then detach and leave it running unharmed:\n"
	 "every breakpoint removed, every return address restored, nothing left\n"
	 "behind.  Exits 0 after a clean detach, or when the process ended.",
	 {&opt_output, &opt_engine, &opt_duration, &opt_depth, &opt_mark, &opt_time_resolution},
	 "PID", 1, .max_rest = 1},
	{"report", NULL, "LOG [-o FILE.html] [--pid PID]",
	 "Write the whole log as one HTML page that opens from disk and fetches\n"
	 "nothing: the summary; the timeline (hover for the memory at a moment;\n"
	 "marks and peak drawn); the sites, sortable by size and count and filtered\n"
	 "by a file glob (--include's attribution); a flame graph of live bytes at\n"
	 "the peak or the end, bytes allocated, allocations or temporaries (click to\n"
	 "zoom, search); the leaks with their tracebacks; marks and processes.",
	 {&opt_report_output, &opt_pid}, "LOG", 1, 1, 0, .report = an_report},
	{"top", NULL, "LOG [OPTIONS]",
	 "Print the top statistics of a snapshot, as tracemalloc's Snapshot.statistics.\n"
	 "A block's site is the first frame outside the allocator: the malloc family,\n"
	 "operator new, the C++ standard library's frames under it, --alloc-fn's.",
	 {&opt_by, &opt_limit, &opt_at, &opt_include, &opt_exclude, &opt_kind,
	  &opt_cumulative, &opt_temporary, &opt_sort, &opt_alloc_fn, &opt_pid},
	 "LOG", 1, 1, 0, .report = an_top, .limit = 10},
	{"diff", NULL, "LOG --from WHEN [--to WHEN] [OPTIONS]  or  memtrack diff OLD_LOG NEW_LOG",
	 "Print what changed between two snapshots, as tracemalloc's Snapshot.compare_to:\n"
	 "two moments of one log, or the ends (--from/--to) of two runs, compared\n"
	 "site by site.",
	 {&opt_from, &opt_to, &opt_by, &opt_limit, &opt_include, &opt_exclude, &opt_kind,
	  &opt_cumulative, &opt_sort, &opt_alloc_fn, &opt_pid},
	 "LOG", 1, 2, 0, .report = an_diff, .limit = 10, .usage = diff_usage},
	{"leaks", NULL, "LOG [OPTIONS]",
	 "Print the heap blocks still live at the end, grouped by traceback, biggest\n"
	 "first, each as a tracemalloc statistic followed by its traceback.  A process\n"
	 "that exited keeps its blocks: they are its leaks.",
	 {&opt_leaks_limit, &opt_leaks_at, &opt_include, &opt_exclude, &opt_sort, &opt_alloc_fn,
	  &opt_pid},
	 "LOG", 1, 1, 0, .report = an_leaks},
	{"summary", NULL, "LOG [--json] [--histogram] [--at WHEN] [--pid PID]",
	 "Print totals: allocations, frees, bytes, peak, leaks, mappings, the marks\n"
	 "hit and, for several processes, each one.  allocs/frees/bytes count like\n"
	 "valgrind memcheck's \"total heap usage\".  unknown_frees are frees of blocks\n"
	 "never seen allocated; teardown_frees, glibc's per-thread cache freed again\n"
	 "as a thread exits; preexisting_frees, in attach logs, of blocks allocated\n"
	 "before memtrack attached.  --histogram counts the allocations by size\n"
	 "class: 0, then [1, 2), [2, 4), [4, 8) bytes and so on.",
	 {&opt_json, &opt_histogram, &opt_summary_at, &opt_pid}, "LOG", 1, 1, 0,
	 .report = an_summary, .limit = 10},
	{"timeline", NULL, "LOG [--csv FILE] [--svg FILE]",
	 "Write the memory over time: heap, anonymous and file mappings, RSS, with\n"
	 "marks and the peak; as CSV (on the standard output by default) and as an\n"
	 "SVG chart.",
	 {&opt_csv, &opt_svg, &opt_pid}, "LOG", 1, 1, 0, .report = an_timeline, .limit = 10},
	{"export", NULL, "LOG --format folded|massif|csv|json|pprof [OPTIONS]",
	 "Write a snapshot for other tools: folded stacks (flamegraph.pl, inferno,\n"
	 "speedscope), massif (ms_print, massif-visualizer: the whole run, time in\n"
	 "bytes allocated and freed, peak and end detailed), csv (one row per site),\n"
	 "json (the statistics), pprof (gzipped profile.proto for go tool pprof, with\n"
	 "Go's heap sample types: alloc_objects, alloc_space, inuse_objects,\n"
	 "inuse_space).",
	 {&opt_format, &opt_at, &opt_metric, &opt_export_output, &opt_by, &opt_kind,
	  &opt_include, &opt_exclude, &opt_cumulative, &opt_alloc_fn, &opt_pid},
	 "LOG", 1, 1, 0, .report = an_export, .usage = export_usage},
	{"replay", NULL, "LOG [--pid PID]",
	 "Print every event of a log, symbolized, one a line.", {&opt_pid}, "LOG", 1, 1, 0,
	 .report = an_replay, .limit = 10},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char *progname = "memtrack";

static void __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try 'memtrack --help')\n");
}

static void print_command_help(const struct command *c, FILE *f)
{
	fprintf(f, "usage: memtrack %s %s\n\n%s\n", c->name, c->synopsis, c->help);
	if (!c->opts[0])
		return;
	fprintf(f, "\noptions:\n");
	for (const struct opt *const *op = c->opts; *op; op++) {
		const struct opt *o = *op;
		char left[64];
		int n = 0;

		if (o->shortname)
			n = snprintf(left, sizeof(left), "-%c, ", o->shortname);
		else
			n = snprintf(left, sizeof(left), "    ");
		snprintf(left + n, sizeof(left) - n, "--%s%s%s", o->name, o->argname ? " " : "",
			 o->argname ? o->argname : "");
		fprintf(f, "  %-24s %s%s\n", left, o->help,
			o->type == OPT_LIST ? " (repeatable)" : "");
	}
}

static void print_help(FILE *f)
{
	fprintf(f, "usage: memtrack COMMAND [ARGS...]\n\n"
		   "memtrack traces a program's heap and mappings from outside (ptrace)\n"
		   "and reports them the way Python's tracemalloc does.\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  memtrack %s %s\n", commands[i].name, commands[i].synopsis);
	fprintf(f, "\nWHEN is end, peak, <seconds>s, #<event-number> or mark:<n>.\n"
		   "'memtrack COMMAND --help' describes a command's options.\n\n"
		   "exit status: 0 ok, 1 done with non-fatal problems (warnings),\n"
		   "2 fatal error (bad or unreadable log, tracing failed), 64 usage error;\n"
		   "run exits with the traced command's status (see 'memtrack run --help').\n\n"
		   "On a terminal, run and attach keep a status line on stderr, and reports\n"
		   "reading a large log say how far they are; MEMTRACK_PROGRESS=0 turns it off.\n");
}

static const struct opt *find_opt(const struct command *c, const char *name, size_t len,
				  char shortname)
{
	for (const struct opt *const *op = c->opts; *op; op++) {
		if (shortname && (*op)->shortname == shortname)
			return *op;
		if (!shortname && strlen((*op)->name) == len && !strncmp((*op)->name, name, len))
			return *op;
	}
	return NULL;
}

static int set_opt(struct args *a, const struct opt *o, const char *val)
{
	char *base = (char *)a + o->offset;

	switch (o->type) {
	case OPT_FLAG:
		*(int *)base = 1;
		return 0;
	case OPT_LONG: {
		char *end;

		errno = 0;
		long v = strtol(val, &end, 10);

		if (errno || end == val || *end || v < 0) {
			char shortname[8] = "";

			if (o->shortname)
				snprintf(shortname, sizeof(shortname), "-%c/", o->shortname);
			fprintf(stderr, "%s: %s--%s wants a number >= 0, not '%s'\n", progname,
				shortname, o->name, val);
			return -1;
		}
		*(long *)base = v;
		return 0;
	}
	case OPT_STR:
		*(const char **)base = val;
		return 0;
	case OPT_LIST: {
		const char **list = (const char **)base;
		size_t *count = (size_t *)(base + sizeof(const char *[MAX_LIST]));

		if (*count >= MAX_LIST) {
			fprintf(stderr, "%s: too many --%s options (at most %d)\n", progname,
				o->name, MAX_LIST);
			return -1;
		}
		list[(*count)++] = val;
		return 0;
	}
	}
	return -1;
}

/* Parses argv (after the command name) into a; 0, or -1 after a message. */
static int parse_args(const struct command *c, int argc, char **argv, struct args *a)
{
	static char *rest[4096];
	int nrest = 0;
	int only_positional = 0;

	for (int i = 0; i < argc; i++) {
		char *arg = argv[i];
		const struct opt *o = NULL;
		const char *val = NULL;

		if (only_positional || arg[0] != '-' || !arg[1]) {
			if (nrest >= (int)(sizeof(rest) / sizeof(rest[0]))) {
				fprintf(stderr, "%s: too many arguments\n", progname);
				return -1;
			}
			rest[nrest++] = arg;
			if (c->stop_at_first_arg)
				only_positional = 1;
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_positional = 1;
			continue;
		}
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			a->help = 1;
			continue;
		}
		if (arg[1] == '-') {
			const char *name = arg + 2;
			const char *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);

			o = find_opt(c, name, len, 0);
			if (eq)
				val = eq + 1;
		} else {
			o = find_opt(c, NULL, 0, arg[1]);
			if (o && arg[2])
				val = arg + 2;
		}
		if (!o) {
			fprintf(stderr, "%s %s: unknown option '%s' (try 'memtrack %s --help')\n",
				progname, c->name, arg, c->name);
			return -1;
		}
		if (o->type == OPT_FLAG) {
			if (val) {
				fprintf(stderr, "%s: --%s takes no value\n", progname, o->name);
				return -1;
			}
		} else if (!val) {
			if (i + 1 >= argc) {
				fprintf(stderr, "%s: --%s needs a value (%s)\n", progname, o->name,
					o->argname);
				return -1;
			}
			val = argv[++i];
		}
		if (set_opt(a, o, val) < 0)
			return -1;
	}
	if (a->help)
		return 0;
	if (nrest < c->min_rest) {
		fprintf(stderr, "%s %s: missing %s (usage: memtrack %s %s)\n", progname, c->name,
			c->rest_name, c->name, c->synopsis);
		return -1;
	}
	if (c->max_rest >= 0 && nrest > c->max_rest) {
		fprintf(stderr, "%s %s: unexpected argument '%s'\n", progname, c->name,
			rest[c->max_rest]);
		return -1;
	}
	rest[nrest] = NULL;
	a->rest = rest;
	a->nrest = nrest;
	return 0;
}

/* --- the status line ------------------------------------------------------- */

/*
 * One line on stderr, redrawn in place a few times a second, and erased
 * before anything else is written there: while tracing (elapsed time,
 * events, events per second, the log's size), and while a report reads a
 * large log (how much of it).  Only when stderr is a terminal, and not with
 * MEMTRACK_PROGRESS=0; a report shows it once it has read for a second
 * (MEMTRACK_PROGRESS=1: from the start).
 */
static struct {
	int on;			/* stderr is a terminal, and the line is wanted */
	int now;		/* MEMTRACK_PROGRESS=1: no waiting */
	int shown;		/* a line is on the screen */
	uint64_t start_ns, drawn_ns;
	uint64_t last_ns, last_events; /* run: the previous call, for the rate */
} status_line;

#define STATUS_EVERY_NS 250000000u	/* four times a second */
#define STATUS_AFTER_NS 1000000000u	/* a report's line: after a second */

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void status_init(void)
{
	const char *want = getenv("MEMTRACK_PROGRESS");

	status_line.on = isatty(STDERR_FILENO) && !(want && !strcmp(want, "0"));
	status_line.now = want && !strcmp(want, "1");
	status_line.start_ns = monotonic_ns();
}

static void status_erase(void)
{
	if (!status_line.shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	status_line.shown = 0;
}

static void status_draw(const char *text)
{
	fprintf(stderr, "\r%s: %s\033[K", progname, text);
	fflush(stderr);
	status_line.shown = 1;
}

/* "12.3 MiB" */
static const char *status_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

/* The tracer's progress: elapsed, events, their rate since the last call,
 * the log's size. */
static void status_trace(void *arg, const struct tracer_progress *p)
{
	char text[160], size[32];
	uint64_t dt = p->elapsed_ns - status_line.last_ns;
	double rate = dt ? (double)(p->events - status_line.last_events) * 1e9 / (double)dt : 0;

	if (p->done || !status_line.on) {
		status_erase();
		return;
	}
	status_line.last_ns = p->elapsed_ns;
	status_line.last_events = p->events;
	snprintf(text, sizeof(text), "%.1f s, %llu events, %.0f events/s, log %s",
		 (double)p->elapsed_ns / 1e9, (unsigned long long)p->events, rate,
		 status_size(p->log_bytes, size, sizeof(size)));
	status_draw(text);
}

/* A report's progress through a log: read of size bytes; UINT64_MAX when
 * it stopped reading. */
static void status_read(void *arg, const char *log, uint64_t read, uint64_t size)
{
	uint64_t now = monotonic_ns();
	char text[PATH_MAX + 96], done[32], all[32];

	if (read == UINT64_MAX || !status_line.on) {
		status_erase();
		return;
	}
	if ((!status_line.now && now - status_line.start_ns < STATUS_AFTER_NS) ||
	    (status_line.shown && now - status_line.drawn_ns < STATUS_EVERY_NS))
		return;
	status_line.drawn_ns = now;
	snprintf(text, sizeof(text), "reading %s: %.0f%% (%s of %s)", log,
		 size ? 100.0 * (double)(read < size ? read : size) / (double)size : 0.0,
		 status_size(read, done, sizeof(done)), status_size(size, all, sizeof(all)));
	status_draw(text);
}

/* --- run ----------------------------------------------------------------- */

static int exit_code_of(int64_t status)
{
	int code = mt_exit_code(status);

	return code < 0 ? EXIT_FATAL : code;
}

static void warn_line(void *arg, const char *line)
{
	status_erase();
	fprintf(stderr, "%s: %s\n", progname, line);
}

/* The default time unit of a log, heaptrack's: fine enough for a timeline
 * and `--at`, coarse enough that a program allocating millions of times a
 * second does not spend its log on the clock (a millisecond costs about
 * two bytes of log). */
#define DEFAULT_TICK_NS 10000000

/* --time-resolution: a number and a unit (ns, us, ms, s), 1 ns to 1 s. */
/* The fast engine's records take the time the tracer last published (at
 * most a few hundred microseconds early while it drains): a step finer than
 * this makes every record read the clock itself. */
#define EXACT_TIME_BELOW_NS 1000000

static int parse_time_resolution(const char *text, uint64_t *tick_ns)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};
	char *end;
	unsigned long long n;

	*tick_ns = DEFAULT_TICK_NS;
	if (!text)
		return 0;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno || end == text || text[0] == '-' || text[0] == '+')
		goto bad;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].name))
			continue;
		if (n == 0 || n > MT_LOG_MAX_TICK / units[i].ns)
			goto bad;
		*tick_ns = n * units[i].ns;
		return 0;
	}
bad:
	usage_error("--time-resolution wants a step from 1ns to 1s, such as 1ms or 10us, not '%s'",
		    text);
	return -1;
}

static int check_trace_opts(struct args *a, struct tracer_opts *to)
{
	to->warn = warn_line;
	to->progress = status_trace;
	if (a->depth > 1024) {
		fprintf(stderr, "%s: --depth %ld is too deep (at most 1024)\n", progname, a->depth);
		return -1;
	}
	to->depth = a->depth < 0 ? 64 : (unsigned)a->depth;
	if (!a->engine)
		a->engine = getenv("MEMTRACK_ENGINE");
	if (!a->engine || !*a->engine || !strcmp(a->engine, "fast")) {
		to->engine = TRACER_FAST;
	} else if (!strcmp(a->engine, "ptrace")) {
		to->engine = TRACER_PTRACE;
	} else {
		fprintf(stderr, "%s: --engine %s: not an engine (fast or ptrace)\n", progname,
			a->engine);
		return -1;
	}
	to->marks = a->marks;
	to->nmarks = a->nmarks;
	return 0;
}

/*
 * Traces t (launched or seized) into a new log at logpath with header h,
 * and closes it.  Returns 0, or an exit code after a message.
 */
static int trace_into_log(struct tracer *t, const char *logpath, struct mt_log_header *h,
			  struct tracer_result *res)
{
	int err = tracer_trace(t, logpath, h, res);

	tracer_close(t);
	if (res->error[0])
		fprintf(stderr, "%s: %s\n", progname, res->error);
	if (res->log_error[0])
		fprintf(stderr, "%s: %s\n", progname, res->log_error);
	if (res->logged)
		fprintf(stderr, "%s: %llu events written to %s\n", progname,
			(unsigned long long)res->events, logpath);
	return err < 0 ? EXIT_FATAL : 0;
}

static void default_log_path(char *buf, size_t size, const char *output, const char *cmd,
			     pid_t pid)
{
	const char *base = strrchr(cmd, '/');

	if (output) {
		snprintf(buf, size, "%s", output);
		return;
	}
	base = base ? base + 1 : cmd;
	snprintf(buf, size, "memtrack.%s.%d.log", base, (int)pid);
}

static int cmd_run(struct args *a)
{
	struct tracer_opts to = {
		.argv = a->rest,
		.follow_forks = a->follow_forks,
		.pin = !a->no_pin,
	};
	struct tracer_result res = {.exit_status = -1};
	struct tracer *t = NULL;
	char logpath[PATH_MAX], cwd[PATH_MAX];
	uint64_t tick_ns;
	int err, code;

	if (check_trace_opts(a, &to) < 0 || parse_time_resolution(a->time_resolution, &tick_ns) < 0)
		return EXIT_USAGE;
	to.exact_time = tick_ns < EXACT_TIME_BELOW_NS;

	/* the command is held at its exec: if it cannot run, nothing is written */
	err = tracer_launch(&t, &to, &res);
	if (err < 0) {
		fprintf(stderr, "%s: %s\n", progname, res.error);
		if (err == -ENOENT)
			return EXIT_NOTFOUND;
		return err == -EACCES || err == -ENOEXEC || err == -EISDIR || err == -ETXTBSY ||
				       err == -ELIBBAD || err == -ENOTDIR || err == -ELOOP ||
				       err == -ENAMETOOLONG
			       ? EXIT_NOEXEC
			       : EXIT_FATAL;
	}
	default_log_path(logpath, sizeof(logpath), a->output, a->rest[0], tracer_pid(t));
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = 0;
	struct mt_log_header h = {
		.version = MT_LOG_VERSION,
		.mode = MT_MODE_RUN,
		.flags = tracer_log_flags(&to),
		.depth = to.depth,
		.pid = (uint32_t)tracer_pid(t),
		.tick_ns = tick_ns,
		.cwd = cwd,
		.argc = (uint32_t)a->nrest,
		.argv = a->rest,
	};

	code = trace_into_log(t, logpath, &h, &res);
	if (code)
		return code;
	if (res.tracer_signal)
		return 128 + res.tracer_signal;
	return exit_code_of(res.exit_status);
}

/* The command line of a running process, split at its NULs, into argv
 * (pointing into buf); returns argc. */
static int read_cmdline(pid_t pid, char *buf, size_t size, char **argv, int max)
{
	char path[64];
	FILE *f;
	size_t n;
	int argc = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = 0;
	for (size_t i = 0; i < n && argc < max - 1; i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;
	return argc;
}

static int cmd_attach(struct args *a)
{
	struct tracer_opts to = {.pin = 0};
	struct tracer_result res = {.exit_status = -1};
	struct tracer *t = NULL;
	char logpath[PATH_MAX], cwd[PATH_MAX], link[64], cmdline[8192];
	char *argv[256];
	char *end;
	uint64_t tick_ns;
	long pid;
	int argc, err, code;
	ssize_t n;

	errno = 0;
	pid = strtol(a->rest[0], &end, 10);
	if (errno || end == a->rest[0] || *end || pid <= 0 || pid > INT32_MAX) {
		usage_error("attach wants a process id, not '%s'", a->rest[0]);
		return EXIT_USAGE;
	}
	to.pid = (pid_t)pid;
	if (a->duration) {
		to.duration = strtod(a->duration, &end);
		if (end == a->duration || *end || !(to.duration > 0)) {
			usage_error("--duration wants a number of seconds > 0, not '%s'",
				    a->duration);
			return EXIT_USAGE;
		}
	}
	if (check_trace_opts(a, &to) < 0 || parse_time_resolution(a->time_resolution, &tick_ns) < 0)
		return EXIT_USAGE;
	to.exact_time = tick_ns < EXACT_TIME_BELOW_NS;

	argc = read_cmdline(to.pid, cmdline, sizeof(cmdline), argv, 256);
	err = tracer_attach(&t, &to, &res);
	if (err < 0) {
		fprintf(stderr, "%s: %s\n", progname, res.error);
		return EXIT_FATAL;
	}
	snprintf(link, sizeof(link), "/proc/%d/cwd", (int)to.pid);
	n = readlink(link, cwd, sizeof(cwd) - 1);
	cwd[n > 0 ? n : 0] = 0;
	default_log_path(logpath, sizeof(logpath), a->output, argc ? argv[0] : "attach",
			 to.pid);
	struct mt_log_header h = {
		.version = MT_LOG_VERSION,
		.mode = MT_MODE_ATTACH,
		.flags = tracer_log_flags(&to),
		.depth = to.depth,
		.pid = (uint32_t)to.pid,
		.tick_ns = tick_ns,
		.cwd = cwd,
		.argc = (uint32_t)argc,
		.argv = argv,
	};

	code = trace_into_log(t, logpath, &h, &res);
	if (code)
		return code;
	return res.tracer_signal && !res.detached ? 128 + res.tracer_signal : EXIT_OK;
}

/* --- reports ------------------------------------------------------------- */

static int parse_when(const char *opt, const char *text, struct an_when *w)
{
	if (an_when_parse(text, w) == 0)
		return 0;
	usage_error("bad WHEN '%s'%s%s: use end, peak, <seconds>s, #<event> or mark:<n>", text,
		    opt ? " for " : "", opt ? opt : "");
	return -1;
}

static int fill_an_opts(struct args *a, struct an_opts *o, long default_limit)
{
	static const char *const groups[] = {"lineno", "filename", "function", "traceback"};
	static const char *const metrics[] = {"live", "allocated", "count"};

	memset(o, 0, sizeof(*o));
	o->log = a->rest[0];
	o->log2 = a->nrest > 1 ? a->rest[1] : NULL;
	o->limit = a->limit < 0 ? default_limit : a->limit;
	o->by = AN_BY_LINENO;
	if (a->by) {
		size_t i;

		for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
			if (!strcmp(a->by, groups[i]))
				break;
		if (i == sizeof(groups) / sizeof(groups[0])) {
			usage_error("unknown --by key '%s': use lineno, filename, function or "
				    "traceback", a->by);
			return -1;
		}
		o->by = (enum an_group)i;
	}
	o->kind = AN_KIND_HEAP;
	if (a->kind) {
		if (!strcmp(a->kind, "heap"))
			o->kind = AN_KIND_HEAP;
		else if (!strcmp(a->kind, "mmap"))
			o->kind = AN_KIND_MMAP;
		else if (!strcmp(a->kind, "all"))
			o->kind = AN_KIND_ALL;
		else {
			usage_error("unknown --kind '%s': use heap, mmap or all", a->kind);
			return -1;
		}
	}
	o->at.kind = o->from.kind = o->to.kind = AN_WHEN_END;
	if ((a->at && parse_when(NULL, a->at, &o->at) < 0) ||
	    (a->from && parse_when("--from", a->from, &o->from) < 0) ||
	    (a->to && parse_when("--to", a->to, &o->to) < 0))
		return -1;
	if (a->pid < 0 || a->pid > UINT32_MAX) {
		usage_error("--pid wants a process id, not %ld", a->pid);
		return -1;
	}
	o->pid = (uint32_t)a->pid;
	o->temporary = a->temporary;
	o->format = a->format;
	o->output = a->output;
	o->csv = a->csv;
	o->svg = a->svg;
	if (a->metric) {
		size_t i;

		for (i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
			if (!strcmp(a->metric, metrics[i]))
				break;
		if (i == sizeof(metrics) / sizeof(metrics[0])) {
			usage_error("unknown --metric '%s': use live, allocated or count",
				    a->metric);
			return -1;
		}
		o->metric = (enum an_metric)i;
	}
	o->include = a->include;
	o->ninclude = a->ninclude;
	o->exclude = a->exclude;
	o->nexclude = a->nexclude;
	o->cumulative = a->cumulative;
	o->sort = AN_SORT_SIZE;
	if (a->sort) {
		if (!strcmp(a->sort, "count")) {
			o->sort = AN_SORT_COUNT;
		} else if (strcmp(a->sort, "size")) {
			usage_error("unknown --sort '%s': use size or count", a->sort);
			return -1;
		}
	}
	o->alloc_fn = a->alloc_fn;
	o->nalloc_fn = a->nalloc_fn;
	o->json = a->json;
	o->histogram = a->histogram;
	if (status_line.on) {
		o->progress = status_read;
		o->progress_arg = NULL;
	}
	return 0;
}

static int run_report(const struct an_opts *o,
		      int (*fn)(const struct an_opts *, FILE *, struct an_status *))
{
	struct an_status st = {{0}};
	int ret;

	ret = fn(o, stdout, &st);
	if (fflush(stdout) == EOF && ret >= 0) {
		fprintf(stderr, "%s: writing the report failed: %s\n", progname, strerror(errno));
		return EXIT_FATAL;
	}
	if (st.message[0]) {
		/* one line per warning or the one error line */
		const char *line = st.message;

		while (*line) {
			const char *nl = strchr(line, '\n');
			int len = nl ? (int)(nl - line) : (int)strlen(line);

			/* with 0 the lines are notes, with 1 warnings */
			fprintf(stderr, "%s: %s%.*s\n", progname, ret > 0 ? "warning: " : "",
				len, line);
			line += len + (nl != NULL);
		}
	}
	if (ret == -EINVAL)
		return EXIT_USAGE;
	if (ret < 0)
		return EXIT_FATAL;
	return ret > 0 ? EXIT_PROBLEMS : EXIT_OK;
}

static const char *diff_usage(const struct args *a)
{
	if (a->nrest < 2 && !a->from)
		return "diff of one log needs --from WHEN (and --to WHEN, default end)";
	return NULL;
}

static const char *export_usage(const struct args *a)
{
	static char why[256];

	if (a->format)
		return NULL;
	snprintf(why, sizeof(why), "export needs --format %s", an_export_formats());
	return why;
}

/* Every report command: the options into an_opts, then the analyzer. */
static int report(const struct command *c, struct args *a)
{
	struct an_opts o;
	const char *why;

	if (fill_an_opts(a, &o, c->limit) < 0)
		return EXIT_USAGE;
	if (c->usage && (why = c->usage(a))) {
		usage_error("%s", why);
		return EXIT_USAGE;
	}
	return run_report(&o, c->report);
}

int main(int argc, char **argv)
{
	struct args a = {.depth = -1, .limit = -1};
	const struct command *c = NULL;

	if (argc < 2) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	status_init();
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			for (size_t i = 0; i < NCOMMANDS; i++)
				if (!strcmp(commands[i].name, argv[2])) {
					print_command_help(&commands[i], stdout);
					return EXIT_OK;
				}
		}
		print_help(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("memtrack %s (log format %d)\n", MEMTRACK_VERSION, MT_LOG_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, argv[1]))
			c = &commands[i];
	if (!c) {
		usage_error("unknown command '%s'", argv[1]);
		return EXIT_USAGE;
	}
	if (parse_args(c, argc - 2, argv + 2, &a) < 0)
		return EXIT_USAGE;
	if (a.help) {
		print_command_help(c, stdout);
		return EXIT_OK;
	}
	return c->fn ? c->fn(&a) : report(c, &a);
}
