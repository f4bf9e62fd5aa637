/*
 * filter.h - --include/--exclude and the allocation site: which frame of a
 * stack an allocation is attributed to.
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
 * The allocation site of frames[0..n) (innermost first): the leading
 * allocator frames are skipped (all but the outermost, when the stack never
 * leaves the allocator), then the first frame that passes wins.  Returns its
 * index, or -1 when no frame passes.
 */
long filter_site(const struct an_filter *f, const struct an_frame *const *frames, size_t n);

#endif
