/*
 * allocators.c - the allocator entry points memtrack hooks, by symbol name,
 * and how a completed call becomes an event.  Adding an entry point is
 * adding a row (and, if its arguments differ, a case in alloc_fill).
 */
#include "trace.h"

/*
 * Order matters where two names share an address (glibc's aligned_alloc is
 * memalign): the first row names the breakpoint.
 */
const struct alloc_entry alloc_entries[] = {
	{"malloc", MT_FN_MALLOC},
	{"calloc", MT_FN_CALLOC},
	{"realloc", MT_FN_REALLOC},
	{"reallocarray", MT_FN_REALLOCARRAY},
	{"free", MT_FN_FREE},
	{"posix_memalign", MT_FN_POSIX_MEMALIGN},
	{"memalign", MT_FN_MEMALIGN},
	{"aligned_alloc", MT_FN_ALIGNED_ALLOC},
	{"valloc", MT_FN_VALLOC},
	{"pvalloc", MT_FN_PVALLOC},
};
const size_t nalloc_entries = sizeof(alloc_entries) / sizeof(alloc_entries[0]);

static uint64_t mul_or_max(uint64_t a, uint64_t b, int *overflow)
{
	uint64_t r;

	*overflow = __builtin_mul_overflow(a, b, &r);
	return *overflow ? UINT64_MAX : r;
}

void alloc_fill(uint32_t fn, const uint64_t args[3], uint64_t ret, struct mt_event *ev)
{
	int overflow = 0;

	ev->fn = fn;
	ev->addr = ret;
	switch (fn) {
	case MT_FN_CALLOC:
		ev->type = MT_EV_ALLOC;
		ev->arg = args[0];
		ev->size = mul_or_max(args[0], args[1], &overflow);
		break;
	case MT_FN_REALLOC:
		ev->type = MT_EV_REALLOC;
		ev->old_addr = args[0];
		ev->size = args[1];
		break;
	case MT_FN_REALLOCARRAY:
		ev->type = MT_EV_REALLOC;
		ev->old_addr = args[0];
		ev->arg = args[1];
		ev->size = mul_or_max(args[1], args[2], &overflow);
		break;
	case MT_FN_POSIX_MEMALIGN:
		ev->type = MT_EV_ALLOC;
		ev->arg = args[1];
		ev->size = args[2];
		break;
	case MT_FN_MEMALIGN:
	case MT_FN_ALIGNED_ALLOC:
		ev->type = MT_EV_ALLOC;
		ev->arg = args[0];
		ev->size = args[1];
		break;
	default:	/* malloc, valloc, pvalloc */
		ev->type = MT_EV_ALLOC;
		ev->size = args[0];
		break;
	}
	/* realloc(p, 0) returning NULL freed p: that is not a failure */
	if (!ret && !(ev->type == MT_EV_REALLOC && ev->old_addr && !ev->size))
		ev->flags |= MT_EVF_FAILED;
}
