/*
 * allocators.c - the allocator entry points memtrack hooks, by symbol name,
 * and how a completed call becomes an event.  Adding an entry point is
 * adding a row (and, if its arguments differ, a case in alloc_fill).
 */
#include "trace.h"

/*
 * Order matters where two names share an address (glibc's aligned_alloc is
 * memalign, mimalloc's operator delete is free): the first row names the
 * breakpoint.
 *
 * C++'s global operators are hooked where the allocator module defines
 * them: jemalloc, tcmalloc and mimalloc each define their own, which never
 * call the module's malloc (libstdc++'s, which do, are not in a module that
 * defines malloc, and go through it).  They are recorded as the malloc
 * family call they amount to, as valgrind counts them: new as malloc,
 * aligned new as aligned_alloc, delete as free.  A delete may end in a
 * tail call of the module's free (mimalloc's do, through the PLT): the
 * ptrace engine hijacks its return too, so that the free, returning to the
 * trampoline, is seen to be the delete's own.
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
	/* new, new[]: (size), (size, nothrow) */
	{"_Znwm", MT_FN_MALLOC},
	{"_Znam", MT_FN_MALLOC},
	{"_ZnwmRKSt9nothrow_t", MT_FN_MALLOC},
	{"_ZnamRKSt9nothrow_t", MT_FN_MALLOC},
	/* (size, alignment), (size, alignment, nothrow) */
	{"_ZnwmSt11align_val_t", ALLOC_FN_NEW_ALIGNED},
	{"_ZnamSt11align_val_t", ALLOC_FN_NEW_ALIGNED},
	{"_ZnwmSt11align_val_tRKSt9nothrow_t", ALLOC_FN_NEW_ALIGNED},
	{"_ZnamSt11align_val_tRKSt9nothrow_t", ALLOC_FN_NEW_ALIGNED},
	/* delete, delete[]: the block first, whatever follows (size,
	 * alignment, nothrow) */
	{"_ZdlPv", ALLOC_FN_DELETE},
	{"_ZdaPv", ALLOC_FN_DELETE},
	{"_ZdlPvm", ALLOC_FN_DELETE},
	{"_ZdaPvm", ALLOC_FN_DELETE},
	{"_ZdlPvRKSt9nothrow_t", ALLOC_FN_DELETE},
	{"_ZdaPvRKSt9nothrow_t", ALLOC_FN_DELETE},
	{"_ZdlPvSt11align_val_t", ALLOC_FN_DELETE},
	{"_ZdaPvSt11align_val_t", ALLOC_FN_DELETE},
	{"_ZdlPvmSt11align_val_t", ALLOC_FN_DELETE},
	{"_ZdaPvmSt11align_val_t", ALLOC_FN_DELETE},
	{"_ZdlPvSt11align_val_tRKSt9nothrow_t", ALLOC_FN_DELETE},
	{"_ZdaPvSt11align_val_tRKSt9nothrow_t", ALLOC_FN_DELETE},
};
const size_t nalloc_entries = sizeof(alloc_entries) / sizeof(alloc_entries[0]);
_Static_assert(sizeof(alloc_entries) / sizeof(alloc_entries[0]) <= MAX_ALLOC_ENTRIES,
	       "a process's table of entry functions holds every row");

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
	case ALLOC_FN_NEW_ALIGNED:
		ev->fn = MT_FN_ALIGNED_ALLOC;
		ev->type = MT_EV_ALLOC;
		ev->arg = args[1];
		ev->size = args[0];
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
