/*
 * test_formats_export.c - the exporters on hand-made records, without a
 * log: folded stacks merged, sorted and cleaned of separators; CSV and JSON
 * quoting; massif's tree (sites first, callers below, biggest first, '#'
 * kept out of ms_print's comments); the timeline CSV's notes; and the SVG
 * chart's axes, rounded ticks with units, and its parts.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "formats/export.h"
#include "formats/svg.h"

struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static void open_capture(struct capture *c)
{
	c->text = NULL;
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
}

static char *close_capture(struct capture *c)
{
	fclose(c->f);
	return c->text;
}

/* Runs an exporter over records; returns what it wrote. */
static char *export(const char *name, const struct ex_info *info, const struct ex_record *recs,
		    size_t n)
{
	const struct exporter *exp = ex_find(name);
	struct capture c;
	struct ex_writer w;

	assert_non_null(exp);
	open_capture(&c);
	w = (struct ex_writer){.out = c.f, .info = info, .state = calloc(1, exp->state_size + 1)};
	assert_int_equal(exp->begin(&w), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(exp->event(&w, &recs[i]), 0);
	assert_int_equal(exp->end(&w), 0);
	free(w.state);
	return close_capture(&c);
}

static const struct ex_frame f_start = {.display = "/bin/prog+0x40(_start)",
					.function = "_start",
					.module = "/bin/prog",
					.pc = 0x1040};
static const struct ex_frame f_main = {.function = "main",
				       .file = "prog.c",
				       .line = 9,
				       .display = "prog.c",
				       .module = "/bin/prog",
				       .pc = 0x1100};
static const struct ex_frame f_odd = {.function = "ns::f<a;b>#1(int x)",
				      .file = "p.cc",
				      .line = 3,
				      .display = "p.cc",
				      .pc = 0x1200};
static const struct ex_frame f_nofn = {
	.display = "/lib/x.so+0x99", .module = "/lib/x.so", .pc = 0x7f00};

static struct ex_record site(const struct ex_frame *frames, size_t n, uint64_t size, uint64_t count,
			     uint64_t allocated)
{
	struct ex_record r = {.type = EX_SITE};

	r.u.site = (struct ex_site){.key = "k",
				    .frames = frames,
				    .nframes = n,
				    .size = size,
				    .count = count,
				    .allocated = allocated,
				    .allocs = count};
	return r;
}

static void test_folded(void **state)
{
	/* innermost first in the records, outermost first in the lines */
	const struct ex_frame a[] = {f_main, f_start};
	const struct ex_frame b[] = {f_odd, f_main, f_start};
	const struct ex_frame c[] = {f_nofn, f_main, f_start};
	struct ex_record recs[] = {site(b, 3, 10, 1, 100), site(a, 2, 20, 2, 20),
				   site(c, 3, 0, 0, 5), site(a, 2, 5, 1, 5)};
	struct ex_info live = {.metric = "live"}, allocated = {.metric = "allocated"};
	char *out;

	/* the same stack twice is one line; a zero value none; ';' cannot
	 * split a frame, spaces stay */
	out = export("folded", &live, recs, 4);
	assert_string_equal(out, "_start;main 25\n_start;main;ns::f<a:b>#1(int x) 10\n");
	free(out);
	out = export("folded", &allocated, recs, 4);
	assert_string_equal(out, "_start;main 25\n_start;main;/lib/x.so+0x99 5\n"
				 "_start;main;ns::f<a:b>#1(int x) 100\n");
	free(out);
}

static void test_csv_json_quoting(void **state)
{
	static const struct ex_frame q[] = {
		{.function = "f\"g", .file = "a,b.c", .line = 7, .display = "a,b.c"}};
	struct ex_record r = site(q, 1, 3, 1, 3);
	struct ex_info info = {.command = "prog \"x\"\n",
			       .log = "l",
			       .when = "mark:2",
			       .kind = "heap",
			       .by = "lineno"};
	struct capture c;
	char *out;

	r.u.site.key = "a,b.c:7";
	out = export("csv", &info, &r, 1);
	assert_non_null(strstr(out, "\n\"a,b.c:7\",\"f\"\"g\",\"a,b.c\",7,3,1,3,1,0,0,0\n"));
	free(out);
	out = export("json", &info, &r, 1);
	assert_non_null(strstr(out, "{\"command\": \"prog \\\"x\\\"\\n\", \"log\": \"l\", "
				    "\"at\": \"mark:2\""));
	assert_non_null(strstr(out, "\"function\": \"f\\\"g\", \"file\": \"a,b.c\", \"line\": 7}"));
	assert_non_null(strstr(out, "\"size\": 3, \"count\": 1}\n"));
	assert_non_null(strstr(out, "\"temporaries\": 0, \"truncated\": false, "));
	free(out);
	/* a site whose stack was cut at --depth says so */
	r.u.site.truncated = 1;
	out = export("csv", &info, &r, 1);
	assert_non_null(strstr(out, "\n\"a,b.c:7\",\"f\"\"g\",\"a,b.c\",7,3,1,3,1,0,0,1\n"));
	free(out);
	out = export("json", &info, &r, 1);
	assert_non_null(strstr(out, "\"temporaries\": 0, \"truncated\": true, "));
	free(out);
	r.u.site.truncated = 0;
	/* an empty export is still a whole document */
	out = export("json", &info, NULL, 0);
	assert_non_null(strstr(out, "\"statistics\": [],\n \"size\": 0, \"count\": 0}\n"));
	free(out);
	open_capture(&c);
	ex_csv_field(c.f, "plain");
	ex_json_string(c.f, "\x01\t");
	assert_string_equal(close_capture(&c), "plain\"\\u0001\\t\"");
	free(c.text);
}

/* A detailed snapshot's site: stack id, and frames (NULL: given before). */
static struct ex_record dsite(uint64_t stack, const struct ex_frame *frames, size_t n,
			      uint64_t size)
{
	struct ex_record r = site(frames, n, size, 1, size);

	r.u.site.stack = stack;
	return r;
}

static void test_massif_tree(void **state)
{
	const struct ex_frame s1[] = {f_main, f_start};
	const struct ex_frame s2[] = {f_odd, f_main, f_start};
	const struct ex_frame s3[] = {f_nofn, f_start};
	struct ex_record recs[13] = {{.type = EX_SAMPLE}};
	struct ex_info info = {.command = "prog", .kind = "heap"};
	char *out;

	recs[0].u.sample.moved = 0;
	recs[1] = (struct ex_record){.type = EX_DETAIL_BEGIN};
	recs[1].u.sample = (struct ex_sample){.moved = 90, .total = 90, .peak = 1};
	recs[2] = dsite(1, s1, 2, 10);
	recs[3] = dsite(2, s2, 3, 50);
	recs[4] = dsite(3, s3, 2, 30);
	recs[5] = (struct ex_record){.type = EX_DETAIL_END};
	recs[6] = (struct ex_record){.type = EX_SAMPLE};
	recs[6].u.sample = (struct ex_sample){.moved = 180, .total = 0};
	/* the same stacks by number; 1% of 9000 + 1000 extra is 100: the
	 * sites of 99 and 1 bytes are summed, the stack of 0 bytes with them */
	recs[7] = (struct ex_record){.type = EX_DETAIL_BEGIN};
	recs[7].u.sample = (struct ex_sample){.moved = 300, .total = 9000, .extra = 1000};
	recs[8] = dsite(2, NULL, 0, 8900);
	recs[9] = dsite(1, NULL, 0, 99);
	recs[10] = dsite(3, NULL, 0, 1);
	recs[11] = dsite(4, s1 + 1, 1, 0);
	recs[12] = (struct ex_record){.type = EX_DETAIL_END};
	out = export("massif", &info, recs, 13);
	/* stacks end at main, or without one at the C library's start */
	assert_string_equal(
		out, "desc: memtrack export --format massif --kind heap (time unit B: bytes "
		     "allocated and freed so far)\n"
		     "cmd: prog\ntime_unit: B\n"
		     "#-----------\nsnapshot=0\n#-----------\ntime=0\nmem_heap_B=0\n"
		     "mem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=empty\n"
		     "#-----------\nsnapshot=1\n#-----------\ntime=90\nmem_heap_B=90\n"
		     "mem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=peak\n"
		     "n3: 90 (heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n"
		     " n1: 50 0x1200: ns::f<a;b>?1(int x) (p.cc:3)\n"
		     "  n0: 50 0x1100: main (prog.c:9)\n"
		     " n1: 30 0x7f00: ??? (in /lib/x.so)\n"
		     "  n0: 30 0x1040: _start (in /bin/prog)\n"
		     " n0: 10 0x1100: main (prog.c:9)\n"
		     "#-----------\nsnapshot=2\n#-----------\ntime=180\nmem_heap_B=0\n"
		     "mem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=empty\n"
		     "#-----------\nsnapshot=3\n#-----------\ntime=300\nmem_heap_B=9000\n"
		     "mem_heap_extra_B=1000\nmem_stacks_B=0\nheap_tree=detailed\n"
		     "n2: 9000 (heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n"
		     " n1: 8900 0x1200: ns::f<a;b>?1(int x) (p.cc:3)\n"
		     "  n0: 8900 0x1100: main (prog.c:9)\n"
		     " n0: 100 in 3 places, all below massif's threshold (1.00%)\n");
	free(out);
}

/* More frames than 2-byte numbers hold: the stacks interned before and
 * the one being interned when they run out keep their frames. */
static void test_massif_many_frames(void **state)
{
	enum { STACKS = 70, DEPTH = 1000 };
	struct ex_frame *frames = calloc((size_t)STACKS * DEPTH, sizeof(*frames));
	struct ex_record *recs = calloc(STACKS + 10, sizeof(*recs));
	const struct ex_frame s0[] = {f_main};
	struct ex_info info = {.command = "prog", .kind = "heap"};
	size_t n = 0, depth = 0;
	char *out, *line, *save = NULL;

	for (size_t i = 0; i < (size_t)STACKS * DEPTH; i++)
		frames[i] = (struct ex_frame){.function = "g", .file = "g.c", .pc = 0x100000 + i};
	recs[n] = (struct ex_record){.type = EX_DETAIL_BEGIN};
	recs[n++].u.sample = (struct ex_sample){.total = 10000};
	recs[n++] = dsite(1, s0, 1, 10000);
	for (size_t k = 0; k < STACKS; k++)
		recs[n++] = dsite(k + 2, frames + k * DEPTH, DEPTH, 0);
	recs[n++] = (struct ex_record){.type = EX_DETAIL_END};
	/* frame number 65536 (main is 0) is the 536th of stack 67 (frames
	 * 65000 on): that stack whole, by number */
	recs[n] = (struct ex_record){.type = EX_DETAIL_BEGIN};
	recs[n++].u.sample = (struct ex_sample){.total = 10000};
	recs[n++] = dsite(1, NULL, 0, 1);
	recs[n++] = dsite(67, NULL, 0, 9999);
	recs[n++] = (struct ex_record){.type = EX_DETAIL_END};
	out = export("massif", &info, recs, n);
	line = strstr(strstr(out, "heap_tree=detailed") + 1, "heap_tree=detailed");
	assert_non_null(line);
	line = strtok_r(line, "\n", &save); /* heap_tree= */
	line = strtok_r(NULL, "\n", &save); /* the root */
	assert_string_equal(line, "n2: 10000 (heap allocation functions) malloc/new/new[], "
				  "--alloc-fns, etc.");
	while ((line = strtok_r(NULL, "\n", &save)) && depth < DEPTH) {
		char want[64];

		snprintf(want, sizeof(want), "n%d: 9999 0x%zx: g (g.c:0)", depth + 1 < DEPTH,
			 (size_t)0x100000 + 65 * DEPTH + depth);
		assert_int_equal(strspn(line, " "), depth + 1);
		assert_string_equal(line + depth + 1, want);
		depth++;
	}
	assert_int_equal(depth, DEPTH);
	assert_string_equal(line, " n0: 1 in 1 place, below massif's threshold (1.00%)");
	free(out);
	free(recs);
	free(frames);
}

/*
 * Stacks that share their outer frames, as one program's do (the writer
 * takes the numbers of those from the stack before): 80 stacks, each of
 * 900 frames of its own under the same 100, so that frame numbers outgrow
 * 2 bytes inside stack 72 (the 74th given).  Each stack given before,
 * during and after that, asked again by number, is whole and in order.
 */
static void test_massif_shared_frames(void **state)
{
	enum { STACKS = 80, OWN = 900, SHARED = 100 };
	struct ex_frame *frames = calloc((size_t)STACKS * (OWN + SHARED), sizeof(*frames));
	struct ex_record *recs = calloc(STACKS + 20, sizeof(*recs));
	const size_t asked[] = {0, 71, 72, 73, 79};
	const struct ex_frame s0[] = {f_main};
	struct ex_info info = {.command = "prog", .kind = "heap"};
	size_t n = 0;
	char *out, *at;

	for (size_t k = 0; k < STACKS; k++)
		for (size_t i = 0; i < OWN + SHARED; i++)
			frames[k * (OWN + SHARED) + i] = (struct ex_frame){
				.function = "g",
				.file = "g.c",
				.pc = i < OWN ? 0x100000 + k * OWN + i : 0x900000 + i};
	recs[n] = (struct ex_record){.type = EX_DETAIL_BEGIN};
	recs[n++].u.sample = (struct ex_sample){.total = 10000};
	recs[n++] = dsite(1, s0, 1, 10000);
	for (size_t k = 0; k < STACKS; k++)
		recs[n++] = dsite(k + 2, frames + k * (OWN + SHARED), OWN + SHARED, 0);
	recs[n++] = (struct ex_record){.type = EX_DETAIL_END};
	for (size_t a = 0; a < sizeof(asked) / sizeof(*asked); a++) {
		recs[n] = (struct ex_record){.type = EX_DETAIL_BEGIN};
		recs[n++].u.sample = (struct ex_sample){.total = 10000};
		recs[n++] = dsite(asked[a] + 2, NULL, 0, 10000);
		recs[n++] = (struct ex_record){.type = EX_DETAIL_END};
	}
	out = export("massif", &info, recs, n);
	at = strstr(out, "heap_tree=detailed");
	assert_non_null(at);
	for (size_t a = 0; a < sizeof(asked) / sizeof(*asked); a++) {
		char *line, *save = NULL, *next;
		size_t depth = 0;

		at = strstr(at + 1, "heap_tree=detailed");
		assert_non_null(at);
		next = strstr(at + 1, "#-----------");
		if (next)
			*next = 0;
		line = strtok_r(at, "\n", &save);   /* heap_tree= */
		line = strtok_r(NULL, "\n", &save); /* the root */
		while ((line = strtok_r(NULL, "\n", &save))) {
			char want[64];
			size_t pc =
				depth < OWN ? 0x100000 + asked[a] * OWN + depth : 0x900000 + depth;

			snprintf(want, sizeof(want), "n%d: 10000 0x%zx: g (g.c:0)",
				 depth + 1 < OWN + SHARED, pc);
			assert_int_equal(strspn(line, " "), depth + 1);
			assert_string_equal(line + depth + 1, want);
			depth++;
		}
		assert_int_equal(depth, OWN + SHARED);
		if (next)
			*next = '#';
		at = next ? next - 1 : at;
	}
	free(out);
	free(recs);
	free(frames);
}

static void test_timeline_csv(void **state)
{
	struct ex_record recs[3] = {{.type = EX_SAMPLE}, {.type = EX_SAMPLE}, {.type = EX_SAMPLE}};
	struct ex_info info = {0};
	char *out;

	recs[0].u.sample =
		(struct ex_sample){.time_ns = 1500000001, .heap = 1, .anon = 2, .file = 3};
	recs[1].u.sample = (struct ex_sample){.time_ns = 2000000000,
					      .heap = 4,
					      .rss = 4096,
					      .has_rss = 1,
					      .peak = 1,
					      .mark = "mark:1 a.c:3"};
	recs[2].u.sample =
		(struct ex_sample){.time_ns = 3, .rss = 1, .has_rss = 1, .mark = "mark:2 f(a, b)"};
	out = export("timeline", &info, recs, 3);
	assert_string_equal(out,
			    "time_s,heap_bytes,anon_mmap_bytes,file_mmap_bytes,rss_bytes,note\n"
			    "1.500000001,1,2,3,,\n"
			    "2.000000000,4,0,0,4096,peak; mark:1 a.c:3\n"
			    "0.000000003,0,0,0,1,\"mark:2 f(a, b)\"\n");
	free(out);
}

/* The text of every <text> element, in order, joined by '|'. */
static char *texts(const char *svg)
{
	char *out = calloc(1, strlen(svg) + 1);
	const char *p = svg;

	while ((p = strstr(p, "<text"))) {
		const char *start = strchr(p, '>') + 1, *end = strstr(start, "</text>");

		strncat(out, start, (size_t)(end - start));
		strcat(out, "|");
		p = end;
	}
	return out;
}

static void test_svg_axes(void **state)
{
	static const double x[] = {0, 0.004, 0.012};
	static const double heap[] = {0, 4000, 3000};
	static const double rss[] = {NAN, 100000, 200000};
	static const struct chart_series series[] = {
		{"heap", "#1f77b4", CHART_AREA, heap},
		{"RSS", "#7b3fa0", CHART_LINE, rss},
	};
	static const struct chart_vline marks[] = {{0.006, "mark:1 a & b"}};
	struct chart c = {.title = "t",
			  .x_label = "time",
			  .y_label = "memory",
			  .x_unit = CHART_SECONDS,
			  .y_unit = CHART_BYTES,
			  .steps = 1,
			  .x = x,
			  .npoints = 3,
			  .series = series,
			  .nseries = 2,
			  .vlines = marks,
			  .nvlines = 1,
			  .has_peak = 1,
			  .peak_x = 0.004,
			  .peak_y = 4000,
			  .peak_label = "peak 3.91 KiB at 4.00 ms"};
	struct capture cap;
	char *svg, *t;

	open_capture(&cap);
	assert_int_equal(svg_chart(cap.f, &c), 0);
	svg = close_capture(&cap);
	t = texts(svg);
	/* y: 0 to 250 KiB (RSS is on the same axis) in steps of 50 KiB; x: 0
	 * to 12.5 ms in steps of 2.5 ms, as few decimals as each needs */
	assert_string_equal(t, "t|0|50 KiB|100 KiB|150 KiB|200 KiB|250 KiB|memory|"
			       "0|2.5 ms|5 ms|7.5 ms|10 ms|12.5 ms|time|mark:1 a &amp; b|"
			       "<tspan x=\"28\" dy=\"0\">heap</tspan>|"
			       "<tspan x=\"28\" dy=\"0\">RSS</tspan>|"
			       "<tspan x=\"28\" dy=\"0\">mark</tspan>|"
			       "<tspan x=\"28\" dy=\"0\">peak 3.91 KiB at 4.00 ms</tspan>|");
	assert_non_null(strstr(svg, "<g class=\"series\" data-name=\"heap\">"));
	assert_non_null(strstr(svg, "<g class=\"peak\">\n<title>peak 3.91 KiB at 4.00 ms</title>"));
	/* the RSS line starts at its first value */
	assert_non_null(strstr(svg, "<g class=\"series\" data-name=\"RSS\">\n<path fill=\"none\" "
				    "stroke=\"#7b3fa0\" stroke-width=\"2\" d=\"M296.2 "));
	free(t);
	free(svg);
	c.npoints = 0;
	open_capture(&cap);
	assert_int_equal(svg_chart(cap.f, &c), -22);
	free(close_capture(&cap));
}

static void test_svg_format(void **state)
{
	char buf[32];

	assert_string_equal(svg_format(buf, sizeof(buf), 512, CHART_BYTES), "512 B");
	assert_string_equal(svg_format(buf, sizeof(buf), 8000000, CHART_BYTES), "7.63 MiB");
	assert_string_equal(svg_format(buf, sizeof(buf), 80000, CHART_BYTES), "78.1 KiB");
	assert_string_equal(svg_format(buf, sizeof(buf), 0.25, CHART_SECONDS), "250 ms");
	assert_string_equal(svg_format(buf, sizeof(buf), 12.5, CHART_SECONDS), "12.5 s");
	assert_string_equal(svg_format(buf, sizeof(buf), 2e-6, CHART_SECONDS), "2.00 \xc2\xb5s");
	assert_string_equal(svg_format(buf, sizeof(buf), 900001, CHART_NUMBER), "900,001");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_folded),
		cmocka_unit_test(test_csv_json_quoting),
		cmocka_unit_test(test_massif_tree),
		cmocka_unit_test(test_massif_many_frames),
		cmocka_unit_test(test_massif_shared_frames),
		cmocka_unit_test(test_timeline_csv),
		cmocka_unit_test(test_svg_axes),
		cmocka_unit_test(test_svg_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
