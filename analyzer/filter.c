/*
 * filter.c - --include/--exclude globs and the choice of the allocation
 * site (see filter.h).
 */
#include <fnmatch.h>

#include "../formats/log.h"
#include "filter.h"

int filter_active(const struct an_filter *f)
{
	return f->ninclude || f->nexclude;
}

/* Does any glob match any of the frame's names? */
static int matches(const char *const *globs, size_t n, const struct an_frame *frame)
{
	const char *names[2];
	size_t nnames = 0;

	if (frame->file) {
		names[nnames++] = frame->file;
		if (frame->display != frame->file)
			names[nnames++] = frame->display;
	} else if (frame->module) {
		names[nnames++] = frame->module;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < nnames; k++)
			if (fnmatch(globs[i], names[k], 0) == 0)
				return 1;
	return 0;
}

int filter_frame(const struct an_filter *f, const struct an_frame *frame)
{
	if (f->ninclude && !matches(f->include, f->ninclude, frame))
		return 0;
	if (f->nexclude && matches(f->exclude, f->nexclude, frame))
		return 0;
	return 1;
}

long filter_site(const struct an_filter *f, const struct an_frame *const *frames, size_t n)
{
	size_t i = 0;

	while (i + 1 < n && (frames[i]->flags & MT_SYMF_ALLOCATOR))
		i++;
	for (; i < n; i++)
		if (!frames[i]->cut && filter_frame(f, frames[i]))
			return (long)i;
	return -1;
}
