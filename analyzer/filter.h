/*
 * filter.h - --include/--exclude, --alloc-fn and the allocation site: which
 * frame of a stack an allocation is attributed to.
 */
#ifndef MEMTRACK_ANALYZER_FILTER_H
#define MEMTRACK_ANALYZER_FILTER_H

#include <stddef.h>

#include "resolve.h"

struct an_filter {
	const char *const *include;	/* fnmatch globs, flags 0 */
	size_t ninclude;
	const char *const *exclude;
	size_t nexclude;
	const char *const *alloc_fn;	/* --alloc-fn: globs on function names */
	size_t nalloc_fn;
};

/* Non-zero when the filter has any glob. */
int filter_active(const struct an_filter *f);

/*
 * Does a frame pass?  Its source file is matched both as the full path and
 * as displayed; a frame without a file is matched by its module path.  With
 * --include a frame passes when some glob matches; with --exclude when none
 * does.
 */
int filter_frame(const struct an_filter *f, const struct an_frame *frame);

/*
 * Is the frame the allocator's?  The allocator's own functions (the
 * symbolizer flags them: the malloc family, glibc's internals, operator
 * new), the C++ standard library's allocators (std::allocator,
 * std::__new_allocator, __gnu_cxx::new_allocator, std::allocator_traits,
 * __gnu_cxx::__alloc_traits) and the rest of that library's headers
 * (include/c++/: a container's growth, make_shared), and the functions
 * matching an --alloc-fn glob (matched against the name as reports print
 * it, and against it without its parameter list).  Only a run of them from
 * the innermost frame is skipped (filter_site), so a frame of the library
 * that the program's own code called back is not.
 */
int filter_allocator(const struct an_filter *f, const struct an_frame *frame);

/*
 * The allocation site of frames[0..n) (innermost first): the leading
 * allocator frames are skipped (all but the outermost, when the stack never
 * leaves the allocator), then the first frame that passes wins.  Returns its
 * index, or -1 when no frame passes.
 */
long filter_site(const struct an_filter *f, const struct an_frame *const *frames, size_t n);

#endif
