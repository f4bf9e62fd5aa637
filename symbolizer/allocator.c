/*
 * symbolizer/allocator.c - which functions are "the allocator": its entry
 * points, glibc's internals behind them, the mmap-family wrappers they call,
 * and C++'s global operator new/delete.  Reports skip these frames to name
 * the first frame outside the allocator as the allocation site.
 *
 * Names are matched in their demangled form, after removing what compilers
 * and glibc add around a function's own name: glibc's internal-alias
 * prefix "__GI_" and GCC's clone suffixes (".part.0", ".isra.0",
 * ".constprop.0", ".cold").
 */
#include <string.h>

#include "internal.h"

/* Every allocator name, in one table.  Adding one is adding a row. */
static const char *const allocator_names[] = {
	/* entry points (enum mt_fn) and their older aliases */
	"malloc",
	"calloc",
	"realloc",
	"reallocarray",
	"free",
	"cfree",
	"posix_memalign",
	"aligned_alloc",
	"memalign",
	"valloc",
	"pvalloc",
	/* glibc's own names for them */
	"__libc_malloc",
	"__libc_calloc",
	"__libc_realloc",
	"__libc_free",
	"__libc_memalign",
	"__libc_valloc",
	"__libc_pvalloc",
	"__libc_reallocarray",
	"__libc_aligned_alloc",
	"__posix_memalign",
	/* static glibc's symbols at the same addresses */
	"__malloc",
	"__calloc",
	"__realloc",
	"__free",
	"__memalign",
	"__valloc",
	"__pvalloc",
	/* glibc malloc.c and arena.c internals */
	"_int_malloc",
	"_int_realloc",
	"_int_free",
	"_int_memalign",
	"_mid_memalign",
	"_int_free_merge_chunk",
	"_int_free_create_chunk",
	"_int_free_maybe_consolidate",
	"sysmalloc",
	"sysmalloc_mmap",
	"sysmalloc_mmap_fallback",
	"systrim",
	"malloc_consolidate",
	"ptmalloc_init",
	"malloc_init",
	"tcache_init",
	"tcache_get",
	"tcache_get_n",
	"tcache_put",
	"tcache_thread_shutdown",
	"tcache_key_initialize",
	"checked_request2size",
	"unlink_chunk",
	"munmap_chunk",
	"mremap_chunk",
	"arena_get2",
	"arena_get_retry",
	"get_free_list",
	"reused_arena",
	"_int_new_arena",
	"new_heap",
	"alloc_new_heap",
	"grow_heap",
	"shrink_heap",
	"heap_trim",
	"__malloc_arena_thread_freeres",
	"__malloc_fork_lock_parent",
	"__default_morecore",
	"__glibc_morecore",
	"malloc_hook_ini",
	"realloc_hook_ini",
	"memalign_hook_ini",
	/* glibc's libc_malloc_debug.so */
	"__debug_malloc",
	"__debug_calloc",
	"__debug_realloc",
	"__debug_free",
	"__debug_memalign",
	"__debug_aligned_alloc",
	"__debug_valloc",
	"__debug_pvalloc",
	"__debug_posix_memalign",
	"malloc_check",
	"free_check",
	"realloc_check",
	"memalign_check",
	/* mmap-family system call wrappers */
	"mmap",
	"mmap64",
	"__mmap",
	"__mmap64",
	"munmap",
	"__munmap",
	"mremap",
	"__mremap",
	"brk",
	"__brk",
	"sbrk",
	"__sbrk",
	/* C++ global operators, every variant (sized, nothrow, align_val_t):
	 * their parameters follow the name */
	"operator new",
	"operator new[]",
	"operator delete",
	"operator delete[]",
};

/* GCC clone suffixes: the name of a clone is its function's name. */
static const char *const clone_suffixes[] = {
	".part.", ".isra.", ".constprop.", ".cold", ".lto_priv.", ".localalias",
};

static size_t base_name_len(const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(clone_suffixes) / sizeof(clone_suffixes[0]); i++) {
		const char *s = strstr(name, clone_suffixes[i]);

		if (s && (size_t)(s - name) < len)
			len = s - name;
	}
	return len;
}

int allocator_match(const char *function)
{
	if (!function)
		return 0;
	if (strncmp(function, "__GI_", 5) == 0)
		function += 5;

	size_t len = base_name_len(function);

	for (size_t i = 0; i < sizeof(allocator_names) / sizeof(allocator_names[0]); i++) {
		size_t n = strlen(allocator_names[i]);

		/* The name alone (C, or a DWARF name), or followed by a C++
		 * parameter list: "operator new(unsigned long, std::nothrow_t const&)". */
		if (n <= len && strncmp(function, allocator_names[i], n) == 0 &&
		    (n == len || function[n] == '('))
			return 1;
	}
	return 0;
}
