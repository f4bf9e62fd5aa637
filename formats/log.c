/*
 * log.c - names of the log's enumerations, as replay and the reports print
 * them.  Indexed by the enum values, which the format fixes; the event
 * names come from the schema table, MT_EVENTS in log.h.
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

#define EVENT_NAME(kind, tag, name, fields) [MT_EV_##kind] = name,
static const char *const event_names[MT_EV_TYPE_COUNT] = {MT_EVENTS(EVENT_NAME, MT_EV_NO_FIELDS)};
#undef EVENT_NAME

/* A row's tag is its number in MT_EVENTS, so the tags are 1 to
 * MT_EV_TYPE_COUNT - 1 without a gap: the reader takes every tag in that
 * range for an event, and the tables above are indexed by it. */
#define ROW(kind, tag, name, fields) ROW_##kind,
enum { ROW_NONE, MT_EVENTS(ROW, MT_EV_NO_FIELDS) };
#undef ROW
#define TAG_IS_ROW(kind, tag, name, fields)                                                        \
	_Static_assert(tag == ROW_##kind, "MT_EV_" #kind ": its tag is not its row number");
MT_EVENTS(TAG_IS_ROW, MT_EV_NO_FIELDS)
#undef TAG_IS_ROW

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
