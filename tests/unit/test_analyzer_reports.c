/*
 * test_analyzer_reports.c - a synthetic log written with log_writer (a
 * header, modules, stacks, symbols, events, a trailer) run through
 * an_top, an_summary and an_replay; the exact text each prints, and how
 * each answers a bad, cut or filtered-away log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "analyzer/analyzer.h"
#include "formats/log_writer.h"

#define PID   4242
#define SPACE 1

/* expect_text() puts the temporary directory in place of DIR */
#define DIR_LOG "DIR/test.log"

/* The program: build/arrays, main() in samples/arrays.c, an inlined helper
 * from samples/arrays.h, and libc without line information. */
#define EXE_START  0x555555554000ull
#define LIBC_START 0x7ffff7c00000ull

enum pc {
	P_MALLOC = 0x7ffff7c9a0f0,    /* libc malloc: allocator */
	P_STRDUP = 0x7ffff7c9f00a,    /* libc strdup: no file */
	P_LIBC_MAIN = 0x7ffff7c29d8f, /* __libc_start_call_main */
	P_START = 0x555555555064,     /* _start */
	P_MAIN21 = 0x555555555189,    /* main, arrays.c:21 */
	P_MAIN25 = 0x5555555551a3,    /* main, arrays.c:25 */
	P_MAIN30 = 0x5555555551c7,    /* main, arrays.c:30 */
	P_FILL = 0x555555555150, /* fill() at arrays.h:8 inlined in make_array at arrays.c:12 */
};

static char dir[64]; /* the compilation directory, with the sources */
static char log_path[128];

static const char arrays_c[] =
	"#include <stdlib.h>\n" /* 1 */
	"#include \"arrays.h\"\n"
	"\n"
	"\n"
	"\n" /* 5 */
	"\n"
	"\n"
	"\n"
	"\n"
	"\n" /* 10 */
	"\n"
	"static double *make_array(size_t n) { return fill(n); }\n"
	"\n"
	"\n"
	"\n" /* 15 */
	"\n"
	"\n"
	"\n"
	"\n"
	"int main(void) {\n" /* 20 */
	"\tdouble *a = malloc(8000000);\n"
	"\n"
	"\n"
	"\n"
	"\t\tb = make_array(10000);   \n" /* 25 */
	"\n"
	"\n"
	"\n"
	"\n"
	"\tvoid *m = mmap(NULL, 8000000, PROT_READ, MAP_PRIVATE, fd, 0);\n"; /* 30 */

static const char arrays_h[] =
	"\n\n\n\n\n\n\n"
	"static inline double *fill(size_t n) { return malloc(n * 8); }\n"; /* 8 */

static void write_file(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void symbol(struct log_writer *w, uint64_t pc, uint32_t module, uint64_t bias,
		   const char *comp_dir, int nframes, ...)
{
	struct mt_symbol s = {.space = SPACE,
			      .pc = pc,
			      .module = module,
			      .offset = pc - bias,
			      .comp_dir = comp_dir,
			      .nframes = (uint32_t)nframes};
	va_list ap;

	va_start(ap, nframes);
	for (int i = 0; i < nframes; i++) {
		s.frames[i].function = va_arg(ap, const char *);
		s.frames[i].file = va_arg(ap, const char *);
		s.frames[i].line = va_arg(ap, unsigned);
		s.frames[i].flags = va_arg(ap, unsigned);
	}
	va_end(ap);
	assert_int_equal(log_writer_symbol(w, &s), 0);
}

static uint64_t stack(struct log_writer *w, size_t n, ...)
{
	uint64_t pcs[16];
	va_list ap;

	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		pcs[i] = va_arg(ap, uint64_t);
	va_end(ap);
	return log_writer_stack(w, SPACE, pcs, n);
}

static uint64_t now;
static char self[4096]; /* this test's executable */

static void event(struct log_writer *w, struct mt_event ev)
{
	ev.pid = PID;
	ev.tid = ev.tid ? ev.tid : PID;
	ev.time_ns = now;
	assert_int_equal(log_writer_event(w, &ev), 0);
}

enum log_kind {
	LOG_FULL,	/* with a symbol table and a trailer */
	LOG_NO_SYMBOLS, /* no symbols (written before they were) */
	LOG_CUT,	/* the tracer died: no symbols, no trailer */
	LOG_CHANGED,	/* no symbols, and the program's file is another build */
	LOG_KILLED,	/* as LOG_FULL, the program killed by SIGKILL */
};

/*
 * #0  proc_start             #7  calloc(10, 8) S3        #14 free(unknown)
 * #1  malloc(8000000) S1     #8  mmap 8000000 S_MMAP     #15 proc_exit 0
 * #2  malloc(80000) S2       #9  mmap in malloc
 * #3  malloc(80000) S2       #10 free(A1)  (t = 1.5 s)
 * #4  mark 1                 #11 munmap one page of M1
 * #5  free(A2)               #12 malloc fails
 * #6  realloc(A3) S2         #13 thread_start
 */
static void write_log(enum log_kind kind)
{
	static char *const argv[] = {"build/arrays", "1000", "a \"b\""};
	struct mt_log_header h = {.version = MT_LOG_VERSION,
				  .mode = MT_MODE_RUN,
				  .flags = MT_LOG_SYSCALLS_SECCOMP,
				  .depth = 64,
				  .pid = PID,
				  .tick_ns = 1,
				  .cwd = dir,
				  .argc = 3,
				  .argv = argv};
	struct mt_module exe = {.space = SPACE,
				.start = EXE_START,
				.end = EXE_START + 0x5000,
				.bias = EXE_START,
				.path = "/nonexistent/build/arrays"};
	struct mt_module libc = {.space = SPACE,
				 .start = LIBC_START,
				 .end = LIBC_START + 0x200000,
				 .bias = LIBC_START,
				 .path = "/nonexistent/libc.so.6"};
	struct log_writer *w;
	uint64_t s1, s2, s3, smmap, sin;
	uint32_t data, mark;
	char file_c[128], file_h[128];

	snprintf(file_c, sizeof(file_c), "%s/samples/arrays.c", dir);
	snprintf(file_h, sizeof(file_h), "%s/samples/arrays.h", dir);
	now = 0;
	if (kind == LOG_CHANGED) {
		/* a file that exists, of another build than the one traced */
		exe.path = self;
		exe.build_id_len = 20;
		memset(exe.build_id, 0x5a, 20);
	}
	assert_int_equal(log_writer_open(&w, log_path, &h), 0);
	assert_int_equal(log_writer_module(w, &exe), 1);
	assert_int_equal(log_writer_module(w, &libc), 2);
	s1 = stack(w, 4, P_MALLOC, P_MAIN21, P_LIBC_MAIN, P_START);
	s2 = stack(w, 5, P_MALLOC, P_FILL, P_MAIN25, P_LIBC_MAIN, P_START);
	s3 = stack(w, 5, P_MALLOC, P_STRDUP, P_MAIN25, P_LIBC_MAIN, P_START);
	smmap = stack(w, 3, P_MAIN30, P_LIBC_MAIN, P_START);
	sin = stack(w, 2, P_MALLOC, P_MAIN21);
	data = log_writer_string(w, "/data/a.txt");
	mark = log_writer_string(w, "samples/arrays.c:21");

	event(w,
	      (struct mt_event){.type = MT_EV_PROC_START, .space = SPACE, .mflags = MT_PROC_EXEC});
	now = 1000;
	event(w, (struct mt_event){.type = MT_EV_ALLOC,
				   .fn = MT_FN_MALLOC,
				   .addr = 0xa1000,
				   .size = 8000000,
				   .stack = s1});
	now = 2000;
	event(w, (struct mt_event){.type = MT_EV_ALLOC,
				   .fn = MT_FN_MALLOC,
				   .addr = 0xa2000,
				   .size = 80000,
				   .stack = s2});
	now = 3000;
	event(w, (struct mt_event){.type = MT_EV_ALLOC,
				   .fn = MT_FN_MALLOC,
				   .addr = 0xa3000,
				   .size = 80000,
				   .stack = s2});
	now = 4000;
	event(w, (struct mt_event){.type = MT_EV_MARK, .arg = 1, .path = mark, .stack = s1});
	now = 5000;
	event(w, (struct mt_event){.type = MT_EV_FREE, .fn = MT_FN_FREE, .addr = 0xa2000});
	now = 6000;
	event(w, (struct mt_event){.type = MT_EV_REALLOC,
				   .fn = MT_FN_REALLOC,
				   .old_addr = 0xa3000,
				   .addr = 0xa4000,
				   .size = 160000,
				   .stack = s2});
	now = 7000;
	event(w, (struct mt_event){.type = MT_EV_ALLOC,
				   .fn = MT_FN_CALLOC,
				   .addr = 0xa5000,
				   .size = 80,
				   .arg = 10,
				   .stack = s3});
	now = 8000;
	event(w, (struct mt_event){.type = MT_EV_MMAP,
				   .addr = 0x7ffff7000000,
				   .size = 8000000,
				   .prot = 1,
				   .mflags = 2,
				   .fd = 3,
				   .path = data,
				   .stack = smmap});
	now = 9000;
	event(w, (struct mt_event){.type = MT_EV_MMAP,
				   .addr = 0x7ffff6000000,
				   .size = 135168,
				   .prot = 3,
				   .mflags = 0x22,
				   .fd = -1,
				   .flags = MT_EVF_IN_ALLOC,
				   .stack = sin});
	now = 1500000000;
	event(w, (struct mt_event){.type = MT_EV_FREE, .fn = MT_FN_FREE, .addr = 0xa1000});
	now = 1500001000;
	event(w,
	      (struct mt_event){
		      .type = MT_EV_MUNMAP, .addr = 0x7ffff7000000, .size = 4096, .stack = smmap});
	now = 1500002000;
	event(w, (struct mt_event){.type = MT_EV_ALLOC,
				   .fn = MT_FN_MALLOC,
				   .addr = 0,
				   .size = 1ull << 40,
				   .flags = MT_EVF_FAILED,
				   .stack = s1});
	now = 1500003000;
	event(w, (struct mt_event){.type = MT_EV_THREAD_START, .tid = PID + 1});
	now = 1500004000;
	event(w, (struct mt_event){
			 .type = MT_EV_FREE, .fn = MT_FN_FREE, .addr = 0xdead0, .tid = PID + 1});
	now = 1999999999;
	event(w, (struct mt_event){.type = MT_EV_PROC_EXIT, .status = kind == LOG_KILLED ? 9 : 0});

	if (kind == LOG_CUT) {
		assert_int_equal(log_writer_close(w, NULL), 0);
		return;
	}
	if (kind == LOG_FULL || kind == LOG_KILLED) {
		const unsigned A = MT_SYMF_ALLOCATOR;

		symbol(w, P_MALLOC, 2, LIBC_START, NULL, 1, "malloc", NULL, 0, A);
		symbol(w, P_STRDUP, 2, LIBC_START, NULL, 1, "strdup", NULL, 0, 0);
		symbol(w, P_LIBC_MAIN, 2, LIBC_START, NULL, 1, "__libc_start_call_main", NULL, 0,
		       0);
		symbol(w, P_START, 1, EXE_START, NULL, 1, "_start", NULL, 0, 0);
		symbol(w, P_MAIN21, 1, EXE_START, dir, 1, "main", file_c, 21, 0);
		symbol(w, P_MAIN25, 1, EXE_START, dir, 1, "main", file_c, 25, 0);
		symbol(w, P_MAIN30, 1, EXE_START, dir, 1, "main", file_c, 30, 0);
		symbol(w, P_FILL, 1, EXE_START, dir, 2, "fill", file_h, 8, 0, "make_array", file_c,
		       12, 0);
	}
	assert_int_equal(
		log_writer_close(w,
				 &(struct mt_log_trailer){.exit_status = kind == LOG_KILLED ? 9 : 0,
							  .duration_ns = 2000000000}),
		0);
}

static int setup(void **state)
{
	char sub[128];

	strcpy(dir, "/tmp/memtrack-analyzer-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sub, sizeof(sub), "%s/samples", dir);
	mkdir(sub, 0755);
	write_file("samples/arrays.c", arrays_c);
	write_file("samples/arrays.h", arrays_h);
	snprintf(log_path, sizeof(log_path), "%s/test.log", dir);
	if (readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct run {
	int ret;
	char *out;
	struct an_status st;
};

/* Runs a report into memory. */
static struct run run(int (*fn)(const struct an_opts *, FILE *, struct an_status *),
		      const struct an_opts *o)
{
	struct run r = {0};
	size_t len;
	FILE *f = open_memstream(&r.out, &len);

	assert_non_null(f);
	r.ret = fn(o, f, &r.st);
	fclose(f);
	return r;
}

static struct an_opts opts(void)
{
	struct an_opts o = {
		.log = log_path, .by = AN_BY_LINENO, .kind = AN_KIND_HEAP, .at = {AN_WHEN_END, 0}};

	return o;
}

/* An expected report, with "DIR" standing for the compilation directory. */
static void expect_text(const char *got, const char *want)
{
	char buf[8192];
	size_t n = 0;

	for (const char *p = want; *p && n + 64 < sizeof(buf);) {
		if (!strncmp(p, "DIR", 3)) {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", dir);
			p += 3;
		} else {
			buf[n++] = *p++;
		}
	}
	buf[n] = '\0';
	if (strcmp(got, buf))
		fail_msg("got:\n%s\nwant:\n%s", got, buf);
}

static void expect_top(struct an_opts o, int ret, const char *text, const char *message)
{
	struct run r = run(an_top, &o);

	if (r.ret != ret)
		fail_msg("returned %d (%s), want %d", r.ret, r.st.message, ret);
	expect_text(r.out, text);
	expect_text(r.st.message, message);
	free(r.out);
}

#define LIBC "/nonexistent/libc.so.6"
#define EXE  "/nonexistent/build/arrays"

static void test_top_lineno(void **state)
{
	struct an_opts o = opts();

	write_log(LOG_FULL);
	/* end: the big block was freed; fill() is inlined, its line wins;
	 * strdup has no file: the module form */
	expect_top(o, 0,
		   "samples/arrays.h:8: size=156 KiB, count=1, average=156 KiB\n" LIBC
		   "+0x9f00a(strdup):0: size=80 B, count=1, average=80 B\n",
		   "");
	o.at = (struct an_when){AN_WHEN_PEAK, 0};
	expect_top(o, 0,
		   "samples/arrays.c:21: size=7812 KiB, count=1, average=7812 KiB\n"
		   "samples/arrays.h:8: size=156 KiB, count=1, average=156 KiB\n" LIBC
		   "+0x9f00a(strdup):0: size=80 B, count=1, average=80 B\n",
		   "");
	o.at = (struct an_when){AN_WHEN_MARK, 1};
	expect_top(o, 0,
		   "samples/arrays.c:21: size=7812 KiB, count=1, average=7812 KiB\n"
		   "samples/arrays.h:8: size=156 KiB, count=2, average=78.1 KiB\n",
		   "");
	/* the state after #1, and at 2.5 us (after #2) */
	o.at = (struct an_when){AN_WHEN_EVENT, 1};
	expect_top(o, 0, "samples/arrays.c:21: size=7812 KiB, count=1, average=7812 KiB\n", "");
	o.at = (struct an_when){AN_WHEN_TIME, 2500};
	expect_top(o, 0,
		   "samples/arrays.c:21: size=7812 KiB, count=1, average=7812 KiB\n"
		   "samples/arrays.h:8: size=78.1 KiB, count=1, average=78.1 KiB\n",
		   "");
	/* -n */
	o.at = (struct an_when){AN_WHEN_PEAK, 0};
	o.limit = 1;
	expect_top(o, 0, "samples/arrays.c:21: size=7812 KiB, count=1, average=7812 KiB\n", "");
}

static void test_top_filters(void **state)
{
	static const char *const mine[] = {"samples/*.c"};
	static const char *const no_libc[] = {LIBC};
	static const char *const nothing[] = {"*/nothing.c"};
	struct an_opts o = opts();

	write_log(LOG_FULL);
	/* the innermost frame in my code: make_array's line, main's line */
	o.include = mine;
	o.ninclude = 1;
	expect_top(o, 0,
		   "samples/arrays.c:12: size=156 KiB, count=1, average=156 KiB\n"
		   "samples/arrays.c:25: size=80 B, count=1, average=80 B\n",
		   "");
	/* a frame without a file is excluded by its module path */
	o.include = NULL;
	o.ninclude = 0;
	o.exclude = no_libc;
	o.nexclude = 1;
	expect_top(o, 0,
		   "samples/arrays.h:8: size=156 KiB, count=1, average=156 KiB\n"
		   "samples/arrays.c:25: size=80 B, count=1, average=80 B\n",
		   "");
	/* matching nothing: an empty report says why, and which modules
	 * lack line information */
	o.exclude = NULL;
	o.nexclude = 0;
	o.include = nothing;
	o.ninclude = 1;
	expect_top(o, 1, "",
		   DIR_LOG ": no allocation site passes --include/--exclude: 2 live blocks "
			   "(156 KiB) left out, the report is empty\n"
			   "1 of 2 modules has no line information (e.g. " LIBC
			   "): install their -dbgsym packages");
}

static void test_top_groupings(void **state)
{
	struct an_opts o = opts();

	write_log(LOG_FULL);
	o.at = (struct an_when){AN_WHEN_MARK, 1};
	o.by = AN_BY_FILENAME;
	expect_top(o, 0,
		   "samples/arrays.c:0: size=7812 KiB, count=1, average=7812 KiB\n"
		   "samples/arrays.h:0: size=156 KiB, count=2, average=78.1 KiB\n",
		   "");
	o.at = (struct an_when){AN_WHEN_END, 0};
	o.by = AN_BY_FUNCTION;
	expect_top(o, 0,
		   "fill (samples/arrays.h): size=156 KiB, count=1, average=156 KiB\n"
		   "strdup: size=80 B, count=1, average=80 B\n",
		   "");
	/* oldest first, source lines stripped, none for frames without a file */
	o.by = AN_BY_TRACEBACK;
	expect_top(o, 0,
		   "samples/arrays.h:8: size=156 KiB, count=1, average=156 KiB\n"
		   "  File \"" EXE "+0x1064(_start)\", line 0\n"
		   "  File \"" LIBC "+0x29d8f(__libc_start_call_main)\", line 0\n"
		   "  File \"samples/arrays.c\", line 25\n"
		   "    b = make_array(10000);\n"
		   "  File \"samples/arrays.c\", line 12\n"
		   "    static double *make_array(size_t n) { return fill(n); }\n"
		   "  File \"samples/arrays.h\", line 8\n"
		   "    static inline double *fill(size_t n) { return malloc(n * 8); }\n" LIBC
		   "+0x9f00a(strdup):0: size=80 B, count=1, average=80 B\n"
		   "  File \"" EXE "+0x1064(_start)\", line 0\n"
		   "  File \"" LIBC "+0x29d8f(__libc_start_call_main)\", line 0\n"
		   "  File \"samples/arrays.c\", line 25\n"
		   "    b = make_array(10000);\n"
		   "  File \"" LIBC "+0x9f00a(strdup)\", line 0\n",
		   "");
	/* every frame counts, once per stack */
	o.by = AN_BY_LINENO;
	o.cumulative = 1;
	expect_top(
		o, 0,
		"samples/arrays.c:25: size=156 KiB, count=2, average=78.2 KiB\n" LIBC
		"+0x29d8f(__libc_start_call_main):0: size=156 KiB, count=2, average=78.2 KiB\n" EXE
		"+0x1064(_start):0: size=156 KiB, count=2, average=78.2 KiB\n"
		"samples/arrays.h:8: size=156 KiB, count=1, average=156 KiB\n"
		"samples/arrays.c:12: size=156 KiB, count=1, average=156 KiB\n" LIBC
		"+0x9f00a(strdup):0: size=80 B, count=1, average=80 B\n",
		"");
	o.by = AN_BY_TRACEBACK;
	expect_top(o, -EINVAL, "", "--cumulative cannot be used with --by traceback");
}

static void test_top_kinds(void **state)
{
	struct an_opts o = opts();

	write_log(LOG_FULL);
	/* one page unmapped from a mapping of 1954 pages; the mapping made
	 * inside malloc is the heap's */
	o.kind = AN_KIND_MMAP;
	expect_top(o, 0, "samples/arrays.c:30: size=7812 KiB, count=1, average=7812 KiB\n", "");
	o.kind = AN_KIND_ALL;
	expect_top(o, 0,
		   "samples/arrays.c:30: size=7812 KiB, count=1, average=7812 KiB\n"
		   "samples/arrays.h:8: size=156 KiB, count=1, average=156 KiB\n" LIBC
		   "+0x9f00a(strdup):0: size=80 B, count=1, average=80 B\n",
		   "");
	/* the peak of heap + mappings: after the mmap, before the big free */
	o.at = (struct an_when){AN_WHEN_PEAK, 0};
	o.limit = 2;
	expect_top(o, 0,
		   "samples/arrays.c:30: size=7816 KiB, count=1, average=7816 KiB\n"
		   "samples/arrays.c:21: size=7812 KiB, count=1, average=7812 KiB\n",
		   "");
	/* nothing live: said, not silent */
	o.kind = AN_KIND_MMAP;
	o.at = (struct an_when){AN_WHEN_EVENT, 3};
	expect_top(o, 1, "", DIR_LOG ": no mapped memory is live after #3: the report is empty");
}

static void test_top_bad_when(void **state)
{
	struct an_opts o = opts();

	write_log(LOG_FULL);
	o.at = (struct an_when){AN_WHEN_EVENT, 16};
	expect_top(o, -ENOENT, "", DIR_LOG ": no event #16: the log has 16 events");
	o.at = (struct an_when){AN_WHEN_MARK, 2};
	expect_top(o, -ENOENT, "", DIR_LOG ": no mark:2: the log has 1 mark");
	/* the run's end (its trailer: 2 s, after the last event) is the end... */
	o.at = (struct an_when){AN_WHEN_TIME, 2000000000ull};
	expect_top(o, 0,
		   "samples/arrays.h:8: size=156 KiB, count=1, average=156 KiB\n" LIBC
		   "+0x9f00a(strdup):0: size=80 B, count=1, average=80 B\n",
		   "");
	/* ...and past it there is nothing to report: not the end, silently */
	o.at = (struct an_when){AN_WHEN_TIME, 2000000001ull};
	expect_top(o, -ENOENT, "", DIR_LOG ": no moment 2.000000001s: the log ends at 2s");
	o.at = (struct an_when){AN_WHEN_TIME, 99000000000ull};
	expect_top(o, -ENOENT, "", DIR_LOG ": no moment 99s: the log ends at 2s");
}

static void test_top_without_symbols(void **state)
{
	struct an_opts o = opts();

	/* the module files do not exist: the symbolizer knows the module only,
	 * so malloc is not known as the allocator and both stacks meet there;
	 * why the frames have no names is said once */
	write_log(LOG_NO_SYMBOLS);
	expect_top(o, 1, LIBC "+0x9a0f0:0: size=156 KiB, count=2, average=78.2 KiB\n",
		   DIR_LOG ": 6 pcs of " LIBC " and 1 other module cannot be named: the files "
			   "are gone, and the log holds no symbols for them (cut short before "
			   "they were written?)");
}

static void test_top_changed_module(void **state)
{
	struct an_opts o = opts();
	struct run r;
	char want[8192];

	/* the program's file is there, but not the build traced: it is not
	 * used, and the report says why, apart from the module gone */
	write_log(LOG_CHANGED);
	snprintf(want, sizeof(want),
		 DIR_LOG ": 3 pcs of " LIBC " cannot be named: the file is gone, and the log "
			 "holds no symbols for them (cut short before they were written?)\n" DIR_LOG
			 ": 3 pcs of %s cannot be named: the file there now is another build (its "
			 "build-id differs), and the log holds no symbols for them (cut short "
			 "before they were written?)",
		 self);
	expect_top(o, 1, LIBC "+0x9a0f0:0: size=156 KiB, count=2, average=78.2 KiB\n", want);
	/* replay says it too, once */
	r = run(an_replay, &o);
	assert_int_equal(r.ret, 1);
	assert_non_null(
		strstr(r.st.message, "cannot be named: the file there now is another build"));
	free(r.out);
}

static void test_cut_log(void **state)
{
	struct an_opts o = opts();
	struct run r;

	write_log(LOG_CUT);
	expect_top(o, 1, LIBC "+0x9a0f0:0: size=156 KiB, count=2, average=78.2 KiB\n",
		   DIR_LOG ": log is cut short after event #15 (no trailer; the tracer was "
			   "killed?): the report covers what was read\n" DIR_LOG ": 6 pcs of " LIBC
			   " and 1 other module cannot be named: the files are "
			   "gone, and the log holds no symbols for them (cut short before they "
			   "were written?)");
	o.json = 1;
	r = run(an_summary, &o);
	assert_int_equal(r.ret, 1);
	assert_non_null(strstr(r.out, "\"truncated\": true,\n"));
	free(r.out);
	/* without a trailer the log ends at its last event */
	o.at = (struct an_when){AN_WHEN_TIME, 2000000000ull};
	o.json = 0;
	expect_top(o, -ENOENT, "", DIR_LOG ": no moment 2s: the log ends at 1.999999999s");
}

static void test_bad_logs(void **state)
{
	struct an_opts o = opts();
	struct run r;
	FILE *f;

	/* missing */
	o.log = "/nonexistent/x.log";
	r = run(an_top, &o);
	assert_true(r.ret < 0);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.st.message, "/nonexistent/x.log: "));
	assert_null(strchr(r.st.message, '\n'));
	free(r.out);
	/* empty */
	o.log = log_path;
	f = fopen(log_path, "w");
	fclose(f);
	r = run(an_summary, &o);
	assert_true(r.ret < 0);
	assert_string_equal(r.out, "");
	expect_text(r.st.message, DIR_LOG ": empty file");
	free(r.out);
	/* from a newer memtrack: version 3 */
	write_log(LOG_FULL);
	f = fopen(log_path, "r+");
	fseek(f, 8, SEEK_SET);
	fputc(3, f);
	fclose(f);
	r = run(an_replay, &o);
	assert_int_equal(r.ret, -EPROTONOSUPPORT);
	assert_string_equal(r.out, "");
	expect_text(r.st.message, DIR_LOG ": log format version 3 is newer than this memtrack "
					  "supports (2)");
	free(r.out);
	/* from the memtrack of the first format */
	f = fopen(log_path, "r+");
	fseek(f, 8, SEEK_SET);
	fputc(1, f);
	fclose(f);
	r = run(an_top, &o);
	assert_int_equal(r.ret, -EPROTONOSUPPORT);
	assert_string_equal(r.out, "");
	expect_text(r.st.message, DIR_LOG ": log format version 1 is older than this memtrack "
					  "reads (2): record it again, or read it with the "
					  "memtrack that wrote it");
	free(r.out);
}

static void test_summary(void **state)
{
	struct an_opts o = opts();
	struct run r;

	write_log(LOG_FULL);
	o.json = 1;
	r = run(an_summary, &o);
	assert_int_equal(r.ret, 0);
	assert_string_equal(r.st.message, "");
	assert_string_equal(
		r.out, "{\n"
		       "  \"command\": \"build/arrays 1000 a \\\"b\\\"\",\n"
		       "  \"pid\": 4242,\n"
		       "  \"events\": 16,\n"
		       "  \"allocs\": 5,\n"
		       "  \"frees\": 3,\n"
		       "  \"bytes_allocated\": 8320080,\n"
		       "  \"peak_bytes\": 8160080,\n"
		       "  \"leaked_bytes\": 160080,\n"
		       "  \"leaked_count\": 2,\n"
		       "  \"unknown_frees\": 1,\n"
		       "  \"teardown_frees\": 0,\n"
		       "  \"preexisting_frees\": 0,\n"
		       "  \"temporaries\": 1,\n"
		       "  \"temporary_bytes\": 80000,\n"
		       "  \"mmap_calls\": 1,\n"
		       "  \"munmap_calls\": 1,\n"
		       "  \"mremap_calls\": 0,\n"
		       "  \"brk_calls\": 0,\n"
		       "  \"mmap_calls_in_allocator\": 1,\n"
		       "  \"mmap_peak_bytes\": 8003584,\n"
		       "  \"mmap_live_bytes\": 7999488,\n"
		       "  \"rss_samples\": 0,\n"
		       "  \"rss_peak_bytes\": 0,\n"
		       "  \"mark_hits\": 1,\n"
		       "  \"duration_s\": 2.000000,\n"
		       "  \"exit_status\": 0,\n"
		       "  \"exit_signal\": null,\n"
		       "  \"truncated\": false,\n"
		       "  \"marks\": [\n"
		       "    {\"mark\": 1, \"location\": \"samples/arrays.c:21\", \"hits\": 1, "
		       "\"first\": \"mark:1\", \"first_s\": 0.000004}\n"
		       "  ],\n"
		       "  \"processes\": [\n"
		       "    {\"pid\": 4242, \"parent\": 0, \"command\": \"build/arrays 1000 a "
		       "\\\"b\\\"\", \"allocs\": 5, \"frees\": 3, \"bytes_allocated\": 8320080, "
		       "\"exit_status\": 0}\n"
		       "  ]\n"
		       "}\n");
	free(r.out);
	o.json = 0;
	r = run(an_summary, &o);
	assert_int_equal(r.ret, 0);
	assert_string_equal(
		r.out, "command: build/arrays 1000 a \"b\"\n"
		       "pid: 4242\n"
		       "events: 16\n"
		       "allocs: 5\n"
		       "frees: 3\n"
		       "bytes_allocated: 8320080 (8125 KiB)\n"
		       "peak_bytes: 8160080 (7969 KiB)\n"
		       "leaked_bytes: 160080 (156 KiB)\n"
		       "leaked_count: 2\n"
		       "unknown_frees: 1\n"
		       "teardown_frees: 0\n"
		       "preexisting_frees: 0\n"
		       "temporaries: 1\n"
		       "temporary_bytes: 80000 (78.1 KiB)\n"
		       "mmap_calls: 1\n"
		       "munmap_calls: 1\n"
		       "mremap_calls: 0\n"
		       "brk_calls: 0\n"
		       "mmap_calls_in_allocator: 1\n"
		       "mmap_peak_bytes: 8003584 (7816 KiB)\n"
		       "mmap_live_bytes: 7999488 (7812 KiB)\n"
		       "rss_samples: 0\n"
		       "rss_peak_bytes: 0\n"
		       "mark_hits: 1\n"
		       "duration_s: 2.000000\n"
		       "exit_status: 0\n"
		       "truncated: no\n"
		       "marks:\n"
		       "  mark 1 samples/arrays.c:21: 1 hit, the first (mark:1) at 0.000004s\n");
	free(r.out);
}

static void test_killed(void **state)
{
	struct an_opts o = opts();
	struct run r;

	/* wait status 9: killed by SIGKILL, exit status 128 + 9 like a shell's */
	write_log(LOG_KILLED);
	o.json = 1;
	r = run(an_summary, &o);
	assert_int_equal(r.ret, 0);
	assert_non_null(strstr(r.out, "  \"exit_status\": 137,\n  \"exit_signal\": 9,\n"));
	free(r.out);
	o.json = 0;
	r = run(an_summary, &o);
	assert_non_null(strstr(r.out, "\nexit_status: 137 (killed by SIGKILL)\n"));
	free(r.out);
	r = run(an_replay, &o);
	assert_non_null(
		strstr(r.out, "\n#15 +1.999999 4242/4242 proc_exit killed by SIGKILL\nEND\n"));
	free(r.out);
}

static void test_replay(void **state)
{
	struct an_opts o = opts();
	struct run r;

	write_log(LOG_FULL);
	r = run(an_replay, &o);
	assert_int_equal(r.ret, 0);
	assert_string_equal(r.st.message, "");
	expect_text(
		r.out,
		"memtrack log version 2, mode run, syscalls by seccomp, depth 64, time step 1ns, "
		"pid 4242, "
		"command: build/arrays 1000 a \"b\"\n"
		"#0 +0.000000 4242/4242 proc_start exec space 1\n"
		"#1 +0.000001 4242/4242 malloc(8000000) = 0xa1000  samples/arrays.c:21 main\n"
		"#2 +0.000002 4242/4242 malloc(80000) = 0xa2000  samples/arrays.h:8 fill\n"
		"#3 +0.000003 4242/4242 malloc(80000) = 0xa3000  samples/arrays.h:8 fill\n"
		"#4 +0.000004 4242/4242 mark 1 \"samples/arrays.c:21\"  samples/arrays.c:21 main\n"
		"#5 +0.000005 4242/4242 free(0xa2000)\n"
		"#6 +0.000006 4242/4242 realloc(0xa3000, 160000) = 0xa4000  samples/arrays.h:8 "
		"fill\n"
		"#7 +0.000007 4242/4242 calloc(10, 8) = 0xa5000  " LIBC "+0x9f00a(strdup)\n"
		"#8 +0.000008 4242/4242 mmap(NULL, 8000000, PROT_READ, MAP_PRIVATE, 3, 0) = "
		"0x7ffff7000000 \"/data/a.txt\"  samples/arrays.c:30 main\n"
		"#9 +0.000009 4242/4242 mmap(NULL, 135168, PROT_READ|PROT_WRITE, "
		"MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff6000000 [in-alloc]  "
		"samples/arrays.c:21 main\n"
		"#10 +1.500000 4242/4242 free(0xa1000)\n"
		"#11 +1.500001 4242/4242 munmap(0x7ffff7000000, 4096) = 0  samples/arrays.c:30 "
		"main\n"
		"#12 +1.500002 4242/4242 malloc(1099511627776) = NULL  samples/arrays.c:21 main\n"
		"#13 +1.500003 4242/4243 thread_start\n"
		"#14 +1.500004 4242/4243 free(0xdead0)\n"
		"#15 +1.999999 4242/4242 proc_exit exited 0\n"
		"END\n");
	free(r.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_lineno),
		cmocka_unit_test(test_top_filters),
		cmocka_unit_test(test_top_groupings),
		cmocka_unit_test(test_top_kinds),
		cmocka_unit_test(test_top_bad_when),
		cmocka_unit_test(test_top_without_symbols),
		cmocka_unit_test(test_top_changed_module),
		cmocka_unit_test(test_cut_log),
		cmocka_unit_test(test_bad_logs),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_killed),
		cmocka_unit_test(test_replay),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
