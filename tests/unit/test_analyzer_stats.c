/*
 * test_analyzer_stats.c - attribution and grouping on hand-made frames:
 * leading allocator frames skipped, --include/--exclude picking the
 * innermost passing frame (source path full or displayed, module path for a
 * frame without a file), and tracemalloc's grouping and sort order,
 * ties included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "analyzer/filter.h"
#include "analyzer/stats.h"
#include "formats/log.h"

static const struct an_frame f_malloc = {
	.display = "/lib/libc.so.6+0x1a(malloc)",
	.function = "malloc",
	.module = "/lib/libc.so.6",
	.module_id = 2,
	.flags = MT_SYMF_ALLOCATOR,
};
static const struct an_frame f_int_malloc = {
	.display = "/lib/libc.so.6+0x99(_int_malloc)",
	.function = "_int_malloc",
	.module = "/lib/libc.so.6",
	.module_id = 2,
	.flags = MT_SYMF_ALLOCATOR,
};
static const struct an_frame f_xstrdup = {
	.display = "/usr/src/lib/util.c",
	.file = "/usr/src/lib/util.c",
	.function = "xstrdup",
	.module = "/usr/lib/libutil.so",
	.module_id = 3,
	.line = 12,
};
static const struct an_frame f_foo = {
	.display = "/usr/lib/libfoo.so+0x40(foo_alloc)",
	.function = "foo_alloc",
	.module = "/usr/lib/libfoo.so",
	.module_id = 4,
};
static const struct an_frame f_main = {
	.display = "samples/arrays.c",
	.file = "/w/samples/arrays.c",
	.comp_dir = "/w",
	.function = "main",
	.module = "/w/build/arrays",
	.module_id = 1,
	.line = 21,
};
static const struct an_frame f_start = {
	.display = "/w/build/arrays+0x1040",
	.module = "/w/build/arrays",
	.module_id = 1,
};

static const struct an_frame *const stack[] = {&f_malloc, &f_int_malloc, &f_xstrdup,
					       &f_foo,	  &f_main,	 &f_start};
#define NSTACK (sizeof(stack) / sizeof(stack[0]))

static long site(const char *const *inc, size_t ninc, const char *const *exc, size_t nexc)
{
	struct an_filter f = {.include = inc, .ninclude = ninc, .exclude = exc, .nexclude = nexc};

	return filter_site(&f, stack, NSTACK);
}

/* --alloc-fn: the wrappers' frames are the allocator's too. */
static void test_alloc_fn(void **state)
{
	static const char *const xstrdup_glob[] = {"x*dup"};
	static const char *const both[] = {"xstrdup", "foo_*"};
	static const char *const params[] = {"ns::Pool::get"};
	static const char *const everything[] = {"*"};
	struct an_filter f = {.alloc_fn = xstrdup_glob, .nalloc_fn = 1};
	static const struct an_frame f_pool = {.display = "pool.cc",
					       .file = "pool.cc",
					       .function = "ns::Pool::get(unsigned long)"};
	static const struct an_frame f_vector = {
		.display = "/usr/include/c++/12/bits/stl_vector.h",
		.file = "/usr/include/c++/12/bits/stl_vector.h",
		.function = "std::_Vector_base<long, std::allocator<long> >::_M_allocate(unsigned "
			    "long)",
		.line = 378};
	static const struct an_frame f_traits = {.function =
							 "std::allocator_traits<std::allocator<"
							 "long> >::allocate(std::allocator<long>&, "
							 "unsigned long)"};
	const struct an_frame *cxx[] = {&f_malloc, &f_traits, &f_vector, &f_main};

	assert_int_equal(filter_site(&f, stack, NSTACK), 3);
	f.alloc_fn = both;
	f.nalloc_fn = 2;
	assert_int_equal(filter_site(&f, stack, NSTACK), 4);
	/* a name without its parameter list matches too */
	f.alloc_fn = params;
	f.nalloc_fn = 1;
	assert_true(filter_allocator(&f, &f_pool));
	assert_false(filter_allocator(&f, &f_main));
	/* the stack never leaves the allocator: its outermost frame */
	f.alloc_fn = everything;
	assert_int_equal(filter_site(&f, stack, NSTACK), NSTACK - 1);
	/* C++: the standard library's allocators, by name, and its headers */
	f.nalloc_fn = 0;
	assert_true(filter_allocator(&f, &f_traits));
	assert_true(filter_allocator(&f, &f_vector));
	assert_int_equal(filter_site(&f, cxx, 4), 3);
}

static void test_site(void **state)
{
	static const char *const samples[] = {"samples/*"};
	static const char *const samples_full[] = {"/w/samples/*.c"};
	static const char *const usr[] = {"/usr/*"};
	static const char *const libfoo[] = {"*/libfoo.so"};
	static const char *const libc[] = {"*libc*"};
	static const char *const nothing[] = {"nothing/*"};
	static const char *const two[] = {"nothing/*", "/usr/src/*"};
	static const char *const arrays_bin[] = {"*/build/arrays"};

	/* no filter: the first frame past the allocator */
	assert_int_equal(site(NULL, 0, NULL, 0), 2);
	/* the source path as displayed, or in full */
	assert_int_equal(site(samples, 1, NULL, 0), 4);
	assert_int_equal(site(samples_full, 1, NULL, 0), 4);
	/* a frame without a file matches by its module path */
	assert_int_equal(site(libfoo, 1, NULL, 0), 3);
	assert_int_equal(site(arrays_bin, 1, NULL, 0), 5);
	/* any of several globs */
	assert_int_equal(site(two, 2, NULL, 0), 2);
	/* exclude: util.c by its file, libfoo by its module */
	assert_int_equal(site(NULL, 0, usr, 1), 4);
	/* both: included and not excluded */
	assert_int_equal(site(samples, 1, usr, 1), 4);
	assert_int_equal(site(two, 2, usr, 1), -1);
	/* the skipped allocator frames are never the site */
	assert_int_equal(site(libc, 1, NULL, 0), -1);
	assert_int_equal(site(nothing, 1, NULL, 0), -1);
}

static void test_site_edges(void **state)
{
	static const struct an_filter none;
	static const char *const libc[] = {"*libc*"};
	const struct an_filter inc_libc = {.include = libc, .ninclude = 1};
	const struct an_frame *only_alloc[] = {&f_malloc, &f_int_malloc};
	const struct an_frame *inner_alloc[] = {&f_main, &f_malloc};

	/* a stack that never leaves the allocator: its outermost frame */
	assert_int_equal(filter_site(&none, only_alloc, 2), 1);
	assert_int_equal(filter_site(&inc_libc, only_alloc, 2), 1);
	/* only the leading allocator frames are skipped */
	assert_int_equal(filter_site(&none, inner_alloc, 2), 0);
	assert_int_equal(filter_site(&inc_libc, inner_alloc, 2), 1);
	assert_int_equal(filter_active(&none), 0);
	assert_int_equal(filter_active(&inc_libc), 1);
}

/* A frame of a file at a line, for grouping tests. */
#define FRAME(name, file_, line_, fn_)                                                             \
	static const struct an_frame name = {                                                      \
		.display = file_, .file = file_, .line = line_, .function = fn_}

FRAME(a9, "a.c", 9, "fa");
FRAME(a10, "a.c", 10, "fa");
FRAME(b1, "b.c", 1, "fb");
FRAME(b2, "b.c", 2, "fb");
FRAME(c5, "c.c", 5, "main");

static void expect(const struct stats *s, const char *const *traces, const uint64_t *sizes,
		   const uint64_t *counts, size_t n)
{
	char buf[256];

	assert_int_equal(s->n, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(stats_trace(s, &s->v[i], buf, sizeof(buf)), traces[i]);
		assert_int_equal(s->v[i].size, sizes[i]);
		assert_int_equal(s->v[i].count, counts[i]);
	}
}

static void add1(struct stats *s, const struct an_frame *f, uint64_t size, uint64_t count)
{
	assert_int_equal(stats_add(s, &f, 1, size, count), 0);
}

static void test_lineno_order(void **state)
{
	struct stats s;
	static const char *const traces[] = {"c.c:5", "b.c:2", "b.c:1", "a.c:10", "a.c:9"};
	static const uint64_t sizes[] = {500, 100, 100, 100, 100};
	static const uint64_t counts[] = {2, 3, 1, 1, 1};

	stats_init(&s, AN_BY_LINENO);
	add1(&s, &a9, 100, 1);
	add1(&s, &b1, 100, 1);
	add1(&s, &a10, 100, 1);
	add1(&s, &c5, 200, 1);
	add1(&s, &b2, 60, 2);
	add1(&s, &c5, 300, 1); /* the same key: summed */
	add1(&s, &b2, 40, 1);
	stats_sort(&s);
	/* size, then count, then (file, line) descending; line 10 > 9 */
	expect(&s, traces, sizes, counts, 5);
	stats_free(&s);
}

static void test_filename_and_function(void **state)
{
	struct stats s;
	static const char *const by_file[] = {"a.c:0", "b.c:0", "c.c:0"};
	static const uint64_t file_sizes[] = {300, 200, 100};
	static const uint64_t file_counts[] = {2, 2, 1};
	static const char *const by_fn[] = {"fa (a.c)", "foo_alloc", "/w/build/arrays+0x1040",
					    "fb (b.c)"};
	static const uint64_t fn_sizes[] = {300, 100, 100, 50};
	static const uint64_t fn_counts[] = {2, 1, 1, 1};

	stats_init(&s, AN_BY_FILENAME);
	add1(&s, &a9, 100, 1);
	add1(&s, &a10, 200, 1);
	add1(&s, &b1, 100, 1);
	add1(&s, &b2, 100, 1);
	add1(&s, &c5, 100, 1);
	stats_sort(&s);
	expect(&s, by_file, file_sizes, file_counts, 3);
	stats_free(&s);

	stats_init(&s, AN_BY_FUNCTION);
	add1(&s, &a9, 100, 1);
	add1(&s, &a10, 200, 1);
	add1(&s, &b1, 50, 1);
	add1(&s, &f_foo, 100, 1);   /* no file: the function alone */
	add1(&s, &f_start, 100, 1); /* no function: the display form */
	stats_sort(&s);
	/* "foo_alloc" > "/w/..." in a tie on size and count */
	expect(&s, by_fn, fn_sizes, fn_counts, 4);
	stats_free(&s);
}

static void test_traceback_order(void **state)
{
	struct stats s;
	/* innermost first */
	const struct an_frame *t1[] = {&a9, &b1, &c5};
	const struct an_frame *t2[] = {&a10, &b1, &c5};
	const struct an_frame *t3[] = {&b1, &c5};
	const struct an_frame *t4[] = {&a9, &b2};
	static const char *const traces[] = {"a.c:10", "a.c:9", "b.c:1", "a.c:9"};
	static const uint64_t sizes[] = {10, 10, 10, 10};
	static const uint64_t counts[] = {1, 1, 1, 1};

	stats_init(&s, AN_BY_TRACEBACK);
	assert_int_equal(stats_add(&s, t4, 2, 10, 1), 0);
	assert_int_equal(stats_add(&s, t3, 2, 10, 1), 0);
	assert_int_equal(stats_add(&s, t1, 3, 10, 1), 0);
	assert_int_equal(stats_add(&s, t2, 3, 10, 1), 0);
	stats_sort(&s);
	/*
	 * Tracebacks compare oldest frame first, descending:
	 * (c5, b1, a10) > (c5, b1, a9) > (c5, b1) > (b2, a9).
	 */
	expect(&s, traces, sizes, counts, 4);
	assert_int_equal(s.v[2].nframes, 2);
	assert_ptr_equal(s.v[2].frames[1], &c5);
	assert_ptr_equal(s.v[3].frames[1], &b2);
	stats_free(&s);
}

static void test_cumulative(void **state)
{
	struct stats s;
	/* recursion: a.c:9 twice in one stack */
	const struct an_frame *t1[] = {&a9, &a10, &a9, &c5};
	const struct an_frame *t2[] = {&b1, &c5};
	/* as tracemalloc's _group_by(cumulative=True): every frame counts,
	 * a.c:9 twice for t1 */
	static const char *const lines[] = {"c.c:5", "b.c:1", "a.c:9", "a.c:10"};
	static const uint64_t lsizes[] = {300, 200, 200, 100};
	static const uint64_t lcounts[] = {3, 2, 2, 1};
	static const char *const files[] = {"c.c:0", "a.c:0", "b.c:0"};
	static const uint64_t fsizes[] = {300, 300, 200};
	static const uint64_t fcounts[] = {3, 3, 2};
	static const char *const fns[] = {"main (c.c)", "fa (a.c)", "fb (b.c)"};

	stats_init(&s, AN_BY_LINENO);
	assert_int_equal(stats_add_each(&s, t1, 4, 100, 1), 0);
	assert_int_equal(stats_add_each(&s, t2, 2, 200, 2), 0);
	stats_sort(&s);
	expect(&s, lines, lsizes, lcounts, 4);
	stats_free(&s);

	stats_init(&s, AN_BY_FILENAME);
	assert_int_equal(stats_add_each(&s, t1, 4, 100, 1), 0);
	assert_int_equal(stats_add_each(&s, t2, 2, 200, 2), 0);
	stats_sort(&s);
	expect(&s, files, fsizes, fcounts, 3);
	stats_free(&s);

	/* fa's two lines are one function */
	stats_init(&s, AN_BY_FUNCTION);
	assert_int_equal(stats_add_each(&s, t1, 4, 100, 1), 0);
	assert_int_equal(stats_add_each(&s, t2, 2, 200, 2), 0);
	stats_sort(&s);
	expect(&s, fns, fsizes, fcounts, 3);
	stats_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_site),
		cmocka_unit_test(test_alloc_fn),
		cmocka_unit_test(test_site_edges),
		cmocka_unit_test(test_lineno_order),
		cmocka_unit_test(test_filename_and_function),
		cmocka_unit_test(test_traceback_order),
		cmocka_unit_test(test_cumulative),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
