/*
 * test_analyzer_series.c - a synthetic log with marks (and their location
 * text), RSS samples, a file mapping and a temporary allocation, written
 * with log_writer as the tracer writes them, run through the reports that
 * need those: top --at mark:N and --temporary, diff between marks, leaks,
 * summary's marks, the timeline as CSV and SVG, and every export format;
 * the exact text of each.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "analyzer/analyzer.h"
#include "formats/log_writer.h"

#define PID	 4242
#define SPACE	 1
#define EXE	 0x555555554000ull
#define MS	 1000000ull
#define EXE_PATH "/nonexistent/build/prog"

enum pc {
	P_MAIN10 = 0x555555555010,
	P_MAIN20 = 0x555555555020,
	P_MAIN30 = 0x555555555030,
	P_HELP = 0x555555555100, /* helper() at prog.c:5, called from main:20 */
	P_START = 0x555555555400,
};

static char log_path[64];

static void symbol(struct log_writer *w, uint64_t pc, const char *function, const char *file,
		   uint32_t line)
{
	struct mt_symbol s = {.space = SPACE,
			      .pc = pc,
			      .module = 1,
			      .offset = pc - EXE,
			      .comp_dir = "/src",
			      .nframes = 1};

	s.frames[0].function = function;
	s.frames[0].file = file;
	s.frames[0].line = line;
	assert_int_equal(log_writer_symbol(w, &s), 0);
}

static void event(struct log_writer *w, uint64_t ms, struct mt_event ev)
{
	ev.pid = PID;
	ev.tid = PID;
	ev.time_ns = ms * MS;
	assert_int_equal(log_writer_event(w, &ev), 0);
}

/*
 * #0  0 ms  proc_start             #7  7 ms  rss 200000
 * #1  1 ms  malloc 1000 main:10    #8  8 ms  free the 1000
 * #2  2 ms  rss 100000             #9  9 ms  malloc 500 main:10
 * #3  3 ms  mark 1 "main"          #10 10 ms mark 1 "main"
 * #4  4 ms  malloc 3000 helper     #11 11 ms free the 500 (a temporary)
 * #5  5 ms  mmap 8192 of a file    #12 12 ms proc_exit
 * #6  6 ms  mark 2 "prog.c:20"
 */
static void write_log(void)
{
	static char *const argv[] = {"build/prog", "--fast"};
	struct mt_log_header h = {.version = MT_LOG_VERSION,
				  .mode = MT_MODE_RUN,
				  .flags = MT_LOG_SYSCALLS_SECCOMP,
				  .depth = 64,
				  .pid = PID,
				  .tick_ns = 1,
				  .cwd = "/src",
				  .argc = 2,
				  .argv = argv};
	struct mt_module exe = {
		.space = SPACE, .start = EXE, .end = EXE + 0x5000, .bias = EXE, .path = EXE_PATH};
	uint64_t pcs[3], s10, s20, s30;
	uint32_t main_text, line_text, data;
	struct log_writer *w;

	assert_int_equal(log_writer_open(&w, log_path, &h), 0);
	assert_int_equal(log_writer_module(w, &exe), 1);
	pcs[0] = P_MAIN10;
	pcs[1] = P_START;
	s10 = log_writer_stack(w, SPACE, pcs, 2);
	pcs[0] = P_HELP;
	pcs[1] = P_MAIN20;
	pcs[2] = P_START;
	s20 = log_writer_stack(w, SPACE, pcs, 3);
	pcs[0] = P_MAIN30;
	pcs[1] = P_START;
	s30 = log_writer_stack(w, SPACE, pcs, 2);
	main_text = log_writer_string(w, "main");
	line_text = log_writer_string(w, "prog.c:20");
	data = log_writer_string(w, "/data/numbers.txt");

	event(w, 0,
	      (struct mt_event){.type = MT_EV_PROC_START, .space = SPACE, .mflags = MT_PROC_EXEC});
	event(w, 1,
	      (struct mt_event){.type = MT_EV_ALLOC,
				.fn = MT_FN_MALLOC,
				.addr = 0x1000,
				.size = 1000,
				.stack = s10});
	event(w, 2, (struct mt_event){.type = MT_EV_RSS, .size = 100000});
	event(w, 3,
	      (struct mt_event){.type = MT_EV_MARK, .arg = 1, .path = main_text, .stack = s10});
	event(w, 4,
	      (struct mt_event){.type = MT_EV_ALLOC,
				.fn = MT_FN_MALLOC,
				.addr = 0x2000,
				.size = 3000,
				.stack = s20});
	event(w, 5,
	      (struct mt_event){.type = MT_EV_MMAP,
				.addr = 0x7f0000000000,
				.size = 8000,
				.prot = 1,
				.mflags = 2,
				.fd = 3,
				.path = data,
				.stack = s30});
	event(w, 6,
	      (struct mt_event){.type = MT_EV_MARK, .arg = 2, .path = line_text, .stack = s20});
	event(w, 7, (struct mt_event){.type = MT_EV_RSS, .size = 200000});
	event(w, 8, (struct mt_event){.type = MT_EV_FREE, .fn = MT_FN_FREE, .addr = 0x1000});
	event(w, 9,
	      (struct mt_event){.type = MT_EV_ALLOC,
				.fn = MT_FN_MALLOC,
				.addr = 0x3000,
				.size = 500,
				.stack = s10});
	event(w, 10,
	      (struct mt_event){.type = MT_EV_MARK, .arg = 1, .path = main_text, .stack = s10});
	event(w, 11, (struct mt_event){.type = MT_EV_FREE, .fn = MT_FN_FREE, .addr = 0x3000});
	event(w, 12, (struct mt_event){.type = MT_EV_PROC_EXIT, .status = 0});
	symbol(w, P_MAIN10, "main", "/src/prog.c", 10);
	symbol(w, P_MAIN20, "main", "/src/prog.c", 20);
	symbol(w, P_MAIN30, "main", "/src/prog.c", 30);
	symbol(w, P_HELP, "helper", "/src/prog.c", 5);
	symbol(w, P_START, "_start", NULL, 0);
	assert_int_equal(log_writer_close(w, &(struct mt_log_trailer){.exit_status = 0,
								      .duration_ns = 12 * MS}),
			 0);
}

static int setup(void **state)
{
	strcpy(log_path, "/tmp/memtrack-series-XXXXXX");
	if (mkstemp(log_path) < 0)
		return -1;
	write_log();
	return 0;
}

static int teardown(void **state)
{
	return unlink(log_path);
}

struct run {
	int ret;
	char *out;
	struct an_status st;
};

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
	struct an_opts o = {.log = log_path, .by = AN_BY_LINENO, .kind = AN_KIND_HEAP};

	return o;
}

static void expect(int (*fn)(const struct an_opts *, FILE *, struct an_status *), struct an_opts o,
		   int ret, const char *text, const char *message)
{
	struct run r = run(fn, &o);

	if (r.ret != ret)
		fail_msg("returned %d (%s), want %d", r.ret, r.st.message, ret);
	if (strcmp(r.out, text))
		fail_msg("got:\n%s\nwant:\n%s", r.out, text);
	if (message && strcmp(r.st.message, message))
		fail_msg("message:\n%s\nwant:\n%s", r.st.message, message);
	free(r.out);
}

static void test_marks(void **state)
{
	struct an_opts o = opts();

	/* mark:N is the N-th mark hit, whichever --mark it belongs to */
	o.at = (struct an_when){AN_WHEN_MARK, 2};
	expect(an_top, o, 0,
	       "prog.c:5: size=3000 B, count=1, average=3000 B\n"
	       "prog.c:10: size=1000 B, count=1, average=1000 B\n",
	       "");
	o.at = (struct an_when){AN_WHEN_MARK, 3};
	expect(an_top, o, 0,
	       "prog.c:5: size=3000 B, count=1, average=3000 B\n"
	       "prog.c:10: size=500 B, count=1, average=500 B\n",
	       "");
	o.at = (struct an_when){AN_WHEN_MARK, 4};
	{
		struct run r = run(an_top, &o);

		assert_int_equal(r.ret, -ENOENT);
		assert_non_null(strstr(r.st.message, ": no mark:4: the log has 3 marks"));
		free(r.out);
	}
	/* the file mapping, in whole pages */
	o.at = (struct an_when){AN_WHEN_MARK, 2};
	o.kind = AN_KIND_MMAP;
	expect(an_top, o, 0, "prog.c:30: size=8192 B, count=1, average=8192 B\n", "");
}

static void test_temporary(void **state)
{
	struct an_opts o = opts();

	o.temporary = 1;
	expect(an_top, o, 0, "prog.c:10: size=500 B, count=1, average=500 B\n", "");
	o.at = (struct an_when){AN_WHEN_MARK, 3};
	expect(an_top, o, 1, "", NULL); /* no temporary yet: said, not silent */
}

static void test_diff(void **state)
{
	struct an_opts o = opts();

	o.from = (struct an_when){AN_WHEN_MARK, 1};
	o.to = (struct an_when){AN_WHEN_MARK, 3};
	expect(an_diff, o, 0,
	       "prog.c:5: size=3000 B (+3000 B), count=1 (+1), average=3000 B\n"
	       "prog.c:10: size=500 B (-500 B), count=1 (+0), average=500 B\n",
	       "");
	/* back to the start: what was there is gone */
	o.from = (struct an_when){AN_WHEN_MARK, 3};
	o.to = (struct an_when){AN_WHEN_EVENT, 0};
	expect(an_diff, o, 0,
	       "prog.c:5: size=0 B (-3000 B), count=0 (-1)\n"
	       "prog.c:10: size=0 B (-500 B), count=0 (-1)\n",
	       "");
	/* the same log twice: every key, every difference 0 */
	o.log2 = log_path;
	o.from = o.to = (struct an_when){AN_WHEN_END, 0};
	o.by = AN_BY_FUNCTION;
	expect(an_diff, o, 0, "helper (prog.c): size=3000 B (+0 B), count=1 (+0), average=3000 B\n",
	       "");
}

static void test_leaks(void **state)
{
	struct an_opts o = opts();

	expect(an_leaks, o, 0,
	       "prog.c:5: size=3000 B, count=1, average=3000 B\n"
	       "  File \"" EXE_PATH "+0x1400(_start)\", line 0\n"
	       "  File \"prog.c\", line 20\n"
	       "  File \"prog.c\", line 5\n",
	       "");
	/* of what was live at mark:1, nothing leaked */
	o.at = (struct an_when){AN_WHEN_MARK, 1};
	{
		struct run r = run(an_leaks, &o);

		assert_int_equal(r.ret, 0);
		assert_string_equal(r.out, "");
		assert_non_null(strstr(r.st.message, ": no leaks: every heap block live at "
						     "mark:1 was freed by the end of the log"));
		free(r.out);
	}
}

static void test_summary_marks(void **state)
{
	struct an_opts o = opts();
	struct run r = run(an_summary, &o);

	assert_int_equal(r.ret, 0);
	assert_non_null(strstr(r.out, "rss_samples: 2\nrss_peak_bytes: 200000 (195 KiB)\n"
				      "mark_hits: 3\n"));
	assert_non_null(strstr(r.out,
			       "\nmarks:\n"
			       "  mark 1 main: 2 hits, the first (mark:1) at 0.003000s\n"
			       "  mark 2 prog.c:20: 1 hit, the first (mark:2) at 0.006000s\n"));
	assert_null(strstr(r.out, "processes:"));
	free(r.out);
	/* up to a moment */
	o.at = (struct an_when){AN_WHEN_MARK, 2};
	o.json = 1;
	r = run(an_summary, &o);
	assert_int_equal(r.ret, 0);
	assert_non_null(strstr(r.out, "  \"allocs\": 2,\n"));
	assert_non_null(strstr(r.out, "  \"leaked_bytes\": 4000,\n"));
	assert_non_null(strstr(r.out, "  \"marks\": [\n"
				      "    {\"mark\": 1, \"location\": \"main\", \"hits\": 1, "
				      "\"first\": \"mark:1\", \"first_s\": 0.003000},\n"
				      "    {\"mark\": 2, \"location\": \"prog.c:20\", \"hits\": 1, "
				      "\"first\": \"mark:2\", \"first_s\": 0.006000}\n  ],\n"));
	free(r.out);
}

static void test_timeline_csv(void **state)
{
	struct an_opts o = opts();

	/* every change (a short run), each RSS sample and mark, the peak, the end;
	 * the RSS sample right after mark:2 is the mark's (the tracer takes one
	 * at every mark) */
	expect(an_timeline, o, 0,
	       "time_s,heap_bytes,anon_mmap_bytes,file_mmap_bytes,rss_bytes,note\n"
	       "0.001000000,1000,0,0,,\n"
	       "0.002000000,1000,0,0,100000,\n"
	       "0.003000000,1000,0,0,100000,mark:1 main\n"
	       "0.004000000,4000,0,0,100000,\n"
	       "0.005000000,4000,0,8192,100000,peak\n"
	       "0.006000000,4000,0,8192,200000,mark:2 prog.c:20\n"
	       "0.008000000,3000,0,8192,200000,\n"
	       "0.009000000,3500,0,8192,200000,\n"
	       "0.010000000,3500,0,8192,200000,mark:3 main\n"
	       "0.011000000,3000,0,8192,200000,\n"
	       "0.012000000,3000,0,8192,200000,\n",
	       "");
}

static void test_timeline_svg(void **state)
{
	struct an_opts o = opts();
	char path[] = "/tmp/memtrack-series-svg-XXXXXX";
	char *svg = NULL;
	size_t len = 0;
	struct run r;
	FILE *f;

	assert_true(mkstemp(path) >= 0);
	o.svg = path;
	r = run(an_timeline, &o);
	assert_int_equal(r.ret, 0);
	assert_string_equal(r.out, "");
	free(r.out);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(getdelim(&svg, &len, '\0', f) > 0, 1);
	fclose(f);
	unlink(path);
	/* what a reader needs to find (test_timeline.py parses a real one) */
	assert_non_null(strstr(svg, "<title>memtrack timeline: prog --fast</title>"));
	assert_non_null(strstr(svg, "class=\"series\" data-name=\"heap (malloc family)\""));
	assert_non_null(strstr(svg, "class=\"series\" data-name=\"RSS\""));
	assert_non_null(strstr(svg, ">mark:2 prog.c:20</text>"));
	assert_non_null(strstr(svg, ">peak 11.9 KiB at 5.00 ms</tspan>"));
	/* round ticks with units; the RSS line is on the same scale */
	assert_non_null(strstr(svg, ">2.5 ms</text>"));
	assert_non_null(strstr(svg, ">10 ms</text>"));
	assert_non_null(strstr(svg, ">250 KiB</text>"));
	assert_int_equal(svg[strlen(svg) - 1], '\n');
	assert_non_null(strstr(svg, "</svg>\n"));
	free(svg);
}

static void test_export(void **state)
{
	struct an_opts o = opts();

	o.format = "folded";
	expect(an_export, o, 0, "_start;main;helper 3000\n", "");
	o.metric = AN_METRIC_ALLOCATED;
	expect(an_export, o, 0, "_start;main 1500\n_start;main;helper 3000\n", "");
	o.metric = AN_METRIC_COUNT;
	o.at = (struct an_when){AN_WHEN_MARK, 1};
	expect(an_export, o, 0, "_start;main 1\n", "");
	o.at = (struct an_when){AN_WHEN_END, 0};
	o.metric = AN_METRIC_LIVE;
	o.format = "csv";
	expect(an_export, o, 0,
	       "site,function,file,line,live_bytes,live_count,allocated_bytes,allocations,"
	       "temporary_bytes,temporaries,truncated\n"
	       "prog.c:5,helper,prog.c,5,3000,1,3000,1,0,0,0\n"
	       "prog.c:10,main,prog.c,10,0,0,1500,2,500,1,0\n",
	       "");
	o.format = "json";
	o.by = AN_BY_TRACEBACK;
	o.kind = AN_KIND_ALL;
	{
		struct run r = run(an_export, &o);
		char want[4096];

		snprintf(
			want, sizeof(want),
			"{\"command\": \"build/prog --fast\", \"log\": \"%s\", \"at\": \"end\", "
			"\"kind\": \"all\", \"by\": \"traceback\",\n"
			" \"statistics\": [\n"
			"  {\"trace\": \"prog.c:30\", \"size\": 8192, \"count\": 1, \"allocated\": "
			"8192, \"allocations\": 1, \"temporary_bytes\": 0, \"temporaries\": 0, "
			"\"truncated\": false, \"function\": \"main\", \"file\": \"prog.c\", \"line\": 30, "
			"\"traceback\": "
			"[{\"function\": \"_start\", \"file\": null, \"name\": \"" EXE_PATH
			"+0x1400(_start)\"}, {\"function\": \"main\", \"file\": \"prog.c\", "
			"\"line\": 30}]},\n"
			"  {\"trace\": \"prog.c:5\", \"size\": 3000, \"count\": 1, \"allocated\": "
			"3000, \"allocations\": 1, \"temporary_bytes\": 0, \"temporaries\": 0, "
			"\"truncated\": false, \"function\": \"helper\", \"file\": \"prog.c\", \"line\": 5, "
			"\"traceback\": [{\"function\": \"_start\", \"file\": null, \"name\": "
			"\"" EXE_PATH "+0x1400(_start)\"}, {\"function\": \"main\", \"file\": "
			"\"prog.c\", \"line\": 20}, {\"function\": \"helper\", \"file\": "
			"\"prog.c\", \"line\": 5}]},\n"
			"  {\"trace\": \"prog.c:10\", \"size\": 0, \"count\": 0, \"allocated\": "
			"1500, \"allocations\": 2, \"temporary_bytes\": 500, \"temporaries\": 1, "
			"\"truncated\": false, \"function\": \"main\", \"file\": \"prog.c\", \"line\": 10, "
			"\"traceback\": [{\"function\": \"_start\", \"file\": null, \"name\": "
			"\"" EXE_PATH "+0x1400(_start)\"}, {\"function\": \"main\", \"file\": "
			"\"prog.c\", \"line\": 10}]}\n"
			" ],\n"
			" \"size\": 11192, \"count\": 2}\n",
			log_path);
		assert_int_equal(r.ret, 0);
		assert_string_equal(r.out, want);
		free(r.out);
	}
	/* a format that does not exist: the ones that do are named */
	o.format = "pdf";
	expect(an_export, o, -EINVAL, "",
	       "unknown export format 'pdf': use folded|massif|csv|json|pprof");
}

/* massif's own account: its clock counts each block with the extra bytes
 * valgrind's allocator adds (a request rounded up to 16, and 8 of admin),
 * a snapshot after each call, a detailed one at the peak, taken before the
 * first free (1000 B + 16, 3000 B + 16 in use), its stacks ended at main
 * as massif ends them, and none at the end. */
static void test_massif(void **state)
{
	struct an_opts o = opts();

	o.format = "massif";
	expect(an_export, o, 0,
	       "desc: memtrack export --format massif --kind heap (time unit B: bytes allocated "
	       "and freed so far)\n"
	       "cmd: build/prog --fast\n"
	       "time_unit: B\n"
	       "#-----------\nsnapshot=0\n#-----------\ntime=0\nmem_heap_B=0\n"
	       "mem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=empty\n"
	       "#-----------\nsnapshot=1\n#-----------\ntime=1016\nmem_heap_B=1000\n"
	       "mem_heap_extra_B=16\nmem_stacks_B=0\nheap_tree=empty\n"
	       "#-----------\nsnapshot=2\n#-----------\ntime=4032\nmem_heap_B=4000\n"
	       "mem_heap_extra_B=32\nmem_stacks_B=0\nheap_tree=empty\n"
	       "#-----------\nsnapshot=3\n#-----------\ntime=4032\nmem_heap_B=4000\n"
	       "mem_heap_extra_B=32\nmem_stacks_B=0\nheap_tree=peak\n"
	       "n2: 4000 (heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n"
	       " n1: 3000 0x555555555100: helper (prog.c:5)\n"
	       "  n0: 3000 0x555555555020: main (prog.c:20)\n"
	       " n0: 1000 0x555555555010: main (prog.c:10)\n"
	       "#-----------\nsnapshot=4\n#-----------\ntime=5048\nmem_heap_B=3000\n"
	       "mem_heap_extra_B=16\nmem_stacks_B=0\nheap_tree=empty\n"
	       "#-----------\nsnapshot=5\n#-----------\ntime=5568\nmem_heap_B=3500\n"
	       "mem_heap_extra_B=36\nmem_stacks_B=0\nheap_tree=empty\n"
	       "#-----------\nsnapshot=6\n#-----------\ntime=6088\nmem_heap_B=3000\n"
	       "mem_heap_extra_B=16\nmem_stacks_B=0\nheap_tree=empty\n",
	       "");
	/* it covers the whole run */
	o.at = (struct an_when){AN_WHEN_PEAK, 0};
	expect(an_export, o, -EINVAL, "",
	       "--format massif covers the whole run with whole stacks: --at, --include, "
	       "--exclude and --cumulative do not apply");
	/* it is massif's: the heap's */
	o.at = (struct an_when){AN_WHEN_END, 0};
	o.kind = AN_KIND_ALL;
	expect(an_export, o, -EINVAL, "",
	       "--format massif is massif's account of the heap: --kind all does not apply");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marks),	      cmocka_unit_test(test_temporary),
		cmocka_unit_test(test_diff),	      cmocka_unit_test(test_leaks),
		cmocka_unit_test(test_summary_marks), cmocka_unit_test(test_timeline_csv),
		cmocka_unit_test(test_timeline_svg),  cmocka_unit_test(test_export),
		cmocka_unit_test(test_massif),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
