/*
 * filter.c - --include/--exclude and --alloc-fn globs and the choice of the
 * allocation site (see filter.h).
 */
#include <fnmatch.h>
#include <string.h>

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

/* The C++ standard library's allocators, by the start of their functions'
 * names: what std::vector, std::map or std::make_shared allocate through. */
static const char *const cxx_allocators[] = {
	"std::allocator<",	  "std::__new_allocator<",	"__gnu_cxx::new_allocator<",
	"std::allocator_traits<", "__gnu_cxx::__alloc_traits<",
};

/* The headers of the C++ standard library (libstdc++'s and libc++'s, as
 * installed and in their source trees). */
static const char *const cxx_headers[] = {"/include/c++/", "libstdc++-v3/include/"};

static int alloc_glob(const struct an_filter *f, const char *function)
{
	const char *paren = strchr(function, '(');
	char bare[1024];

	if (paren && (size_t)(paren - function) < sizeof(bare)) {
		memcpy(bare, function, (size_t)(paren - function));
		bare[paren - function] = '\0';
	} else {
		paren = NULL;
	}
	for (size_t i = 0; i < f->nalloc_fn; i++)
		if (fnmatch(f->alloc_fn[i], function, 0) == 0 ||
		    (paren && fnmatch(f->alloc_fn[i], bare, 0) == 0))
			return 1;
	return 0;
}

int filter_allocator(const struct an_filter *f, const struct an_frame *frame)
{
	if (frame->flags & MT_SYMF_ALLOCATOR)
		return 1;
	if (frame->file)
		for (size_t i = 0; i < sizeof(cxx_headers) / sizeof(cxx_headers[0]); i++)
			if (strstr(frame->file, cxx_headers[i]))
				return 1;
	if (!frame->function)
		return 0;
	for (size_t i = 0; i < sizeof(cxx_allocators) / sizeof(cxx_allocators[0]); i++)
		if (!strncmp(frame->function, cxx_allocators[i], strlen(cxx_allocators[i])))
			return 1;
	return f->nalloc_fn && alloc_glob(f, frame->function);
}

long filter_site(const struct an_filter *f, const struct an_frame *const *frames, size_t n)
{
	size_t i = 0;

	while (i + 1 < n && !frames[i]->cut && filter_allocator(f, frames[i]))
		i++;
	for (; i < n; i++)
		if (!frames[i]->cut && filter_frame(f, frames[i]))
			return (long)i;
	return -1;
}
