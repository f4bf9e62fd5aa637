/*
 * log.c - names of the log's enumerations, as replay and the reports print
 * them.  Indexed by the enum values, which the format fixes.
 */
#include <sys/wait.h>

#include "log.h"

static const char *const fn_names[MT_FN_COUNT] = {
	[MT_FN_MALLOC] = "malloc",
	[MT_FN_CALLOC] = "calloc",
	[MT_FN_REALLOC] = "realloc",
	[MT_FN_REALLOCARRAY] = "reallocarray",
	[MT_FN_FREE] = "free",
	[MT_FN_POSIX_MEMALIGN] = "posix_memalign",
	[MT_FN_ALIGNED_ALLOC] = "aligned_alloc",
	[MT_FN_MEMALIGN] = "memalign",
	[MT_FN_VALLOC] = "valloc",
	[MT_FN_PVALLOC] = "pvalloc",
};

static const char *const event_names[MT_EV_TYPE_COUNT] = {
	[MT_EV_ALLOC] = "alloc",
	[MT_EV_FREE] = "free",
	[MT_EV_REALLOC] = "realloc",
	[MT_EV_MMAP] = "mmap",
	[MT_EV_MUNMAP] = "munmap",
	[MT_EV_MREMAP] = "mremap",
	[MT_EV_BRK] = "brk",
	[MT_EV_THREAD_START] = "thread_start",
	[MT_EV_THREAD_EXIT] = "thread_exit",
	[MT_EV_PROC_START] = "proc_start",
	[MT_EV_PROC_EXIT] = "proc_exit",
	[MT_EV_MARK] = "mark",
	[MT_EV_RSS] = "rss",
};

const char *mt_fn_name(unsigned fn)
{
	return fn < MT_FN_COUNT ? fn_names[fn] : NULL;
}

const char *mt_event_name(unsigned type)
{
	return type < MT_EV_TYPE_COUNT ? event_names[type] : NULL;
}

int mt_exit_code(int64_t status)
{
	if (status < 0)
		return -1;
	if (WIFEXITED((int)status))
		return WEXITSTATUS((int)status);
	if (WIFSIGNALED((int)status))
		return 128 + WTERMSIG((int)status);
	return -1;
}
